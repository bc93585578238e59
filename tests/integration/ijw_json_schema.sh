#!/usr/bin/env bash
# Every payload fmt_json renders in its unit test validates against the
# published JSON Schema (plugins/fmt_json/zinvol-json.schema.json).
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ZVTB_DUMP_DIR="$tmp" CK_FORK=no "$ZV_BUILD_DIR/tests/test_json_fmt_render" >/dev/null
n=$(find "$tmp" -name '*.json' | wc -l)
[ "$n" -ge 4 ] || { echo "expected at least 4 payloads, got $n" >&2; exit 1; }
python3 - "$ZV_SOURCE_DIR/plugins/fmt_json/zinvol-json.schema.json" "$tmp" <<'PY'
import json, sys, pathlib
from jsonschema import Draft202012Validator
schema = json.load(open(sys.argv[1]))
Draft202012Validator.check_schema(schema)
v = Draft202012Validator(schema)
bad = 0
for p in sorted(pathlib.Path(sys.argv[2]).glob("*.json")):
    for e in v.iter_errors(json.load(open(p))):
        print(f"{p.name}: {'/'.join(map(str, e.path))}: {e.message}", file=sys.stderr)
        bad += 1
# The schema must be able to fail: a record with a non-string value is rejected.
doc = json.load(open(sorted(pathlib.Path(sys.argv[2]).glob("*.json"))[0]))
doc["records"][0]["fields"] = {"client.bsn": 123}
if v.is_valid(doc):
    print("schema accepted a non-string field value", file=sys.stderr); bad += 1
sys.exit(1 if bad else 0)
PY
echo "ok: $n payloads valid"
