#!/bin/bash
# The admin API on the real daemon: Unix socket (mode 0660, who asked = peer
# uid in the audit trail), zinvolctl through the daemon and on the store with
# the same output, status showing an open circuit, /healthz degraded for an
# open circuit / an old pending payload / a store that cannot take a write,
# `promtool check metrics` on a live /metrics (admin socket and
# metrics.listen), nothing administrative on the webhook listener, and
# config refusals for a TCP admin listener without TLS or tokens.
set -euo pipefail
B=${ZV_BUILD_DIR:?}
S=${ZV_SOURCE_DIR:?}
command -v promtool >/dev/null || { echo "SKIP: promtool (Debian package prometheus) missing"; exit 77; }
[ -x "$B/zinvold" ] && [ -x "$B/zinvolctl" ] || cmake --build "$B" --target zinvold zinvolctl >/dev/null
T=$(mktemp -d /tmp/zv-admin-XXXXXX)
RPID=
DPID=
LPID=
cleanup() {
    for p in $LPID $DPID $RPID; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- daemon log"; tail -40 "$T/daemon.log" 2>/dev/null; exit 1; }
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
DOWN=$(free_port)
MPORT=$(free_port)
HPORT=$(free_port)
mkdir -p "$T/state" "$T/inbox"
python3 "$S/tests/fixtures/receiver/receiver.py" --port-file "$T/rport" --log "$T/recv.jsonl" --reject BAD &
RPID=$!
for _ in $(seq 200); do [ -s "$T/rport" ] && break; sleep 0.05; done
[ -s "$T/rport" ] || fail "receiver did not start"

# Two clients; the second has a sex code the mapping does not know yet.
python3 - "$T/inbox/clients.csv" <<'PY'
import sys
def bsn(n):
    while True:
        d = [int(c) for c in f"{n:08d}"]
        for last in range(10):
            x = d + [last]
            if sum(v * w for v, w in zip(x, [9, 8, 7, 6, 5, 4, 3, 2, -1])) % 11 == 0:
                return "".join(map(str, x))
        n += 1
rows = ["nr;bsn;geslacht", f"1;{bsn(99990001)};M", f"2;{bsn(99990002)};X"]
open(sys.argv[1], "w").write("\n".join(rows) + "\n")
PY
write_conf() { # $1: the sex map
cat > "$T/z.conf" <<CONF
{
  "state_dir": "$T/state", "store": "zinvol.db",
  "catalogue_dir": "$S/conf/catalogue", "plugin_dir": "${ZV_PLUGIN_DIR:?}",
  "log_level": "info", "organisation": {"agb": "12345678", "name": "Test"},
  "http": {"listen": "127.0.0.1:$HPORT"},
  "metrics": {"listen": "127.0.0.1:$MPORT"},
  "health": {"max_pending_age": "3s"},
  "sources": [{"name": "ecd", "type": "filedrop",
               "options": {"directory": "$T/inbox", "delimiter": ";", "settle": "0s"},
               "mapping": {"record_id": "nr", "records": [{"kind": "client", "fields": {
                   "client.bsn": "bsn",
                   "client.sex": {"from": "geslacht", "map": $1}}}]}}],
  "destinations": [
    {"name": "zk", "format": "json", "transport": "http",
     "catalogue": {"file": "json-example.json"},
     "transport_options": {"url": "http://127.0.0.1:$DOWN/in"},
     "match": {"client.sex": "never"},
     "policy": {"max_age": "1d", "backoff_initial": "100ms", "backoff_max": "200ms",
                "circuit_failures": 2, "circuit_cooldown": "1h", "concurrency": 1}},
    {"name": "rej", "format": "json", "transport": "http",
     "catalogue": {"file": "json-example.json"},
     "transport_options": {"url": "http://127.0.0.1:$(cat "$T/rport")/in"},
     "match": {"client.sex": "never"},
     "policy": {"max_age": "1d", "backoff_initial": "1s", "backoff_max": "2s"}}
  ]
}
CONF
}
write_conf '{"M": "1", "V": "2"}'
ctl() { "$B/zinvolctl" -c "$T/z.conf" "$@"; }
SOCK="$T/state/admin.sock"

# ---- config refusals ----
cp "$T/z.conf" "$T/tcp.conf"
sed -i 's|"health":|"admin": {"listen": "127.0.0.1:1"}, "health":|' "$T/tcp.conf"
! "$B/zinvold" --check-config "$T/tcp.conf" >"$T/check.out" 2>&1 || fail "admin.listen without TLS accepted"
grep -q 'admin.listen: a TCP admin listener needs TLS' "$T/check.out" || fail "no TLS refusal: $(cat "$T/check.out")"
grep -q 'admin.listen: a TCP admin listener needs at least one bearer token' "$T/check.out" || fail "no token refusal"
sed -i 's|"admin": {"listen": "127.0.0.1:1"}|"admin": {"socket_mode": "0666"}|' "$T/tcp.conf"
! "$B/zinvold" --check-config "$T/tcp.conf" >"$T/check.out" 2>&1 || fail "world-writable socket mode accepted"
grep -q 'admin.socket_mode' "$T/check.out" || fail "no socket_mode refusal"

# ---- zinvolctl: usage errors and --version ----
"$B/zinvolctl" --version | grep -q '^zinvolctl [0-9]' || fail "--version"
set +e
ctl --bogus status >/dev/null 2>"$T/err"; rc1=$?
ctl frobnicate >/dev/null 2>"$T/err2"; rc2=$?
ctl outbox frob >/dev/null 2>"$T/err3"; rc3=$?
ctl status --frob >/dev/null 2>&1; rc4=$?
set -e
[ $rc1 = 2 ] && grep -q usage "$T/err" || fail "unknown flag: rc $rc1"
[ $rc2 = 2 ] && grep -q "unknown command 'frobnicate'" "$T/err2" && grep -q usage "$T/err2" || fail "unknown command: rc $rc2"
[ $rc3 = 2 ] && grep -q usage "$T/err3" || fail "unknown outbox command: rc $rc3"
[ $rc4 = 2 ] || fail "unknown status flag: rc $rc4"

# ---- the daemon ----
"$B/tests/store_fill" "$T/state/zinvol.db" rej 20 5 R >/dev/null    # 4 carry BAD
"$B/zinvold" --config "$T/z.conf" 2>"$T/daemon.log" &
DPID=$!
for _ in $(seq 300); do [ -S "$SOCK" ] && break; sleep 0.05; done
[ -S "$SOCK" ] || fail "no admin socket"
[ "$(stat -c %a "$SOCK")" = 660 ] || fail "socket mode $(stat -c %a "$SOCK")"
for _ in $(seq 300); do
    [ "$(sqlite3 "$T/state/zinvol.db" "SELECT count(*) FROM dead_letter")" = 4 ] &&
        [ "$(sqlite3 "$T/state/zinvol.db" "SELECT count(*) FROM quarantine")" = 1 ] && break
    sleep 0.1
done
[ "$(sqlite3 "$T/state/zinvol.db" "SELECT count(*) FROM dead_letter")" = 4 ] || fail "dead letter not filled"
[ "$(sqlite3 "$T/state/zinvol.db" "SELECT count(*) FROM quarantine")" = 1 ] || fail "quarantine not filled"
api() { curl -sS --unix-socket "$SOCK" "$@"; }
H=$(curl -s "http://127.0.0.1:$HPORT/healthz")
[ "$H" = ok ] || fail "healthz before trouble: '$H'"
# Nothing administrative on the webhook listener.
for p in /api/status /metrics /api/dlq /quarantine /; do
    c=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HPORT$p")
    [ "$c" = 404 ] || fail "webhook listener answers $p with $c"
done

# Same output through the daemon and on the store.
ctl dlq list >"$T/dlq.live"
ctl quarantine list >"$T/q.live"
ctl outbox list --destination rej --state dead >"$T/ob.live"
[ "$(wc -l <"$T/dlq.live")" = 5 ] || fail "dlq list: $(cat "$T/dlq.live")"
grep -q 'client.sex' "$T/q.live" || fail "quarantine list: $(cat "$T/q.live")"
ctl quarantine list --stage mapping --reason sex | grep -q 'client.sex' || fail "quarantine filter"
[ "$(ctl quarantine list --stage rule | wc -l)" = 1 ] || fail "quarantine stage filter"
ctl status >"$T/status.ok" || fail "status while healthy: $(cat "$T/status.ok")"
grep -q 'running (pid' "$T/status.ok" || fail "status: $(cat "$T/status.ok")"
ctl quarantine show "$(awk 'NR==2 {print $1}' "$T/q.live")" | grep -q '"item"' || fail "quarantine show"

# Drop one dead letter through the daemon: audited with the peer's uid.
DROP=$(awk 'NR==2 {print $1}' "$T/dlq.live")
ctl dlq drop "$DROP" | grep -q 'recorded in the audit trail' || fail "dlq drop"
sqlite3 "$T/state/zinvol.db" "SELECT detail FROM audit WHERE kind='dlq-drop'" |
    grep -q "dropped by uid $(id -u) ($(id -un)) via the admin socket" || fail "drop not audited with the uid"
grep -q "dead letter entry $DROP dropped by uid" "$T/daemon.log" || fail "drop not logged by the daemon"

# Fix the mapping, reload through the API, retry the quarantined record.
write_conf '{"M": "1", "V": "2", "X": "9"}'
ctl reload | grep -q 'reload requested' || fail "reload"
for _ in $(seq 100); do grep -q 'reloaded' "$T/daemon.log" && break; sleep 0.1; done
grep -q 'reloaded' "$T/daemon.log" || fail "no reload"
QID=$(awk 'NR==2 {print $1}' "$T/q.live")
ctl quarantine retry "$QID" >"$T/retry.out"
# No destination here takes a client ("match": never): an outcome of its own.
grep -q "^$QID: unrouted: no destination takes the record" "$T/retry.out" || fail "quarantine retry: $(cat "$T/retry.out")"
[ "$(sqlite3 "$T/state/zinvol.db" "SELECT count(*) FROM quarantine")" = 0 ] || fail "entry still quarantined"
sqlite3 "$T/state/zinvol.db" "SELECT detail FROM audit WHERE kind='admin'" >"$T/admin.audit"
grep -q "reload of .* requested by uid" "$T/admin.audit" || fail "reload not audited"
sqlite3 "$T/state/zinvol.db" "SELECT detail FROM audit WHERE kind='quarantine'" >"$T/q.audit"
grep -q "quarantine entry $QID (ecd/2, mapping) unrouted: processed again by uid" "$T/q.audit" || fail "retry not audited: $(cat "$T/q.audit")"
ctl quarantine list --state closed | grep -q "^$QID .* unrouted " || fail "the retried entry is not listed as closed: $(ctl quarantine list --state all)"

# ---- an open circuit: zk's receiver is down ----
"$B/tests/store_fill" "$T/state/zinvol.db" zk 5 0 Z >/dev/null
ZID=$(sqlite3 "$T/state/zinvol.db" "SELECT min(id) FROM outbox WHERE destination='zk'")
ctl outbox retry "$ZID" | grep -q 'will be tried now' || fail "outbox retry"
for _ in $(seq 200); do grep -q 'delivery/zk.*circuit open' "$T/daemon.log" && break; sleep 0.1; done
grep -q 'delivery/zk.*circuit open' "$T/daemon.log" || fail "circuit did not open"
set +e
ctl status >"$T/status.open"; rc=$?
set -e
[ $rc = 3 ] || fail "status exit $rc while degraded"
grep -Eq '^zk +.* open +' "$T/status.open" || fail "status does not show the open circuit: $(cat "$T/status.open")"
grep -q 'health: degraded: circuit open for zk' "$T/status.open" || fail "status health"
H=$(curl -s -w ' %{http_code}' "http://127.0.0.1:$HPORT/healthz")
case "$H" in "degraded: circuit open for zk"*503) ;; *) fail "healthz with an open circuit: '$H'" ;; esac
sleep 4.2
H=$(api http://zinvold/healthz)
case "$H" in *"oldest pending payload for zk is "*"s old (limit 3s)"*) ;; *) fail "healthz pending age: '$H'" ;; esac

# Another process holds the store's write lock: not writable.
python3 - "$T/state/zinvol.db" "$T/locked" <<'PY' &
import sqlite3, sys, time, os
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
db.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").close()
time.sleep(4)
db.execute("ROLLBACK")
PY
LPID=$!
for _ in $(seq 100); do [ -e "$T/locked" ] && break; sleep 0.05; done
H=$(curl -s "http://127.0.0.1:$MPORT/healthz")
case "$H" in *"store not writable: database is locked"*) ;; *) fail "healthz with the store locked: '$H'" ;; esac
wait "$LPID"
LPID=

# ---- metrics: a live /metrics through promtool ----
api http://zinvold/metrics >"$T/metrics.txt"
promtool check metrics <"$T/metrics.txt" >"$T/promtool.out" 2>&1 || fail "promtool: $(cat "$T/promtool.out")"
curl -s "http://127.0.0.1:$MPORT/metrics" | promtool check metrics || fail "promtool on metrics.listen"
c=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/api/status")
[ "$c" = 404 ] || fail "metrics listener answers /api/status with $c"
m() { grep -E "^$1 " "$T/metrics.txt" | awk '{print $2}'; }
[ "$(m 'zinvol_source_records_in_total\{source="ecd"\}')" = 2 ] || fail "records in"
[ "$(m 'zinvol_records_quarantined_total\{source="ecd",stage="mapping"\}')" = 1 ] || fail "quarantined"
[ "$(m 'zinvol_circuit_state\{destination="zk"\}')" = 1 ] || fail "circuit metric"
[ "$(m 'zinvol_destination_messages_dead_lettered_total\{destination="rej"\}')" = 4 ] || fail "dead lettered"
[ "$(m 'zinvol_destination_messages_delivered_total\{destination="rej"\}')" = 16 ] || fail "delivered"
[ "$(m 'zinvol_delivery_duration_seconds_count\{destination="rej"\}')" = 20 ] || fail "histogram count"
[ "$(m 'zinvol_outbox_payloads\{destination="zk",state="pending"\}')" = 5 ] || fail "pending gauge"
[ "$(m zinvol_audit_entries)" = "$(sqlite3 "$T/state/zinvol.db" 'SELECT count(*) FROM audit')" ] || fail "audit length"
grep -q '^zinvol_source_last_file_processed_timestamp_seconds{source="ecd"} [1-9]' "$T/metrics.txt" || fail "last file time"
grep -q '^zinvol_minimiser_fields_total{destination="rej",decision="kept"}' "$T/metrics.txt" || fail "minimiser series"

# ---- the same output without a daemon ----
ctl dlq list >"$T/dlq.live2"
ctl outbox list --destination rej --state dead >"$T/ob.live2"
kill "$DPID"; wait "$DPID" || true; DPID=
[ ! -e "$SOCK" ] || fail "socket left behind"
ctl dlq list >"$T/dlq.offline"
ctl outbox list --destination rej --state dead >"$T/ob.offline"
cmp "$T/dlq.live2" "$T/dlq.offline" || fail "dlq list differs with and without the daemon"
cmp "$T/ob.live2" "$T/ob.offline" || fail "outbox list differs with and without the daemon"
ctl status >"$T/status.off" || true
grep -q 'not running (read from the store)' "$T/status.off" || fail "offline status"
grep -Eq '^zk +0 +5 ' "$T/status.off" || fail "offline status backlog: $(cat "$T/status.off")"
ctl --json status | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["daemon"]["running"] is False'
ctl dlq drop "$(awk 'NR==2 {print $1}' "$T/dlq.offline")" | grep -q 'audit trail'
sqlite3 "$T/state/zinvol.db" "SELECT detail FROM audit WHERE kind='dlq-drop'" |
    grep -q "with zinvolctl on the store (no daemon running)" || fail "offline drop not audited with who"
ctl audit verify | grep -q 'intact' || fail "audit verify"
echo "admin_api: ok ($(grep -c '^zinvol_' "$T/metrics.txt") samples passed promtool; healthz: circuit, age, lock)"
