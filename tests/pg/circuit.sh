#!/bin/bash
# Shared circuit breaker (issue 17): node n1 meets a receiver that answers
# 503 to everything and opens the destination's circuit after 3 failures;
# node n2, started afterwards on the same PostgreSQL database, sees the open
# circuit before its first claim and sends nothing: two nodes do not hammer a
# dead receiver twice as hard; n2's /healthz shows the open circuit and the
# waiting backlog of the shared outbox.  Then the receiver is healthy: after
# the cooldown (15 s) the half-open probe, one at a time for both nodes,
# closes the circuit for both and the backlog drains.
# Runs through run_pg.sh (ZV_PG_HOST, ZV_PG_USER, ZV_PG_BINDIR).
set -euo pipefail
B=${ZV_BUILD_DIR:?}
S=${ZV_SOURCE_DIR:?}
T=$(mktemp -d /tmp/zv-pg-circuit-XXXXXX)
DB=zv_circuit_$$
PSQL() { "$ZV_PG_BINDIR/psql" -h "$ZV_PG_HOST" -U "$ZV_PG_USER" -X -q -t -A "$@"; }
RPID= P1= P2=
cleanup() {
    for p in $P1 $P2; do kill -9 "$p" 2>/dev/null || true; done
    [ -n "$RPID" ] && kill "$RPID" 2>/dev/null
    wait 2>/dev/null
    PSQL -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
    rm -rf "$T"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    tail -n 5 "$T"/n*.log >&2 || true
    exit 1
}
receiver() { # receiver EXTRA_ARGS...
    rm -f "$T/port"
    python3 "$S/tests/fixtures/receiver/receiver.py" --port "$PORT" --port-file "$T/port" \
        --log "$T/recv.jsonl" "$@" &
    RPID=$!
    for _ in $(seq 200); do [ -s "$T/port" ] && break; sleep 0.05; done
    [ -s "$T/port" ] || fail "receiver did not start"
}
wait_for() { # wait_for SECONDS FILE PATTERN
    for _ in $(seq $(($1 * 10))); do grep -q "$3" "$2" 2>/dev/null && return 0; sleep 0.1; done
    fail "no '$3' in $2 within $1 s"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
MPORT=("" "$(free_port)" "$(free_port)")
receiver --fail-first 1000000
PSQL -d postgres -c "CREATE DATABASE $DB"
URL="postgresql://$ZV_PG_USER@/$DB?host=$ZV_PG_HOST"
for n in 1 2; do
    mkdir -p "$T/state$n"
    cat >"$T/n$n.conf" <<CONF
{
  "state_dir": "$T/state$n", "store": "$URL", "node": "n$n", "store_lease": "3s",
  "catalogue_dir": "$S/conf/catalogue", "plugin_dir": "${ZV_PLUGIN_DIR:?}",
  "log_level": "info", "organisation": {"agb": "12345678", "name": "Test"},
  "sources": [], "metrics": {"listen": "127.0.0.1:${MPORT[$n]}"}, "health": {"max_pending_age": "1s"},
  "destinations": [
    {"name": "zk", "format": "json", "transport": "http",
     "catalogue": {"file": "json-example.json"},
     "transport_options": {"url": "http://127.0.0.1:$PORT/in"},
     "policy": {"max_age": "1d", "concurrency": 1, "backoff_initial": "1s", "backoff_max": "2s",
                "circuit_failures": 3, "circuit_cooldown": "15s"}}
  ]
}
CONF
done
"$B/tests/store_fill" "$URL" zk 20 0 K | grep -qx 20 || fail "backlog"

"$B/zinvold" --config "$T/n1.conf" 2>"$T/n1.log" &
P1=$!
wait_for 20 "$T/n1.log" "circuit open after 3 consecutive failures"
[ "$(wc -l <"$T/recv.jsonl")" = 3 ] || fail "n1 sent $(wc -l <"$T/recv.jsonl") before its circuit opened"
[ "$(PSQL -d "$DB" -c "SELECT node FROM circuit WHERE destination = 'zk'")" = n1 ] ||
    fail "no shared circuit row"
"$B/zinvold" --config "$T/n2.conf" 2>"$T/n2.log" &
P2=$!
wait_for 20 "$T/n2.log" "circuit open: node n1 opened it for all nodes"
sleep 1
[ "$(wc -l <"$T/recv.jsonl")" = 3 ] || fail "n2 sent while the circuit was open: $(wc -l <"$T/recv.jsonl") requests"
grep -q '"status": 503' "$T/recv.jsonl" || fail "receiver log"
# /healthz of n2 reads the shared outbox: the circuit and the waiting backlog.
# The backlog counts as late once it is older than max_pending_age (1 s, in
# whole seconds), which on a fast machine can be after the first probe:
# probe until it is, well inside the 15 s cooldown.
for _ in $(seq 50); do
    H=$(curl -s -w ' %{http_code}' "http://127.0.0.1:${MPORT[2]}/healthz")
    case "$H" in *"circuit open for zk"*"oldest pending payload for zk is "*503) break ;; esac
    sleep 0.1
done
case "$H" in *"circuit open for zk"*"oldest pending payload for zk is "*503) ;;
*) fail "n2 /healthz: '$H'" ;; esac
[ "$(wc -l <"$T/recv.jsonl")" = 3 ] || fail "n2 sent while the circuit was open: $(wc -l <"$T/recv.jsonl") requests"

# The receiver recovers; after the cooldown one probe closes the circuit
# for both, and the 20 payloads are delivered.
kill "$RPID"; wait "$RPID" 2>/dev/null || true
receiver
for _ in $(seq 300); do
    [ "$(PSQL -d "$DB" -c "SELECT count(*) FROM outbox WHERE state = 'delivered'")" = 20 ] && break
    sleep 0.1
done
[ "$(PSQL -d "$DB" -c "SELECT count(*) FROM outbox WHERE state = 'delivered'")" = 20 ] ||
    fail "not drained after the cooldown"
[ "$(PSQL -d "$DB" -c "SELECT count(*) FROM circuit")" = 0 ] || fail "shared circuit still open"
grep -q "circuit closed" "$T/n1.log" "$T/n2.log" || fail "no node closed it"
echo "ok: pg circuit: n1 opened it after 3 failures, n2 sent nothing while open; closed after the cooldown, 20 delivered"
