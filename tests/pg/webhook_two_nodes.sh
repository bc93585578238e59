#!/bin/bash
# Webhooks on two nodes (issue 17 item 3): two zinvold nodes on one
# PostgreSQL database each accept the same webhook source on a port of
# their own, as behind a load balancer.  An event goes to one node and is
# de-duplicated by its event id on the other: the same id with other
# content, sent to the other node, is a replay (202 "already received",
# nothing staged).  Then 40 events are each sent to both nodes at the same
# moment: every one is answered 202 by both, kept once, staged once.
# Runs through run_pg.sh (ZV_PG_HOST, ZV_PG_USER, ZV_PG_BINDIR).
set -euo pipefail
B=${ZV_BUILD_DIR:?}
S=${ZV_SOURCE_DIR:?}
T=$(mktemp -d /tmp/zv-pg-wh2-XXXXXX)
DB=zv_wh2_$$
PSQL() { "$ZV_PG_BINDIR/psql" -h "$ZV_PG_HOST" -U "$ZV_PG_USER" -X -q -t -A "$@"; }
declare -A NPID=()
cleanup() {
    for n in "${!NPID[@]}"; do kill -9 "${NPID[$n]}" 2>/dev/null || true; done
    wait 2>/dev/null
    PSQL -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
    rm -rf "$T"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    [ -n "${ZV_KEEP_LOGS:-}" ] && cp "$T"/n*.log "$ZV_KEEP_LOGS"/ 2>/dev/null
    for n in 1 2; do echo "--- node n$n (last lines)"; tail -n 8 "$T/n$n.log" 2>/dev/null; done >&2
    exit 1
}
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
SECRET=two-node-webhook-secret-0123456789
PSQL -d postgres -c "CREATE DATABASE $DB"
URL="postgresql://$ZV_PG_USER@/$DB?host=$ZV_PG_HOST"
declare -A PORT=()
for n in 1 2; do
    PORT[$n]=$(freeport)
    mkdir -p "$T/state$n"
    python3 - "$T" "$S" "$n" "$URL" "${ZV_PLUGIN_DIR:?}" "${PORT[$n]}" "$SECRET" <<'PY'
import json, sys
t, src, n, url, plugins, port, secret = sys.argv[1:8]
conf = {
    "state_dir": "%s/state%s" % (t, n), "store": url, "node": "n" + n,
    "catalogue_dir": src + "/conf/catalogue", "plugin_dir": plugins, "log_level": "notice",
    "organisation": {"agb": "12345678", "name": "Test"},
    "http": {"listen": "127.0.0.1:" + port},
    "sources": [{"name": "hook", "type": "webhook", "options": {"secret": secret},
                 "mapping": {"records": [{"kind": "client", "fields": {
                     "client.id": "/id", "client.bsn": "/bsn",
                     "client.family_name": "/naam", "delivery.start": "/start"}}]}}],
    "destinations": [{"name": "monitor", "format": "json", "transport": "filedrop",
                      "transport_options": {"dir": "%s/out" % t},
                      "catalogue": {"file": "json-example.json"},
                      "policy": {"threshold": "contract", "batch_window": "1h"}}],
}
json.dump(conf, open("%s/n%s.conf" % (t, n), "w"), indent=1)
PY
done
mkdir -p "$T/out"
for n in 1 2; do
    "$B/zinvold" --config "$T/n$n.conf" 2>>"$T/n$n.log" &
    NPID[$n]=$!
done
for n in 1 2; do
    for _ in $(seq 200); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${PORT[$n]}/healthz")" = 200 ] && break
        kill -0 "${NPID[$n]}" 2>/dev/null || fail "n$n exited"
        sleep 0.1
    done
done
post() { # node body: prints "status body"
    local sig
    sig=$(printf '%s' "$2" | openssl dgst -sha512 -hmac "$SECRET" -r | cut -d' ' -f1)
    curl -s -w ' %{http_code}' -X POST -H 'Content-Type: application/json' \
        -H "X-Signature-SHA512: sha512=$sig" --data-binary "$2" \
        "http://127.0.0.1:${PORT[$1]}/webhook/hook"
}
bsn() { # the n-th test-range BSN that passes the elfproef (9*d1 + ... + 2*d8 - d9 = 0 mod 11)
    python3 -c "
n, base = int('$1'), 99990000
while True:
    for d9 in range(10):
        s = '%08d%d' % (base, d9)
        if sum(int(c) * w for c, w in zip(s, [9, 8, 7, 6, 5, 4, 3, 2, -1])) % 11 == 0:
            n -= 1
            break
    if n == 0: print(s); break
    base += 1"
}
staged() { PSQL -d "$DB" -c "SELECT count(*) FROM staged WHERE destination = 'monitor'"; }
events() { PSQL -d "$DB" -c "SELECT count(*) FROM seen WHERE source = 'hook' AND hash = ''"; }

# One event to n1; the same id with other content to n2 is a replay.
b0=$(bsn 1)
out=$(post 1 "{\"event_id\": \"ev-0\", \"id\": \"C0\", \"bsn\": \"$b0\", \"naam\": \"Jansen\", \"start\": \"2026-03-01\"}")
case "$out" in *' 202') ;; *) fail "n1 did not accept ev-0: $out" ;; esac
out=$(post 2 "{\"event_id\": \"ev-0\", \"id\": \"C0\", \"bsn\": \"$b0\", \"naam\": \"Pietersen\", \"start\": \"2026-03-01\"}")
case "$out" in *'already received'*' 202') ;; *) fail "n2 did not answer ev-0 (sent to n1 first) as a replay: $out" ;; esac
[ "$(staged)" = 1 ] || fail "staged $(staged) rows after ev-0 twice, want 1"
[ "$(PSQL -d "$DB" -c "SELECT count(*) FROM seen WHERE source = 'hook' AND hash <> ''")" = 1 ] ||
    fail "the replay's other content was taken in as a record"

# 40 events, each sent to both nodes at the same moment.
N=${ZV_WH2_EVENTS:-40}
for i in $(seq 1 $N); do
    body="{\"event_id\": \"ev-$i\", \"id\": \"C$i\", \"bsn\": \"$(bsn $((i + 1)))\", \"naam\": \"Naam$i\", \"start\": \"2026-03-01\"}"
    post 1 "$body" > "$T/a$i" &
    pa=$!
    post 2 "$body" > "$T/b$i" &
    wait "$pa" $!
done
for i in $(seq 1 $N); do
    for f in "$T/a$i" "$T/b$i"; do
        case "$(cat "$f")" in *' 202') ;; *) fail "ev-$i: $(basename "$f" | cut -c1) answered $(cat "$f")" ;; esac
    done
done
replays=$(cat "$T"/a* "$T"/b* | grep -c 'already received' || true)
[ "$replays" = "$N" ] || fail "$replays of the $N doubled events were answered as replays, want $N (one per event)"
[ "$(events)" = $((N + 1)) ] || fail "$(events) event ids kept, want $((N + 1))"
[ "$(staged)" = $((N + 1)) ] || fail "staged $(staged) rows, want $((N + 1)) (each record once)"
# Now that both nodes have handled events: one to n2, the same id with
# other content to n1.
bz=$(bsn $((N + 2)))
out=$(post 2 "{\"event_id\": \"ev-z\", \"id\": \"CZ\", \"bsn\": \"$bz\", \"naam\": \"Smit\", \"start\": \"2026-03-01\"}")
case "$out" in *' 202') ;; *) fail "n2 did not accept ev-z: $out" ;; esac
out=$(post 1 "{\"event_id\": \"ev-z\", \"id\": \"CZ\", \"bsn\": \"$bz\", \"naam\": \"de Vries\", \"start\": \"2026-03-01\"}")
case "$out" in *'already received'*' 202') ;; *) fail "n1 did not answer ev-z (sent to n2 first) as a replay: $out" ;; esac
[ "$(PSQL -d "$DB" -c "SELECT count(*) FROM seen WHERE source = 'hook' AND record_id = 'CZ'")" = 1 ] ||
    fail "the replay of ev-z with other content was taken in as a record"
N=$((N + 1))
[ "$(events)" = $((N + 1)) ] || fail "$(events) event ids kept, want $((N + 1))"
dups=$(PSQL -d "$DB" -c "SELECT count(*) FROM (SELECT record_key FROM staged GROUP BY 1 HAVING count(*) > 1) d")
[ "$dups" = 0 ] || fail "$dups records staged twice"
if grep -Eq '9999[0-9]{5}' "$T"/n*.log; then fail "a BSN in clear in a node's log"; fi
for n in 1 2; do
    kill -TERM "${NPID[$n]}"
    rc=0
    wait "${NPID[$n]}" || rc=$?
    [ "$rc" = 0 ] || fail "n$n exited $rc on SIGTERM"
done
NPID=()
echo "ok: pg webhook on two nodes: replays with other content dropped on the other node (before and after both had events); $((N - 1)) events each sent to both nodes at once: all answered 202, $replays as replays; $((N + 1)) event ids kept, each record staged once"
