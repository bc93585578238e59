#!/bin/bash
# zinvold in its normal (long-running) mode with two destinations:
#  - "zk": its receiver is down when the daemon starts; backoff and the
#    circuit show in the log; when the receiver comes up the backlog drains
#    with nothing lost, and the payloads it refuses (400) go to the dead
#    letter without holding up the rest;
#  - "gone": its receiver never comes up; it must not delay "zk".
set -euo pipefail
B=${ZV_BUILD_DIR:?}
S=${ZV_SOURCE_DIR:?}
N=500
[ -x "$B/zinvold" ] && [ -x "$B/zinvolctl" ] || cmake --build "$B" --target zinvold zinvolctl >/dev/null
T=$(mktemp -d /tmp/zv-store-deliv-XXXXXX)
RPID=
DPID=
cleanup() {
    [ -n "$DPID" ] && kill "$DPID" 2>/dev/null
    [ -n "$RPID" ] && kill "$RPID" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
PORT=$(free_port)
GONE=$(free_port)
mkdir -p "$T/state"
cat > "$T/z.conf" <<CONF
{
  "state_dir": "$T/state", "store": "zinvol.db",
  "catalogue_dir": "$S/conf/catalogue", "plugin_dir": "${ZV_PLUGIN_DIR:?}",
  "log_level": "info", "organisation": {"agb": "12345678", "name": "Test"},
  "sources": [],
  "destinations": [
    {"name": "zk", "format": "json", "transport": "http",
     "catalogue": {"file": "json-example.json"},
     "transport_options": {"url": "http://127.0.0.1:$PORT/in"},
     "policy": {"max_age": "1d", "backoff_initial": "1s", "backoff_max": "2s",
                "circuit_failures": 5, "circuit_cooldown": "2s"}},
    {"name": "gone", "format": "json", "transport": "http",
     "catalogue": {"file": "json-example.json"},
     "transport_options": {"url": "http://127.0.0.1:$GONE/in"},
     "policy": {"max_age": "1d", "backoff_initial": "1s", "backoff_max": "2s"}}
  ]
}
CONF
"$B/tests/store_fill" "$T/state/zinvol.db" zk $N 50 >/dev/null     # 10 carry BAD
"$B/tests/store_fill" "$T/state/zinvol.db" gone 200 0 G >/dev/null

"$B/zinvold" --config "$T/z.conf" 2>"$T/daemon.log" &
DPID=$!
# Wait (bounded) until the daemon has backed off and opened the circuit.
for _ in $(seq 600); do grep -q 'circuit open' "$T/daemon.log" && break; sleep 0.1; done
grep -q 'delivery/zk.*retry in' "$T/daemon.log"
grep -q 'delivery/zk.*circuit open' "$T/daemon.log"

python3 "$S/tests/fixtures/receiver/receiver.py" --port "$PORT" --port-file "$T/port" \
    --log "$T/recv.jsonl" --reject BAD &
RPID=$!
delivered() {
    python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM outbox WHERE destination=\"zk\" AND state IN (\"delivered\",\"dead\")").fetchone()[0])' "$T/state/zinvol.db"
}
for _ in $(seq 1200); do [ "$(delivered)" = $N ] && break; sleep 0.1; done
[ "$(delivered)" = $N ]
grep -q 'delivery/zk.*circuit closed' "$T/daemon.log"
kill "$DPID"
wait "$DPID" || true
DPID=

python3 - "$T/recv.jsonl" "$T/state/zinvol.db" $N <<'PY'
import json, sqlite3, sys
log, dbpath, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
ok, bad = set(), set()
for line in open(log):
    r = json.loads(line)
    (ok if r["status"] == 200 else bad).add(r["key"])
want_bad = {f"P-{i:06d}" for i in range(0, n, 50)}
assert bad == want_bad, (sorted(bad)[:5], len(bad))
assert ok == {f"P-{i:06d}" for i in range(n)} - want_bad, len(ok)
db = sqlite3.connect(dbpath)
dlq = db.execute("SELECT count(*) FROM dead_letter WHERE destination='zk' AND http_status=400 "
                 "AND reason LIKE '%invalid Besluitnummer%'").fetchone()[0]
assert dlq == len(want_bad), dlq
gone = dict(db.execute("SELECT state, count(*) FROM outbox WHERE destination='gone' "
                       "GROUP BY state").fetchall())
assert gone.get("delivered", 0) == 0 and gone.get("dead", 0) == 0, gone
attempts = db.execute("SELECT max(attempts) FROM outbox WHERE destination='gone'").fetchone()[0]
assert attempts >= 1, attempts
print(f"store_delivery: zk {len(ok)} delivered, {dlq} in the dead letter; "
      f"'gone' still pending {gone}, attempts up to {attempts}")
PY
grep -c 'retry in' "$T/daemon.log" | sed 's/^/retry log lines: /'
