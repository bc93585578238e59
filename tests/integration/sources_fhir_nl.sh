#!/usr/bin/env bash
# The bundled nl-core mapping (conf/fhir-nl-core.conf) in zinvold --once
# against the FHIR fixture serving the official Nictiz examples
# (tests/fixtures/fhir/nictiz) plus a deceased, a Belgian and a BSN-less
# patient: records in the real store, the facts at the destination, the
# quarantine keeping only what the mapping reads, dropped fields counted,
# the search time as watermark for resources without meta.lastUpdated.
set -euo pipefail
: "${ZV_SOURCE_DIR:?}" "${ZV_BUILD_DIR:?}" "${ZV_PLUGIN_DIR:?}"
tmp=$(mktemp -d /tmp/zv-fhir-nl-XXXXXX)
fx_pid=""
cleanup() {
    [ -n "$fx_pid" ] && kill "$fx_pid" 2>/dev/null && wait "$fx_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- zinvold log"; tail -30 "$tmp/zinvold.log" 2>/dev/null; exit 1; }

python3 "$ZV_SOURCE_DIR/tests/fixtures/ecd/fhir_server.py" --port-file "$tmp/port" &
fx_pid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
fx="http://127.0.0.1:$(cat "$tmp/port")"

python3 - "$fx" "$ZV_SOURCE_DIR" <<'PY'
import json, sys, urllib.request
fx, src = sys.argv[1:]
d = src + "/tests/fixtures/fhir/nictiz/"
bsn = "http://fhir.nl/fhir/NamingSystem/bsn"
res = []
test_bsn = {"nl-core-NameInformation-complete": "999900006", "nl-core-NameInformation-initials": "999900018",
            "nl-core-CareTeam-01-Patient-01": "999900031"}
for f in ["nl-core-Patient-01", "nl-core-TreatmentDirective2-02-Patient-01"] + list(test_bsn) + \
         ["nl-core-EpisodeOfCare-0%d" % i for i in range(1, 5)]:
    r = json.load(open(d + f + ".json"))
    if f in test_bsn:
        r["identifier"] = [{"system": bsn, "value": test_bsn[f]}]
    res.append(r)
res.append({"resourceType": "Patient", "id": "dead", "identifier": [
                {"system": "urn:oid:2.16.840.1.113883.2.4.6.3", "value": "999900043"}],
            "name": [{"use": "official", "family": "Dood"}], "birthDate": "1930-01-01",
            "deceasedDateTime": "2025-10-01"})
res.append({"resourceType": "EpisodeOfCare", "id": "dead-e", "status": "finished",
            "patient": {"reference": "Patient/dead"}, "period": {"start": "2024-01-01"}})
res.append({"resourceType": "Patient", "id": "be", "identifier": [{"system": bsn, "value": "999900055"}],
            "birthDate": "1934-04", "address": [{"use": "home", "postalCode": "2000", "country": "BE"}]})
nobsn = json.load(open(d + "nl-core-Patient-01.json"))
nobsn["id"] = "nobsn"
nobsn["identifier"] = [{"system": "http://example.org/mrn", "value": "MRN1"}]
res.append(nobsn)
body = {"resources": res, "search_time": "2026-03-01T08:00:00Z"}
urllib.request.urlopen(urllib.request.Request(fx + "/admin/load", data=json.dumps(body).encode(),
                                              method="POST")).read()
PY

# The bundled configuration, pointed at the fixture and a temporary state.
python3 - "$tmp" "$ZV_SOURCE_DIR" "$fx" <<'PY'
import json, sys
tmp, src, fx = sys.argv[1:]
text = "".join(l for l in open(src + "/conf/fhir-nl-core.conf") if not l.strip().startswith("//"))
conf = json.loads(text)
conf["state_dir"] = tmp + "/state"
conf["catalogue_dir"] = src + "/conf/catalogue"
conf["sources"][0]["options"].update({"base_url": fx + "/fhir", "page_size": 4})
conf["destinations"][0]["transport_options"]["dir"] = tmp + "/out"
json.dump(conf, open(tmp + "/zinvol.conf", "w"), indent=1)
PY
mkdir -p "$tmp/out" "$tmp/state"
"$ZV_BUILD_DIR/zinvold" --check-config "$tmp/zinvol.conf" --plugin-dir "$ZV_PLUGIN_DIR" \
    >"$tmp/check.out" 2>&1 || { cat "$tmp/check.out"; fail "conf/fhir-nl-core.conf does not validate"; }
"$ZV_BUILD_DIR/zinvold" --once --config "$tmp/zinvol.conf" --plugin-dir "$ZV_PLUGIN_DIR" \
    >>"$tmp/zinvold.out" 2>>"$tmp/zinvold.log" || fail "zinvold --once exited with $?"
db="$tmp/state/zinvol.db"
n=$(sqlite3 "$db" "SELECT count(*) FROM seen WHERE source='ecd-fhir'")
[ "$n" = 13 ] || fail "expected 13 resources, store saw $n"
q=$(sqlite3 "$db" "SELECT record_id || ' ' || field FROM quarantine")
[ "$q" = "Patient/nobsn client.bsn" ] || fail "quarantine: '$q'"
kept=$(sqlite3 "$db" "SELECT item_json FROM quarantine")
case "$kept" in *Patient.name*) ;; *) fail "the quarantined item lost the name: $kept" ;; esac
case "$kept" in *contact*|*giesput*|*"Bij gesprek"*) fail "the quarantine kept unread data: $kept" ;; esac
[ ${#kept} -lt 3000 ] || fail "quarantined item is ${#kept} bytes"
wm=$(sqlite3 "$db" "SELECT value FROM watermark WHERE source='ecd-fhir' AND key='Patient.lastUpdated'")
[ "$wm" = "2026-03-01T08:00:00Z" ] || fail "Patient watermark is '$wm'"
grep -q "without meta.lastUpdated; the watermark is the search time" "$tmp/zinvold.log" ||
    fail "no warning about the missing meta.lastUpdated"
grep -q "record Patient/be: optional field client.postcode left out: foreign address (country 'BE')" \
    "$tmp/zinvold.log" || fail "the dropped postcode is not reported"
grep -q "record Patient/be: optional field client.birth_date left out: partial date" "$tmp/zinvold.log" ||
    fail "the dropped birth date is not reported"
dropped=$(sqlite3 "$db" "SELECT sum(n) FROM counters WHERE destination='ecd-fhir' AND what='fields_dropped'")
[ "$dropped" = 2 ] || fail "fields_dropped: '$dropped'"
grep -q "Patient/dead is deceased" "$tmp/zinvold.log" || fail "the deceased patient is not noted"
grep -q '999900043' "$tmp/zinvold.log" && fail "a BSN in clear in the log"
# The destination receives the facts it must act on.
python3 - "$tmp/out" <<'PY' || { ls -l "$tmp/out"; head -c 1500 "$tmp"/out/*; fail "destination output"; }
import json, os, sys
recs = []
for f in os.listdir(sys.argv[1]):
    recs += json.load(open(os.path.join(sys.argv[1], f)))["records"]
def find(bsn):
    return [r["fields"] for r in recs if r["fields"].get("client.bsn") == bsn]
dead = find("999900043")
assert dead and dead[0].get("client.deceased") == "J", dead
assert dead[0].get("client.death_date") == "2025-10-01", dead
ep = find("111222333")
assert len(ep) == 4 and all(r.get("client.deceased") == "N" for r in ep), ep
print("ok: %d records at the destination" % len(recs))
PY
echo "ok: Nictiz examples through the bundled nl-core mapping"
