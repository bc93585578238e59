#!/usr/bin/env bash
# zinvolctl (here: another connection) holds the store's write lock for
# longer than SQLite's busy timeout while zinvold runs: the loop never waits
# for it.  /healthz keeps answering (and says the store is locked) while the
# lock is held; a signed webhook sent meanwhile is not answered 202 before
# the lock is let go (it cannot be durable before), and then it is, with its
# row in the store.  The waiting happens on the store's writer thread.
set -euo pipefail
: "${ZV_SOURCE_DIR:?}" "${ZV_BUILD_DIR:?}" "${ZV_PLUGIN_DIR:?}"
tmp=$(mktemp -d /tmp/zv-wlock-XXXXXX)
zv_pid="" lock_pid="" post_pid=""
cleanup() {
    touch "$tmp/release"
    for p in "$post_pid" "$lock_pid"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
    [ -n "$zv_pid" ] && kill "$zv_pid" 2>/dev/null && wait "$zv_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- zinvold log"; tail -30 "$tmp/zinvold.log" 2>/dev/null; exit 1; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
secret="writer-lock-secret-0123456789"
python3 - "$tmp" "$ZV_SOURCE_DIR" "$port" "$secret" <<'PY'
import json, sys
tmp, src, port, secret = sys.argv[1:]
conf = {
    "state_dir": tmp + "/state", "catalogue_dir": src + "/conf/catalogue",
    "organisation": {"agb": "12345678", "name": "Zorggroep Test"},
    "http": {"listen": "127.0.0.1:" + port},
    "sources": [{"name": "ons", "type": "webhook", "options": {"secret": secret},
                 "mapping": {"record_id": "/clientnummer", "records": [{"kind": "client", "fields": {
                     "client.id": "/clientnummer", "client.bsn": "/bsn",
                     "client.family_name": "/achternaam",
                     "client.birth_date": {"from": "/geboortedatum", "date_format": "%d-%m-%Y"}}}]}}],
    "destinations": [{"name": "monitor", "format": "json", "transport": "filedrop",
                      "transport_options": {"dir": tmp + "/out"},
                      "catalogue": {"file": "json-example.json"}, "policy": {"batch_window": "1h"}}],
}
json.dump(conf, open(tmp + "/zinvol.conf", "w"), indent=1)
PY
mkdir -p "$tmp/out" "$tmp/state"
"$ZV_BUILD_DIR/zinvold" --config "$tmp/zinvol.conf" --plugin-dir "$ZV_PLUGIN_DIR" \
    2>"$tmp/zinvold.log" &
zv_pid=$!
health() { curl -s --max-time 4 -o "$tmp/health.body" -w '%{http_code}' "http://127.0.0.1:$port/healthz" || true; }
for _ in $(seq 100); do
    [ "$(health)" = 200 ] && break
    kill -0 "$zv_pid" 2>/dev/null || fail "zinvold exited"
    sleep 0.1
done
[ "$(health)" = 200 ] || fail "zinvold did not come up"
post() { # body -> status code (000: no answer)
    local sig
    sig=$(printf '%s' "$1" | openssl dgst -sha512 -hmac "$secret" -r | cut -d' ' -f1)
    curl -s --max-time 60 -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
        -H "X-Signature-SHA512: sha512=$sig" --data-binary "$1" "http://127.0.0.1:$port/webhook/ons" || true
}
db="$tmp/state/zinvol.db"
[ "$(post '{"event_id": "ev-1", "clientnummer": "C1", "bsn": "999900006", "achternaam": "Jansen", "geboortedatum": "01-02-1940"}')" = 202 ] ||
    fail "event before the lock not accepted"

# Another process takes the write lock (as zinvolctl does for a change) and
# keeps it until told to let go.
python3 - "$db" "$tmp" <<'PY' &
import os, sqlite3, sys, time
db, tmp = sys.argv[1:]
c = sqlite3.connect(db, isolation_level=None, timeout=30)
c.execute("BEGIN IMMEDIATE")
open(tmp + "/locked", "w").close()
while not os.path.exists(tmp + "/release"):
    time.sleep(0.05)
open(tmp + "/releasing", "w").close()
c.execute("ROLLBACK")
c.close()
PY
lock_pid=$!
for _ in $(seq 200); do [ -e "$tmp/locked" ] && break; sleep 0.05; done
[ -e "$tmp/locked" ] || fail "the lock holder did not start"

( post '{"event_id": "ev-2", "clientnummer": "C2", "bsn": "999900018", "achternaam": "de Vries", "geboortedatum": "03-04-1941"}' \
    > "$tmp/post.code.tmp"; mv "$tmp/post.code.tmp" "$tmp/post.code" ) &
post_pid=$!

# Longer than SQLite's 5 s busy timeout: probe all the while.
answered=0 said_locked=0
for _ in $(seq 28); do
    code=$(health)
    [ "$code" = 200 ] || [ "$code" = 503 ] || fail "/healthz did not answer while the lock was held (code $code)"
    answered=$((answered + 1))
    grep -q 'store not writable: database is locked by another process' "$tmp/health.body" && said_locked=1
    [ -e "$tmp/post.code" ] && fail "webhook answered $(cat "$tmp/post.code") while the store was locked"
    sleep 0.25
done
[ "$said_locked" = 1 ] || fail "/healthz never said the store is locked: $(cat "$tmp/health.body")"
kill -0 "$lock_pid" 2>/dev/null || fail "the lock holder went away early"
[ -e "$tmp/releasing" ] && fail "the lock was let go early"

touch "$tmp/release"
wait "$lock_pid"
lock_pid=""
wait "$post_pid"
post_pid=""
[ "$(cat "$tmp/post.code")" = 202 ] || fail "webhook held back by the lock answered $(cat "$tmp/post.code"), not 202"
[ "$(sqlite3 "$db" "SELECT count(*) FROM seen WHERE source = 'ons' AND hash <> ''")" = 2 ] ||
    fail "the event answered 202 is not in the store"
for _ in $(seq 50); do [ "$(health)" = 200 ] && break; sleep 0.1; done
[ "$(health)" = 200 ] || fail "/healthz not ok after the lock was let go: $(cat "$tmp/health.body")"
kill -TERM "$zv_pid"
wait "$zv_pid" || fail "zinvold exit status $?"
zv_pid=""
grep -q 'locked' "$tmp/zinvold.log" || true
echo "ok: /healthz answered $answered times while the store was locked; the webhook got 202 once the lock was let go"
