#!/usr/bin/env bash
# JSON Schemas of the catalogue area: the scenario's json report (which
# test_audit_report proves byte-equal to the renderer's output), a report
# written by zinvolctl audit when that test left one, and every shipped
# catalogue.  Needs python3 with jsonschema (Debian: python3-jsonschema).
set -euo pipefail
src=${ZV_SOURCE_DIR:?}
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
if ! $py -c 'import jsonschema' 2>/dev/null; then
  echo "SKIP: python3-jsonschema not installed (.ci/install-deps installs it)"
  exit 77
fi
$py - "$src" "${ZV_BUILD_DIR:-}" <<'PY'
import glob, json, os, sys
import jsonschema
src, build = sys.argv[1], sys.argv[2]
def check(schema_file, docs):
    schema = json.load(open(schema_file))
    jsonschema.Draft7Validator.check_schema(schema)
    v = jsonschema.Draft7Validator(schema)
    bad = 0
    for d in docs:
        errs = sorted(v.iter_errors(json.load(open(d))), key=lambda e: list(e.path))
        for e in errs:
            print(f"{d}: /{'/'.join(map(str, e.path))}: {e.message}")
        bad += len(errs)
        print(("FAIL " if errs else "ok   ") + d)
    return bad
reports = [f"{src}/tests/fixtures/catalogue/audit/expected.json"]
extra = f"{build}/catalogue-audit-cli.json"
if build and os.path.exists(extra):
    reports.append(extra)
cats = sorted(glob.glob(f"{src}/conf/catalogue/*.json"))
cats += [f"{src}/tests/fixtures/catalogue/audit/{n}.json" for n in ("zk-aw35", "cbs")]
bad = check(f"{src}/conf/schema/audit-report.schema.json", reports)
bad += check(f"{src}/conf/schema/catalogue.schema.json", cats)
# The schema must also reject: a report with an unknown flag id.
doc = json.load(open(reports[0]))
doc["flags"][0]["id"] = "not_a_flag"
try:
    jsonschema.validate(doc, json.load(open(f"{src}/conf/schema/audit-report.schema.json")))
    print("FAIL: schema accepted an unknown flag id"); bad += 1
except jsonschema.ValidationError:
    print("ok   unknown flag id rejected")
sys.exit(1 if bad else 0)
PY
