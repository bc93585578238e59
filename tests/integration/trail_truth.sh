#!/usr/bin/env bash
# The trail tells only the truth (issue 12 item 6, issue 15 item 1), through
# the real zinvold and zinvolctl on a real store, with the bundled official
# iWlz XSDs and rule set:
#  - --check-config refuses a catalogue override, and a catalogue file entry,
#    for a field the format cannot carry (client.postcode on iwlz), naming
#    file, path and reason; the same override on a json destination passes;
#  - a record the format is given a field for and does not render (an AW39
#    whose Mutatiedatum is the mutation date, so delivery.end is left out)
#    is listed without that field in the trail, the report and disclosure;
#    for every delivered AW35/AW39 each client's listed fields are exactly
#    the fields whose elements the XML payload holds for that client;
#  - the citation in a disclosure is the one that held when the message was
#    sent, also after the catalogue changed; `audit verify` covers it.
set -euo pipefail
: "${ZV_SOURCE_DIR:?}" "${ZV_BUILD_DIR:?}" "${ZV_PLUGIN_DIR:?}"
S=$ZV_SOURCE_DIR B=$ZV_BUILD_DIR
T=$(mktemp -d /tmp/zv-trail-XXXXXX)
[ -n "${ZV_KEEP:-}" ] || trap 'rm -rf "$T"' EXIT
mkdir -p "$T/in" "$T/state" "$T/out" "$T/cat"
cp "$S"/conf/catalogue/*.json "$T/cat/"
fail() { echo "FAIL: $*"; [ -f "$T/run.log" ] && tail -20 "$T/run.log"; exit 1; }

# conf FILE DEST_JSON...: a config with these destinations.
conf() {
    local f=$1
    shift
    python3 - "$T" "$S" "$f" "$@" <<'PY'
import json, os, sys
T, S, f = sys.argv[1:4]
conf = {"state_dir": T + "/state", "catalogue_dir": T + "/cat", "plugin_dir": os.environ["ZV_PLUGIN_DIR"],
        "organisation": {"agb": "12345678", "name": "Zorg Test"},
        "sources": [{"name": "ecd", "type": "filedrop",
                     "options": {"directory": T + "/in", "delimiter": ";", "settle": "0s"},
                     "mapping": json.load(open(S + "/conf/demo/mapping-ecd.json"))}],
        "destinations": [json.loads(d) for d in sys.argv[4:]]}
json.dump(conf, open(f, "w"), indent=1)
PY
}
zk='{"name": "zk-5501", "format": "iwlz", "transport": "filedrop", "match": {"entitlement.funder": "5501"}, "format_options": {"zorgkantoor": "5501"}, "transport_options": {"dir": "'$T'/out"}'
postcode='[{"field": "client.postcode", "element": "Client.Postcode", "level": "contract", "citation": "Contract 2026 art. 3", "frequency": "yearly"}]'

# 1. The postcode override on iwlz is refused, with file: path: reason.
conf "$T/bad.conf" "$zk, \"catalogue\": {\"fields\": $postcode}}"
if "$B/zinvold" --check-config "$T/bad.conf" --plugin-dir "$ZV_PLUGIN_DIR" 2>"$T/check.err"; then
    fail "--check-config accepted client.postcode on iwlz"
fi
grep -qF "$T/bad.conf: destinations[0].catalogue.fields[0].field: format 'iwlz' cannot carry client.postcode in AW35" "$T/check.err" ||
    { cat "$T/check.err"; fail "no file: path: reason for the override"; }
[ ! -e "$T/state/zinvol.db" ] || fail "--check-config made a store"
# The same entry in a catalogue file names the file and the entry.
python3 - "$T/cat" <<'PY'
import json, sys
c = json.load(open(sys.argv[1] + "/iwlz-aw35.json"))
c["fields"].append({"field": "client.postcode", "element": "Client.Postcode", "level": "contract",
                    "citation": "Contract 2026 art. 3", "frequency": "yearly"})
import os
os.makedirs(sys.argv[1] + "/../cat2", exist_ok=True)
json.dump(c, open(sys.argv[1] + "/../cat2/iwlz-aw35.json", "w"))
print(len(c["fields"]) - 1, file=open(sys.argv[1] + "/../n", "w"))
PY
n=$(cat "$T/n")
conf "$T/badfile.conf" "$zk, \"catalogue\": {\"file\": \"$T/cat2/iwlz-aw35.json\"}}"
! "$B/zinvold" --check-config "$T/badfile.conf" --plugin-dir "$ZV_PLUGIN_DIR" 2>"$T/check2.err" ||
    fail "--check-config accepted a catalogue file with client.postcode for iwlz"
grep -qF "$T/cat2/iwlz-aw35.json: fields[$n].field: format 'iwlz' (destination 'zk-5501') cannot carry client.postcode in AW35" "$T/check2.err" ||
    { cat "$T/check2.err"; fail "no file: path: reason for the catalogue entry"; }
# A json destination carries any field: the same override passes.
conf "$T/json.conf" "{\"name\": \"monitor\", \"format\": \"json\", \"transport\": \"filedrop\", \"transport_options\": {\"dir\": \"$T/out\"}, \"catalogue\": {\"file\": \"json-example.json\", \"fields\": $postcode}}"
"$B/zinvold" --check-config "$T/json.conf" --plugin-dir "$ZV_PLUGIN_DIR" 2>"$T/check3.err" ||
    { cat "$T/check3.err"; fail "the postcode override on json was refused"; }

# 2. A real run.  One client gets a second AW35 row (another decision
#    number) whose initials the first row lacks: iwlz writes one Client block
#    per BSN, from the first record, so the second record's initials are
#    given to the format and are not in the payload.
conf "$T/z.conf" "$zk}"
python3 "$S/conf/demo/generate-ecd" --clients 30 --seed 7 --format csv --bad 0 --out "$T" \
    --name export 2>/dev/null
read -r bsn second < <(python3 - "$T/export.csv" "$T/in/export.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=";"))
h = rows[0]
c = {k: i for i, k in enumerate(h)}
out = [h]
pick = None
for r in rows[1:]:
    out.append(r)
    if (pick is None and r[c["financier"]] == "5501" and r[c["wet"]].upper() == "WLZ"
            and not r[c["zorg_eind"]] and r[c["voorletters"]]):
        twin = list(r)
        twin[c["leveringsnummer"]] = "L90000001"
        twin[c["besluitnummer"]] = "%09d" % ((int(r[c["besluitnummer"]]) + 1) % 10**9)
        r[c["voorletters"]] = ""
        out.append(twin)
        pick = (r[c["bsn"]], twin[c["leveringsnummer"]])
csv.writer(open(sys.argv[2], "w", newline=""), delimiter=";", lineterminator="\n").writerows(out)
print(*pick)
PY
)
[ -n "$bsn" ] && [ -n "$second" ] || fail "no AW35 row for 5501 in the export"
"$B/zinvold" --once --config "$T/z.conf" --plugin-dir "$ZV_PLUGIN_DIR" >"$T/run.out" 2>"$T/run.log" ||
    fail "zinvold --once exited with $?"
db="$T/state/zinvol.db"
[ "$(sqlite3 "$db" "SELECT count(*) FROM quarantine")" = 0 ] || fail "something was quarantined: $(sqlite3 "$db" "SELECT rule, reason FROM quarantine")"
ctl() { "$B/zinvolctl" -c "$T/z.conf" "$@"; }

# Every delivered message: per record, the listed fields are exactly those
# whose elements its XML holds for it (the client block where it holds this
# record's value, its own product; Ontvanger for the funder).
sqlite3 -json "$db" "SELECT o.records_json, o.payload, a.clients, a.message FROM outbox o JOIN audit a ON a.destination = o.destination AND a.idem_key = o.idem_key WHERE a.kind = 'delivered'" >"$T/rows.json"
python3 - "$T/rows.json" "$T/in/done/export.csv" "$second" <<'PY' || fail "trail and payload disagree"
import csv, json, sys, xml.etree.ElementTree as ET
rows = json.load(open(sys.argv[1]))
export = {r["leveringsnummer"]: r for r in csv.DictReader(open(sys.argv[2]), delimiter=";")}
CLIENT = {"Bsn": ("client.bsn", "bsn"), "Achternaam": ("client.family_name", "achternaam"),
          "Voorvoegsel": ("client.name_prefix", "voorvoegsel"), "Voornamen": ("client.given_names", "voornamen"),
          "Voorletters": ("client.initials", "voorletters")}
OTHER_CLIENT = {"Datum": "client.birth_date", "DatumGebruik": "client.birth_date_usage",
                "Geslacht": "client.sex"}
PRODUCT = {"Besluitnummer": "entitlement.number", "FunctieCode": "entitlement.function_code",
      "ZzpCode": "entitlement.zzp_code", "ToewijzingIngangsdatum": "entitlement.start",
      "Begindatum": "delivery.start", "Sleuteldatum": "delivery.sleuteldatum",
      "Instelling": "delivery.provider_agb", "Etmalen": "delivery.etmalen", "Klasse": "delivery.klasse",
      "Opslag": "delivery.opslag", "Leveringsstatus": "delivery.leveringsstatus",
      "Leveringsvorm": "delivery.leveringsvorm", "Behandeling": "delivery.treatment",
      "StatusAanlevering": "delivery.status", "Mutatiecode": "delivery.mutation_code",
      "InstellingBestemming": "delivery.destination_agb",
      "LeveringsstatusClassificatie": "delivery.leveringsstatus_class"}
def local(t): return t.split("}")[-1]
checked = twin = 0
for row in rows:
    recs = json.loads(row["records_json"]); doc = ET.fromstring(row["payload"])
    by_record = {c["record"]: set(c["fields"]) for c in json.loads(row["clients"])}
    for r in recs:
        e = export[r["record_id"]]
        listed = by_record[r["record"]]
        cl = [c for c in doc.iter() if local(c.tag) == "Client"
              and any(local(x.tag) == "Bsn" and x.text == e["bsn"] for x in c)][0]
        have = {"entitlement.funder"}  # the Ontvanger, 5501, is this record's funder
        for x in cl.iter():
            n = local(x.tag)
            own = e[CLIENT[n][1]] if n in CLIENT else None
            if n == "Voorletters": own = "".join(ch for ch in own if ch.isalpha())  # "letters"
            if n in CLIENT and x.text == own: have.add(CLIENT[n][0])
            if n in OTHER_CLIENT: have.add(OTHER_CLIENT[n])
        mine = [p for p in cl.iter() if any(local(x.tag) == "Besluitnummer"
                and x.text == e["besluitnummer"] for x in p)][0]
        for x in mine:
            n = local(x.tag)
            if n == "Mutatiedatum": have.add("delivery.end")
            elif n in PRODUCT: have.add(PRODUCT[n])
        # AW39 writes Leveringsstatus 5 when the record has none (TR046)
        ls = [x.text for x in mine if local(x.tag) == "Leveringsstatus"]
        if row["message"] == "AW39" and ls and ls[0] != e["leveringsstatus"]:
            have.discard("delivery.leveringsstatus")
        if listed != have:
            print("record %s (%s): only in the trail %s, only in the payload %s" % (r["record_id"],
                  row["message"], sorted(listed - have), sorted(have - listed))); sys.exit(1)
        checked += 1
        if r["record_id"] == sys.argv[3]:
            assert e["voorletters"] and "client.initials" not in listed, listed
            twin += 1
assert checked >= 9 and twin == 1, (checked, twin)
print("checked", checked)
PY

# Disclosure: no initials for this client (they were never in a payload).
ctl disclose "$bsn" --format json >"$T/d1.json" || fail "disclose failed"
python3 - "$T/d1.json" <<'PY' || fail "disclosure lists a field the payload lacks"
import json, sys
d = json.load(open(sys.argv[1]))
aw35 = [m for m in d["messages"] if m["message"] == "AW35"]
assert aw35, d["messages"]
for m in aw35:
    names = [f["field"] for f in m["fields"]]
    assert "client.initials" not in names and "client.bsn" in names, names
PY
# The report counts initials for the clients whose payload holds them: all
# 5501 clients but this one, although every minimised record had them but one.
ctl audit --format json >"$T/report.json" || fail "audit report failed"
python3 - "$T/report.json" <<'PY' || fail "the report counts a field that was not sent"
import json, sys
r = json.load(open(sys.argv[1]))
d = [d for d in r["destinations"] if d["name"] == "zk-5501"][0]
aw35 = [m for m in d["messages"] if m.get("message", m.get("name")) == "AW35"][0]
f = {x["field"]: x["counts"] for x in aw35["fields"]}
bsn, ini = f["client.bsn"], f["client.initials"]
assert ini["kept"] == bsn["kept"] - 1, (bsn, ini)          # the first row had none
assert ini["clients"] == bsn["clients"] - 1, (bsn, ini)    # the twin's were not sent either
PY

# Per field row, "sent" says what was rendered and delivered, not what the
# threshold lets through: for every AW35 field, sent is true exactly when a
# delivered AW35 holds its element (read from the XML, not from the trail),
# and a field selected by the threshold that no payload held (Etmalen, say:
# only for Leveringsvorm 8) says selected true, sent false.
python3 - "$T/report.json" "$T/rows.json" <<'PY' || fail "the report's sent flags do not match the payloads"
import json, sys, xml.etree.ElementTree as ET
r = json.load(open(sys.argv[1]))
EL = {"Bsn": "client.bsn", "Achternaam": "client.family_name", "Voorvoegsel": "client.name_prefix",
      "Voornamen": "client.given_names", "Voorletters": "client.initials", "Datum": "client.birth_date",
      "DatumGebruik": "client.birth_date_usage", "Geslacht": "client.sex",
      "Besluitnummer": "entitlement.number", "FunctieCode": "entitlement.function_code",
      "ZzpCode": "entitlement.zzp_code", "ToewijzingIngangsdatum": "entitlement.start",
      "Begindatum": "delivery.start", "Sleuteldatum": "delivery.sleuteldatum",
      "Instelling": "delivery.provider_agb", "Etmalen": "delivery.etmalen", "Klasse": "delivery.klasse",
      "Opslag": "delivery.opslag", "Leveringsstatus": "delivery.leveringsstatus",
      "Leveringsvorm": "delivery.leveringsvorm", "Behandeling": "delivery.treatment",
      "StatusAanlevering": "delivery.status", "Ontvanger": "entitlement.funder"}
present = set()
for row in json.load(open(sys.argv[2])):
    if row["message"] != "AW35": continue
    present |= {EL[e.tag.split("}")[-1]] for e in ET.fromstring(row["payload"]).iter()
                if e.tag.split("}")[-1] in EL}
d = [d for d in r["destinations"] if d["name"] == "zk-5501"][0]
aw35 = [m for m in d["messages"] if m.get("message", m.get("name")) == "AW35"][0]
checked = unsent = 0
for f in aw35["fields"]:
    if f["field"] not in EL.values(): continue
    assert f["sent"] == (f["field"] in present), (f["field"], f["sent"], f["selected"])
    checked += 1
    unsent += f["selected"] and not f["sent"]
assert checked >= 15 and unsent >= 1, (checked, unsent)
assert r["summary"]["fields_sent"] < r["summary"]["fields_selected"], r["summary"]
print("sent flags checked against the payloads:", checked, "fields,", unsent, "selected but never sent")
PY

# 3. The citation of the time of sending survives a catalogue change.
old=$(python3 -c "import json;print(json.load(open('$T/d1.json'))['messages'][0]['fields'][0]['citation'])")
[ -n "$old" ] && [ "$old" != None ] || fail "no citation in the disclosure"
python3 - "$T/cat" <<'PY'
import json, sys, glob
for f in glob.glob(sys.argv[1] + "/iwlz-aw3[59].json"):
    c = json.load(open(f))
    for e in c["fields"]:
        e["citation"] = "GEWIJZIGD na verzending"
    json.dump(c, open(f, "w"))
PY
ctl disclose "$bsn" --format json >"$T/d2.json" || fail "disclose after the change failed"
python3 - "$T/d1.json" "$T/d2.json" <<'PY' || fail "the disclosure shows today's catalogue, not the one at sending"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
cite = lambda d: [(m["message"], f["field"], f["citation"]) for m in d["messages"] for f in m["fields"]]
assert cite(a) == cite(b), (cite(a), cite(b))
assert not any("GEWIJZIGD" in str(c) for c in cite(b))
PY
ctl audit verify >"$T/verify.out" 2>&1 || { cat "$T/verify.out"; fail "audit verify failed"; }
# verify covers the stored citations: a changed citation breaks the chain.
sqlite3 "$db" "UPDATE audit SET citations = replace(citations, 'i', 'I') WHERE seq = (SELECT max(seq) FROM audit WHERE citations IS NOT NULL)"
! ctl audit verify >"$T/verify2.out" 2>&1 || fail "audit verify missed a forged citation"
echo "ok: postcode refused; trail = payload for every record; citations kept"
