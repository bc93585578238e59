#!/usr/bin/env bash
# The official iWlz rule set on a large message: it is quadratic in the
# clients of a message (TR101 compares every Bsn with every other), so the
# plugin judges a message 8 clients at a time (plugins/fmt_iwlz/xslt.c).
# This proves the chunked judgement is the whole judgement: one AW35 of 100
# clients, with the official set alone deciding (own_rules off), three
# broken clients spread over the chunks (positions 5, 40 and 99), each
# quarantined with its official code and no other; the 97 others in one
# message that passes the bundled XSD and the bundled rule set, run
# independently with xsltproc over the whole message, with 0 errors.
set -euo pipefail
BUILD=${ZV_BUILD_DIR:?run through ctest}
SRC=${ZV_SOURCE_DIR:?}
rel=$SRC/plugins/fmt_iwlz/releases/2.2
work=$(mktemp -d /tmp/zv-iwlz-chunked-XXXXXX)
trap '[ -n "${ZV_KEEP:-}" ] || rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; tail -20 "$work/zinvold.log" 2>/dev/null; exit 1; }
mkdir -p "$work/inbox" "$work/out"

python3 - "$SRC" "$work" <<'PY'
import csv, io, json, sys
src, work = sys.argv[1:]
corpus = src + "/tests/fixtures/iwlz/corpus/"
rows = list(csv.DictReader(open(corpus + "ecd-scenarios.csv", newline=""), delimiter=";"))
base = next(r for r in rows if r["leveringsnummer"] == "S0001")  # AW35 ZZP verblijf
def elf(n):
    s = str(n)
    return (sum(int(s[i]) * (9 - i) for i in range(8)) - int(s[8])) % 11 == 0
bsns = [n for n in range(999940000, 999999999) if elf(n)][:100]
broken = {5: ("CS127", {"leveringsvorm": "2", "klasse": ""}),
          40: ("TR097", {"geboortedatum_gebruik": "2"}),
          99: ("CS127", {"leveringsvorm": "9", "klasse": ""})}
out, expect = [], {}
for i in range(1, 101):
    r = dict(base)
    r.update(leveringsnummer="K%04d" % i, clientnummer="K%04d" % i, bsn=str(bsns[i - 1]),
             besluitnummer=str(600000000 + i), expect="")
    if i in broken:
        code, change = broken[i]
        r.update(change)
        expect[r["leveringsnummer"]] = code
    out.append(r)
with open(work + "/inbox/ecd-large.csv", "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0].keys()), delimiter=";")
    w.writeheader()
    w.writerows(out)
json.dump(expect, open(work + "/expect.json", "w"))
conf = {"state_dir": work + "/state", "catalogue_dir": src + "/conf/catalogue",
        "organisation": {"agb": "12345678", "name": "Chunked"},
        "sources": [{"name": "ecd", "type": "filedrop",
                     "mapping": json.load(open(corpus + "mapping.json")),
                     "options": {"directory": work + "/inbox", "delimiter": ";", "settle": "0s"}}],
        "destinations": [{"name": "zk", "format": "iwlz", "transport": "filedrop",
                          "match": {"entitlement.funder": "5501"},
                          "format_options": {"release_dir": src + "/plugins/fmt_iwlz/releases/2.2",
                                             "zorgkantoor": "5501", "own_rules": False},
                          "transport_options": {"dir": work + "/out"},
                          "policy": {"threshold": "contract", "schedule": "event"}}]}
json.dump(conf, open(work + "/z.conf", "w"), indent=1)
PY
export ZINVOL_PLUGIN_DIR=$BUILD/plugins
"$BUILD/zinvold" --once --config "$work/z.conf" 2>"$work/zinvold.log" || fail "zinvold --once exited $?"

python3 - "$work" "$rel" <<'PY'
import glob, json, re, sqlite3, subprocess, sys
work, rel = sys.argv[1:]
expect = json.load(open(work + "/expect.json"))
db = sqlite3.connect(work + "/state/zinvol.db")
got = {r: rule for r, rule in db.execute("SELECT record_id, rule FROM quarantine")}
if got != expect:
    sys.exit("quarantine %s != expected %s" % (sorted(got.items()), sorted(expect.items())))
files = glob.glob(work + "/out/*")
if len(files) != 1:
    sys.exit("expected one AW35, got %d" % len(files))
text = open(files[0], encoding="utf-8").read()
n = text.count("<Client>")
if n != 97:
    sys.exit("the AW35 carries %d clients, not 97" % n)
x = subprocess.run(["xmllint", "--noout", "--schema", rel + "/xsd/AW35.xsd", files[0]],
                   capture_output=True, text=True)
if x.returncode:
    sys.exit("XSD: " + x.stderr[:300])
r = subprocess.run(["xsltproc", "AW35.xsl", files[0]], cwd=rel + "/xslt/wlz/2_2",
                   capture_output=True, text=True, check=True)
errors = re.findall(r"<r:Code>\s*([A-Z0-9]+)\s*</r:Code>", r.stdout)
if errors:
    sys.exit("the whole message has official errors: %s" % errors)
print("iwlz chunked rules: 100 clients, 3 quarantined with %s at positions 5, 40, 99; "
      "97 sent in one AW35 with 0 official errors" % sorted(set(expect.values())))
PY
