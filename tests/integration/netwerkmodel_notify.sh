#!/bin/bash
# Notifications in (source bemiddelingsregister) through the local gateway:
# the zorgkantoor's zendNotificatie NIEUWE_BEMIDDELINGSPECIFICATIE_ZORGAANBIEDER
# arrives over two-sided TLS with the PEP's claims -> it is kept and
# answered -> zinvol asks the Bemiddelingsregister (the gateway) with the
# published QBR-0001-ZA, an nID token with the bemiddeling read scope and
# its own AGB as Instelling -> the answer (checked against the published
# SDL by the gateway) is mapped with the release's mapping into an
# entitlement record, which a json destination writes out.  Also: a
# specification the register does not have for us goes to quarantine with
# the reason; refusals (scope, claims, ontvanger, eventType, recordID, a
# document that is no zendNotificatie); a register that answers 503 keeps the
# notification waiting (PROBLEM in status) across a restart, and the change
# arrives when it answers again; a removal lands in quarantine (no mapping
# rule) rather than vanishing.
set -euo pipefail
. "$(dirname "$0")/netwerkmodel_lib.sh"
BREL=$S/plugins/fmt_leveringsregister/netwerkmodel/bmr-1.1.0
S1=6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b
S2=7a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d
B1=0d9c8b7a-6f5e-4d3c-9b2a-1f0e9d8c7b6a
register() { # zzp code of S1
    cat > "$T/gw/bemiddelingsregister.json.tmp" <<JSON
[{"bemiddelingspecificatieID": "$S1", "leveringsvorm": "1", "zzpCode": "$1",
  "toewijzingIngangsdatum": "2026-02-01", "toewijzingEinddatum": null, "instelling": "12345678",
  "uitvoerendZorgkantoor": "5501", "vaststellingMoment": "2026-01-20T10:00:00Z", "percentage": 100,
  "opname": "J", "redenIntrekking": null, "etmalen": null, "instellingBestemming": null,
  "soortToewijzing": "01",
  "bemiddeling": {"bemiddelingID": "$B1", "wlzIndicatieID": "1e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b",
    "verantwoordelijkZorgkantoor": "5501", "verantwoordelijkheidIngangsdatum": "2026-01-01",
    "verantwoordelijkheidEinddatum": null,
    "client": {"bsn": "999900043", "clientID": "2f3e4d5c-6b7a-4989-8a7b-6c5d4e3f2a1b",
      "taal": null, "communicatievorm": null, "huisarts": null, "leefeenheid": null}}},
 {"bemiddelingspecificatieID": "$S2", "leveringsvorm": "1", "zzpCode": "4VV",
  "toewijzingIngangsdatum": "2026-02-01", "instelling": "87654321", "uitvoerendZorgkantoor": "5501",
  "vaststellingMoment": "2026-01-20T10:00:00Z", "soortToewijzing": "01",
  "bemiddeling": {"bemiddelingID": "$B1", "wlzIndicatieID": "1e2d3c4b-5a69-4788-9a0b-1c2d3e4f5a6b",
    "verantwoordelijkZorgkantoor": "5501", "verantwoordelijkheidIngangsdatum": "2026-01-01",
    "client": {"bsn": "999900055", "clientID": "3f3e4d5c-6b7a-4989-8a7b-6c5d4e3f2a1b"}}}]
JSON
    mv "$T/gw/bemiddelingsregister.json.tmp" "$T/gw/bemiddelingsregister.json"
}
register 6VV
control() { echo "$1" > "$T/gw/control.json.tmp"; mv "$T/gw/control.json.tmp" "$T/gw/control.json"; }
nm_gateway --bmr-template "$BREL/templates/QBR-0001-ZA.graphql" --bmr-sdl "$BREL/Bemiddelingregister.graphql" \
    --allow "agb:12345678=registers/wlzbemiddelingsregister/bemiddelingen/bemiddeling:read"
NPORT=$(free_port)
mkdir -p "$T/out"
cat > "$T/bmr-test.json" <<'JSON'
{"catalogue": "bmr-test", "format": "json", "message": "JSON", "standard": "test",
 "description": "what the test destination writes of an entitlement", "frequency": "event",
 "fields": [
  {"field": "client.bsn", "element": "client.bsn", "level": "law", "citation": "test"},
  {"field": "entitlement.number", "element": "entitlement.number", "level": "standard", "citation": "test"},
  {"field": "entitlement.funder", "element": "entitlement.funder", "level": "standard", "citation": "test"},
  {"field": "entitlement.zzp_code", "element": "entitlement.zzp_code", "level": "standard", "citation": "test"},
  {"field": "entitlement.start", "element": "entitlement.start", "level": "standard", "citation": "test"},
  {"field": "entitlement.end", "element": "entitlement.end", "level": "standard", "optional": true, "citation": "test"}]}
JSON
$PY - "$S" "$T" "$NPORT" "$GPORT" "${ZV_PLUGIN_DIR:?}" "$BREL" <<'PY'
import json, sys
S, T, nport, gport, plugins, brel = sys.argv[1:7]
P = T + '/pki'
conf = {'state_dir': T + '/state', 'catalogue_dir': S + '/conf/catalogue', 'plugin_dir': plugins,
        'log_level': 'info', 'organisation': {'agb': '12345678', 'name': 'Zorg Test'},
        'sources': [{'name': 'bmr', 'type': 'bemiddelingsregister',
                     'options': {'listen': '127.0.0.1:' + nport, 'tls_cert': P + '/register.pem',
                                 'tls_key': P + '/register.key', 'client_ca': P + '/netwerk-ca.pem',
                                 'url': 'https://127.0.0.1:%s/bemiddeling/graphql' % gport,
                                 'token_url': 'https://127.0.0.1:%s/auth/token' % gport,
                                 'ca_file': P + '/netwerk-ca.pem', 'cert_file': P + '/provider.pem',
                                 'key_file': P + '/provider.key', 'timeout': '5s', 'retry': '1s'},
                     'mapping': json.load(open(brel + '/mapping.json'))}],
        'destinations': [{'name': 'model', 'format': 'json', 'transport': 'filedrop',
                          'format_options': {'kinds': ['entitlement']},
                          'catalogue': {'file': T + '/bmr-test.json'},
                          'transport_options': {'dir': T + '/out'}, 'policy': {'batch_window': '1s'}}]}
json.dump(conf, open(T + '/z.conf', 'w'), indent=1)
PY
"$B/zinvold" --check-config "$T/z.conf" >/dev/null || fail "check-config: $("$B/zinvold" --check-config "$T/z.conf" 2>&1)"
start() { "$B/zinvold" --config "$T/z.conf" 2>>"$T/zinvold.log" & DPID=$!; }
start
URL=https://127.0.0.1:$NPORT/notificaties
for _ in $(seq 100); do curl -s --cacert "$P/netwerk-ca.pem" --cert "$P/pep.pem" --key "$P/pep.key" -o /dev/null "$URL" && break; sleep 0.1; done
notify() { # event recordID [extra]
    local e=$1 r=$2; shift 2
    $PY "$GW" notify --to "$URL" --template "$BREL/templates/zendNotificatie.graphql" --event "$e" \
        --record "$r" --subject "Bemiddeling/$B1" --ca "$P/netwerk-ca.pem" --cert "$P/pep.pem" \
        --key "$P/pep.key" "$@"
}
out_has() { cat "$T"/out/* 2>/dev/null | grep -q -- "$1"; }
status_text() { ctl status || true; }

# ---- a new bemiddelingspecificatie: queried, mapped, written ----
notify NIEUWE_BEMIDDELINGSPECIFICATIE_ZORGAANBIEDER "Bemiddelingspecificatie/$S1" > "$T/n1.json" ||
    fail "notification refused: $(cat "$T/n1.json")"
wait_for 30 out_has '"6VV"' || fail "no entitlement record written: $(ls "$T/out"; ctl quarantine list)"
$PY - "$T" "$S1" <<'PY' || fail "the record: $(cat "$T"/out/*)"
import glob, json, sys
T, S1 = sys.argv[1:3]
recs = []
for f in glob.glob(T + '/out/*'):
    d = json.load(open(f))
    recs += d['records'] if isinstance(d, dict) and 'records' in d else d if isinstance(d, list) else [d]
r = [x for x in recs if json.dumps(x).find('6VV') >= 0][0]
flat = json.dumps(r)
for v in ('999900043', S1, '5501', '2026-02-01'):
    assert v in flat, (v, r)
q = [json.loads(l) for l in open(T + '/gw/bmr-queries.jsonl')]
assert q[0]['variables'] == {'BemiddelingspecificatieID': S1, 'Instelling': '12345678'}, q
assert q[0]['from'] == 'agb:12345678', q
t = [json.loads(l) for l in open(T + '/gw/tokens.jsonl')]
assert t[0]['scopes'] == ['registers/wlzbemiddelingsregister/bemiddelingen/bemiddeling:read'], t
PY

# ---- one the register has not for this provider: quarantined with why ----
notify NIEUWE_BEMIDDELINGSPECIFICATIE_ZORGAANBIEDER "Bemiddelingspecificatie/$S2" > /dev/null || fail "S2 refused"
wait_for 30 eval 'ctl quarantine list | grep -q "has no bemiddelingspecificatie"' ||
    fail "S2 not quarantined: $(ctl quarantine list)"

# ---- refusals ----
rc=0; notify NIEUWE_BEMIDDELINGSPECIFICATIE_ZORGAANBIEDER "Bemiddelingspecificatie/$S1" --scope x > "$T/r.json" || rc=$?
[ $rc = 2 ] && grep -q '"status": 403' "$T/r.json" && grep -q "notification scope" "$T/r.json" || fail "scope: $(cat "$T/r.json")"
rc=0; notify NIEUWE_BEMIDDELINGSPECIFICATIE_ZORGAANBIEDER "Bemiddelingspecificatie/$S1" --agb 87654321 > "$T/r.json" || rc=$?
[ $rc = 2 ] && grep -q '"status": 403' "$T/r.json" && grep -q "not for this provider" "$T/r.json" || fail "ontvanger: $(cat "$T/r.json")"
rc=0; notify NIEUWE_LEVERINGPERIODE_ZORGKANTOOR "Bemiddelingspecificatie/$S1" > "$T/r.json" || rc=$?
[ $rc = 2 ] && grep -q '"status": 400' "$T/r.json" && grep -q "not one this provider takes" "$T/r.json" || fail "eventType: $(cat "$T/r.json")"
rc=0; notify NIEUWE_BEMIDDELINGSPECIFICATIE_ZORGAANBIEDER "Levering/$S1" > "$T/r.json" || rc=$?
[ $rc = 2 ] && grep -q '"status": 400' "$T/r.json" && grep -q "recordID" "$T/r.json" || fail "recordID: $(cat "$T/r.json")"
code=$(curl -s -o "$T/r.json" -w '%{http_code}' --cacert "$P/netwerk-ca.pem" --cert "$P/pep.pem" --key "$P/pep.key" \
    -H 'Content-Type: application/json' -d '{"query": "mutation { zendNotificatie }"}' "$URL")
[ "$code" = 401 ] || fail "no claims: $code"
code=$(curl -s -o "$T/r.json" -w '%{http_code}' --cacert "$P/netwerk-ca.pem" --cert "$P/pep.pem" --key "$P/pep.key" \
    -H 'Content-Type: application/json' -H 'claims: {"sub": "uzovi:5501", "scopes": ["organisaties/zorgaanbieder/notificaties/notificatie:create"]}' \
    -d '{"query": "query { bemiddeling { client { bsn } } }"}' "$URL")
[ "$code" = 403 ] && grep -q "not the zendNotificatie" "$T/r.json" || fail "other document: $code $(cat "$T/r.json")"
[ "$(lines "$T/gw/bmr-queries.jsonl")" = 2 ] || fail "a refused notification was queried: $(cat "$T/gw/bmr-queries.jsonl")"

# ---- the register is down: the change waits, across a restart ----
control '{"bmr": "503"}'
register 8VV
notify GEWIJZIGDE_BEMIDDELINGSPECIFICATIE_ZORGAANBIEDER "Bemiddelingspecificatie/$S1" > /dev/null || fail "change refused"
problem_has() { status_text | grep "source bmr: PROBLEM" | grep -q -- "$1"; }
wait_for 30 problem_has "Bemiddelingsregister: query: HTTP 503: register unavailable" ||
    fail "no problem in status: $(status_text)"
kill "$DPID"; wait "$DPID" 2>/dev/null || true; DPID=
start
sleep 2
out_has '"8VV"' && fail "the change arrived while the register was down"
control '{}'
wait_for 30 out_has '"8VV"' || fail "the change did not arrive after the restart: $(tail -5 "$T/zinvold.log")"
wait_for 30 eval '! status_text | grep -q PROBLEM' || fail "problem not cleared: $(status_text)"

# ---- a removal is not lost ----
notify VERWIJDERDE_BEMIDDELINGSPECIFICATIE_ZORGAANBIEDER "Bemiddelingspecificatie/$S1" > /dev/null || fail "removal refused"
wait_for 30 eval 'ctl quarantine list | grep -q "Bemiddelingspecificatie.verwijderd\|no mapping rule"' ||
    fail "removal not visible: $(ctl quarantine list)"
kill "$DPID"; wait "$DPID" 2>/dev/null || true; DPID=
echo "netwerkmodel notifications in: ok"
