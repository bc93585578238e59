#!/bin/bash
# One reader per source for FHIR too (issue 17): two zinvold nodes on one
# PostgreSQL database with the same fhir source, each pointed at a FHIR
# fixture of its own holding the same resources (so the fixture's request
# log tells which node polled).  n1 takes the source's lease and polls; n2
# stands by and polls nothing.  n1 is SIGKILLed; n2 takes the lease over,
# resumes at n1's committed watermark (its first search asks for what
# changed after n1's last committed patient) and picks up a resource changed
# after the kill; no record is in the store twice.
# Runs through run_pg.sh (ZV_PG_HOST, ZV_PG_USER, ZV_PG_BINDIR).
set -euo pipefail
B=${ZV_BUILD_DIR:?}
S=${ZV_SOURCE_DIR:?}
T=$(mktemp -d /tmp/zv-pg-fhirlease-XXXXXX)
DB=zv_fhirlease_$$
PSQL() { "$ZV_PG_BINDIR/psql" -h "$ZV_PG_HOST" -U "$ZV_PG_USER" -X -q -t -A "$@"; }
declare -A NPID=() FPID=()
cleanup() {
    for n in "${!NPID[@]}"; do kill -9 "${NPID[$n]}" 2>/dev/null || true; done
    for n in "${!FPID[@]}"; do kill "${FPID[$n]}" 2>/dev/null || true; done
    wait 2>/dev/null
    PSQL -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
    rm -rf "$T"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    for n in 1 2; do echo "--- node n$n (last lines)"; tail -n 8 "$T/n$n.log" 2>/dev/null; done >&2
    exit 1
}

for n in 1 2; do
    python3 "$S/tests/fixtures/ecd/fhir_server.py" --port-file "$T/port$n" --token t0k &
    FPID[$n]=$!
done
for n in 1 2; do
    for _ in $(seq 100); do [ -s "$T/port$n" ] && break; sleep 0.1; done
    [ -s "$T/port$n" ] || fail "fixture $n did not start"
done
# load N ...: the same resources into both fixtures (patients p0..p{N-1}).
load() {
    python3 - "$1" "http://127.0.0.1:$(cat "$T/port1")" "http://127.0.0.1:$(cat "$T/port2")" <<'PY'
import json, sys, urllib.request
n = int(sys.argv[1])
bsns = ["999900006", "999900018", "999900031", "999900043", "999900055", "999900067"]
res = [{"resourceType": "Patient", "id": "p%d" % i,
        "meta": {"lastUpdated": "2026-03-01T08:00:0%dZ" % i},
        "identifier": [{"system": "http://fhir.nl/fhir/NamingSystem/bsn", "value": bsns[i]}],
        "name": [{"family": "Boer", "given": ["Kees"]}],
        "gender": "male", "birthDate": "1950-01-0%d" % (i + 1)} for i in range(n)]
for fx in sys.argv[2:]:
    req = urllib.request.Request(fx + "/admin/load", data=json.dumps(res).encode(), method="POST")
    urllib.request.urlopen(req).read()
PY
}
polls() { python3 -c "import json,sys,urllib.request; print(sum(1 for p in json.load(urllib.request.urlopen('http://127.0.0.1:$(cat "$T/port$1")/admin/stats'))['requests'] if p.startswith('/fhir/')))"; }
load 5
PSQL -d postgres -c "CREATE DATABASE $DB"
URL="postgresql://$ZV_PG_USER@/$DB?host=$ZV_PG_HOST"
for n in 1 2; do
    mkdir -p "$T/state$n"
    python3 - "$T" "$S" "$n" "$URL" "${ZV_PLUGIN_DIR:?}" "http://127.0.0.1:$(cat "$T/port$n")/fhir" <<'PY'
import json, sys
t, src, n, url, plugins, fx = sys.argv[1:7]
conf = {
    "state_dir": "%s/state%s" % (t, n), "store": url, "node": "n" + n, "store_lease": "3s",
    "catalogue_dir": src + "/conf/catalogue", "plugin_dir": plugins, "log_level": "notice",
    "organisation": {"agb": "12345678", "name": "Test"},
    "sources": [{"name": "fhir", "type": "fhir",
                 "options": {"base_url": fx, "bearer_token": "t0k", "page_size": 2,
                             "poll_interval": "1s"},
                 "mapping": {"records": [{"when": {"type": "Patient"}, "kind": "client", "fields": {
                     "client.bsn": "Patient.identifier[bsn].value",
                     "client.family_name": "Patient.name.family",
                     "client.birth_date": "Patient.birthDate"}}]}}],
    "destinations": [{"name": "monitor", "format": "json", "transport": "filedrop",
                      "transport_options": {"dir": "%s/out%s" % (t, n)},
                      "catalogue": {"file": "json-example.json"},
                      "policy": {"threshold": "contract", "batch_window": "1h"}}],
}
json.dump(conf, open("%s/n%s.conf" % (t, n), "w"), indent=1)
PY
done
start() { "$B/zinvold" --config "$T/n$1.conf" 2>>"$T/n$1.log" & NPID[$1]=$!; }
holder() { PSQL -d "$DB" -c "SELECT node FROM source_lease WHERE source = 'fhir'" 2>/dev/null || true; }
seen() { PSQL -d "$DB" -c "SELECT count(DISTINCT record_id) FROM seen WHERE source = 'fhir'" 2>/dev/null || echo 0; }
wait_for() { # seconds, what, condition (evaluated each time)
    local s=$1 what=$2 cond=$3 t0=$SECONDS
    until eval "$cond"; do
        [ $((SECONDS - t0)) -lt "$s" ] || fail "$what (not within ${s}s)"
        sleep 0.1
    done
}

start 1
wait_for 60 "n1 did not take the lease" '[ "$(holder)" = n1 ]'
start 2
wait_for 60 "n1 did not read the 5 patients" '[ "$(seen)" = 5 ]'
wait_for 60 "n2 did not stand by" 'grep -q "read by node n1" "$T/n2.log"'
sleep 2 # several of n1's polls (poll_interval 1s) and of n2's lease asks
[ "$(polls 2)" = 0 ] || fail "n2 polled its server while n1 held the lease"
[ "$(polls 1)" -gt 0 ] || fail "n1 did not poll"

kill -9 "${NPID[1]}"
wait "${NPID[1]}" 2>/dev/null || true
unset 'NPID[1]'
t0=$SECONDS
wait_for 60 "n2 did not take the lease over" 'grep -q "holds the source lease now" "$T/n2.log"'
took=$((SECONDS - t0))
[ "$(holder)" = n2 ] || fail "lease holder is $(holder)"
wait_for 60 "n2 did not poll after the takeover" '[ "$(polls 2)" -gt 0 ]'
# n2's first Patient search starts after the last patient n1 committed.
first=$(python3 -c "import json,urllib.request; print([p for p in json.load(urllib.request.urlopen('http://127.0.0.1:$(cat "$T/port2")/admin/stats'))['requests'] if p.startswith('/fhir/Patient')][0])")
case "$first" in *_lastUpdated=gt2026-03-01T08%3A00%3A04Z*) ;; *) fail "n2 did not resume at n1's watermark: $first" ;; esac
load 6 # p5 changed after the kill
wait_for 60 "n2 did not read the new patient" '[ "$(seen)" = 6 ]'
dups=$(PSQL -d "$DB" -c "SELECT count(*) FROM (SELECT record_key FROM staged GROUP BY 1 HAVING count(*) > 1) d")
staged=$(PSQL -d "$DB" -c "SELECT count(*) FROM staged")
quar=$(PSQL -d "$DB" -c "SELECT count(*) FROM quarantine")
[ "$dups" = 0 ] || fail "$dups records staged twice after the takeover"
[ "$((staged + quar))" = 6 ] || fail "staged $staged + quarantined $quar, want 6"
if grep -Eq '9999[0-9]{5}' "$T"/n*.log; then fail "a BSN in clear in a node's log"; fi
kill -TERM "${NPID[2]}" 2>/dev/null || true
wait "${NPID[2]}" 2>/dev/null || true
NPID=()
echo "ok: pg fhir lease: n1 polled, n2 stood by (0 polls); n1 killed, n2 took over in ${took}s (store_lease 3s) and read on from the watermark; 6 patients, $staged staged + $quar quarantined, none twice"
