#!/usr/bin/env bash
# The webhook source in the running daemon: evhttp listener, HMAC-SHA512
# signatures, id-only events fetched from the ECD REST fixture through the
# core's HTTP client, 202 after commit, and replay detection across a
# daemon restart.
set -euo pipefail
: "${ZV_SOURCE_DIR:?}" "${ZV_BUILD_DIR:?}" "${ZV_PLUGIN_DIR:?}"
tmp=$(mktemp -d /tmp/zv-wh-int-XXXXXX)
ecd_pid="" zv_pid=""
cleanup() {
    [ -n "$zv_pid" ] && kill "$zv_pid" 2>/dev/null && wait "$zv_pid" 2>/dev/null || true
    [ -n "$ecd_pid" ] && kill "$ecd_pid" 2>/dev/null && wait "$ecd_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- zinvold log"; tail -30 "$tmp/zinvold.log" 2>/dev/null; exit 1; }

python3 "$ZV_SOURCE_DIR/tests/fixtures/ecd/ecd_server.py" --port-file "$tmp/ecd.port" \
    --token ecd-token &
ecd_pid=$!
for _ in $(seq 100); do [ -s "$tmp/ecd.port" ] && break; sleep 0.1; done
ecd="http://127.0.0.1:$(cat "$tmp/ecd.port")"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
secret="integration-test-secret-0123456789"

python3 - "$tmp" "$ZV_SOURCE_DIR" "$ecd" "$port" "$secret" <<'PY'
import json, sys
tmp, src, ecd, port, secret = sys.argv[1:]
conf = {
    "state_dir": tmp + "/state", "catalogue_dir": src + "/conf/catalogue",
    "organisation": {"agb": "12345678", "name": "Zorggroep Test"},
    "http": {"listen": "127.0.0.1:" + port},
    "sources": [{"name": "ons", "type": "webhook",
                 "options": {"secret": secret, "fetch_url": ecd + "/api/clients/{id}",
                             "bearer_token": "ecd-token", "max_body": 4096},
                 "mapping": {"records": [{"kind": "client", "fields": {
                     "client.id": "/clientnummer", "client.bsn": "/bsn",
                     "client.family_name": "/achternaam",
                     "client.birth_date": {"from": "/geboortedatum", "date_format": "%d-%m-%Y"}}}]}}],
    "destinations": [{"name": "monitor", "format": "json", "transport": "filedrop",
                      "transport_options": {"dir": tmp + "/out"},
                      "catalogue": {"file": "json-example.json"}}],
}
json.dump(conf, open(tmp + "/zinvol.conf", "w"), indent=1)
PY
mkdir -p "$tmp/out" "$tmp/state"

start_daemon() {
    "$ZV_BUILD_DIR/zinvold" --config "$tmp/zinvol.conf" --plugin-dir "$ZV_PLUGIN_DIR" \
        2>>"$tmp/zinvold.log" &
    zv_pid=$!
    for _ in $(seq 100); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")" = 200 ] && return 0
        kill -0 "$zv_pid" 2>/dev/null || fail "zinvold exited"
        sleep 0.1
    done
    fail "zinvold did not come up"
}
stop_daemon() { kill -TERM "$zv_pid"; wait "$zv_pid" || fail "zinvold exit status $?"; zv_pid=""; }

post() { # body [secret]
    local sig=""
    [ $# -gt 1 ] && sig=$(printf '%s' "$1" | openssl dgst -sha512 -hmac "$2" -r | cut -d' ' -f1)
    curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
        ${sig:+-H "X-Signature-SHA512: sha512=$sig"} --data-binary "$1" \
        "http://127.0.0.1:$port/webhook/ons"
}
gets() { curl -s "$ecd/admin/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["gets"])'; }

curl -s -X PUT --data-binary '{"clientnummer": "C1", "bsn": "999900006", "achternaam": "Jansen", "geboortedatum": "01-02-1940"}' \
    "$ecd/admin/records/C1" >/dev/null
start_daemon
ev='{"event_id": "ev-100", "type": "client.updated", "id": "C1"}'
[ "$(post "$ev")" = 401 ] || fail "unsigned request not refused"
[ "$(post "$ev" wrong-secret-wrong-secret)" = 401 ] || fail "wrongly signed request not refused"
[ "$(post "$(head -c 5000 /dev/zero | tr '\0' x)" "$secret")" = 413 ] || fail "large body not refused"
[ "$(post "$ev" "$secret")" = 202 ] || fail "signed event not accepted"
[ "$(gets)" = 1 ] || fail "record not fetched once"
db="$tmp/state/zinvol.db"
[ "$(sqlite3 "$db" "SELECT count(*) FROM seen WHERE source='ons' AND hash <> ''")" = 1 ] || fail "record not stored"
[ "$(sqlite3 "$db" "SELECT count(*) FROM seen WHERE source='ons' AND hash = ''")" = 1 ] || fail "event id not kept in the store"

stop_daemon
start_daemon
[ "$(post "$ev" "$secret")" = 202 ] || fail "replayed event not acknowledged"
[ "$(gets)" = 1 ] || fail "replayed event fetched again after restart"
[ "$(post '{"event_id": "ev-101", "id": "C1"}' "$secret")" = 202 ] || fail "second event"
[ "$(gets)" = 2 ] || fail "second event not fetched"
[ "$(sqlite3 "$db" "SELECT count(*) FROM seen WHERE source='ons' AND hash <> ''")" = 1 ] || fail "duplicate stored"
stop_daemon
# One info line per minute with traffic and one at stop (issue 14 item 5).
grep -q 'webhook /webhook/ons: 1 events kept, 1 new, 0 unchanged, 0 quarantined' "$tmp/zinvold.log" ||
    fail "no summary line for the first run"
grep -q 'webhook /webhook/ons: 1 events kept, 0 new, 1 unchanged, 0 quarantined' "$tmp/zinvold.log" ||
    fail "no summary line for the second run"
echo "ok: signatures, size limit, fetch, replay across restart"
