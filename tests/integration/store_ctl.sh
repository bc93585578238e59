#!/bin/bash
# zinvold + zinvolctl against a real loopback receiver: payloads the receiver
# refuses (400) land in the dead letter with the reason and do not block the
# rest; dlq retry re-sends with the SAME idempotency key; dlq drop is audited;
# audit verify detects an edited and a deleted (last) entry.
set -euo pipefail
B=${ZV_BUILD_DIR:?}
S=${ZV_SOURCE_DIR:?}
[ -x "$B/zinvold" ] && [ -x "$B/zinvolctl" ] || cmake --build "$B" --target zinvold zinvolctl >/dev/null
T=$(mktemp -d /tmp/zv-store-ctl-XXXXXX)
RPID=
cleanup() { [ -n "$RPID" ] && kill "$RPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

start_receiver() {
    rm -f "$T/port"
    python3 "$S/tests/fixtures/receiver/receiver.py" --port-file "$T/port" --log "$T/recv.jsonl" "$@" &
    RPID=$!
    for _ in $(seq 200); do [ -s "$T/port" ] && break; sleep 0.05; done
    [ -s "$T/port" ] || { echo "receiver did not start"; exit 1; }
}
stop_receiver() { kill "$RPID"; wait "$RPID" 2>/dev/null || true; RPID=; }

mkdir -p "$T/state"
start_receiver --reject BAD
cat > "$T/z.conf" <<CONF
{
  "state_dir": "$T/state", "store": "zinvol.db",
  "catalogue_dir": "$S/conf/catalogue", "plugin_dir": "${ZV_PLUGIN_DIR:?}",
  "log_level": "info", "organisation": {"agb": "12345678", "name": "Test"},
  "sources": [],
  "destinations": [
    {"name": "zk", "format": "json", "transport": "http",
     "catalogue": {"file": "json-example.json"},
     "transport_options": {"url": "http://127.0.0.1:$(cat "$T/port")/in"},
     "policy": {"max_age": "1h", "backoff_initial": "1s", "backoff_max": "2s"}},
    {"name": "zk-iwlz", "format": "iwlz", "transport": "filedrop",
     "format_options": {"release_dir": "$S/plugins/fmt_iwlz/releases/2.2"},
     "transport_options": {"dir": "$T/drop"}}
  ]
}
CONF
ctl() { "$B/zinvolctl" -c "$T/z.conf" "$@"; }

"$B/tests/store_fill" "$T/state/zinvol.db" zk 100 10 >/dev/null   # P-000000, P-000010, ... carry BAD
"$B/zinvold" --config "$T/z.conf" --once 2>"$T/run1.log"
[ "$(grep -c '"status": 200' "$T/recv.jsonl")" = 90 ]
[ "$(grep -c '"status": 400' "$T/recv.jsonl")" = 10 ]

ctl dlq list > "$T/dlq.txt"
[ "$(grep -c 'HTTP 400' "$T/dlq.txt")" = 10 ]
grep -q 'P-000010.*invalid Besluitnummer' "$T/dlq.txt"
grep -q 'to the dead letter' "$T/run1.log"

# Retry one after the receiver stops refusing: same idempotency key again.
ID=$(awk '/P-000000/ {print $1}' "$T/dlq.txt")
ctl dlq retry "$ID" | grep -q 'queued again'
PORT=$(cat "$T/port")
stop_receiver
start_receiver --port "$PORT"
"$B/zinvold" --config "$T/z.conf" --once 2>"$T/run2.log"
[ "$(grep -c '"key": "P-000000"' "$T/recv.jsonl")" = 2 ]
[ "$(grep '"key": "P-000000"' "$T/recv.jsonl" | grep -c '"status": 200')" = 1 ]
! ctl dlq retry "$ID" 2>/dev/null   # gone from the dead letter

# Drop one: audited.  Retry the rest.
DROP=$(awk '/P-000010/ {print $1}' "$T/dlq.txt")
ctl dlq drop "$DROP" | grep -q 'audit trail'
ctl dlq retry --all | grep -c 'queued again' | grep -qx 8
"$B/zinvold" --config "$T/z.conf" --once 2>"$T/run3.log"
[ "$(ctl dlq list | wc -l)" = 1 ]   # header only
# 90 + 1 + 8 delivered, 1 drop entry, and 9 'admin' entries: the 1 + 8 dlq retries name who asked
ctl audit verify | grep -q 'intact: 109 entries'

# A retour message (AW36) that came back as a file: the iwlz format reads it;
# the rejected record goes to the dead letter with its codes, the accepted
# ones are marked.  The AW35 it answers was delivered earlier (made here).
python3 - "$T/state/zinvol.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
recs = ('[{"source":"ons","record_id":"c1","key":"111222333/100001"},'
        '{"source":"ons","record_id":"c1b","key":"111222333/100002"},'
        '{"source":"ons","record_id":"c2","key":"123456782/200001"}]')
db.execute("INSERT INTO outbox(destination, message, idem_key, payload, records_json, state, "
           "first_enqueued, delivered_at) VALUES('zk-iwlz', 'AW35', 'AW35-1', x'00', ?, "
           "'delivered', 0, 0)", (recs,))
db.commit()
PY
ctl retour zk-iwlz "$S/tests/fixtures/iwlz/aw36-mixed.xml" > "$T/retour.txt"
grep -q 'REJECTED' "$T/retour.txt"
[ "$(grep -c 'accepted' "$T/retour.txt")" = 2 ]
! grep -q '123456782' "$T/retour.txt"      # BSNs are masked on screen
# ... and the trail says who applied it.
sqlite3 "$T/state/zinvol.db" "SELECT detail FROM audit WHERE kind = 'admin'" |
    grep -q "retour file aw36-mixed.xml applied (3 verdicts) by uid $(id -u) .*zinvolctl" ||
    { echo "FAIL: no audit entry for the retour"; exit 1; }
cat "$T/retour.txt"
ctl dlq list > "$T/dlq2.txt"
grep AW35-1 "$T/dlq2.txt"
grep -q 'zk-iwlz.*AW35-1.*record .*/200001 (ons/c2).*codes .*0448' "$T/dlq2.txt"
! ctl dlq retry "$(awk '/AW35-1/ {print $1}' "$T/dlq2.txt")" 2>/dev/null   # fix at the source
# A record key no payload carried: named, non-zero exit, nothing recorded.
if ctl retour zk 2>/dev/null "$S/tests/fixtures/iwlz/aw36-mixed.xml"; then exit 1; fi
ctl audit verify | grep -q 'intact: 110 entries'

# Tampering: edit an entry, then delete the last one.
python3 - "$T/state/zinvol.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
# Remember the original, so that putting it back must verify again.
orig = db.execute("SELECT fields FROM audit WHERE seq = 42").fetchone()[0]
open(sys.argv[1] + ".seq42", "w").write(repr(orig))
db.execute("UPDATE audit SET fields = 'client.birth_date=internal' WHERE seq = 42")
db.commit()
PY
if ctl audit verify > "$T/v1.txt"; then echo "edit not detected"; exit 1; fi
grep -q 'BROKEN at entry 42' "$T/v1.txt"
python3 - "$T/state/zinvol.db" <<'PY'
import sqlite3, sys
import ast
db = sqlite3.connect(sys.argv[1])
orig = ast.literal_eval(open(sys.argv[1] + ".seq42").read())
db.execute("UPDATE audit SET fields = ? WHERE seq = 42", (orig,))
db.commit()
PY
ctl audit verify | grep -q intact
python3 - "$T/state/zinvol.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("DELETE FROM audit WHERE seq = (SELECT max(seq) FROM audit)")
db.commit()
PY
if ctl audit verify > "$T/v2.txt"; then echo "deletion not detected"; exit 1; fi
grep -q 'BROKEN at entry 110' "$T/v2.txt"
echo "store_ctl: ok"
