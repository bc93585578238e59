#!/bin/bash
# The netwerkmodel transport's access token when the nID authorisation
# server misbehaves (tests/fixtures/netwerkmodel/gateway.py, D/control.json):
#   - refresh before expiry: the timer fetches the next token while the
#     first is valid; the next notification uses it, nothing is refused;
#   - 401 (invalid_client), 400 (invalid_scope), no answer within the
#     timeout, an answer that is no JSON, without access_token, with an
#     expires_in that is no number, with a line break in the token, with
#     another token_type: each surfaces in `zinvolctl status` (PROBLEM),
#     /healthz (degraded, with the reason) and /metrics
#     (zinvol_plugin_problem, token_errors); the notification waits in the
#     outbox (pending, not sent, not dead) and goes out when the token
#     works again, which clears the problem;
#   - a failed refresh while the token is still valid: reported, and the
#     notifications keep going with the valid token.
set -euo pipefail
. "$(dirname "$0")/netwerkmodel_lib.sh"

control() { echo "$1" > "$T/gw/control.json.tmp"; mv "$T/gw/control.json.tmp" "$T/gw/control.json"; }
control '{"token": "ok", "lifetime": 20}'
nm_gateway --allow "agb:12345678=organisaties/zorgkantoor/notificaties/notificatie:create"
HPORT=$(free_port) MPORT=$(free_port)
cat > "$T/z.conf" <<CONF
{
  "state_dir": "$T/state", "catalogue_dir": "$S/conf/catalogue", "plugin_dir": "${ZV_PLUGIN_DIR:?}",
  "log_level": "info", "organisation": {"agb": "12345678", "name": "Zorg Test"},
  "http": {"listen": "127.0.0.1:$HPORT"}, "metrics": {"listen": "127.0.0.1:$MPORT"},
  "sources": [{"name": "ecd", "type": "filedrop",
    "options": {"directory": "$T/in", "delimiter": ";", "settle": "0s"},
    "mapping": {"record_id": "id", "records": [{"kind": "delivery", "fields": {
      "client.bsn": "bsn", "entitlement.law": {"value": "wlz"},
      "entitlement.funder": "zorgkantoor", "entitlement.number": "bemiddeling",
      "delivery.start": "start", "delivery.status": "status"}}]}}],
  "destinations": [
    {"name": "lvr", "format": "leveringsregister", "transport": "netwerkmodel",
     "format_options": {"bemiddeling": "ecd"},
     "transport_options": {"url": "https://127.0.0.1:$GPORT/graphql",
       "token_url": "https://127.0.0.1:$GPORT/auth/token",
       "scope": "organisaties/zorgkantoor/notificaties/notificatie:create",
       "ca_file": "$P/netwerk-ca.pem", "cert_file": "$P/provider.pem", "key_file": "$P/provider.key",
       "timeout": "2s", "refresh_margin": "15s"},
     "policy": {"batch_window": "1s", "backoff_initial": "300ms", "backoff_max": "1s",
       "circuit_cooldown": "1s"}}
  ]
}
CONF
"$B/zinvold" --check-config "$T/z.conf" >/dev/null || fail "check-config"
"$B/zinvold" --config "$T/z.conf" 2>"$T/zinvold.log" &
DPID=$!
N=$T/gw/notifications.jsonl TK=$T/gw/tokens.jsonl
row() { # file id bsn start (the ECD holds the bemiddelingspecificatieID: bemiddeling "ecd")
    local uuid
    uuid=$($PY -c 'import sys, uuid; print(uuid.uuid5(uuid.NAMESPACE_URL, "zv-test/" + sys.argv[1]))' "$2")
    printf 'id;bsn;zorgkantoor;bemiddeling;start;status\n%s;%s;5501;%s;%s;1\n' "$2" "$3" "$uuid" "$4" > "$T/in/$1.tmp"
    mv "$T/in/$1.tmp" "$T/in/$1.csv"
}
status_text() { ctl status || true; } # exit 3 while degraded
has_lines() { [ "$(lines "$1")" -ge "$2" ]; }
healthz() { curl -s -o "$T/h.txt" -w '%{http_code}' "http://127.0.0.1:$HPORT/healthz"; }
metric() { curl -s "http://127.0.0.1:$MPORT/metrics" | grep -F "$1" | awk '{print $NF}'; }

# ---- refresh before expiry ----
row a R1 999900043 2026-01-05
wait_for 30 has_lines "$N" 1 || fail "R1 not notified"
wait_for 30 has_lines "$TK" 2 || fail "no refresh of the token: $(cat "$TK")"
$PY - "$TK" "$T/gw/refused.jsonl" <<'PY' || fail "refresh"
import json, os, sys
t = [json.loads(l) for l in open(sys.argv[1])]
assert t[1]["issued"] < t[0]["exp"] - 5, ("the refresh came after the first token's expiry", t)
assert t[1]["tok"] != t[0]["tok"], t
assert not os.path.exists(sys.argv[2]), open(sys.argv[2]).read()  # nothing refused
PY
control '{"token": "ok", "lifetime": 3600}'
wait_for 30 has_lines "$TK" 3 || fail "no second refresh"
row b R2 999900006 2026-01-06
wait_for 30 has_lines "$N" 2 || fail "R2 not notified"
[ "$(tail -1 "$N" | $PY -c 'import json,sys; print(json.load(sys.stdin)["tok"])')" = \
  "$(tail -1 "$TK" | $PY -c 'import json,sys; print(json.load(sys.stdin)["tok"])')" ] ||
    fail "R2 went without the newest token"
[ "$(lines "$TK")" = 3 ] || fail "a token fetched although the cached one was valid: $(cat "$TK")"
status_text | grep -q PROBLEM && fail "a problem while all is well: $(status_text)"

# ---- the authorisation server fails: R3 waits ----
control "{\"token\": \"401\", \"revoke_before\": $(date +%s.%N)}"
row c R3 999900055 2026-01-07
problem_has() { status_text | grep "destination lvr: PROBLEM" | grep -q -- "$1"; }
check_waiting() { # the expected text of the problem
    wait_for 30 problem_has "$1" || fail "status has no problem '$1': $(status_text)"
    code=$(healthz)
    [ "$code" = 503 ] && grep -q "transport/lvr: token: " "$T/h.txt" ||
        fail "healthz $code: $(cat "$T/h.txt")"
    [ "$(metric 'zinvol_plugin_problem{component="transport/lvr"}')" = 1 ] || fail "metrics: no problem"
    [ "$(lines "$N")" = 2 ] || fail "R3 sent without a token: $(tail -1 "$N")"
    # waiting: pending, or inflight while a retry waits for its token
    ctl outbox list --destination lvr | grep -Eq " (pending|inflight) " || fail "R3 not waiting: $(ctl outbox list)"
    [ "$(ctl dlq list | grep -c lvr || true)" = 0 ] || fail "dead letter: $(ctl dlq list)"
}
check_waiting "HTTP 401 from the authorisation server: invalid_client: client certificate not registered"
grep -q '"what": "notification", "status": 401' "$T/gw/refused.jsonl" || fail "the PEP did not refuse the revoked token"
wait_for 10 eval 'ctl outbox list --destination lvr | grep -q "invalid_client"' || fail "last error: $(ctl outbox list)"
errs0=$(metric 'zinvol_plugin_events_total{instance="lvr",event="token_errors"}')
[ "${errs0:-0}" -ge 1 ] || fail "token_errors not counted: $(curl -s "http://127.0.0.1:$MPORT/metrics" | grep plugin)"
for m in "400|invalid_scope: Access denied, invalid scope" \
         "timeout|token: .*[Tt]ime" \
         "not-json|the answer is no JSON" \
         "no-token|the answer has no access_token" \
         "bad-expires|expires_in is no positive number" \
         "crlf|characters a header cannot carry" \
         "bad-type|token_type mac, not Bearer"; do
    control "{\"token\": \"${m%%|*}\", \"delay\": 4}"
    # the previous mode's problem must go before this one is judged
    before=$(lines "$T/gw/refused.jsonl")
    wait_for 30 eval '[ "$(lines "$T/gw/refused.jsonl")" -gt "$before" ]' || fail "no new token request"
    check_waiting "${m#*|}"
done
errs=$(metric 'zinvol_plugin_events_total{instance="lvr",event="token_errors"}')
[ "$errs" -gt "$errs0" ] || fail "token_errors did not grow: $errs0 -> $errs"
grep -q "X-Injected" "$N" && fail "the line-broken token reached a header"

# ---- the token works again: R3 goes out, the problem clears ----
control '{"token": "ok", "lifetime": 3600}'
wait_for 60 has_lines "$N" 3 || fail "R3 not sent after the token works again: $(ctl outbox list)"
wait_for 30 eval '! status_text | grep -q PROBLEM' || fail "problem not cleared: $(status_text)"
wait_for 30 eval '[ "$(healthz)" = 200 ]' || fail "healthz: $(cat "$T/h.txt")"
[ "$(metric 'zinvol_plugin_problem{component="transport/lvr"}')" = 0 ] || fail "metrics: problem stays"
[ "$(ctl outbox list --destination lvr --state delivered | grep -c ' delivered ')" = 3 ] ||
    fail "not all delivered: $(ctl outbox list)"
ctl outbox list --destination lvr --state delivered | awk '$5 == "delivered" && $6 > 1' | grep -q . ||
    fail "R3 delivered at the first try? $(ctl outbox list)"
[ "$(ctl dlq list | grep -c lvr || true)" = 0 ] || fail "dead letter: $(ctl dlq list)"

# ---- a failed refresh while the token is still valid: the sends go on ----
# Force a new short token: the PEP refuses the old one once.
control "{\"token\": \"ok\", \"lifetime\": 25, \"revoke_before\": $(date +%s.%N)}"
row d R4 999900067 2026-01-08
wait_for 30 has_lines "$N" 4 || fail "R4 not notified"
control '{"token": "400", "lifetime": 25}'
# the refresh is due 10 s after that token (25 s - margin 15 s)
wait_for 40 problem_has "the current token expires in" || fail "failed refresh not reported: $(status_text)"
row e R5 999900079 2026-01-09
wait_for 30 has_lines "$N" 5 || fail "R5 waited although the token was valid: $(ctl outbox list)"
[ "$(tail -1 "$N" | $PY -c 'import json,sys; print(json.load(sys.stdin)["tok"])')" = \
  "$(sed -n 4p "$N" | $PY -c 'import json,sys; print(json.load(sys.stdin)["tok"])')" ] ||
    fail "R5 went with another token"
control '{"token": "ok", "lifetime": 3600}'
wait_for 30 eval '! status_text | grep -q PROBLEM' || fail "problem not cleared after a good refresh: $(status_text)"
kill "$DPID"; wait "$DPID" 2>/dev/null || true; DPID=
echo "netwerkmodel token: ok"
