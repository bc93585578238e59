#!/usr/bin/env bash
# The fhir source in zinvold --once against the FHIR fixture: nl-core
# Patients and EpisodeOfCares paged through the core's HTTP client, records
# in the real store, the watermark advanced, and a second run fetching only
# what changed (_lastUpdated=gt<watermark>).
set -euo pipefail
: "${ZV_SOURCE_DIR:?}" "${ZV_BUILD_DIR:?}" "${ZV_PLUGIN_DIR:?}"
tmp=$(mktemp -d /tmp/zv-fhir-int-XXXXXX)
fx_pid=""
cleanup() {
    [ -n "$fx_pid" ] && kill "$fx_pid" 2>/dev/null && wait "$fx_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- zinvold log"; tail -30 "$tmp/zinvold.log" 2>/dev/null; exit 1; }

python3 "$ZV_SOURCE_DIR/tests/fixtures/ecd/fhir_server.py" --port-file "$tmp/port" --token t0k &
fx_pid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
fx="http://127.0.0.1:$(cat "$tmp/port")"

# nl-core shaped resources: 5 patients, 2 episodes.
python3 - "$fx" <<'PY'
import json, sys, urllib.request
fx = sys.argv[1]
bsns = ["999900006", "999900018", "999900031", "999900043", "999900055"]
res = []
for i, b in enumerate(bsns):
    res.append({"resourceType": "Patient", "id": "p%d" % i,
                "meta": {"lastUpdated": "2026-03-01T08:00:0%dZ" % i},
                "identifier": [{"system": "http://fhir.nl/fhir/NamingSystem/bsn", "value": b}],
                "name": [{"family": "de Boer", "_family": {"extension": [
                    {"url": "http://hl7.org/fhir/StructureDefinition/humanname-own-prefix", "valueString": "de"},
                    {"url": "http://hl7.org/fhir/StructureDefinition/humanname-own-name", "valueString": "Boer"}]},
                    "given": ["Kees"]}],
                "gender": "male", "birthDate": "1950-01-0%d" % (i + 1)})
for i in range(2):
    res.append({"resourceType": "EpisodeOfCare", "id": "e%d" % i, "status": "active",
                "meta": {"lastUpdated": "2026-03-01T09:00:00Z"},
                "patient": {"reference": "Patient/p%d" % i}, "period": {"start": "2026-02-0%d" % (i + 1)}})
req = urllib.request.Request(fx + "/admin/load", data=json.dumps(res).encode(), method="POST")
urllib.request.urlopen(req).read()
PY

python3 - "$tmp" "$ZV_SOURCE_DIR" "$fx" <<'PY'
import json, sys
tmp, src, fx = sys.argv[1:]
conf = {
    "state_dir": tmp + "/state", "catalogue_dir": src + "/conf/catalogue",
    "organisation": {"agb": "12345678", "name": "Zorggroep Test"},
    "sources": [{"name": "fhir", "type": "fhir",
                 "options": {"base_url": fx + "/fhir", "bearer_token": "t0k", "page_size": 2},
                 "mapping": {"records": [
                     {"when": {"type": "Patient"}, "kind": "client", "fields": {
                         "client.bsn": "Patient.identifier[bsn].value",
                         "client.name_prefix": "Patient.name.family.extension[humanname-own-prefix].value",
                         "client.family_name": "Patient.name.family.extension[humanname-own-name].value",
                         "client.birth_date": "Patient.birthDate",
                         "client.sex": {"from": "Patient.gender", "map": {"male": "1", "female": "2", "other": "0", "unknown": "0"}}}},
                     {"when": {"type": "EpisodeOfCare"}, "kind": "delivery", "fields": {
                         "client.bsn": "Patient.identifier[bsn].value",
                         "entitlement.law": {"value": "wlz"}, "entitlement.funder": {"value": "5501"},
                         "delivery.start": "EpisodeOfCare.period.start"}}]}}],
    "destinations": [{"name": "monitor", "format": "json", "transport": "filedrop",
                      "transport_options": {"dir": tmp + "/out"},
                      "match": {"entitlement.law": ["wlz"]},
                      "catalogue": {"file": "json-example.json"}}],
}
json.dump(conf, open(tmp + "/zinvol.conf", "w"), indent=1)
PY
mkdir -p "$tmp/out" "$tmp/state"
run() { "$ZV_BUILD_DIR/zinvold" --once --config "$tmp/zinvol.conf" --plugin-dir "$ZV_PLUGIN_DIR" \
            >>"$tmp/zinvold.out" 2>>"$tmp/zinvold.log" || fail "zinvold --once exited with $?"; }
run
db="$tmp/state/zinvol.db"
n=$(sqlite3 "$db" "SELECT count(*) FROM seen WHERE source='fhir'")
[ "$n" = 7 ] || fail "expected 7 resources, store saw $n"
q=$(sqlite3 "$db" "SELECT count(*) FROM quarantine")
ls "$tmp/out" | grep -q . || fail "the two episodes did not reach the destination"
[ "$q" = 0 ] || fail "unexpected quarantine: $(sqlite3 "$db" 'SELECT field, reason FROM quarantine')"
wm=$(sqlite3 "$db" "SELECT value FROM watermark WHERE source='fhir' AND key='Patient.lastUpdated'")
[ "$wm" = "2026-03-01T08:00:04Z" ] || fail "Patient watermark is '$wm'"
# One info line per search (issue 14 item 5).
grep -q 'fhir: EpisodeOfCare search processed: 2 resources, 2 new, 0 unchanged, 0 quarantined, 2 staged for destinations' "$tmp/zinvold.log" ||
    fail "no per-search line for EpisodeOfCare"
grep -q 'fhir: Patient search processed: 5 resources, 5 new, 0 unchanged, 0 quarantined' "$tmp/zinvold.log" ||
    fail "no per-search line for Patient"
pages=$(curl -s "$fx/admin/stats" | python3 -c 'import json,sys; print(sum("/fhir/Patient?" in r for r in json.load(sys.stdin)["requests"]))')
[ "$pages" = 3 ] || fail "expected 3 Patient pages, got $pages"
# Second run: nothing changed, so only one (empty) search per type.
run
after=$(curl -s "$fx/admin/stats" | python3 -c 'import json,sys; r=json.load(sys.stdin)["requests"]; print(sum("/fhir/Patient?" in x for x in r), r[-2])')
case "$after" in "4 /fhir/Patient?"*"_lastUpdated=gt2026-03-01T08%3A00%3A04Z"*) ;; *) fail "second run: $after" ;; esac
echo "ok: 7 resources, paging, watermark, incremental search"
