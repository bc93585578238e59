#!/bin/bash
# Crash safety: 20 times, start zinvold on a backlog of (at least) 10,000
# payloads and SIGKILL it at a random moment; before each round the backlog
# is topped up to 10,000 pending with new payloads.  After a final clean run
# the receiver must have every payload at least once, repeats must carry the
# same idempotency key and the same bytes, and the audit trail must be intact.
set -euo pipefail
B=${ZV_BUILD_DIR:?}
S=${ZV_SOURCE_DIR:?}
ROUNDS=${ZV_CRASH_ROUNDS:-20}
N=${ZV_CRASH_PAYLOADS:-10000}
[ -x "$B/zinvold" ] && [ -x "$B/zinvolctl" ] || cmake --build "$B" --target zinvold zinvolctl >/dev/null
T=$(mktemp -d /tmp/zv-store-crash-XXXXXX)
RPID=
DPID=
cleanup() {
    [ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null
    [ -n "$RPID" ] && kill "$RPID" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

mkdir -p "$T/state"
# The C receiver: it answers every connection it accepts (receiver.py once
# left one unanswered for 30 s under load, and the circuit then held 60 s).
"$B/tests/http_receiver" --port-file "$T/port" --log "$T/recv.jsonl" 2>"$T/receiver.log" &
RPID=$!
for _ in $(seq 200); do [ -s "$T/port" ] && break; sleep 0.05; done
[ -s "$T/port" ]
cat > "$T/z.conf" <<CONF
{
  "state_dir": "$T/state", "store": "zinvol.db",
  "catalogue_dir": "$S/conf/catalogue", "plugin_dir": "${ZV_PLUGIN_DIR:?}",
  "log_level": "notice", "organisation": {"agb": "12345678", "name": "Test"},
  "sources": [],
  "destinations": [
    {"name": "zk", "format": "json", "transport": "http",
     "catalogue": {"file": "json-example.json"},
     "transport_options": {"url": "http://127.0.0.1:$(cat "$T/port")/in"},
     "policy": {"max_age": "1d", "concurrency": 8, "backoff_initial": "1s", "backoff_max": "2s"}}
  ]
}
CONF
"$B/tests/store_fill" "$T/state/zinvol.db" zk "$N" | grep -qx "$N"

pending() {
    python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM outbox WHERE state IN (\"pending\",\"inflight\")").fetchone()[0])' "$T/state/zinvol.db"
}
for i in $(seq "$ROUNDS"); do
    top=$((N - $(pending)))
    [ "$top" -gt 0 ] && "$B/tests/store_fill" "$T/state/zinvol.db" zk "$top" 0 "R$i" >/dev/null
    "$B/zinvold" --config "$T/z.conf" 2>>"$T/daemon.log" &
    DPID=$!
    # A random moment between 0.05 s and 1.5 s: during start-up, recovery,
    # sending, or writing outcomes.
    sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.3f", 0.05 + (r % 1450) / 1000 }')"
    kill -9 "$DPID" 2>/dev/null || true
    wait "$DPID" 2>/dev/null || true
    DPID=
    echo "round $i: topped up $top, receiver has $(wc -l < "$T/recv.jsonl" 2>/dev/null || echo 0) requests"
done

# The final clean run finishes the backlog.
"$B/zinvold" --config "$T/z.conf" --once 2>>"$T/daemon.log"
"$B/zinvolctl" -c "$T/z.conf" audit verify

python3 - "$T/recv.jsonl" "$T/state/zinvol.db" <<'PY'
import json, sqlite3, sys
log, dbpath = sys.argv[1], sys.argv[2]
db = sqlite3.connect(dbpath)
keys = {k for (k,) in db.execute("SELECT idem_key FROM outbox")}
states = dict(db.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())
assert states == {"delivered": len(keys)}, states
seen = {}
total = 0
for line in open(log):
    r = json.loads(line)
    total += 1
    assert r["status"] == 200, r
    seen.setdefault(r["key"], set()).add(r["sha256"])
missing = sorted(keys - set(seen))
assert not missing, f"{len(missing)} payloads never arrived, e.g. {missing[:5]}"
extra = sorted(set(seen) - keys)
assert not extra, f"unknown keys {extra[:5]}"
changed = [k for k, v in seen.items() if len(v) != 1]
assert not changed, f"repeats with different bytes: {changed[:5]}"
audited = db.execute("SELECT count(*) FROM audit WHERE kind = 'delivered'").fetchone()[0]
assert audited == len(keys), audited
print(f"store_crash: {len(keys)} payloads all delivered; {total} requests, "
      f"{total - len(keys)} repeats (same key, same bytes); audit entries {audited}")
PY
