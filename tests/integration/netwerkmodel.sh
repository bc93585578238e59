#!/bin/bash
# The iWlz netwerkmodel end to end, with the real zinvold and a local
# gateway (tests/fixtures/netwerkmodel/gateway.py: nID token endpoint and
# PEP on 127.0.0.1, certificates made here with openssl):
#   ECD rows -> Leveringsregister (plugin leveringsregister) -> zendNotificatie
#   through the outbox to the PEP (transport netwerkmodel: token over mTLS,
#   cached, bearer, Accept graphql-response+json, B3) -> the gateway queries
#   the published QLR templates as zorgkantoor 5501 over two-sided TLS with
#   claims -> every answer checked against the published SDL with
#   graphql-core -> `zinvolctl disclose` shows the queries beside the
#   notifications; refusals (no template, no claims, wrong scope, no or a
#   foreign client certificate, another zorgkantoor's rows) and the dead
#   letter of a notification the PEP answers with a GraphQL error.
set -euo pipefail
B=${ZV_BUILD_DIR:?}
S=${ZV_SOURCE_DIR:?}
PY=/usr/bin/python3
if ! $PY -c 'import graphql' 2>/dev/null; then
    echo "SKIP: /usr/bin/python3 has no graphql module (Debian python3-graphql-core)"
    exit 77
fi
command -v openssl >/dev/null || { echo "SKIP: no openssl"; exit 77; }
T=$(mktemp -d /tmp/zv-nm-XXXXXX)
GW=$S/tests/fixtures/netwerkmodel/gateway.py
REL=$S/plugins/fmt_leveringsregister/netwerkmodel/lvr-1.0-rc1
GPID= DPID=
cleanup() {
    [ -n "$DPID" ] && kill "$DPID" 2>/dev/null
    [ -n "$GPID" ] && kill "$GPID" 2>/dev/null
    wait 2>/dev/null
    if [ "${KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- zinvold.log"; tail -40 "$T/zinvold.log" 2>/dev/null; echo "--- gateway.log"; tail -20 "$T/gateway.log" 2>/dev/null; exit 1; }
mkdir -p "$T/in" "$T/gw" "$T/pki"

# ---- certificates: one CA for the network, one foreign CA ----
P=$T/pki
ca() { openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1" -keyout "$P/$1.key" -out "$P/$1.pem" 2>/dev/null; }
leaf() { # name CN issuer [server]
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$2" -keyout "$P/$1.key" -out "$P/$1.csr" 2>/dev/null
    if [ "${4:-}" = server ]; then ext="subjectAltName=IP:127.0.0.1,DNS:localhost"; else ext="extendedKeyUsage=clientAuth"; fi
    openssl x509 -req -in "$P/$1.csr" -CA "$P/$3.pem" -CAkey "$P/$3.key" -CAcreateserial -days 2 \
        -extfile <(echo "$ext") -out "$P/$1.pem" 2>/dev/null
}
ca netwerk-ca
ca foreign-ca
leaf register localhost netwerk-ca server # zinvol's register endpoint
leaf gateway localhost netwerk-ca server  # nID and PEP
leaf provider agb:12345678 netwerk-ca     # the provider's system certificate
leaf pep pep.nid netwerk-ca               # the PEP calling the register
leaf rogue pep.nid foreign-ca             # same name, other CA

$PY "$GW" serve --dir "$T/gw" --ca "$P/netwerk-ca.pem" --cert "$P/gateway.pem" --key "$P/gateway.key" \
    --allow "agb:12345678=organisaties/zorgkantoor/notificaties/notificatie:create" 2>"$T/gateway.log" &
GPID=$!
for _ in $(seq 100); do [ -f "$T/gw/port" ] && break; sleep 0.1; done
GPORT=$(cat "$T/gw/port")
RPORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

cat > "$T/z.conf" <<CONF
{
  "state_dir": "$T/state", "catalogue_dir": "$S/conf/catalogue", "plugin_dir": "${ZV_PLUGIN_DIR:?}",
  "log_level": "info", "organisation": {"agb": "12345678", "name": "Zorg Test"},
  "sources": [{"name": "ecd", "type": "filedrop",
    "options": {"directory": "$T/in", "delimiter": ";", "settle": "0s"},
    "mapping": {"record_id": "id", "records": [{"kind": "delivery", "fields": {
      "client.bsn": "bsn", "client.phone": "telefoon", "entitlement.law": {"value": "wlz"},
      "entitlement.funder": "zorgkantoor", "entitlement.number": "bemiddeling",
      "delivery.start": "start", "delivery.end": "eind", "delivery.sleuteldatum": "sleutel",
      "delivery.treatment": "behandeling", "delivery.status": "status",
      "delivery.leveringsstatus": "leveringsstatus", "delivery.leveringsstatus_class": "klasse",
      "delivery.mutation_date": "mutatiedatum", "delivery.end_reason": "reden"}}]}}],
  "destinations": [
    {"name": "lvr", "format": "leveringsregister", "transport": "netwerkmodel",
     "format_options": {"listen": "127.0.0.1:$RPORT", "tls_cert": "$P/register.pem",
       "tls_key": "$P/register.key", "client_ca": "$P/netwerk-ca.pem", "bemiddeling": "ecd"},
     "transport_options": {"url": "https://127.0.0.1:$GPORT/graphql",
       "token_url": "https://127.0.0.1:$GPORT/auth/token",
       "scope": "organisaties/zorgkantoor/notificaties/notificatie:create",
       "ca_file": "$P/netwerk-ca.pem", "cert_file": "$P/provider.pem", "key_file": "$P/provider.key"},
     "policy": {"batch_window": "1s", "backoff_initial": "1s"}}
  ]
}
CONF
"$B/zinvold" --check-config "$T/z.conf" >/dev/null || fail "check-config"
"$B/zinvold" --config "$T/z.conf" 2>"$T/zinvold.log" &
DPID=$!

BS1=3fa85f64-5717-4562-b3fc-2c963f66afa6
cat > "$T/in/export.csv" <<CSV
id;bsn;telefoon;zorgkantoor;bemiddeling;start;eind;sleutel;behandeling;status;leveringsstatus;klasse;mutatiedatum;reden
R1;999900043;06-05262308;5501;$BS1;2026-01-05;;2026-01-02;J;1;;;;
R2;999900006;06-68106871;5501;5b1e8a2c-0d3f-4c6e-9a7b-1c2d3e4f5a61;;;;;;3;01;2026-02-01;04
R3;999900055;06-07912728;5501;5b1e8a2c-0d3f-4c6e-9a7b-1c2d3e4f5a62;;;;;;;;2026-02-10;06
R4;999900067;06-11111111;9999;5b1e8a2c-0d3f-4c6e-9a7b-1c2d3e4f5a63;2026-03-01;;;;1;;;;
R5;999900079;06-22222222;5501;5b1e8a2c-0d3f-4c6e-9a7b-1c2d3e4f5a64;;;;;;;;;
CSV

wait_lines() { # file count
    for _ in $(seq 300); do
        [ -f "$1" ] && [ "$(wc -l < "$1")" -ge "$2" ] && return 0
        kill -0 "$DPID" 2>/dev/null || fail "zinvold stopped"
        sleep 0.1
    done
    fail "$1: fewer than $2 lines"
}
# R1: Leveringperiode + Behandelingperiode, R2: Uitstelperiode, R3: Afstel;
# R4 goes to zorgkantoor 9999, which the PEP refuses; R5 is no register object.
wait_lines "$T/gw/notifications.jsonl" 4
N=$T/gw/notifications.jsonl
$PY - "$N" <<'PY' || fail "notifications"
import json, sys
ns = [json.loads(l) for l in open(sys.argv[1])]
ev = sorted(n["input"]["eventType"] for n in ns)
assert ev == ["NIEUWE_BEHANDELINGPERIODE_ZORGKANTOOR", "NIEUWE_LEVERINGPERIODE_ZORGKANTOOR",
              "NIEUWE_UITSTELPERIODE_ZORGKANTOOR", "NIEUW_AFSTEL_ZORGKANTOOR"], ev
for n in ns:
    i = n["input"]
    assert n["from"] == "agb:12345678", n
    assert (i["afzenderIDType"], i["afzenderID"], i["ontvangerIDType"], i["ontvangerID"]) == \
        ("AGB", "12345678", "UZOVI", "5501"), i
    assert len(i["subjectList"]) == 1 and i["subjectList"][0]["subject"].startswith("Levering/"), i
    # nothing about the client travels in a notification
    assert "999900" not in json.dumps(i), i
PY
[ "$(wc -l < "$T/gw/tokens.jsonl")" = 1 ] || fail "the token was not cached: $(cat "$T/gw/tokens.jsonl")"
grep -q 'registers\|organisaties/zorgkantoor/notificaties/notificatie:create' "$T/gw/tokens.jsonl"

ctl() { "$B/zinvolctl" -c "$T/z.conf" "$@"; }
# R4's notification: the PEP's GraphQL error is the dead letter's reason.
for _ in $(seq 100); do ctl dlq list 2>/dev/null | grep -q "onbekende ontvanger 9999" && break; sleep 0.1; done
ctl dlq list | grep -q "onbekende ontvanger 9999" || fail "no dead letter for ontvanger 9999: $(ctl dlq list)"
# R5 fits no register object: quarantined with the rule.
ctl quarantine list | grep -q "LVR-OBJECT" || fail "R5 not quarantined: $(ctl quarantine list)"

id_of() { # eventType prefix -> recordID's uuid
    $PY -c 'import json,sys
for l in open(sys.argv[1]):
    n=json.loads(l)["input"]
    if n["eventType"]==sys.argv[2]: print(n["subjectList"][0]["recordID"].split("/")[1]); break' "$N" "$1"
}
LP=$(id_of NIEUWE_LEVERINGPERIODE_ZORGKANTOOR)
BP=$(id_of NIEUWE_BEHANDELINGPERIODE_ZORGKANTOOR)
UP=$(id_of NIEUWE_UITSTELPERIODE_ZORGKANTOOR)
AF=$(id_of NIEUW_AFSTEL_ZORGKANTOOR)
URL=https://127.0.0.1:$RPORT/graphql
ask() { # template vars uzovi [extra args]
    local t=$1 v=$2 u=$3; shift 3
    $PY "$GW" query --register "$URL" --template "$REL/templates/$t.graphql" \
        --published "$REL"/templates/*.graphql --sdl "$REL/Leveringsregister.graphql" \
        --vars "$v" --uzovi "$u" --ca "$P/netwerk-ca.pem" --cert "$P/pep.pem" --key "$P/pep.key" "$@"
}
ask QLR-0003-ZK "{\"bemiddelingspecificatieID\": \"$BS1\"}" 5501 > "$T/q3.json" 2>"$T/q3.err" ||
    fail "QLR-0003-ZK: $(cat "$T/q3.json" "$T/q3.err")"
$PY - "$T/q3.json" "$LP" "$BP" <<'PY' || fail "QLR-0003-ZK answer: $(cat "$T/q3.json")"
import json, sys
a = json.load(open(sys.argv[1]))
assert a["content_type"] == "application/graphql-response+json", a
lev = a["body"]["data"]["levering"]
assert len(lev) == 1 and lev[0]["client"]["bsn"] == "999900043", lev
lp = lev[0]["leveringperiodes"]
assert [p["leveringperiodeID"] for p in lp] == [sys.argv[2]], lp
assert lp[0]["ingangsdatum"] == "2026-01-05" and lp[0]["sleuteldatum"] == "2026-01-02", lp
assert lp[0]["einddatum"] is None and lp[0]["vaststellingMoment"].endswith("Z"), lp
assert [b["behandelingperiodeID"] for b in lp[0]["behandelingperiodes"]] == [sys.argv[3]], lp
assert lev[0]["uitstelperiodes"] == [] and lev[0]["afstel"] is None, lev
PY
# Another zorgkantoor gets none of 5501's rows.
ask QLR-0003-ZK "{\"bemiddelingspecificatieID\": \"$BS1\"}" 5502 > "$T/q3b.json" 2>&1 || fail "QLR-0003-ZK 5502"
grep -q '"levering": \[\]' "$T/q3b.json" || fail "5502 saw 5501's levering: $(cat "$T/q3b.json")"
for q in "QLR-0006-ZK leveringperiodeID $LP" "QLR-0007-ZK uitstelperiodeID $UP" \
         "QLR-0004-ZK verzoekID 0b6c1d0e-2f3a-4b5c-8d9e-0f1a2b3c4d5e"; do
    set -- $q
    ask "$1" "{\"$2\": \"$3\"}" 5501 > "$T/$1.json" 2>"$T/$1.err" || fail "$1: $(cat "$T/$1.json" "$T/$1.err")"
done
grep -q '"reden": "04"' "$T/QLR-0007-ZK.json" || fail "QLR-0007-ZK: $(cat "$T/QLR-0007-ZK.json")"
grep -q '"verzoek": \[\]' "$T/QLR-0004-ZK.json" || fail "QLR-0004-ZK: $(cat "$T/QLR-0004-ZK.json")"
# The RC's QLR-0008/0009/0010 do not validate against its own SDL (exit 4:
# answered, shape not judged); the register answers them as published.
for q in "QLR-0008-ZK {\"afstelID\":\"$AF\",\"bemiddelingspecificatieID\":\"x\"} afsteldatum" \
         "QLR-0010-ZK {\"behandelingperiodeID\":\"$BP\",\"bemiddelingspecificatieID\":\"$BS1\"} $LP"; do
    set -- $q
    rc=0; ask "$1" "$2" 5501 > "$T/$1.json" 2>"$T/$1.err" || rc=$?
    [ $rc = 4 ] && grep -q "$3" "$T/$1.json" || fail "$1 (rc $rc): $(cat "$T/$1.json" "$T/$1.err")"
done

# ---- refusals ----
curl_reg() { curl -s -o "$T/r.json" -w '%{http_code}' --cacert "$P/netwerk-ca.pem" "$@" "$URL"; }
body=$($PY -c 'import json,sys; print(json.dumps({"query": "{ levering(where: {bemiddelingspecificatieID: {eq: \"%s\"}}) { client { bsn } } }" % sys.argv[1]}))' "$BS1")
claims='{"sub": "uzovi:5501", "scopes": ["registers/wlzleveringsregister/leveringen/levering:read"]}'
code=$(curl_reg --cert "$P/pep.pem" --key "$P/pep.key" -H 'Content-Type: application/json' -H "claims: $claims" -d "$body")
[ "$code" = 403 ] && grep -q '"errors"' "$T/r.json" && ! grep -q 999900 "$T/r.json" || fail "non-template: $code $(cat "$T/r.json")"
code=$(curl_reg --cert "$P/pep.pem" --key "$P/pep.key" -H 'Content-Type: application/json' -H 'Accept: application/json' -H "claims: $claims" -d "$body")
[ "$code" = 200 ] && grep -q '"errors"' "$T/r.json" || fail "application/json refusal: $code"
code=$(curl_reg --cert "$P/pep.pem" --key "$P/pep.key" -H 'Content-Type: application/json' -d "$body")
[ "$code" = 401 ] || fail "no claims: $code"
q3=$($PY -c 'import json,sys; print(json.dumps({"query": open(sys.argv[1]).read(), "variables": {"bemiddelingspecificatieID": sys.argv[2]}}))' "$REL/templates/QLR-0003-ZK.graphql" "$BS1")
code=$(curl_reg --cert "$P/pep.pem" --key "$P/pep.key" -H 'Content-Type: application/json' -H 'claims: {"sub": "uzovi:5501", "scopes": []}' -d "$q3")
[ "$code" = 403 ] && grep -q 'lacks the Leveringsregister scope' "$T/r.json" || fail "no scope: $code $(cat "$T/r.json")"
code=$(curl_reg --cert "$P/pep.pem" --key "$P/pep.key" -H 'Content-Type: application/json' -H "claims: $claims" -d '{"query": "query { levering("}')
[ "$code" = 400 ] && grep -q 'Syntax Error' "$T/r.json" || fail "syntax: $code $(cat "$T/r.json")"
rc=0; curl_reg -H 'Content-Type: application/json' -d "$body" >/dev/null || rc=$?
[ $rc != 0 ] || fail "answered without a client certificate"
rc=0; curl_reg --cert "$P/rogue.pem" --key "$P/rogue.key" -H 'Content-Type: application/json' -d "$body" >/dev/null || rc=$?
[ $rc != 0 ] || fail "answered a certificate of a foreign CA"

# ---- an error report (RFC0018 IWLZFOUTMELDING) on R3's Afstel: to the dead letter ----
$PY "$GW" melding --register "$URL" --template "$REL/templates/zendMelding.graphql" --uzovi 5501 \
    --agb 12345678 --subject "LRG0042=Afstel/$AF" --ca "$P/netwerk-ca.pem" --cert "$P/pep.pem" \
    --key "$P/pep.key" > "$T/m.json" || fail "melding: $(cat "$T/m.json")"
# The listing masks what could be a BSN, and a UUID's first group can be one
# (8 or 9 digits passing the elfproef): match the id from its second group.
ctl dlq list | grep -F -- "-${AF#*-}" | grep "Afstel/" | grep -q LRG0042 ||
    fail "error report not in the dead letter: $(ctl dlq list)"

# ---- a change and a cancellation keep the UUID ----
cat > "$T/in/export2.csv" <<CSV
id;bsn;telefoon;zorgkantoor;bemiddeling;start;eind;sleutel;behandeling;status;leveringsstatus;klasse;mutatiedatum;reden
R1;999900043;06-05262308;5501;$BS1;2026-01-05;2026-06-30;2026-01-02;J;1;;;;01
CSV
wait_lines "$N" 6
grep GEWIJZIGDE_LEVERINGPERIODE_ZORGKANTOOR "$N" | grep -q "Leveringperiode/$LP" || fail "no change notification for $LP"
grep GEWIJZIGDE_BEHANDELINGPERIODE_ZORGKANTOOR "$N" | grep -q "Behandelingperiode/$BP" || fail "no change for $BP"

# ---- the audit trail: the queries beside the notifications ----
ctl audit verify >/dev/null || fail "audit verify"
! sqlite3 "$T/state/zinvol.db" "SELECT * FROM audit" | grep -q '999900' || fail "a BSN in the trail"
ctl disclose 999900043 --format json > "$T/d.json"
$PY - "$T/d.json" <<'PY' || fail "disclose: $(cat "$T/d.json")"
import json, sys
d = json.load(open(sys.argv[1]))
q = [m for m in d["messages"] if m["state"] == "queried"]
n = [m for m in d["messages"] if m["state"] == "delivered"]
assert {m["message"] for m in q} >= {"QLR-0003-ZK", "QLR-0006-ZK", "QLR-0010-ZK"}, q
f = {x["field"]: x["level"] for x in q[0]["fields"]}
assert f.get("client.bsn") == "standard" and f.get("delivery.start") == "standard", f
assert "client.phone" not in f, f  # never in the register: the catalogue has no such field
assert len(n) >= 2 and all(m["fields"] == [] for m in n), n  # notifications carry no fields
assert all(m["destination"] == "lvr" for m in d["messages"]), d
PY
sqlite3 "$T/state/zinvol.db" "SELECT detail FROM audit WHERE kind = 'queried' LIMIT 1" | grep -q "asked by uzovi:5501.*certificate CN=pep.nid" ||
    fail "queried entry without who: $(sqlite3 "$T/state/zinvol.db" "SELECT detail FROM audit WHERE kind = 'queried'")"
# 5502's empty answer disclosed nobody: no client in its entry.
[ "$(sqlite3 "$T/state/zinvol.db" "SELECT clients FROM audit WHERE kind = 'queried' AND detail LIKE '%uzovi:5502%'")" = "[]" ] ||
    fail "5502's entry names clients"
kill "$DPID"; wait "$DPID" 2>/dev/null || true; DPID=
echo "netwerkmodel: ok"
