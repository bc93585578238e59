#!/usr/bin/env bash
# The real zinvold: --check-config, SIGHUP with a broken config (keeps
# running on the old one), SIGHUP with a good one (new listener answers),
# merged SIGHUPs, SIGTERM (exit 0).  Uses only loopback.
set -euo pipefail
BUILD=${ZV_BUILD_DIR:?run through ctest}
ZINVOLD=$BUILD/zinvold
work=$(mktemp -d /tmp/zv-daemon-XXXXXX)
pid=""
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- daemon log"; cat "$work/log" 2>/dev/null || true; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
P1=$(free_port); P2=$(free_port)

write_conf() { # $1 = port
  cat > "$work/zinvol.conf" <<JSON
{
  // minimal: a listener and the embedded store, no sources or destinations
  "state_dir": "$work/state",
  "plugin_dir": "$BUILD/plugins",
  "log_level": "info",
  "http": {"listen": "127.0.0.1:$1"}
}
JSON
}

wait_until() { # $1 = what, rest = command; bounded to 30 s (shared 2-core CI)
  local what=$1; shift
  for _ in $(seq 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  fail "timed out waiting for $what"
}
healthy() { curl -fsS "http://127.0.0.1:$1/healthz" | grep -q ok; }

write_conf "$P1"
"$ZINVOLD" --check-config "$work/zinvol.conf" | grep -q "configuration is valid" || fail "check-config"

# A broken config is refused by --check-config with file: key: reason.
echo '{"state_dir": 5}' > "$work/bad.conf"
if "$ZINVOLD" --check-config "$work/bad.conf" 2>"$work/check.err"; then fail "bad config accepted"; fi
grep -q "^$work/bad.conf: state_dir: expected string, got number$" "$work/check.err" || fail "check message: $(cat "$work/check.err")"

"$ZINVOLD" --config "$work/zinvol.conf" 2>"$work/log" &
pid=$!
wait_until "listener on P1" healthy "$P1"
grep -q "\[core\] zinvold .* started (running)" "$work/log" || fail "no start line"

# 1. broken config + SIGHUP: still running on the old one, and it says why.
printf '{ "state_dir": "%s/state", "http": {"listen": 12} }' "$work" > "$work/zinvol.conf"
kill -HUP "$pid"
wait_until "reload refusal" grep -q "reload refused: still running on the previous config" "$work/log"
grep -q "reload: $work/zinvol.conf: http.listen: expected string, got number" "$work/log" || fail "reason not logged"
kill -0 "$pid" || fail "daemon died on a broken reload"
healthy "$P1" || fail "old listener gone after refused reload"

# 2. good config + SIGHUP: the new listener answers, the old one is closed.
write_conf "$P2"
kill -HUP "$pid"
wait_until "listener on P2" healthy "$P2"
healthy "$P1" && fail "old listener still open after reload"

# 3. a burst of SIGHUPs: merged, never lost, daemon stays up on P2.
before=$(grep -c "reloaded $work/zinvol.conf" "$work/log")
# The kernel may merge pending SIGHUPs too; what matters is that a reload
# follows and none is lost while one is running.
for _ in 1 2 3 4 5; do kill -HUP "$pid"; done
reloads() { grep -c "reloaded $work/zinvol.conf" "$work/log"; }
more_reloads() { [ "$(reloads)" -gt "$before" ]; }
wait_until "burst handled" more_reloads
sleep 0.5
after=$(grep -c "reloaded $work/zinvol.conf" "$work/log")
[ $((after - before)) -le 5 ] || fail "more reloads than signals"
healthy "$P2" || fail "listener gone after burst"

# 4. SIGTERM: clean exit 0.
kill -TERM "$pid"
status=0; wait "$pid" || status=$?
pid=""
[ "$status" -eq 0 ] || fail "exit status $status after SIGTERM"
grep -q "signal 15: stopping" "$work/log" || fail "no stop line"
# No line without a component tag.
grep -v '\[[a-z/_0-9-]*\]' "$work/log" && fail "log line without component"
echo "core_daemon: all checks passed"
