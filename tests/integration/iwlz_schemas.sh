#!/usr/bin/env bash
# The XSDs shipped with the iWlz plugin are the official ones, unchanged.
set -euo pipefail
src="$ZV_SOURCE_DIR/plugins/fmt_iwlz/schemas"
off="$ZV_SHARED_DIR/schemas/iwlz-2.2"
for f in AW35.xsd AW36.xsd AW39.xsd AW310.xsd basisschema.xsd LICENSE; do
    cmp "$src/$f" "$off/$f"
done
echo "iwlz schemas identical to $off"
