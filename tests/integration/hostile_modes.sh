#!/usr/bin/env bash
# Issue 10 D9 / issue 12 item 8: the real zinvold sets the modes of what
# holds BSNs itself, whatever the umask: with umask 022 and a state dir that
# already exists 0755 (as run-demo.sh makes it), the dir becomes 0700 and
# the store, its WAL and SHM 0600, also files an earlier version left 0644;
# zinvolctl opening the store does the same.  Under a unit that owns the
# state dir ($STATE_DIRECTORY, StateDirectoryMode=0750) group read stays and
# the files are 0640; "other" never gets anything.
set -euo pipefail
: "${ZV_SOURCE_DIR:?}" "${ZV_BUILD_DIR:?}" "${ZV_PLUGIN_DIR:?}"
tmp=$(mktemp -d /tmp/zv-hostile-modes-XXXXXX)
zv_pid=""
cleanup() { [ -n "$zv_pid" ] && kill -9 "$zv_pid" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; ls -la "$tmp/state" 2>/dev/null; cat "$tmp/log" 2>/dev/null | tail -20; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$tmp/zinvol.conf" <<JSON
{ "state_dir": "$tmp/state", "catalogue_dir": "$ZV_SOURCE_DIR/conf/catalogue",
  "http": {"listen": "127.0.0.1:$port"},
  "sources": [{"name": "ons", "type": "webhook",
               "options": {"secret": "integration-test-secret-0123456789"},
               "mapping": {"records": [{"kind": "client", "fields": {
                   "client.id": "/id", "client.bsn": "/bsn"}}]}}],
  "destinations": [{"name": "monitor", "format": "json", "transport": "filedrop",
                    "transport_options": {"dir": "$tmp/out"},
                    "catalogue": {"file": "json-example.json"}}] }
JSON
mkdir -p "$tmp/out"
mode() { stat -c %a "$1"; }
expect_mode() { # path mode
  [ -e "$1" ] || fail "$1 missing"
  [ "$(mode "$1")" = "$2" ] || fail "$1 is $(mode "$1"), want $2"
}
start() {
  "$ZV_BUILD_DIR/zinvold" --config "$tmp/zinvol.conf" --plugin-dir "$ZV_PLUGIN_DIR" 2>"$tmp/log" &
  zv_pid=$!
  for _ in $(seq 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")" = 200 ] && return 0
    kill -0 "$zv_pid" 2>/dev/null || fail "zinvold exited"
    sleep 0.1
  done
  fail "zinvold did not come up"
}
stop() { kill -TERM "$zv_pid"; wait "$zv_pid" || fail "exit status $?"; zv_pid=""; }
nothing_for_others() {
  local open; open=$(find "$tmp/state" -perm /o=rwx -printf '%p %m\n')
  [ -z "$open" ] || fail "open to others: $open"
}

umask 022
# 1. fresh store in an existing 0755 state dir, checked while running (WAL open).
mkdir -m 0755 "$tmp/state"
start
expect_mode "$tmp/state" 700
expect_mode "$tmp/state/zinvol.db" 600
expect_mode "$tmp/state/zinvol.db-wal" 600
expect_mode "$tmp/state/zinvol.db-shm" 600
nothing_for_others
stop

# 2. files an earlier version left world-readable.
chmod 0755 "$tmp/state"; chmod 0644 "$tmp/state/zinvol.db"
[ -e "$tmp/state/zinvol.db-wal" ] && chmod 0644 "$tmp/state/zinvol.db-wal"
start
expect_mode "$tmp/state" 700
expect_mode "$tmp/state/zinvol.db" 600
expect_mode "$tmp/state/zinvol.db-wal" 600
nothing_for_others
stop

# 3. zinvolctl opening the store sets the same.
chmod 0644 "$tmp/state/zinvol.db"
"$ZV_BUILD_DIR/zinvolctl" --config "$tmp/zinvol.conf" quarantine list >/dev/null \
  || fail "zinvolctl quarantine list"
expect_mode "$tmp/state/zinvol.db" 600

# 4. a unit that owns the state dir (0750, group for reports): 0640 files.
chmod 0757 "$tmp/state"; chmod 0666 "$tmp/state/zinvol.db"
STATE_DIRECTORY="$tmp/state" start
expect_mode "$tmp/state" 750
expect_mode "$tmp/state/zinvol.db" 640
expect_mode "$tmp/state/zinvol.db-wal" 640
nothing_for_others
stop
echo "hostile_modes: all checks passed"
