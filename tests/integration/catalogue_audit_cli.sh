#!/usr/bin/env bash
# zinvolctl audit end to end: a scenario config (gemeente via ijw with a
# contract extra, CBS via the generic json format with cbs-jeugd.json on a
# monthly schedule, one source mapping a field nobody needs), a real store
# with minimiser counters, every output format, and the error paths.
set -euo pipefail
src=${ZV_SOURCE_DIR:?} build=${ZV_BUILD_DIR:?} plugins=${ZV_PLUGIN_DIR:?}
ctl="$build/zinvolctl"
if [ ! -x "$ctl" ]; then
  echo "SKIP: $ctl not built"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/zinvol.conf" <<CONF
// audit scenario
{
  "state_dir": "$tmp/state", "store": "zinvol.db",
  "catalogue_dir": "$src/conf/catalogue", "plugin_dir": "$plugins",
  "organisation": {"agb": "12345678", "name": "Zorggroep <Audit>"},
  "sources": [{"name": "ons", "type": "filedrop", "options": {"directory": "$tmp/in"},
    "mapping": {"record_id": "id", "records": [{"kind": "delivery", "fields": {
      "client.bsn": "bsn", "client.birth_date": "gebdat", "client.email": "mail",
      "entitlement.law": "wet", "entitlement.funder": "fin", "delivery.start": "start"}}]}}],
  "destinations": [
    {"name": "gem-0363", "format": "ijw", "transport": "filedrop",
     "transport_options": {"dir": "$tmp/out"},
     "catalogue": {"fields": [{"field": "client.phone", "element": "Telefoon",
       "level": "contract", "citation": "Inkoopcontract 2026 art. 9", "message": "JW305"}]},
     "policy": {"threshold": "contract", "schedule": "event"}},
    {"name": "cbs", "format": "json", "transport": "filedrop",
     "transport_options": {"dir": "$tmp/out"},
     "catalogue": {"file": "cbs-jeugd.json"},
     "policy": {"threshold": "contract", "schedule": "monthly"}}
  ]
}
CONF
mkdir -p "$tmp/state" "$tmp/in" "$tmp/out"

# json to stdout, with every flag kind this scenario can show.
"$ctl" -c "$tmp/zinvol.conf" audit >"$tmp/r.json"
for id in no_legal_basis duplicate collected_never_required derivable over_frequent; do
  grep -q "\"id\": \"$id\"" "$tmp/r.json" || { echo "missing flag $id"; exit 1; }
done
grep -q '"name": "Zorggroep <Audit>"' "$tmp/r.json"
cp "$tmp/r.json" "$build/catalogue-audit-cli.json"

# csv and html to files.
"$ctl" -c "$tmp/zinvol.conf" audit --format csv --output "$tmp/r.csv" --period-days 7
head -1 "$tmp/r.csv" | grep -q '^"section","destination"'
grep -q '"source","","","","","","ons","client.email"' "$tmp/r.csv"
"$ctl" -c "$tmp/zinvol.conf" audit --format html --output "$tmp/r.html"
grep -q 'Zorggroep &lt;Audit&gt;' "$tmp/r.html"
grep -q 'Bestemming: cbs' "$tmp/r.html"
! grep -q '<script' "$tmp/r.html"

# Schema check when the validator is there.
py=python3; [ -x /usr/bin/python3 ] && py=/usr/bin/python3
if $py -c 'import jsonschema' 2>/dev/null; then
  $py -c 'import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))' \
    "$tmp/r.json" "$src/conf/schema/audit-report.schema.json"
fi

# Usage errors exit 2, config errors exit 1 naming file and path.
set +e
"$ctl" -c "$tmp/zinvol.conf" audit --format pdf 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] || { echo "bad format: exit $rc"; exit 1; }
"$ctl" -c "$tmp/zinvol.conf" audit --period-days 0 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] || { echo "bad period: exit $rc"; exit 1; }
sed 's/"level": "contract", "citation": "Inkoopcontract/"level": "contractual", "citation": "Inkoopcontract/' \
  "$tmp/zinvol.conf" >"$tmp/bad.conf"
"$ctl" -c "$tmp/bad.conf" audit >/dev/null 2>"$tmp/err"; rc=$?
set -e
[ $rc -eq 1 ] || { echo "bad override: exit $rc"; exit 1; }
grep -q "bad.conf: destinations\[0\].catalogue.fields\[0\].level: unknown level \"contractual\"" "$tmp/err" \
  || { cat "$tmp/err"; exit 1; }
echo "ok"
