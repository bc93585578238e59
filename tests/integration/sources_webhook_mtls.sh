#!/usr/bin/env bash
# id-only webhook events fetched from an ECD that demands a client
# certificate (mTLS): accepted with the connector's certificate, and a
# certificate the ECD does not trust makes the daemon answer 503 (retry).
set -euo pipefail
: "${ZV_SOURCE_DIR:?}" "${ZV_BUILD_DIR:?}" "${ZV_PLUGIN_DIR:?}"
tmp=$(mktemp -d /tmp/zv-mtls-int-XXXXXX)
ecd_pid="" zv_pid=""
cleanup() {
    [ -n "$zv_pid" ] && kill "$zv_pid" 2>/dev/null && wait "$zv_pid" 2>/dev/null || true
    [ -n "$ecd_pid" ] && kill "$ecd_pid" 2>/dev/null && wait "$ecd_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- zinvold log"; tail -30 "$tmp/zinvold.log" 2>/dev/null; exit 1; }

pki=$tmp/pki
mkdir -p "$pki"
cert() { # name subject issuer-prefix [ext]
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$2" -keyout "$pki/$1.key" -out "$pki/$1.csr" 2>/dev/null
    openssl x509 -req -in "$pki/$1.csr" -CA "$pki/$3.pem" -CAkey "$pki/$3.key" -CAcreateserial \
        -days 2 ${4:+-extfile "$4"} -out "$pki/$1.pem" 2>/dev/null
}
for ca in ca other-ca; do
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$ca" -keyout "$pki/$ca.key" \
        -out "$pki/$ca.pem" 2>/dev/null
done
printf 'subjectAltName=IP:127.0.0.1\n' >"$pki/san.ext"
cert server 127.0.0.1 ca "$pki/san.ext"
cert client connector-zinvol ca
cert stranger someone-else other-ca

python3 "$ZV_SOURCE_DIR/tests/fixtures/ecd/ecd_server.py" --port-file "$tmp/ecd.port" \
    --tls-cert "$pki/server.pem" --tls-key "$pki/server.key" --tls-ca "$pki/ca.pem" &
ecd_pid=$!
for _ in $(seq 100); do [ -s "$tmp/ecd.port" ] && break; sleep 0.1; done
ecd="https://127.0.0.1:$(cat "$tmp/ecd.port")"
curl -s --cacert "$pki/ca.pem" --cert "$pki/client.pem" --key "$pki/client.key" -X PUT \
    --data-binary '{"clientnummer": "C7", "bsn": "999900018", "achternaam": "Bakker"}' \
    "$ecd/admin/records/C7" >/dev/null || fail "fixture not reachable over mTLS"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
secret="integration-test-secret-0123456789"

write_conf() { # client-cert-name
    python3 - "$tmp" "$ZV_SOURCE_DIR" "$ecd" "$port" "$secret" "$pki" "$1" <<'PY'
import json, sys
tmp, src, ecd, port, secret, pki, who = sys.argv[1:]
conf = {
    "state_dir": tmp + "/state", "catalogue_dir": src + "/conf/catalogue",
    "organisation": {"agb": "12345678", "name": "Zorggroep Test"},
    "http": {"listen": "127.0.0.1:" + port},
    "sources": [{"name": "ons", "type": "webhook",
                 "options": {"secret": secret, "fetch_url": ecd + "/api/clients/{id}",
                             "cert_file": pki + "/" + who + ".pem",
                             "key_file": pki + "/" + who + ".key", "ca_file": pki + "/ca.pem"},
                 "mapping": {"records": [{"kind": "client", "fields": {
                     "client.id": "/clientnummer", "client.bsn": "/bsn",
                     "client.family_name": "/achternaam"}}]}}],
    "destinations": [{"name": "monitor", "format": "json", "transport": "filedrop",
                      "transport_options": {"dir": tmp + "/out"},
                      "match": {"entitlement.law": ["wlz"]},
                      "catalogue": {"file": "json-example.json"}}],
}
json.dump(conf, open(tmp + "/zinvol.conf", "w"), indent=1)
PY
}
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
stop_daemon() { kill -TERM "$zv_pid"; wait "$zv_pid" || true; zv_pid=""; }
post() {
    local sig
    sig=$(printf '%s' "$1" | openssl dgst -sha512 -hmac "$secret" -r | cut -d' ' -f1)
    curl -s -o /dev/null -w '%{http_code}' -X POST -H "X-Signature-SHA512: $sig" \
        --data-binary "$1" "http://127.0.0.1:$port/webhook/ons"
}
db="$tmp/state/zinvol.db"

write_conf stranger
start_daemon
[ "$(post '{"event_id": "m1", "id": "C7"}')" = 503 ] || fail "untrusted client certificate not refused"
stop_daemon
write_conf client
start_daemon
[ "$(post '{"event_id": "m1", "id": "C7"}')" = 202 ] || fail "event with the connector's certificate"
[ "$(sqlite3 "$db" "SELECT count(*) FROM seen WHERE source='ons' AND hash <> ''")" = 1 ] || fail "record not stored"
[ "$(sqlite3 "$db" "SELECT count(*) FROM seen WHERE source='ons' AND hash = ''")" = 1 ] || fail "event id not kept in the store"
stop_daemon
echo "ok: mTLS fetch"
