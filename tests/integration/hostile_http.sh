#!/usr/bin/env bash
# Issue 10, D4-D6 and item 5: the real zinvold's listener on loopback
# against abusive clients (tests/integration/hostile_http.py), with the
# bounds from http.limits: a connection flood at the usual 1,024 file
# descriptors and one with descriptors exhausted (no accept() busy loop, a
# few log lines, the listener serves again afterwards), slowloris (closed at
# the request deadline), endless headers and oversized bodies (refused
# before they are read; RSS flat).
set -euo pipefail
: "${ZV_SOURCE_DIR:?}" "${ZV_BUILD_DIR:?}" "${ZV_PLUGIN_DIR:?}"
tmp=$(mktemp -d /tmp/zv-hostile-http-XXXXXX)
zv_pid=""
cleanup() {
    [ -n "$zv_pid" ] && kill -9 "$zv_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- zinvold log (last 20 lines)"; tail -20 "$tmp/log" 2>/dev/null; exit 1; }
abuse() { python3 "$ZV_SOURCE_DIR/tests/integration/hostile_http.py" "$@" || fail "$1"; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

write_conf() { # $1 = http.limits JSON
  cat > "$tmp/zinvol.conf" <<JSON
{
  "state_dir": "$tmp/state", "catalogue_dir": "$ZV_SOURCE_DIR/conf/catalogue",
  "http": {"listen": "127.0.0.1:$port", "limits": $1},
  "sources": [{"name": "ons", "type": "webhook",
               "options": {"secret": "integration-test-secret-0123456789", "max_body": 65536},
               "mapping": {"records": [{"kind": "client", "fields": {
                   "client.id": "/id", "client.bsn": "/bsn"}}]}}],
  "destinations": [{"name": "monitor", "format": "json", "transport": "filedrop",
                    "transport_options": {"dir": "$tmp/out"},
                    "catalogue": {"file": "json-example.json"}}]
}
JSON
}
start_daemon() { # $1 = descriptor limit for the daemon
    : > "$tmp/log"
    (ulimit -n "$1"; exec "$ZV_BUILD_DIR/zinvold" --config "$tmp/zinvol.conf" \
        --plugin-dir "$ZV_PLUGIN_DIR" 2>>"$tmp/log") &
    zv_pid=$!
    for _ in $(seq 100); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")" = 200 ] && return 0
        kill -0 "$zv_pid" 2>/dev/null || fail "zinvold exited"
        sleep 0.1
    done
    fail "zinvold did not come up"
}
stop_daemon() { kill -TERM "$zv_pid"; wait "$zv_pid" || fail "zinvold exit status $?"; zv_pid=""; }
log_ok() { # the log stays small and names what happened
    local size; size=$(stat -c %s "$tmp/log")
    [ "$size" -lt 20000 ] || fail "log grew to $size bytes"
    grep -q "Error from accept" "$tmp/log" && fail "libevent's accept() error loop in the log"
    return 0
}
mkdir -p "$tmp/out" "$tmp/state"

# 1. max_connections 50 at 1,024 descriptors: 1,100 idle connections.
write_conf '{"max_connections": 50, "request_timeout": "2s"}'
start_daemon 1024
abuse flood "$zv_pid" "$port" 1100 4
grep -q "50 connections open (http.limits.max_connections)" "$tmp/log" || fail "limit not logged"
log_ok
# 2. slowloris: a header line every 0.5 s never goes silent, the deadline closes it.
abuse slowloris "$port" 2
grep -q "did not send a whole request within 2000 ms" "$tmp/log" || fail "deadline not logged"
# 3. endless headers: 16 KiB default, then the connection is closed.
abuse headers "$zv_pid" "$port" 50
# 4. bodies over the webhook's 64 KiB: 413 from Content-Length, before reading.
abuse body "$zv_pid" "$port" /webhook/ons 16777216
abuse body "$zv_pid" "$port" /webhook/ons 70000
abuse chunked "$zv_pid" "$port" /webhook/ons
# a body for an unknown path is bounded the same way
abuse body "$zv_pid" "$port" /elsewhere 16777216
kill -0 "$zv_pid" || fail "daemon died"
log_ok
stop_daemon

# 5. descriptors run out before max_connections (256 by default): accept()
#    fails, the listener pauses instead of spinning, and serves again.
write_conf '{}'
start_daemon 64
abuse flood "$zv_pid" "$port" 400 4
grep -q "cannot accept connections: Too many open files" "$tmp/log" || fail "EMFILE not logged"
log_ok
lines=$(grep -c "cannot accept connections" "$tmp/log")
[ "$lines" -le 3 ] || fail "$lines accept lines in 4 s"
stop_daemon
echo "hostile_http: all checks passed"
