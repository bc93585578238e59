#!/bin/bash
# Deliveries refer to what the zorgkantoor assigned, end to end through the
# local gateway: the zorgkantoor's zendNotificatie NIEUWE_BEMIDDELINGSPECIFICATIE
# comes in (source bemiddelingsregister) -> QBR-0001-ZA on the
# Bemiddelingsregister (the gateway) -> an entitlement record routed to the
# Leveringsregister (bemiddeling "register", the default), which keeps it ->
# an ECD delivery row of that client, zzp and period, whose own
# entitlement.number is the ECD's besluitnummer (no UUID) -> the register's
# Levering refers to the assigned bemiddelingspecificatieID: the
# notification's subject, and QLR-0003-ZK by that id answers the
# Leveringperiode (checked against the SDL) -> a delivery of another zzp and
# one of a client nothing was assigned to are quarantined (LVR-BEMIDDELING,
# field entitlement.number) and nothing is notified for them.
set -euo pipefail
. "$(dirname "$0")/netwerkmodel_lib.sh"
BREL=$S/plugins/fmt_leveringsregister/netwerkmodel/bmr-1.1.0
S1=6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b
B1=0d9c8b7a-6f5e-4d3c-9b2a-1f0e9d8c7b6a
cat > "$T/gw/bemiddelingsregister.json" <<JSON
[{"bemiddelingspecificatieID": "$S1", "leveringsvorm": "1", "zzpCode": "6VV",
  "toewijzingIngangsdatum": "2026-02-01", "toewijzingEinddatum": null, "instelling": "12345678",
  "uitvoerendZorgkantoor": "5501", "vaststellingMoment": "2026-01-20T10:00:00Z", "soortToewijzing": "01",
  "bemiddeling": {"bemiddelingID": "$B1", "wlzIndicatieID": "1e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b",
    "verantwoordelijkZorgkantoor": "5501", "verantwoordelijkheidIngangsdatum": "2026-01-01",
    "client": {"bsn": "999900043", "clientID": "2f3e4d5c-6b7a-4989-8a7b-6c5d4e3f2a1b"}}}]
JSON
nm_gateway --bmr-template "$BREL/templates/QBR-0001-ZA.graphql" --bmr-sdl "$BREL/Bemiddelingregister.graphql" \
    --allow "agb:12345678=registers/wlzbemiddelingsregister/bemiddelingen/bemiddeling:read,organisaties/zorgkantoor/notificaties/notificatie:create"
NPORT=$(free_port) RPORT=$(free_port)
$PY - "$S" "$T" "$NPORT" "$RPORT" "$GPORT" "${ZV_PLUGIN_DIR:?}" "$BREL" <<'PY'
import json, sys
S, T, nport, rport, gport, plugins, brel = sys.argv[1:8]
P = T + '/pki'
gw = 'https://127.0.0.1:' + gport
tls = {'ca_file': P + '/netwerk-ca.pem', 'cert_file': P + '/provider.pem', 'key_file': P + '/provider.key'}
conf = {'state_dir': T + '/state', 'catalogue_dir': S + '/conf/catalogue', 'plugin_dir': plugins,
        'log_level': 'info', 'organisation': {'agb': '12345678', 'name': 'Zorg Test'},
        'sources': [
            {'name': 'bmr', 'type': 'bemiddelingsregister',
             'options': dict(tls, listen='127.0.0.1:' + nport, tls_cert=P + '/register.pem',
                             tls_key=P + '/register.key', client_ca=P + '/netwerk-ca.pem',
                             url=gw + '/bemiddeling/graphql', token_url=gw + '/auth/token',
                             timeout='5s', retry='1s'),
             'mapping': json.load(open(brel + '/mapping.json'))},
            {'name': 'ecd', 'type': 'filedrop',
             'options': {'directory': T + '/in', 'delimiter': ';', 'settle': '0s'},
             'mapping': {'record_id': 'id', 'records': [{'kind': 'delivery', 'fields': {
                 'client.bsn': 'bsn', 'entitlement.law': {'value': 'wlz'},
                 'entitlement.funder': 'zorgkantoor', 'entitlement.number': 'besluit',
                 'entitlement.zzp_code': 'zzp', 'delivery.start': 'start'}}]}}],
        'destinations': [
            {'name': 'lvr', 'format': 'leveringsregister', 'transport': 'netwerkmodel',
             'format_options': {'listen': '127.0.0.1:' + rport, 'tls_cert': P + '/register.pem',
                                'tls_key': P + '/register.key', 'client_ca': P + '/netwerk-ca.pem'},
             'transport_options': dict(tls, url=gw + '/graphql', token_url=gw + '/auth/token',
                                       scope='organisaties/zorgkantoor/notificaties/notificatie:create'),
             'policy': {'batch_window': '1s', 'backoff_initial': '1s'}}]}
json.dump(conf, open(T + '/z.conf', 'w'), indent=1)
PY
"$B/zinvold" --check-config "$T/z.conf" >/dev/null || fail "check-config: $("$B/zinvold" --check-config "$T/z.conf" 2>&1)"
"$B/zinvold" --config "$T/z.conf" 2>>"$T/zinvold.log" &
DPID=$!
URL=https://127.0.0.1:$NPORT/notificaties
for _ in $(seq 100); do curl -s --cacert "$P/netwerk-ca.pem" --cert "$P/pep.pem" --key "$P/pep.key" -o /dev/null "$URL" && break; sleep 0.1; done

# ---- the zorgkantoor assigns S1 and notifies ----
$PY "$GW" notify --to "$URL" --template "$BREL/templates/zendNotificatie.graphql" \
    --event NIEUWE_BEMIDDELINGSPECIFICATIE_ZORGAANBIEDER --record "Bemiddelingspecificatie/$S1" \
    --subject "Bemiddeling/$B1" --ca "$P/netwerk-ca.pem" --cert "$P/pep.pem" --key "$P/pep.key" > "$T/n1.json" ||
    fail "notification refused: $(cat "$T/n1.json")"
reg() { find "$T/state" -name leveringsregister.db | head -1; }
kept() { [ "$(sqlite3 "$(reg)" "SELECT count(*) FROM bemiddelingspecificatie WHERE id = '$S1' AND zzp = '6VV'" 2>/dev/null)" = 1 ]; }
wait_for 30 kept || fail "the assignment did not reach the register: $(ls -R "$T/state" | head; ctl quarantine list)"

# ---- the ECD's rows: one assigned, one of another zzp, one never assigned ----
cat > "$T/in/export.tmp" <<CSV
id;bsn;zorgkantoor;besluit;zzp;start
R1;999900043;5501;197356745;6VV;2026-02-10
R2;999900043;5501;197356745;4VV;2026-02-10
R3;999900055;5501;529926020;6VV;2026-02-10
CSV
mv "$T/in/export.tmp" "$T/in/export.csv"
N=$T/gw/notifications.jsonl
wait_for 60 eval '[ "$(lines "$N")" -ge 1 ]' || fail "no notification: $(ctl outbox list; ctl quarantine list)"
quarantined() { [ "$(ctl quarantine list | grep -c LVR-BEMIDDELING)" -ge 2 ]; }
wait_for 30 quarantined || fail "R2/R3 not quarantined: $(ctl quarantine list)"
ctl quarantine list > "$T/q.txt"
grep "ecd/R2" "$T/q.txt" | grep LVR-BEMIDDELING | grep -q "entitlement.number" || fail "R2: $(cat "$T/q.txt")"
grep "ecd/R3" "$T/q.txt" | grep -q LVR-BEMIDDELING || fail "R3: $(cat "$T/q.txt")"
ctl quarantine show "$(grep "ecd/R2" "$T/q.txt" | awk '{print $1}' | head -1)" > "$T/q2.txt" 2>&1 || true
grep -q "zzp 4VV" "$T/q2.txt" && ! grep -q 999900043 "$T/q2.txt" || fail "R2's reason: $(cat "$T/q2.txt")"
sleep 2 # the batch window: nothing more is notified for R2 and R3
[ "$(lines "$N")" = 1 ] || fail "notified more than R1: $(cat "$N")"
$PY - "$N" "$S1" <<'PY' || fail "notification: $(cat "$N")"
import json, sys
n = json.loads(open(sys.argv[1]).readline())['input']
assert n['eventType'] == 'NIEUWE_LEVERINGPERIODE_ZORGKANTOOR', n
assert n['ontvangerID'] == '5501', n
PY

# ---- the zorgkantoor asks by the id it assigned ----
ask() {
    $PY "$GW" query --register "https://127.0.0.1:$RPORT/graphql" --template "$REL/templates/$1.graphql" \
        --published "$REL"/templates/*.graphql --sdl "$REL/Leveringsregister.graphql" \
        --vars "$2" --uzovi 5501 --ca "$P/netwerk-ca.pem" --cert "$P/pep.pem" --key "$P/pep.key"
}
ask QLR-0003-ZK "{\"bemiddelingspecificatieID\": \"$S1\"}" > "$T/q3.json" 2>"$T/q3.err" ||
    fail "QLR-0003-ZK: $(cat "$T/q3.json" "$T/q3.err")"
$PY - "$T/q3.json" "$S1" "$N" <<'PY' || fail "QLR-0003-ZK answer: $(cat "$T/q3.json")"
import json, sys
a = json.load(open(sys.argv[1]))
lev = a['body']['data']['levering']
assert len(lev) == 1 and lev[0]['bemiddelingspecificatieID'] == sys.argv[2], lev
assert lev[0]['client']['bsn'] == '999900043', lev
lp = lev[0]['leveringperiodes']
n = json.loads(open(sys.argv[3]).readline())['input']
assert [p['leveringperiodeID'] for p in lp] == [n['subjectList'][0]['recordID'].split('/')[1]], (lp, n)
assert lp[0]['ingangsdatum'] == '2026-02-10', lp
PY
# no Levering refers to anything but what was assigned
[ "$(sqlite3 "$(reg)" "SELECT count(*) FROM levering WHERE bemiddelingspecificatie_id != '$S1'")" = 0 ] ||
    fail "a Levering refers to an id that was not assigned"

kill "$DPID"; wait "$DPID" 2>/dev/null || true; DPID=
echo "netwerkmodel assigned: ok"
