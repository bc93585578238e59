#!/usr/bin/env bash
# The bundled iWlz 2.2 release is the official data, unchanged: every file
# matches the checksums kept in the project (releases/2.2/SHA256SUMS), and
# every file of the release is listed there.  Where ../shared is present,
# the copies are also compared byte for byte with the official ones there.
set -euo pipefail
rel="$ZV_SOURCE_DIR/plugins/fmt_iwlz/releases/2.2"
cd "$rel"
sha256sum --quiet -c SHA256SUMS
listed=$(awk '{print $2}' SHA256SUMS | sort)
present=$(find xsd xslt -type f | sort)
if [ "$listed" != "$present" ]; then
    echo "FAIL: files of the release and SHA256SUMS differ:"
    diff <(echo "$listed") <(echo "$present") || true
    exit 1
fi
echo "iwlz release 2.2: $(echo "$listed" | wc -l) files match SHA256SUMS"
shared=${ZV_SHARED_DIR:-}
if [ -n "$shared" ] && [ -d "$shared/schemas/iwlz-2.2" ]; then
    for f in AW35.xsd AW36.xsd AW39.xsd AW310.xsd basisschema.xsd LICENSE; do
        cmp "xsd/$f" "$shared/schemas/iwlz-2.2/$f"
    done
    diff -r xslt "$shared/istandaarden/iwlz-xslt-2.1.4/xslt-validatie" >/dev/null
    echo "iwlz release 2.2: identical to $shared"
else
    echo "iwlz release 2.2: no ../shared here; checked against the project's checksums only"
fi
