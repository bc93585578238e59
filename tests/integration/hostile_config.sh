#!/usr/bin/env bash
# Issue 10, D15: wrong-typed values in the config ({"organisation": [1]},
# an array as policy, ...) are refused with file: key: reason by
# --check-config, and a running zinvold given them on SIGHUP keeps running
# on its old config.  The real zinvold on loopback.
set -euo pipefail
BUILD=${ZV_BUILD_DIR:?run through ctest}
ZINVOLD=$BUILD/zinvold
work=$(mktemp -d /tmp/zv-hostile-config-XXXXXX)
pid=""
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- daemon log"; cat "$work/log" 2>/dev/null || true; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
wait_until() { # what, command...; bounded to 30 s
  local what=$1; shift
  for _ in $(seq 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  fail "timed out waiting for $what"
}
healthy() { curl -fsS "http://127.0.0.1:$port/healthz" | grep -q ok; }

good="{\"state_dir\": \"$work/state\", \"plugin_dir\": \"$BUILD/plugins\", \"http\": {\"listen\": \"127.0.0.1:$port\"}"
echo "$good}" > "$work/zinvol.conf"

# --check-config: exit 1 (not a signal) and the key named, for each case.
check_refused() { # $1 = extra top-level members, $2 = expected message
  echo "$good, $1}" > "$work/bad.conf"
  local status=0
  "$ZINVOLD" --check-config "$work/bad.conf" >/dev/null 2>"$work/check.err" || status=$?
  [ "$status" -eq 1 ] || fail "--check-config on '$1': exit status $status (want 1): $(cat "$work/check.err")"
  grep -qF "$work/bad.conf: $2" "$work/check.err" || fail "'$1': no '$2' in: $(cat "$work/check.err")"
}
check_refused '"organisation": [1]' 'organisation: expected object, got array'
check_refused '"organisation": {"agb": [1]}' 'organisation.agb: expected string, got array'
check_refused '"sources": [[1]]' 'sources[0]: expected object, got array'
check_refused '"destinations": [{"name": "d", "format": "json", "transport": "filedrop", "policy": [1]}]' \
  'destinations[0].policy: expected object, got array'
check_refused '"retention": [1]' 'retention: expected a duration'
echo "$good, \"http\": {\"listen\": \"127.0.0.1:$port\", \"limits\": [1]}}" > "$work/bad.conf"
status=0; "$ZINVOLD" --check-config "$work/bad.conf" >/dev/null 2>"$work/check.err" || status=$?
[ "$status" -eq 1 ] && grep -qF "http.limits: expected object, got array" "$work/check.err" \
  || fail "http.limits array: status $status: $(cat "$work/check.err")"

"$ZINVOLD" --config "$work/zinvol.conf" 2>"$work/log" &
pid=$!
wait_until "listener" healthy

# SIGHUP with the array: refused, still running, still answering.
echo "$good, \"organisation\": [1]}" > "$work/zinvol.conf"
kill -HUP "$pid"
wait_until "reload refusal" grep -q "reload refused: still running on the previous config" "$work/log"
grep -q "organisation: expected object, got array" "$work/log" || fail "reason not logged"
kill -0 "$pid" || fail "daemon died on SIGHUP with {\"organisation\": [1]}"
healthy || fail "listener gone after refused reload"

# And a good config afterwards still reloads.
echo "$good, \"organisation\": {\"agb\": \"12345678\", \"name\": \"Test\"}}" > "$work/zinvol.conf"
kill -HUP "$pid"
wait_until "reload" grep -q "reloaded $work/zinvol.conf" "$work/log"
healthy || fail "listener gone after good reload"
kill -TERM "$pid"
status=0; wait "$pid" || status=$?
pid=""
[ "$status" -eq 0 ] || fail "exit status $status after SIGTERM"
echo "hostile_config: all checks passed"
