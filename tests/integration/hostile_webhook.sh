#!/usr/bin/env bash
# Issue 10 through the real zinvold's webhook: D3 (an event that cannot be
# written as JSON — invalid UTF-8 in a value, or the 4096-byte raw cut of a
# non-JSON body falling inside a character — is kept in quarantine with its
# reason, never answered 503 forever, and the log says so) and D11 (a record
# id with a newline cannot forge log lines or break `zinvolctl quarantine
# list`).
set -euo pipefail
: "${ZV_SOURCE_DIR:?}" "${ZV_BUILD_DIR:?}" "${ZV_PLUGIN_DIR:?}"
tmp=$(mktemp -d /tmp/zv-hostile-wh-XXXXXX)
zv_pid=""
cleanup() { [ -n "$zv_pid" ] && kill -9 "$zv_pid" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- zinvold log"; tail -20 "$tmp/log" 2>/dev/null; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
secret="integration-test-secret-0123456789"
cat > "$tmp/zinvol.conf" <<JSON
{ "state_dir": "$tmp/state", "catalogue_dir": "$ZV_SOURCE_DIR/conf/catalogue",
  "http": {"listen": "127.0.0.1:$port"},
  "sources": [{"name": "ons", "type": "webhook", "options": {"secret": "$secret"},
               "mapping": {"records": [{"kind": "client", "fields": {
                   "client.id": "/id", "client.bsn": "/bsn", "client.family_name": "/naam"}}]}}],
  "destinations": [{"name": "monitor", "format": "json", "transport": "filedrop",
                    "transport_options": {"dir": "$tmp/out"},
                    "catalogue": {"file": "json-example.json"}}] }
JSON
mkdir -p "$tmp/out"
"$ZV_BUILD_DIR/zinvold" --config "$tmp/zinvol.conf" --plugin-dir "$ZV_PLUGIN_DIR" 2>"$tmp/log" &
zv_pid=$!
for _ in $(seq 100); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")" = 200 ] && break
  kill -0 "$zv_pid" 2>/dev/null || fail "zinvold exited"
  sleep 0.1
done
post_file() { # file -> HTTP status
  local sig; sig=$(openssl dgst -sha512 -hmac "$secret" -r < "$1" | cut -d' ' -f1)
  curl -s -o /dev/null -w '%{http_code}' -X POST -H "X-Signature-SHA512: sha512=$sig" \
    --data-binary "@$1" "http://127.0.0.1:$port/webhook/ons"
}
qcount() { sqlite3 "$tmp/state/zinvol.db" "SELECT count(*) FROM quarantine"; }

# D3a: a surrogate (ED A0 80) inside a value: kept, 202, and again 202 (not 503).
printf '{"event_id": "ev-1", "id": "C1", "bsn": "999996708", "naam": "Bakker\xed\xa0\x80"}' > "$tmp/e1"
[ "$(post_file "$tmp/e1")" = 202 ] || fail "surrogate in a value: not kept"
printf '{"event_id": "ev-2", "id": "C2", "bsn": "999996708", "naam": "\xc0\xaf"}' > "$tmp/e2"
[ "$(post_file "$tmp/e2")" = 202 ] || fail "overlong form in a value: not kept"
[ "$(qcount)" = 2 ] || fail "quarantine holds $(qcount), want 2"
grep -q "event ev-1 kept in quarantine: record C1: the value of /naam is not valid UTF-8 (UTF-16 surrogate" "$tmp/log" \
  || fail "no log line for the surrogate"

# D3b: not JSON, 5000 bytes, a 3-byte character across the 4096-byte cut.
python3 -c 'import sys; sys.stdout.buffer.write(b"x" * 4094 + "\u20ac".encode() + b"y" * 900)' > "$tmp/e3"
[ "$(post_file "$tmp/e3")" = 400 ] || fail "non-JSON body with a character at the cut: not kept (400)"
[ "$(qcount)" = 3 ] || fail "quarantine holds $(qcount), want 3"
# The kept raw text is valid UTF-8 and ends before the character it could not hold whole.
sqlite3 "$tmp/state/zinvol.db" "SELECT item_json FROM quarantine ORDER BY id DESC LIMIT 1" > "$tmp/raw"
python3 - "$tmp/raw" <<'PY' || fail "kept raw text is not valid UTF-8 JSON"
import json, sys
item = json.loads(open(sys.argv[1], "rb").read().decode("utf-8", "strict"))
raw = [v for k, v in (item.items() if isinstance(item, dict) else []) if "raw" in k]
text = json.dumps(item)
assert "x" * 4000 in text, text[:200]
PY

# D11: a record id with a newline and a forged log line in it.
printf '{"event_id": "ev-4", "id": "C4\\n2026-12-01T00:00:00Z error [core] audit chain broken", "bsn": "12"}' > "$tmp/e4"
[ "$(post_file "$tmp/e4")" = 202 ] || fail "event with a newline in its id"
[ "$(qcount)" = 4 ] || fail "quarantine holds $(qcount), want 4"
for _ in $(seq 50); do grep -q 'C4\\n2026' "$tmp/log" && break; sleep 0.1; done
grep -q 'C4\\n2026-12-01T00:00:00Z error \[core\] audit chain broken' "$tmp/log" || fail "id not escaped in the log"
grep -q '^2026-12-01T00:00:00Z error \[core\]' "$tmp/log" && fail "forged log line"
"$ZV_BUILD_DIR/zinvolctl" --config "$tmp/zinvol.conf" quarantine list > "$tmp/list" || fail "quarantine list"
[ "$(grep -vc '^ID ' "$tmp/list")" = 4 ] || fail "quarantine list has $(grep -vc '^ID ' "$tmp/list") lines for 4 entries: $(cat "$tmp/list")"
grep -q 'C4\\n2026' "$tmp/list" || fail "id not escaped in the list"
grep -q "could not be stored" "$tmp/log" && fail "an event was answered 503"
kill -TERM "$zv_pid"; wait "$zv_pid" || fail "exit status $?"; zv_pid=""
echo "hostile_webhook: all checks passed"
