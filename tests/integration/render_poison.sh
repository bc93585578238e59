#!/bin/bash
# One poison record of each kind in a batch of good ones, through the real
# `zinvold --once` (issue 10 item 2, issue 13 item 2):
#   mapping        the generator's bad rows (bad BSN, impossible date, no start)
#   serialisation  invalid UTF-8 (a surrogate) in a family name
#   render         a record the format cannot write: its render of the whole
#                  batch fails (fixture format "refuse")
#   validation     a value no rule checks but the official AW35 XSD refuses
#   delivery       a payload the loopback receiver answers with 400
# Expected: --once ends with 0; every good record is in a delivered payload;
# each poison record is in quarantine (or its payload in the dead letter)
# with its reason; nothing else is.  Work units on the way: the refuse
# destination renders at most 7 records per message, zk-5501's messages stay
# under 20,000 bytes (split, each its own BerichtIdentificatie).
set -euo pipefail
B=${ZV_BUILD_DIR:?}
S=${ZV_SOURCE_DIR:?}
P=${ZV_PLUGIN_DIR:?}
TP=${ZV_TEST_PLUGIN_DIR:?}
[ -f "$TP/fmt_refuse.so" ] || cmake --build "$B" --target fmt_refuse >/dev/null
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 CLI missing"; exit 77; }
T=$(mktemp -d /tmp/zv-poison-XXXXXX)
RPID=
cleanup() {
    [ -n "$RPID" ] && kill "$RPID" 2>/dev/null
    wait 2>/dev/null || true
    [ -n "${ZV_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/plugins" "$T/inbox" "$T/state" "$T/out/zk" "$T/out/refuse" "$T/gen"
ln -s "$P"/*.so "$T/plugins/"
ln -s "$TP/fmt_refuse.so" "$T/plugins/"

python3 "$S/tests/fixtures/receiver/receiver.py" --port-file "$T/port" --log "$T/received.jsonl" \
    --reject LPOISONDLV 2>"$T/receiver.log" &
RPID=$!
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.1; done
[ -s "$T/port" ] || { echo "receiver did not start"; cat "$T/receiver.log"; exit 1; }

python3 "$S/conf/demo/generate-ecd" --clients 80 --seed 5 --bad 3 --out "$T/gen" --format csv \
    --name export 2>/dev/null
# JSON lines: a line that is not valid UTF-8 spoils that record, not the
# file (a CSV with one is refused whole, see sources_filedrop).
python3 - "$T/gen/export.csv" "$T/inbox/ecd-export.jsonl" "$T/poison.json" "$S" <<'PY'
import csv, json, sys
from importlib.machinery import SourceFileLoader
src, dst, info, S = sys.argv[1:]
gen = SourceFileLoader("gen", S + "/conf/demo/generate-ecd").load_module()
rows = list(csv.DictReader(open(src, newline="", encoding="utf-8"), delimiter=";"))
n = len(rows)
bad = {rows[(i * 7919 + 13) % n]["leveringsnummer"] for i in range(3)}
used = set(bad)
per_client = {}
for r in rows:
    per_client[r["clientnummer"]] = per_client.get(r["clientnummer"], 0) + 1
def pick(cond):
    # A client with one delivery row: changing it cannot make two rows of
    # one client disagree (iWlz ZV-C01), so each poison has one effect.
    for r in rows:
        if (r["leveringsnummer"] not in used and per_client[r["clientnummer"]] == 1
                and cond(r)):
            used.add(r["leveringsnummer"])
            return r
    sys.exit("no row for a poison record")
wlz = lambda r: r["wet"] == "WLZ"
render = pick(wlz)
render["achternaam"] = "WEIGER"
xsd = pick(lambda r: wlz(r) and r["financier"] == "5501" and not r["zorg_eind"])
# A functie (MPT) the iWlz code list does not have: only the XSD refuses it.
xsd.update(zzp="", functie="99", leveringsvorm="7", klasse="K1")
dlv = pick(wlz)
dlv["leveringsnummer"] = "LPOISONDLV"
used.add("LPOISONDLV")
utf = pick(wlz)
utf["achternaam"] = "UTF8POISON"
lines = [json.dumps(gen.nested(r), ensure_ascii=False) for r in rows]
data = ("\n".join(lines) + "\n").encode("utf-8").replace(b"UTF8POISON", b"Bakker\xed\xa0\x80")
open(dst + ".part", "wb").write(data)
import os
os.replace(dst + ".part", dst)
json.dump({"bad": sorted(bad), "render": render["leveringsnummer"],
           "xsd": xsd["leveringsnummer"], "delivery": "LPOISONDLV",
           "utf8": utf["leveringsnummer"], "rows": n}, open(info, "w"))
PY

python3 - "$S" "$T" "$(cat "$T/port")" >"$T/z.conf" <<'PY'
import json, sys
S, T, port = sys.argv[1:]
mapping = json.load(open(S + "/conf/demo/mapping-ecd-jsonl.json"))
family = {"field": "client.family_name", "element": "LINES.family_name", "level": "contract",
          "citation": "test", "frequency": "event", "purpose": "test"}
conf = {
    "state_dir": T + "/state", "catalogue_dir": S + "/conf/catalogue",
    "plugin_dir": T + "/plugins", "log_level": "info",
    "organisation": {"agb": "12345678", "name": "Test"},
    "sources": [{"name": "ecd", "type": "filedrop",
                 "options": {"directory": T + "/inbox", "delimiter": ";", "settle": "0s"},
                 "mapping": mapping}],
    "destinations": [
        {"name": "zk-5501", "format": "iwlz", "transport": "filedrop",
         "match": {"entitlement.funder": "5501"},
         "format_options": {"release_dir": S + "/plugins/fmt_iwlz/releases/2.2", "zorgkantoor": "5501"},
         "transport_options": {"dir": T + "/out/zk"},
         "policy": {"max_bytes": 20000}},
        {"name": "refuser", "format": "refuse", "transport": "filedrop",
         "match": {"entitlement.law": "wlz"},
         "catalogue": {"file": "json-example.json", "fields": [family]},
         "transport_options": {"dir": T + "/out/refuse"},
         "policy": {"max_records": 7}},
        {"name": "monitor", "format": "json", "transport": "http",
         "match": {"entitlement.law": "wlz"},
         "catalogue": {"file": "json-example.json"},
         "transport_options": {"url": "http://127.0.0.1:%s/in" % port},
         "policy": {"max_records": 1, "max_age": "1d", "concurrency": 8}},
    ],
}
print(json.dumps(conf, indent=1))
PY

[ -n "${ZV_KEEP:-}" ] && echo "work dir: $T"
status=0
"$B/zinvold" --once --config "$T/z.conf" >"$T/summary" 2>"$T/log" || status=$?
if [ "$status" -ne 0 ]; then
    echo "FAIL: zinvold --once exited $status"; tail -30 "$T/log"; exit 1
fi

python3 - "$T/state/zinvol.db" "$T/poison.json" "$T/summary" "$T/received.jsonl" <<'PY'
import json, re, sqlite3, sys
db, info, log, received = sys.argv[1:]
p = json.load(open(info))
c = sqlite3.connect(db)
text = open(log, errors="replace").read()
fails = []
def check(ok, what):
    if not ok:
        fails.append(what)

staged = {m.group(1): int(m.group(2))
          for m in re.finditer(r"(\S+): (\d+) records staged", text)}
q = c.execute("SELECT record_id, stage, destination, rule, reason FROM quarantine").fetchall()
by_id = {}
for rid, stage, dest, rule, reason in q:
    by_id.setdefault(rid, []).append((stage, dest, rule, reason))

# mapping: the generator's three bad rows, at mapping, for no destination.
for rid in p["bad"]:
    e = by_id.get(rid, [])
    check(len(e) == 1 and e[0][0] == "mapping", f"bad row {rid} not quarantined at mapping: {e}")
# serialisation: the invalid UTF-8 row is kept with its reason: at the
# entrance ("not valid UTF-8"), or, where it gets that far, by each format
# that cannot write it (libxml2 in iWlz: a render failure traced to it).
e = by_id.get(p["utf8"], [])
check(e and all("UTF-8" in (x[3] or "") or x[0] == "render" for x in e), f"UTF-8 row: {e}")
# render: quarantined for "refuser" only, with the format's own words.
e = by_id.get(p["render"], [])
check(len(e) == 1 and e[0][:3] == ("render", "refuser", "ZV-RENDER")
      and "cannot write family name" in e[0][3], f"render poison: {e}")
# validation: the AW35 XSD's complaint, for zk-5501 only.
e = by_id.get(p["xsd"], [])
check(len(e) == 1 and e[0][1] == "zk-5501" and e[0][2] == "XSD" and "AW35.xsd" in e[0][3],
      f"XSD poison: {e}")
expected_q = set(p["bad"]) | {p["utf8"], p["render"], p["xsd"]}
check(set(by_id) == expected_q, f"unexpected quarantine entries: {set(by_id) - expected_q}")

# delivery: one dead letter, the receiver's 400, for the poison's payload only.
dl = c.execute("SELECT d.destination, d.http_status, d.reason, o.records_json FROM dead_letter d "
               "JOIN outbox o ON o.id = d.outbox_id").fetchall()
check(len(dl) == 1 and dl[0][0] == "monitor" and dl[0][1] == 400
      and "LPOISONDLV" in dl[0][3], f"dead letter: {dl}")

# Every other record is in a delivered payload, exactly once.
for dest in ("zk-5501", "refuser", "monitor"):
    states = dict(c.execute("SELECT state, count(*) FROM outbox WHERE destination = ? "
                            "GROUP BY state", (dest,)).fetchall())
    check(set(states) <= {"delivered", "dead"}, f"{dest}: payloads left {states}")
    keys = []
    for (rj,) in c.execute("SELECT records_json FROM outbox WHERE destination = ? AND "
                           "state = 'delivered'", (dest,)):
        keys += [r["record_id"] for r in json.loads(rj)]
    check(len(keys) == len(set(keys)), f"{dest}: a record in two payloads")
    lost = sum(1 for e in q if e[2] == dest) + (1 if dest == "monitor" else 0)
    check(len(keys) == staged[dest] - lost,
          f"{dest}: {len(keys)} records delivered, {staged[dest]} staged, {lost} poison")
    poison = {"zk-5501": p["xsd"], "refuser": p["render"], "monitor": "LPOISONDLV"}[dest]
    check(poison not in keys, f"{dest}: its poison {poison} was delivered")

# Work units: refuser at most 7 records per message; zk-5501 split under
# 20,000 bytes, each message its own identification.
sizes = [n for (n,) in c.execute("SELECT json_array_length(records_json) FROM outbox "
                                 "WHERE destination = 'refuser'")]
check(sizes and max(sizes) <= 7 and len(sizes) >= staged["refuser"] // 7, f"refuser units {sizes}")
zk = c.execute("SELECT idem_key, length(payload) FROM outbox WHERE destination = 'zk-5501'").fetchall()
check(len(zk) >= 2 and max(n for _, n in zk) <= 20000, f"zk-5501 messages {zk}")
ids = set()
for (payload,) in c.execute("SELECT payload FROM outbox WHERE destination = 'zk-5501'"):
    m = re.search(rb"<BerichtIdentificatie>\s*<iwlz:Identificatie>([^<]+)<", payload)
    ids.add(m.group(1) if m else None)
check(None not in ids and len(ids) == len(zk), f"zk-5501 identifications not distinct: {ids}")
check(sum(1 for l in open(received) if '"status": 200' in l or '"status":200' in l)
      == staged["monitor"] - 1, "receiver did not get every good monitor payload")
if fails:
    print("FAIL:\n  " + "\n  ".join(fails))
    sys.exit(1)
print(f"OK: {p['rows']} rows; 6 poison records each in quarantine or the dead letter with its "
      f"reason; {sum(staged.values())} staged records otherwise all delivered")
PY
