#!/usr/bin/env bash
# zinvold nodes on one PostgreSQL store against a receiver that answers in
# 50 ms (issue 17): the same backlog delivered by 1, 2 and 3 nodes, and by
# one node on an SQLite store for comparison.  Throughput grows with nodes
# until the destination's concurrency (a limit for all nodes together)
# divided by the receiver's time.  Starts its own temporary cluster.
#   pg_nodes_bench.sh [--build DIR] [--payloads N] [--concurrency C] [--delay-ms D]
# Prints figures; asserts only that every payload was delivered.
set -euo pipefail
S=$(cd "$(dirname "$0")/../.." && pwd)
B=${ZV_BUILD_DIR:-$S/build}
N=1500 C=32 DELAY=50
# shellcheck disable=SC2086
set -- ${ZV_BENCH_ARGS:-} "$@"
while [ $# -gt 0 ]; do
    case "$1" in
    --build) B=$2; shift 2 ;;
    --payloads) N=$2; shift 2 ;;
    --concurrency) C=$2; shift 2 ;;
    --delay-ms) DELAY=$2; shift 2 ;;
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
python3 "$S/tests/fixtures/receiver/receiver.py" --port-file "$T/port" --log "$T/recv.jsonl" \
    --delay-ms "$DELAY" &
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
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    PIDS=()
    [ "$("$@")" -ge "$N" ] || { echo "$label: not all delivered" >&2; exit 1; }
    awk -v l="$label" -v n="$N" -v ms="$ms" -v load="$(uptime | sed 's/.*load average: //')" \
        'BEGIN { printf "  %-20s %6d payloads in %6.2f s  %7.1f payloads/s   (load %s)\n", l, n,
                 ms / 1000, n * 1000 / ms, load }'
}
echo "delivery to a receiver answering in ${DELAY} ms, concurrency $C, $N payloads of 600 bytes"
mkdir -p "$T/sqlite-1-node-state1"
"$B/tests/store_fill" "$T/sqlite-1-node-state1/zinvol.db" zk "$N" 0 S >/dev/null
sq_count() { sqlite3 "$T/sqlite-1-node-state1/zinvol.db" "SELECT count(*) FROM outbox WHERE state = 'delivered'"; }
run sqlite-1-node 1 zinvol.db sq_count
for k in 1 2 3; do
    PSQL -d postgres -c "CREATE DATABASE zv_nodes_$k" >/dev/null
    URL="postgresql://$ZV_PG_USER@/zv_nodes_$k?host=$ZV_PG_HOST"
    "$B/tests/store_fill" "$URL" zk "$N" 0 "P$k" >/dev/null
    pg_count() { PSQL -d "zv_nodes_$k" -c "SELECT count(*) FROM outbox WHERE state = 'delivered'"; }
    run "postgresql-$k-node" "$k" "$URL" pg_count
done
echo "  the receiver's limit: $C in flight / ${DELAY} ms = $((C * 1000 / DELAY)) payloads/s"
