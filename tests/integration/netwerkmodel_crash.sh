#!/bin/bash
# The register and the outbox are two SQLite files: zinvold is killed
# (SIGKILL) right after the Leveringsregister committed a batch of 40
# Leveringperiodes and before the core committed their notifications to the
# outbox (test hook ZV_LVR_TEST_KILL_AFTER_COMMIT in lvr_plugin.c).  After
# the restart every one of the 40 objects is notified once, with the UUID
# the register gave it before the crash: no notification is lost.
set -euo pipefail
. "$(dirname "$0")/netwerkmodel_lib.sh"
nm_gateway --allow "agb:12345678=organisaties/zorgkantoor/notificaties/notificatie:create"
cat > "$T/z.conf" <<CONF
{
  "state_dir": "$T/state", "catalogue_dir": "$S/conf/catalogue", "plugin_dir": "${ZV_PLUGIN_DIR:?}",
  "log_level": "info", "organisation": {"agb": "12345678", "name": "Zorg Test"},
  "sources": [{"name": "ecd", "type": "filedrop",
    "options": {"directory": "$T/in", "delimiter": ";", "settle": "0s"},
    "mapping": {"record_id": "id", "records": [{"kind": "delivery", "fields": {
      "client.bsn": "bsn", "entitlement.law": {"value": "wlz"},
      "entitlement.funder": "zorgkantoor", "entitlement.number": "bemiddeling",
      "delivery.start": "start"}}]}}],
  "destinations": [
    {"name": "lvr", "format": "leveringsregister", "transport": "netwerkmodel",
     "format_options": {"bemiddeling": "ecd"},
     "transport_options": {"url": "https://127.0.0.1:$GPORT/graphql",
       "token_url": "https://127.0.0.1:$GPORT/auth/token",
       "scope": "organisaties/zorgkantoor/notificaties/notificatie:create",
       "ca_file": "$P/netwerk-ca.pem", "cert_file": "$P/provider.pem", "key_file": "$P/provider.key"},
     "policy": {"batch_window": "1s", "backoff_initial": "1s"}}
  ]
}
CONF
"$B/zinvold" --check-config "$T/z.conf" >/dev/null || fail "check-config"
# 40 clients with valid BSNs, each its own bemiddelingspecificatie
$PY - "$T/in/export.tmp" <<'PY'
import sys, uuid
rows = ['id;bsn;zorgkantoor;bemiddeling;start']
n = 0
for i in range(999900000, 999999999):
    s = str(i)
    if (sum(int(c) * w for c, w in zip(s[:8], range(9, 1, -1))) - int(s[8])) % 11:
        continue
    b = bytearray(uuid.uuid5(uuid.NAMESPACE_URL, 'zv-crash/' + s).bytes)
    b[6] = (b[6] & 0x0F) | 0x40
    rows.append('R%d;%s;5501;%s;2026-01-05' % (n, s, uuid.UUID(bytes=bytes(b))))
    n += 1
    if n == 40:
        break
open(sys.argv[1], 'w').write('\n'.join(rows) + '\n')
PY
touch "$T/kill-flag"
ZV_LVR_TEST_KILL_AFTER_COMMIT=$T/kill-flag "$B/zinvold" --config "$T/z.conf" 2>"$T/zinvold.log" &
DPID=$!
mv "$T/in/export.tmp" "$T/in/export.csv"
rc=0
for _ in $(seq 600); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
wait "$DPID" || rc=$?
DPID=
[ "$rc" = 137 ] || fail "zinvold did not die by SIGKILL at the hook (exit $rc)"
[ ! -e "$T/kill-flag" ] || fail "the hook did not fire"
REG=$(find "$T/state" -name leveringsregister.db | head -1)
[ "$(sqlite3 "$REG" 'SELECT count(*) FROM leveringperiode')" = 40 ] || fail "the register did not commit the 40 objects"
[ "$(sqlite3 "$T/state/zinvol.db" "SELECT count(*) FROM outbox WHERE destination = 'lvr'")" = 0 ] ||
    fail "the outbox has notifications: the kill was not between the two commits"
[ "$(lines "$T/gw/notifications.jsonl")" = 0 ] || fail "notified before the crash"

# ---- restart: the staged records come again, their notifications with them ----
"$B/zinvold" --config "$T/z.conf" 2>>"$T/zinvold.log" &
DPID=$!
wait_for 60 eval '[ "$(lines "$T/gw/notifications.jsonl")" -ge 40 ]' ||
    fail "notifications lost in the crash: $(lines "$T/gw/notifications.jsonl") of 40 arrived"
sleep 2 # the batch window: no second copy comes after
sqlite3 "$REG" 'SELECT id FROM leveringperiode ORDER BY id' > "$T/ids.txt"
$PY - "$T/gw/notifications.jsonl" "$T/ids.txt" <<'PY' || fail "notifications after the restart"
import json, sys
ns = [json.loads(l)['input'] for l in open(sys.argv[1])]
ids = open(sys.argv[2]).read().split()
got = sorted(n['subjectList'][0]['recordID'].split('/')[1] for n in ns)
assert all(n['eventType'] == 'NIEUWE_LEVERINGPERIODE_ZORGKANTOOR' for n in ns), ns[:2]
assert got == sorted(ids), (len(got), len(ids))  # each object once, with its UUID from before
PY
[ "$(sqlite3 "$T/state/zinvol.db" "SELECT count(*) FROM outbox WHERE destination = 'lvr'")" = 40 ] ||
    fail "outbox rows: $(sqlite3 "$T/state/zinvol.db" "SELECT count(*) FROM outbox WHERE destination = 'lvr'")"
kill "$DPID"; wait "$DPID" 2>/dev/null || true; DPID=
echo "netwerkmodel crash between the register and the outbox: ok"
