#!/usr/bin/env bash
# zinvold nodes on one PostgreSQL store against a receiver that answers in
# 50 ms (issue 17): the same backlog delivered by 1, 2 and 3 nodes, and by
# one node on an SQLite store for comparison.  Throughput grows with nodes
# until the destination's concurrency (a limit for all nodes together)
# divided by the receiver's time, or the receiver's own limit (--receiver-limit
# L: at most L answered at once, more wait in its queue).  The receiver is
# tests/fixtures/receiver/http_receiver (C, timers: it never leaves a
# connection unanswered, as receiver.py did under load).  Starts its own
# temporary cluster.
#   pg_nodes_bench.sh [--build DIR] [--payloads N] [--concurrency C] [--delay-ms D]
#                     [--receiver-limit L] [--nodes "1 2 3"] [--no-sqlite]
# Prints figures; asserts only that every payload was delivered.
set -euo pipefail
S=$(cd "$(dirname "$0")/../.." && pwd)
B=${ZV_BUILD_DIR:-$S/build}
N=1500 C=32 DELAY=50 RLIMIT=0 NODES="1 2 3" SQLITE=1
# shellcheck disable=SC2086
set -- ${ZV_BENCH_ARGS:-} "$@"
while [ $# -gt 0 ]; do
    case "$1" in
    --build) B=$2; shift 2 ;;
    --payloads) N=$2; shift 2 ;;
    --concurrency) C=$2; shift 2 ;;
    --delay-ms) DELAY=$2; shift 2 ;;
    --receiver-limit) RLIMIT=$2; shift 2 ;;
    --nodes) NODES=$2; shift 2 ;;
    --no-sqlite) SQLITE=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
# Absolute: the nodes' configs live in a temporary directory, and a relative
# plugin_dir would be resolved from there.
B=$(cd "$B" && pwd)
PLUGINS=${ZV_PLUGIN_DIR:-$B/plugins}
T=$(mktemp -d /tmp/zv-pgnb-XXXXXX)
PIDS=() RPID=
cleanup() {
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    [ -n "$RPID" ] && kill "$RPID" 2>/dev/null
    wait 2>/dev/null
    bash "$S/tests/pg/pg_cluster.sh" stop "$T/pg" >/dev/null 2>&1 || true
    rm -rf "$T"
}
trap cleanup EXIT
bash "$S/tests/pg/pg_cluster.sh" start "$T/pg" >/dev/null
# shellcheck disable=SC1091
. "$T/pg/env"
[ -z "${ZV_PG_SKIP:-}" ] || { echo "SKIP: $ZV_PG_SKIP"; exit 77; }
PSQL() { "$ZV_PG_BINDIR/psql" -h "$ZV_PG_HOST" -U "$ZV_PG_USER" -X -q -t -A "$@"; }
[ -x "$B/tests/http_receiver" ] || { echo "build the http_receiver target first" >&2; exit 2; }
"$B/tests/http_receiver" --port-file "$T/port" --log "$T/recv.jsonl" --delay-ms "$DELAY" \
    --limit "$RLIMIT" 2>"$T/receiver.log" &
RPID=$!
for _ in $(seq 200); do [ -s "$T/port" ] && break; sleep 0.05; done
conf() { # conf FILE STATE STORE NODE
    mkdir -p "$2"
    cat >"$1" <<CONF
{
  "state_dir": "$2", "store": "$3", "node": "$4",
  "catalogue_dir": "$S/conf/catalogue", "plugin_dir": "$PLUGINS",
  "log_level": "warning", "organisation": {"agb": "12345678", "name": "Bench"},
  "sources": [],
  "destinations": [
    {"name": "zk", "format": "json", "transport": "http",
     "catalogue": {"file": "json-example.json"},
     "transport_options": {"url": "http://127.0.0.1:$(cat "$T/port")/in"},
     "policy": {"max_age": "1d", "concurrency": $C, "backoff_initial": "1s", "backoff_max": "2s"}}
  ]
}
CONF
}
now_ms() { date +%s%3N; }
# run LABEL NODES STORE COUNT_CMD...: starts NODES nodes, waits until COUNT_CMD says N.
run() {
    local label=$1 nodes=$2 store=$3
    shift 3
    PIDS=()
    local t0 i
    t0=$(now_ms)
    for i in $(seq "$nodes"); do
        conf "$T/$label-$i.conf" "$T/$label-state$i" "$store" "$label-n$i"
        "$B/zinvold" --config "$T/$label-$i.conf" 2>>"$T/$label.log" &
        PIDS+=($!)
    done
    for _ in $(seq 2400); do [ "$("$@")" -ge "$N" ] && break; sleep 0.05; done
    local ms=$(($(now_ms) - t0))
    local load
    load=$(uptime | sed 's/.*load average: //')
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    PIDS=()
    [ "$("$@")" -ge "$N" ] || { echo "$label: not all delivered" >&2; exit 1; }
    # The receiver's counters since the last run: the most it held at once.
    local st peak
    st=$(curl -s "http://127.0.0.1:$(cat "$T/port")/stats")
    peak=$(sed 's/.*"peak_in_flight": \([0-9]*\).*/\1/' <<<"$st")
    awk -v l="$label" -v n="$N" -v ms="$ms" -v load="$load" -v peak="$peak" \
        'BEGIN { printf "  %-20s %6d payloads in %6.2f s  %7.1f payloads/s  receiver peak %4d in flight  (load %s)\n",
                 l, n, ms / 1000, n * 1000 / ms, peak, load }'
    curl -s -X POST "http://127.0.0.1:$(cat "$T/port")/stats/reset" >/dev/null
}
echo "delivery to a receiver answering in ${DELAY} ms (its limit: ${RLIMIT/#0/none}), concurrency $C, $N payloads of 600 bytes"
if [ "$SQLITE" = 1 ]; then
    mkdir -p "$T/sqlite-1-node-state1"
    "$B/tests/store_fill" "$T/sqlite-1-node-state1/zinvol.db" zk "$N" 0 S >/dev/null
    sq_count() { sqlite3 "$T/sqlite-1-node-state1/zinvol.db" "SELECT count(*) FROM outbox WHERE state = 'delivered'"; }
    run sqlite-1-node 1 zinvol.db sq_count
fi
for k in $NODES; do
    PSQL -d postgres -c "CREATE DATABASE zv_nodes_$k" >/dev/null
    URL="postgresql://$ZV_PG_USER@/zv_nodes_$k?host=$ZV_PG_HOST"
    "$B/tests/store_fill" "$URL" zk "$N" 0 "P$k" >/dev/null
    pg_count() { PSQL -d "zv_nodes_$k" -c "SELECT count(*) FROM outbox WHERE state = 'delivered'"; }
    run "postgresql-$k-node" "$k" "$URL" pg_count
done
cap=$C
[ "$RLIMIT" = 0 ] || [ "$RLIMIT" -ge "$C" ] || cap=$RLIMIT
echo "  the ceiling: $cap in flight / ${DELAY} ms = $((cap * 1000 / DELAY)) payloads/s"
