#!/bin/bash
# Source failover on a shared store (issue 17): three zinvold nodes on one
# PostgreSQL database share one drop folder.  The node that holds the
# source's lease reads the export; it is killed with SIGKILL in the middle
# of the file (the test asserts the watermark is past the start and the file
# not finished when the kill lands), and another node takes the lease over
# and finishes the file from the watermark.  Afterwards every row of the
# file is in the shared store exactly once - staged for the destination or
# quarantined, by its record id (leveringsnummer) - and the file is in done/.
#
# This fails when a step's staged rows and its watermark are not committed
# together: rows committed without their watermark are staged twice after
# the takeover, a watermark without its rows loses them (and rows kept on
# the dead node's own file are missing).  The destination's batch window is
# longer than the test, so nothing is rendered away before the count.
# Runs through run_pg.sh (ZV_PG_HOST, ZV_PG_USER, ZV_PG_BINDIR).
set -euo pipefail
B=${ZV_BUILD_DIR:?}
S=${ZV_SOURCE_DIR:?}
CLIENTS=${ZV_FAILOVER_CLIENTS:-8000}
T=$(mktemp -d /tmp/zv-pg-failover-XXXXXX)
DB=zv_failover_$$
PSQL() { "$ZV_PG_BINDIR/psql" -h "$ZV_PG_HOST" -U "$ZV_PG_USER" -X -q -t -A "$@"; }
declare -A NPID=()
cleanup() {
    for n in "${!NPID[@]}"; do kill -9 "${NPID[$n]}" 2>/dev/null || true; done
    wait 2>/dev/null
    PSQL -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
    rm -rf "$T"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    for n in 1 2 3; do echo "--- node n$n (last lines)"; tail -n 8 "$T/n$n.log" 2>/dev/null; done >&2
    exit 1
}

mkdir -p "$T/inbox" "$T/gen"
python3 "$S/conf/demo/generate-ecd" --clients "$CLIENTS" --seed 17 --format csv \
    --out "$T/gen" --name export >/dev/null 2>&1
ROWS=$(($(wc -l <"$T/gen/export.csv") - 1))
PSQL -d postgres -c "CREATE DATABASE $DB"
URL="postgresql://$ZV_PG_USER@/$DB?host=$ZV_PG_HOST"
for n in 1 2 3; do
    mkdir -p "$T/state$n"
    python3 - "$T" "$S" "$n" "$URL" "${ZV_PLUGIN_DIR:?}" <<'PY'
import json, sys
t, src, n, url, plugins = sys.argv[1:6]
conf = {
    "state_dir": "%s/state%s" % (t, n), "store": url, "node": "n" + n, "store_lease": "5s",
    "catalogue_dir": src + "/conf/catalogue", "plugin_dir": plugins, "log_level": "notice",
    "organisation": {"agb": "12345678", "name": "Test"},
    # batch_rows small: many steps, so the kill lands between two of them
    "sources": [{"name": "ecd", "type": "filedrop",
                 "options": {"directory": t + "/inbox", "delimiter": ";", "settle": "0s",
                             "batch_rows": 25},
                 "mapping": json.load(open(src + "/conf/demo/mapping-ecd.json"))}],
    "destinations": [{"name": "monitor", "format": "json", "transport": "filedrop",
                      "transport_options": {"dir": "%s/out%s" % (t, n)},
                      "catalogue": {"file": "json-example.json"},
                      "policy": {"threshold": "contract", "batch_window": "1h"}}],
}
json.dump(conf, open("%s/n%s.conf" % (t, n), "w"), indent=1)
PY
done

start() { "$B/zinvold" --config "$T/n$1.conf" 2>>"$T/n$1.log" & NPID[$1]=$!; }
wm() { PSQL -d "$DB" -c "SELECT value FROM watermark WHERE source = 'ecd' AND key = '$1'" 2>/dev/null || true; }
holder() { PSQL -d "$DB" -c "SELECT node FROM source_lease WHERE source = 'ecd'" 2>/dev/null || true; }

# n1 first, so it is the reader; then the two that stand by.
start 1
for _ in $(seq 200); do [ "$(holder)" = n1 ] && break; sleep 0.05; done
[ "$(holder)" = n1 ] || fail "n1 did not take the source lease"
start 2
start 3
cp "$T/gen/export.csv" "$T/inbox/.export.csv.part"
touch -d '-1 minute' "$T/inbox/.export.csv.part"
mv "$T/inbox/.export.csv.part" "$T/inbox/export.csv"

# Mid-file: the watermark names the file at an offset past its first step.
t0=$SECONDS
while :; do
    [ $((SECONDS - t0)) -lt 240 ] || fail "n1 did not read a quarter of the export in 240 s"
    off=$(wm offset)
    row=${off#*:}
    # a quarter in, so the takeover has most of the file left to finish
    [ -n "$off" ] && [ "$(wm file)" != "" ] && [ "${row:-0}" -ge $((ROWS / 4)) ] && break
    sleep 0.02
done
kill -9 "${NPID[1]}" 2>/dev/null || fail "n1 ended before the kill: $(tail -n 5 "$T/n1.log")"
wait "${NPID[1]}" 2>/dev/null || true
unset 'NPID[1]'
at_kill=$(wm offset)
row_at_kill=${at_kill#*:}
[ -z "$(wm finished)" ] || fail "the export was finished before the kill landed"
[ -f "$T/inbox/export.csv" ] || fail "the export left the inbox before the kill landed"
[ "$row_at_kill" -lt "$ROWS" ] || fail "the kill landed at the end of the file ($at_kill)"
echo "killed n1 mid-file at row $row_at_kill of $ROWS (watermark $at_kill)"

# Another node takes the lease over (after store_lease, 5 s) and finishes.
t1=$SECONDS
while ! grep -q "holds the source lease now" "$T/n2.log" "$T/n3.log"; do
    # generous (10 x store_lease): a loaded CI machine, not a figure
    [ $((SECONDS - t1)) -lt 50 ] || fail "no node took the source lease over within 50 s"
    sleep 0.1
done
takeover=$((SECONDS - t1))
while [ ! -f "$T/inbox/done/export.csv" ]; do
    [ $((SECONDS - t1)) -lt 240 ] || fail "no node finished the export within 240 s (holder $(holder))"
    [ ! -f "$T/inbox/rejected/export.csv" ] || fail "export rejected: $(cat "$T/inbox/rejected/export.csv.reason" 2>/dev/null)"
    sleep 0.2
done
took=$((SECONDS - t1))
h=$(holder)
case "$h" in n2 | n3) ;; *) fail "the lease is held by '$h', not by a surviving node" ;; esac
grep -q "resuming export.csv at byte [1-9]" "$T/$h.log" || fail "$h did not resume at the watermark"
grep -q "holds the source lease now" "$T/$h.log" || fail "$h did not log the takeover"
other=n2
[ "$h" = n2 ] && other=n3
grep -q "holds the source lease" "$T/$other.log" && fail "$other read the source as well"
case "$(wm finished)" in export.csv\|*) ;; *) fail "finished watermark is '$(wm finished)'" ;; esac

# Every row exactly once: staged for the destination or quarantined.
cut -d';' -f1 "$T/gen/export.csv" | tail -n +2 | sort >"$T/want.txt"
PSQL -d "$DB" -c "SELECT split_part(record_key, chr(31), 2) FROM staged WHERE destination = 'monitor'
                  UNION ALL SELECT record_id FROM quarantine WHERE source = 'ecd'" |
    sort >"$T/got.txt"
staged=$(PSQL -d "$DB" -c "SELECT count(*) FROM staged")
quar=$(PSQL -d "$DB" -c "SELECT count(*) FROM quarantine")
dups=$(uniq -d "$T/got.txt" | wc -l)
lost=$(comm -23 "$T/want.txt" <(sort -u "$T/got.txt") | wc -l)
extra=$(comm -13 "$T/want.txt" <(sort -u "$T/got.txt") | wc -l)
[ "$dups" = 0 ] || fail "$dups rows are in the store twice, e.g. $(uniq -d "$T/got.txt" | head -3 | tr '\n' ' ')"
[ "$lost" = 0 ] || fail "$lost rows were lost, e.g. $(comm -23 "$T/want.txt" <(sort -u "$T/got.txt") | head -3 | tr '\n' ' ')"
[ "$extra" = 0 ] || fail "$extra unknown record ids"
[ "$((staged + quar))" = "$ROWS" ] || fail "staged $staged + quarantined $quar != $ROWS rows"
[ "$(PSQL -d "$DB" -c "SELECT count(DISTINCT record_id) FROM seen WHERE source = 'ecd'")" = "$ROWS" ] ||
    fail "not every row was seen once"
# No BSN in clear in what the nodes logged (the test range starts with 9999).
if grep -Eq '9999[0-9]{5}' "$T"/n*.log; then fail "a BSN in clear in a node's log"; fi
for n in "${!NPID[@]}"; do kill -TERM "${NPID[$n]}" 2>/dev/null || true; done
for n in "${!NPID[@]}"; do wait "${NPID[$n]}" 2>/dev/null || true; done
NPID=()
echo "ok: pg source failover: $ROWS rows, n1 killed at row $row_at_kill, $h took the lease over after ${takeover}s (store_lease 5s) and finished the file ${took}s after the kill; $staged staged + $quar quarantined, each row once; export in done/"
