#!/usr/bin/env bash
# The demo through the real daemon with the ijw destinations validating
# against the iJw/iWmo 3.2 XSDs (schema_dir -> ../shared, tests only):
# every JW305/JW307/WMO305/WMO307 that leaves passes xmllint with the
# official schema; a bad ToewijzingNummer and a start before its toewijzing
# are quarantined naming field and value while the rest is sent; a second
# export row with status_aanlevering "annulering" becomes a cancellation
# (StatusAanlevering 3, with DatumGebruik from geboortedatum_gebruik) that
# passes the XSD too.  The demo's billing export (generate-ecd --declarations,
# mapped by the demo mapping's declaration rule) becomes JW323/WMO323
# declarations that pass their XSDs and name the client by BSN only.
# Skips (77) without ../shared.
set -euo pipefail
: "${ZV_SOURCE_DIR:?}" "${ZV_BUILD_DIR:?}" "${ZV_PLUGIN_DIR:?}"
shared=${ZV_SHARED_DIR:-$ZV_SOURCE_DIR/../shared}
for s in ijw-3.2 iwmo-3.2; do
    if [ ! -f "$shared/schemas/$s/basisschema.xsd" ]; then
        echo "SKIP: $shared/schemas/$s not found (the iJw/iWmo XSDs are not in the project)"
        exit 77
    fi
done
tmp=$(mktemp -d /tmp/zv-ijw-demo-XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
mkdir -p "$tmp/inbox" "$tmp/state"
fail() { echo "FAIL: $*"; echo "--- log"; tail -30 "$tmp/zinvold.log"; exit 1; }

python3 "$ZV_SOURCE_DIR/conf/demo/generate-ecd" --clients 200 --seed 7 --format csv \
    --out "$tmp" --name ecd-export --declarations 2>/dev/null
cp "$tmp/declaraties-ecd-export.csv" "$tmp/inbox/"
# Two broken Jeugdwet rows: an ECD-style ToewijzingNummer, a start before the toewijzing.
python3 - "$tmp/ecd-export.csv" "$tmp/inbox/ecd-export.csv" "$tmp/cancel.csv" <<'PY'
import csv, datetime, sys
rows = list(csv.DictReader(open(sys.argv[1], newline=""), delimiter=";"))
jw = [r for r in rows if r["wet"] == "JW" and not r["zorg_eind"] and r["bsn"].startswith("9999")]
jw[0]["besluitnummer"] = "TW-51801"
d = datetime.date.fromisoformat(jw[1]["toewijzing_start"]) - datetime.timedelta(days=3)
jw[1]["zorg_start"] = d.strftime("%d-%m-%Y")
cols = list(rows[0].keys())
def write(path, rs, extra=()):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols + list(extra), delimiter=";")
        w.writeheader()
        w.writerows(rs)
write(sys.argv[2], rows)
cancel = dict(jw[2]); cancel["status_aanlevering"] = "annulering"
cancel["geboortedatum_gebruik"] = "1"  # DatumGebruik: only month and year are real
write(sys.argv[3], [cancel], ("status_aanlevering", "geboortedatum_gebruik"))
print(jw[0]["leveringsnummer"], jw[1]["leveringsnummer"], jw[2]["leveringsnummer"],
      file=open(sys.argv[3] + ".ids", "w"))
PY
read -r bad_nr bad_begin cancelled <"$tmp/cancel.csv.ids"

python3 - "$ZV_SOURCE_DIR" "$tmp" "$shared" <<'PY'
import json, re, sys
src, tmp, shared = sys.argv[1:4]
text = open(src + "/conf/demo/zinvol-demo.conf").read()
conf = json.loads(re.sub(r"(?m)^\s*//.*$", "", text))
conf["state_dir"] = tmp + "/state"
conf["catalogue_dir"] = src + "/conf/catalogue"
conf["sources"][0]["options"]["directory"] = tmp + "/inbox"
for d in conf["destinations"]:
    d["transport_options"]["dir"] = tmp + "/out/" + d["name"]
    fo = d.setdefault("format_options", {})
    if d["format"] == "iwlz":
        fo["schema_dir"] = src + "/plugins/fmt_iwlz/schemas"
    if d["format"] == "signals":
        fo["signal_set"] = src + "/conf/signals/" + fo["signal_set"].split("/")[-1]
        if "narrative" in fo:
            fo["narrative"] = src + "/conf/demo/" + fo["narrative"]
    if d["format"] == "ijw":
        fo["schema_dir"] = shared + "/schemas/" + ("iwmo-3.2" if fo.get("standard") == "wmo" else "ijw-3.2")
json.dump(conf, open(tmp + "/zinvol.conf", "w"), indent=1)
PY
for d in $(python3 -c "import json,sys; [print(d['transport_options']['dir']) for d in json.load(open('$tmp/zinvol.conf'))['destinations']]"); do
    mkdir -p "$d"
done

run() { "$ZV_BUILD_DIR/zinvold" --once --config "$tmp/zinvol.conf" --plugin-dir "$ZV_PLUGIN_DIR" \
            >>"$tmp/zinvold.out" 2>>"$tmp/zinvold.log"; }
run || fail "zinvold --once exited with $?"
grep -q "validated against .*/JW305.xsd" "$tmp/zinvold.log" || fail "no XSD validation announced"

validate() { # all iJw/iWmo payloads in the outboxes against the official XSDs
    local n=0 f m x
    for f in "$tmp"/out/gem-*/*.xml; do
        m=$(basename "$f" | cut -d- -f1)
        case $m in
            jw*) x=$shared/schemas/ijw-3.2/JW${m#jw}.xsd ;;
            wmo*) x=$shared/schemas/iwmo-3.2/WMO${m#wmo}.xsd ;;
            *) fail "unexpected payload $f" ;;
        esac
        xmllint --noout --schema "$x" "$f" 2>"$tmp/xmllint.err" ||
            { cat "$tmp/xmllint.err"; fail "$f fails $(basename "$x")"; }
        n=$((n + 1))
    done
    echo "$n"
}
n=$(validate)
jw=$(ls "$tmp"/out/gem-0*/jw30*.xml | wc -l)
wmo=$(ls "$tmp"/out/gem-wmo/wmo30*.xml | wc -l)
[ "$jw" -ge 40 ] && [ "$wmo" -ge 5 ] || fail "expected JW and WMO messages, got $jw JW, $wmo WMO"

# Declarations: one message per gemeente and DeclaratieNummer, every line of
# the billing export in one of them (or quarantined with its reason).
python3 - "$tmp" <<'PY' || fail "declarations do not match the billing export"
import csv, glob, re, sqlite3, sys
tmp = sys.argv[1]
lines = list(csv.DictReader(open(tmp + "/declaraties-ecd-export.csv", newline=""), delimiter=";"))
q = {r[0] for r in sqlite3.connect(tmp + "/state/zinvol.db").execute(
    "SELECT record_id FROM quarantine")}
want = {}
for l in lines:
    if l["referentienummer"] in q:
        continue
    want.setdefault((l["wet"], l["declaratienummer"]), set()).add(l["referentienummer"])
got = {}
for f in glob.glob(tmp + "/out/gem-*/*323*.xml"):
    x = open(f).read()
    law = "JW" if "/jw323/" in x or "jw323:" in x else "WMO"
    nr = re.search(r"<[a-z0-9]+:DeclaratieNummer>([^<]+)<", x).group(1)
    refs = set(re.findall(r"<[a-z]+:ReferentieNummer>([^<]+)<", x))
    if re.search(r"Achternaam|Geboortedatum|Geslacht", x):
        sys.exit(f + ": a declaration names more than the BSN")
    got.setdefault((law, nr), set()).update(refs)
if got != want:
    sys.exit("want %d declarations (%d lines), got %d (%d lines)" % (
        len(want), sum(map(len, want.values())), len(got), sum(map(len, got.values()))))
print("declarations: %d messages, %d lines, %d lines quarantined" % (
    len(got), sum(map(len, got.values())), sum(l["referentienummer"] in q for l in lines)))
PY
# The trail names per client what left in a declaration (issue 12 item 6):
# per line, the fields listed for it are exactly those whose elements the
# XML holds for it - its own Prestatie, the Client's Bsn, the Declaratie's
# number and period where they are its values, the Ontvanger as its funder.
sqlite3 -json "$tmp/state/zinvol.db" "SELECT o.records_json, CAST(o.payload AS TEXT) AS payload,
    a.clients FROM outbox o JOIN audit a ON a.destination = o.destination AND a.idem_key = o.idem_key
    WHERE a.kind = 'delivered' AND a.message LIKE '%323'" >"$tmp/decl-trail.json"
python3 - "$tmp/decl-trail.json" "$tmp/declaraties-ecd-export.csv" <<'PY' || fail "trail and 323 payload disagree"
import csv, json, sys, xml.etree.ElementTree as ET
rows = json.load(open(sys.argv[1]))
lines = {l["referentienummer"]: l for l in csv.DictReader(open(sys.argv[2]), delimiter=";")}
OWN = {"ReferentieNummer": "declaration.reference", "VorigReferentieNummer": "declaration.previous_reference",
       "ToewijzingNummer": "entitlement.number", "ProductCategorie": "entitlement.product_category",
       "ProductCode": "entitlement.product_code", "ProductPeriode/Begindatum": "declaration.period_start",
       "ProductPeriode/Einddatum": "declaration.period_end", "GeleverdVolume": "declaration.volume",
       "Eenheid": "declaration.unit", "ProductTarief": "declaration.tariff",
       "IngediendBedrag/Bedrag": "declaration.amount", "IngediendBedrag/DebetCredit": "declaration.debit_credit"}
def local(t): return t.split("}")[-1]
def leaves(e, path=""):
    for c in e:
        p = (path + "/" if path else "") + local(c.tag)
        if len(c): yield from leaves(c, local(c.tag))
        else: yield p, c.text
checked = 0
assert rows, "no delivered 323 in the trail"
for row in rows:
    doc = ET.fromstring(row["payload"])
    listed = {c["record"]: set(c["fields"]) for c in json.loads(row["clients"])}
    find = lambda name: [e for e in doc.iter() if local(e.tag) == name]
    ontvanger = find("Ontvanger")[0].text
    decl = find("Declaratie")[0]
    nummer = [e.text for e in decl if local(e.tag) == "DeclaratieNummer"][0]
    dp = [e for e in decl if local(e.tag) == "DeclaratiePeriode"][0]
    dpb, dpe = [c.text for c in dp]
    for r in json.loads(row["records_json"]):
        l = lines[r["record_id"]]
        cl = [c for c in find("Client") if any(p.text == r["record_id"] for p in c.iter()
              if local(p.tag) == "ReferentieNummer")][0]
        pr = [p for p in cl.iter() if local(p.tag) == "Prestatie" and any(
              x.text == r["record_id"] for x in p.iter() if local(x.tag) == "ReferentieNummer")][0]
        key = lambda p: p if p in OWN else p.split("/")[-1]
        have = {OWN[key(p)] for p, _ in leaves(pr) if key(p) in OWN}
        have |= {"client.bsn"} if [x for x in cl if local(x.tag) == "Bsn"][0].text == l["bsn"] else set()
        if nummer == l["declaratienummer"]: have.add("declaration.number")
        if dpb == l["declaratieperiode_begin"]: have.add("declaration.claim_period_start")
        if dpe == l["declaratieperiode_eind"]: have.add("declaration.claim_period_end")
        if ontvanger == l["financier"]: have.add("entitlement.funder")
        got = listed[r["record"]]
        if got != have:
            sys.exit("line %s: only in the trail %s, only in the payload %s" % (
                r["record_id"], sorted(got - have), sorted(have - got)))
        checked += 1
print("declaration lines whose trail matches the payload:", checked)
PY
decl=$(ls "$tmp"/out/gem-*/*323*.xml | wc -l)
[ "$decl" -ge 10 ] || fail "expected JW323/WMO323 declarations, got $decl"
ls "$tmp"/out/gem-wmo/wmo323*.xml >/dev/null 2>&1 || fail "no WMO323 declaration"

db=$tmp/state/zinvol.db
q() { sqlite3 "$db" "$1"; }
r=$(q "SELECT rule || '|' || field || '|' || reason FROM quarantine WHERE record_id = '$bad_nr'")
case $r in
    "ZV-IJW-TYPE|entitlement.number|ToewijzingNummer 'TW-51801' is not a valid LDT_Nummer"*) ;;
    *) fail "bad ToewijzingNummer: quarantine says '$r'" ;;
esac
r=$(q "SELECT rule || '|' || field FROM quarantine WHERE record_id = '$bad_begin'")
[ "$r" = "ZV-IJW-BEGIN|delivery.start" ] || fail "start before toewijzing: quarantine says '$r'"
if q "SELECT reason FROM quarantine" | grep -Eq '9999[0-9]{5}'; then fail "a BSN in clear"; fi

# Cancel a start that went out: a 305 with StatusAanlevering 3.
before=$(ls "$tmp"/out/gem-0*/jw305*.xml | wc -l)
cp "$tmp/cancel.csv" "$tmp/inbox/ecd-cancel.csv"
run || fail "second zinvold --once exited with $?"
n2=$(validate)
after=$(ls "$tmp"/out/gem-0*/jw305*.xml | wc -l)
[ "$after" -eq $((before + 1)) ] || fail "expected one new JW305 (the cancellation), got $((after - before))"
c=$(grep -l "<jw305:StatusAanlevering>3<" "$tmp"/out/gem-0*/jw305*.xml) ||
    fail "no JW305 with StatusAanlevering 3"
grep -q "<ijw:DatumGebruik>1</ijw:DatumGebruik>" $c || fail "geboortedatum_gebruik not mapped to DatumGebruik"
r=$(q "SELECT count(*) FROM quarantine WHERE record_id = '$cancelled'")
[ "$r" = 0 ] || fail "the cancellation was quarantined"
echo "ok: $n then $n2 iJw/iWmo messages ($jw JW, $wmo WMO, $decl declarations first) pass the XSDs; bad values quarantined"
