#!/bin/bash
# A reader that loses its source lease stands by in place (issue 17): two
# zinvold nodes share a fhir source on one PostgreSQL database, each with a
# FHIR fixture of its own holding the same resources (the fixture's request
# log tells which node polled).  n1 reads; it is frozen (SIGSTOP) past its
# lease, n2 takes the source over and reads a changed patient.  Thawed, n1
# finds its lease taken: it must neither exit (exit 0 after a self-SIGTERM
# left a node down under Restart=on-failure) nor poll again, but restart its
# runtime as a standby.  Then n2 is SIGKILLed and n1 takes the source back,
# resuming at n2's watermark; no record is in the store twice.
# Runs through run_pg.sh (ZV_PG_HOST, ZV_PG_USER, ZV_PG_BINDIR).
set -euo pipefail
B=${ZV_BUILD_DIR:?}
S=${ZV_SOURCE_DIR:?}
T=$(mktemp -d /tmp/zv-pg-leaselost-XXXXXX)
DB=zv_leaselost_$$
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

alive() { kill -0 "${NPID[$1]}" 2>/dev/null; }
first_search_after() { # node, requests to skip: its first Patient search after them
    python3 - "http://127.0.0.1:$(cat "$T/port$1")/admin/stats" "$2" <<'PY'
import json, sys, urllib.request
reqs = json.load(urllib.request.urlopen(sys.argv[1]))["requests"][int(sys.argv[2]):]
print(([p for p in reqs if p.startswith("/fhir/Patient")] or [""])[0])
PY
}
nreq() { python3 -c "import json,urllib.request; print(len(json.load(urllib.request.urlopen('http://127.0.0.1:$(cat "$T/port$1")/admin/stats'))['requests']))"; }

start 1
wait_for 60 "n1 did not take the lease" '[ "$(holder)" = n1 ]'
start 2
wait_for 60 "n1 did not read the 5 patients" '[ "$(seen)" = 5 ]'
wait_for 60 "n2 did not stand by" 'grep -q "read by node n1" "$T/n2.log"'

# n1 freezes past its lease (3 s); n2 takes the source over.
kill -STOP "${NPID[1]}"
wait_for 60 "n2 did not take the lease from the frozen n1" '[ "$(holder)" = n2 ]'
load 6 # p5, read by n2
wait_for 60 "n2 did not read the changed patient" '[ "$(seen)" = 6 ]'
kill -CONT "${NPID[1]}"
wait_for 60 "n1 did not notice that its lease was taken" \
    'grep -q "source lease was taken over by node n2" "$T/n1.log"'
sleep 1
if ! alive 1; then
    rc=0
    wait "${NPID[1]}" || rc=$?
    fail "n1 exited (status $rc) after losing its lease: it should stand by in place (and a supervisor with Restart=on-failure does not restart an exit 0)"
fi
wait_for 60 "n1 did not restart as a standby" 'grep -q "standing by on" "$T/n1.log"'
grep -q "signal 15: stopping" "$T/n1.log" && fail "n1 stopped itself with SIGTERM"
before=$(nreq 1)
sleep 3 # three of n1's lease asks, three poll intervals
alive 1 || fail "n1 exited while standing by"
[ "$(nreq 1)" = "$before" ] || fail "n1 polled its server while n2 held the lease"
[ "$(holder)" = n2 ] || fail "lease holder is $(holder), not n2"

# n2 dies; the standby n1 takes the source back and resumes at n2's watermark.
kill -9 "${NPID[2]}"
wait "${NPID[2]}" 2>/dev/null || true
unset 'NPID[2]'
t0=$SECONDS
wait_for 60 "n1 did not take the lease back" 'grep -q "holds the source lease now" "$T/n1.log"'
took=$((SECONDS - t0))
wait_for 60 "n1 did not poll after taking the source back" '[ "$(nreq 1)" -gt "$before" ]'
wait_for 30 "n1 made no Patient search after taking the source back" \
    '[ -n "$(first_search_after 1 "$before")" ]'
first=$(first_search_after 1 "$before")
case "$first" in *_lastUpdated=gt2026-03-01T08%3A00%3A05Z*) ;; *) fail "n1 did not resume at n2's watermark: $first" ;; esac
[ "$(holder)" = n1 ] || fail "lease holder is $(holder), not n1"
dups=$(PSQL -d "$DB" -c "SELECT count(*) FROM (SELECT record_key FROM staged GROUP BY 1 HAVING count(*) > 1) d")
staged=$(PSQL -d "$DB" -c "SELECT count(*) FROM staged")
quar=$(PSQL -d "$DB" -c "SELECT count(*) FROM quarantine")
[ "$dups" = 0 ] || fail "$dups records staged twice"
[ "$((staged + quar))" = 6 ] || fail "staged $staged + quarantined $quar, want 6"
if grep -Eq '9999[0-9]{5}' "$T"/n*.log; then fail "a BSN in clear in a node's log"; fi
kill -TERM "${NPID[1]}"
rc=0
wait "${NPID[1]}" || rc=$?
NPID=()
[ "$rc" = 0 ] || fail "n1 exited $rc on SIGTERM"
echo "ok: pg lease lost: n1 frozen past its lease, n2 took over; thawed, n1 stood by in place (alive, 0 polls) instead of exiting; n2 killed, n1 took the source back in ${took}s and resumed at n2's watermark; $staged staged + $quar quarantined, none twice"
