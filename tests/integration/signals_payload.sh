#!/usr/bin/env bash
# The payloads fmt_signals renders in its unit test validate against
# conf/schema/signals.schema.json, and no suppressed number in them can be
# recovered from the published cells, margins and totals.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ZV_SIGNALS_OUT="$tmp" CK_FORK=no "$ZV_BUILD_DIR/tests/test_signals_fmt" >/dev/null
n=$(find "$tmp" -name '*.json' | wc -l)
[ "$n" -ge 2 ] || { echo "expected at least 2 payloads, got $n" >&2; exit 1; }
python3 - "$ZV_SOURCE_DIR/conf/schema/signals.schema.json" "$tmp" <<'PY'
import json, sys, pathlib
from jsonschema import Draft202012Validator
schema = json.load(open(sys.argv[1]))
Draft202012Validator.check_schema(schema)
v = Draft202012Validator(schema)
bad = 0
files = sorted(pathlib.Path(sys.argv[2]).glob("*.json"))
for p in files:
    for e in v.iter_errors(json.load(open(p))):
        print(f"{p.name}: {'/'.join(map(str, e.path))}: {e.message}", file=sys.stderr)
        bad += 1
# The schema can fail: an identifying dimension and a negative count are refused.
doc = json.load(open(files[0]))
doc["measures"][0]["dimensions"] = ["client.birth_date"]
if v.is_valid(doc):
    print("schema accepted client.birth_date as a dimension", file=sys.stderr); bad += 1
doc = json.load(open(files[0]))
doc["measures"][0]["total"] = -1
if v.is_valid(doc):
    print("schema accepted a negative count", file=sys.stderr); bad += 1
# The fixture must exercise both kinds of suppression.
text = "".join(p.read_text() for p in files)
if '"<5"' not in text or '"x"' not in text:
    print("fixture has no primary or no secondary suppression", file=sys.stderr); bad += 1
sys.exit(1 if bad else 0)
PY
recover="$ZV_SOURCE_DIR/tests/integration/signals_recover.py"
python3 "$recover" --self-test
python3 "$recover" "$tmp"/*.json
echo "ok: $n payloads valid, nothing recovered"
