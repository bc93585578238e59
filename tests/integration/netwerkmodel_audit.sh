#!/bin/bash
# "Sent versus asked" in `zinvolctl audit`, from a real run: the demo's
# synthetic ECD export (conf/demo/generate-ecd, the demo's mapping) goes to
# zorgkantoor 5501 as AW35/AW39 (format iwlz, file drop) and into the
# Leveringsregister, which notifies it through the local gateway; the gateway
# then asks QLR-0006-ZK for some new Leveringperiodes as 5501 and once as
# 5502.  The report's section must agree with what really happened: the
# clients 5501 got answers about (BSNs in the answers), the clients the
# AW35/AW39 files carry (BSNs in the files), the notifications the gateway
# took, and it must be valid against conf/schema/audit-report.schema.json.
# The register refers every delivery to what the zorgkantoor assigned: the
# zorgkantoor's bemiddelingspecificaties for the export come first, through
# a second source (tests/fixtures/netwerkmodel/assignments.py).
set -euo pipefail
. "$(dirname "$0")/netwerkmodel_lib.sh"
$PY -c 'import jsonschema' 2>/dev/null || { echo "SKIP: no python3-jsonschema"; exit 77; }
nm_gateway --allow "agb:12345678=organisaties/zorgkantoor/notificaties/notificatie:create"
RPORT=$(free_port)
mkdir -p "$T/out" "$T/bmr"
$PY - "$S" "$T" "$RPORT" "$GPORT" "${ZV_PLUGIN_DIR:?}" <<'PY'
import json, re, sys
sys.path.insert(0, sys.argv[1] + '/tests/fixtures/netwerkmodel')
import assignments
S, T, rport, gport, plugins = sys.argv[1:6]
P = T + '/pki'
text = open(S + '/conf/demo/zinvol-demo.conf').read()
conf = json.loads(re.sub(r'^\s*//.*$', '', text, flags=re.M))
src = conf['sources'][0]
src['options']['directory'] = T + '/in'
match = {'entitlement.funder': ['5501']}
conf.update({'state_dir': T + '/state', 'catalogue_dir': S + '/conf/catalogue', 'plugin_dir': plugins,
             'sources': [assignments.source(T + '/bmr'), src], 'destinations': [
    {'name': 'zk-5501', 'format': 'iwlz', 'transport': 'filedrop', 'match': match,
     'format_options': {'zorgkantoor': '5501'}, 'transport_options': {'dir': T + '/out'},
     'policy': {'batch_window': '1s'}},
    {'name': 'lvr', 'format': 'leveringsregister', 'transport': 'netwerkmodel', 'match': match,
     'format_options': {'listen': '127.0.0.1:' + rport, 'tls_cert': P + '/register.pem',
                        'tls_key': P + '/register.key', 'client_ca': P + '/netwerk-ca.pem'},
     'transport_options': {'url': 'https://127.0.0.1:%s/graphql' % gport,
                           'token_url': 'https://127.0.0.1:%s/auth/token' % gport,
                           'scope': 'organisaties/zorgkantoor/notificaties/notificatie:create',
                           'ca_file': P + '/netwerk-ca.pem', 'cert_file': P + '/provider.pem',
                           'key_file': P + '/provider.key'},
     'policy': {'batch_window': '1s'}}]})
conf.pop('admin', None)
json.dump(conf, open(T + '/z.conf', 'w'), indent=1)
PY
mkdir -p "$T/ecd"
$PY "$S/conf/demo/generate-ecd" --clients 30 --seed 11 --out "$T/ecd" --format csv --name ecd-export >/dev/null
$PY "$S/tests/fixtures/netwerkmodel/assignments.py" "$T/ecd/ecd-export.csv" "$T/bmr/bemiddelingen.csv" >/dev/null
nspec=$(awk -F';' 'NR > 1 && $3 == "5501"' "$T/bmr/bemiddelingen.csv" | wc -l) # the lvr's match
"$B/zinvold" --check-config "$T/z.conf" >/dev/null || fail "check-config"
"$B/zinvold" --config "$T/z.conf" 2>"$T/zinvold.log" &
DPID=$!
# the zorgkantoor's assignments are in the register before the export comes
specs() { [ "$(sqlite3 "$(find "$T/state" -name leveringsregister.db | head -1)" 'SELECT count(*) FROM bemiddelingspecificatie' 2>/dev/null)" = "$nspec" ]; }
wait_for 60 specs || fail "the $nspec bemiddelingspecificaties did not reach the register"
mv "$T/ecd/ecd-export.csv" "$T/in/"
N=$T/gw/notifications.jsonl
# until the notifications stop coming and the outbox is empty
settled() {
    local a b
    a=$(lines "$N"); sleep 2; b=$(lines "$N")
    [ "$a" -gt 0 ] && [ "$a" = "$b" ] && ! ctl outbox list --state pending | grep -q " pending "
}
wait_for 120 settled || fail "the run did not settle: $(ctl outbox list | tail -5)"
ls "$T/out" | grep -q . || fail "no AW35/AW39 files"

URL=https://127.0.0.1:$RPORT/graphql
ask() { # leveringperiodeID uzovi
    $PY "$GW" query --register "$URL" --template "$REL/templates/QLR-0006-ZK.graphql" \
        --published "$REL"/templates/*.graphql --sdl "$REL/Leveringsregister.graphql" \
        --vars "{\"leveringperiodeID\": \"$1\"}" --uzovi "$2" --ca "$P/netwerk-ca.pem" \
        --cert "$P/pep.pem" --key "$P/pep.key"
}
periods=$($PY -c 'import json,sys
ids = [json.loads(l)["input"] for l in open(sys.argv[1])]
ids = [n["subjectList"][0]["recordID"].split("/")[1] for n in ids
       if n["eventType"] == "NIEUWE_LEVERINGPERIODE_ZORGKANTOOR"]
print("\n".join(ids[:6]))' "$N")
[ "$(echo "$periods" | wc -l)" = 6 ] || fail "fewer than 6 new Leveringperiodes: $periods"
: > "$T/answers.jsonl"
for lp in $periods; do
    ask "$lp" 5501 >> "$T/answers.jsonl" 2>>"$T/ask.err" || fail "QLR-0006-ZK $lp: $(tail -3 "$T/ask.err")"
done
# the same Leveringperiode asked twice: one client, two answers
ask "${periods%%$'\n'*}" 5501 >> "$T/answers.jsonl" 2>>"$T/ask.err" || fail "again"
# another zorgkantoor gets nothing
ask "${periods%%$'\n'*}" 5502 > "$T/other.json" 2>&1 || true

ctl audit --format json > "$T/report.json" || fail "zinvolctl audit: $(cat "$T/report.json")"
ctl audit --format html > "$T/report.html" || fail "zinvolctl audit html"
ctl audit --format csv > "$T/report.csv" || fail "zinvolctl audit csv"
grep -q "Verstuurd versus gevraagd" "$T/report.html" || fail "html has no sent-versus-asked section"
$PY - "$T" "$S" <<'PY' || fail "sent versus asked: $(python3 -m json.tool "$T/report.json" | grep -A60 sent_versus_asked | head -80)"
import glob, json, jsonschema, re, sqlite3, sys
T, S = sys.argv[1:3]
rep = json.load(open(T + '/report.json'))
jsonschema.validate(rep, json.load(open(S + '/conf/schema/audit-report.schema.json')))
sva = rep['sent_versus_asked']
# the register: every notification the gateway took, none with a field
notes = sum(1 for _ in open(T + '/gw/notifications.jsonl'))
regs = {r['destination']: r for r in sva['registers']}
assert set(regs) == {'lvr'}, regs
assert regs['lvr']['notifications'] == notes, (regs, notes)
assert regs['lvr']['notifications_with_fields'] == 0 and sva['register_data_only_when_asked'], regs
assert regs['lvr']['answers'] == 8, regs  # 7 as 5501, 1 as 5502
parties = {p['party']: p for p in sva['parties']}
p = parties['5501']
assert p['sent_by'] == ['zk-5501'], p
# asked: the clients whose BSN came back in 5501's answers
answers = [json.loads(l) for l in open(T + '/answers.jsonl')]
def bsns(x, out):
    if isinstance(x, dict):
        for k, v in x.items():
            if k == 'bsn': out.add(v)
            else: bsns(v, out)
    elif isinstance(x, list):
        for v in x: bsns(v, out)
    return out
asked = bsns([a['body']['data'] for a in answers], set())
assert p['asked_clients'] == len(asked) >= 3, (p['asked_clients'], asked)
assert p['answers'] == 7, p
# sent: the clients whose BSN the AW35/AW39 files carry
sent = set()
files = glob.glob(T + '/out/*.xml')
for f in files:
    sent |= set(re.findall(r'<(?:\w+:)?Bsn>(\d{9})</', open(f).read()))
assert sent and p['sent_clients'] == len(sent), (p['sent_clients'], len(sent))
f = {x['field']: x for x in p['fields']}
b = f['client.bsn']
assert b['sent_clients'] == len(sent) and b['asked_clients'] == len(asked), b
assert b['sent_not_asked'] == len(sent - asked) and b['asked_not_sent'] == len(asked - sent), b
assert b['sent_messages'] == p['sent_messages'] > 0 and b['answers'] == 7, (b, p)
assert all(x['sent_not_asked'] == x['sent_clients'] for x in p['fields'] if x['asked_clients'] == 0), p
# a field the register never hands out (the catalogue has no such entry)
assert f.get('client.family_name', {}).get('asked_clients', 0) == 0, f.get('client.family_name')
# 5502 asked, got nothing
q = parties.get('5502')
assert q is None or (q['asked_clients'] == 0 and q['fields'] == []), q
# the trail agrees (distinct client keys per field, from the audit table)
db = sqlite3.connect(T + '/state/zinvol.db')
s_keys, a_keys = set(), set()
for kind, dest, detail, clients in db.execute('SELECT kind, destination, detail, clients FROM audit'):
    for c in json.loads(clients or '[]'):
        if 'client.bsn' in c['fields']:
            if kind == 'delivered' and dest == 'zk-5501': s_keys.add(c['client'])
            if kind == 'queried' and (detail or '').startswith('party 5501;'): a_keys.add(c['client'])
assert (len(s_keys), len(a_keys), len(s_keys - a_keys)) == (b['sent_clients'], b['asked_clients'], b['sent_not_asked']), b
# the CSV's sent_versus_asked lines say what the JSON says
import csv
rows = list(csv.DictReader(open(T + '/report.csv', newline='')))
sv = [r for r in rows if r['section'] == 'sent_versus_asked' and r['party'] == '5501']
tot = [r for r in sv if r['field'] == '']
assert len(tot) == 1 and int(tot[0]['sent_clients']) == p['sent_clients'], tot
assert int(tot[0]['asked_clients']) == p['asked_clients'] and int(tot[0]['answers']) == p['answers'], tot
assert tot[0]['destination'] == 'zk-5501', tot
byf = {r['field']: r for r in sv if r['field']}
assert set(byf) == set(f), (set(byf) ^ set(f))
for k in ('sent_clients', 'sent_messages', 'asked_clients', 'answers', 'sent_not_asked', 'asked_not_sent'):
    for name, x in f.items():
        assert int(byf[name][k]) == x[k], (name, k, byf[name][k], x[k])
assert all(r['party'] == '' for r in rows if r['section'] != 'sent_versus_asked'), 'party on other lines'
print('sent versus asked: %d clients sent, %d asked, %d fields' % (len(sent), len(asked), len(p['fields'])))
PY
kill "$DPID"; wait "$DPID" 2>/dev/null || true; DPID=
echo "netwerkmodel audit: ok"
