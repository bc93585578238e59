#!/bin/bash
# A failed outcome commit under a living node (issue 17): one node delivers
# 20 payloads; the server refuses the transaction that records the first
# outcomes (a trigger raises once, as a server-side error would), so those
# rows stay in flight under node n1 although their sends are over.  The
# node lives on and renews only the claims it still works on, so their
# lease runs out and the node itself returns them to pending; they go out
# again with the same key and bytes and all 20 end delivered, each with one
# audit entry, the chain intact.  (Renewing every claim of the node kept
# them in flight until a restart.)
# Runs through run_pg.sh (ZV_PG_HOST, ZV_PG_USER, ZV_PG_BINDIR).
set -euo pipefail
B=${ZV_BUILD_DIR:?}
S=${ZV_SOURCE_DIR:?}
T=$(mktemp -d /tmp/zv-pg-lease-XXXXXX)
DB=zv_lease_$$
PSQL() { "$ZV_PG_BINDIR/psql" -h "$ZV_PG_HOST" -U "$ZV_PG_USER" -X -q -t -A "$@"; }
RPID= P1=
cleanup() {
    [ -n "$P1" ] && kill -9 "$P1" 2>/dev/null
    [ -n "$RPID" ] && kill "$RPID" 2>/dev/null
    wait 2>/dev/null
    PSQL -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
    [ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    tail -n 8 "$T/n1.log" >&2 || true
    exit 1
}
# The C receiver: it answers every connection it accepts (receiver.py once
# left one unanswered for 30 s under load, and the circuit then held 60 s).
"$B/tests/http_receiver" --port-file "$T/port" --log "$T/recv.jsonl" 2>"$T/receiver.log" &
RPID=$!
for _ in $(seq 200); do [ -s "$T/port" ] && break; sleep 0.05; done
[ -s "$T/port" ] || fail "receiver did not start"
PSQL -d postgres -c "CREATE DATABASE $DB"
URL="postgresql://$ZV_PG_USER@/$DB?host=$ZV_PG_HOST"
mkdir -p "$T/state"
cat >"$T/n1.conf" <<CONF
{
  "state_dir": "$T/state", "store": "$URL", "node": "n1", "store_lease": "3s",
  "catalogue_dir": "$S/conf/catalogue", "plugin_dir": "${ZV_PLUGIN_DIR:?}",
  "log_level": "notice", "organisation": {"agb": "12345678", "name": "Test"},
  "sources": [],
  "destinations": [
    {"name": "zk", "format": "json", "transport": "http",
     "catalogue": {"file": "json-example.json"},
     "transport_options": {"url": "http://127.0.0.1:$(cat "$T/port")/in"},
     "policy": {"max_age": "1d", "concurrency": 4, "backoff_initial": "1s", "backoff_max": "2s"}}
  ]
}
CONF
N=20
"$B/tests/store_fill" "$URL" zk $N 0 L | grep -qx $N || fail "backlog"
# The first "delivered" update raises, so its whole transaction rolls back
# (a sequence counts outside transactions: once only).
PSQL -d "$DB" <<'SQL'
CREATE SEQUENCE refuse_once;
CREATE FUNCTION refuse_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.state = 'delivered' AND nextval('refuse_once') = 1 THEN
    RAISE EXCEPTION 'test: this outcome is refused';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER refuse_once BEFORE UPDATE ON outbox FOR EACH ROW EXECUTE FUNCTION refuse_once();
SQL
"$B/zinvold" --config "$T/n1.conf" 2>"$T/n1.log" &
P1=$!
delivered() { PSQL -d "$DB" -c "SELECT count(*) FROM outbox WHERE state = 'delivered'"; }
for _ in $(seq 300); do grep -q 'cannot record outcomes' "$T/n1.log" && break; sleep 0.1; done
grep -q 'cannot record outcomes' "$T/n1.log" || fail "the refused commit did not happen"
# The lease is 3 s, renewed every second: well within 30 s the stuck rows
# must be back and delivered, while n1 runs on.
for _ in $(seq 300); do [ "$(delivered)" = $N ] && break; sleep 0.1; done
kill -0 "$P1" || fail "n1 died"
[ "$(delivered)" = $N ] ||
    fail "$(delivered) of $N delivered; in flight under the living node: $(PSQL -d "$DB" -c "SELECT count(*) FROM outbox WHERE state = 'inflight'")"
grep -q 'claimed by a node whose lease ran out are pending again' "$T/n1.log" ||
    fail "the rows did not come back through the lease"
# Repeats only with the same key and bytes; one audit entry per payload.
python3 - "$T/recv.jsonl" <<'PY' || fail "receiver log"
import json, sys
seen = {}
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) > 20, "nothing was sent again"
for line in lines:
    r = json.loads(line)
    k = r.get("key")
    seen.setdefault(k, set()).add(r.get("sha256") or r.get("body"))
assert len(seen) == 20, len(seen)
assert all(len(v) == 1 for v in seen.values()), "a repeat with other bytes"
PY
"$B/zinvolctl" store check --url "$URL" >"$T/check.txt" || fail "$(cat "$T/check.txt")"
grep -q "^audit trail: intact, $N entries$" "$T/check.txt" || fail "$(cat "$T/check.txt")"
kill -TERM "$P1"; wait "$P1" 2>/dev/null || true; P1=
echo "ok: pg lease: rows of a refused outcome commit came back through the lease under a living node; $N delivered, one entry each"
