#!/bin/bash
# The quarterly signals report through the real zinvold: an ECD export of
# youth care (children of the last quarter and this one) goes through the
# file-drop source, mapping, the minimiser (catalogue signalen-jeugd) and the
# signals format to a file-drop transport.  The ended quarter's report
# arrives as JSON (schema-valid, final, with the narrative), HTML and PDF;
# the running quarter gets running counts only.  No BSN, name, birth date or
# postcode is in any byte that left.  Then the HTML in headless Chromium
# (Selenium: a chart per measure, "<5" cells, the narrative, nothing cut off
# at 1280 and 390 px) and the PDF with pdftoppm/pdftotext; screenshots go to
# build/screenshots/.
set -euo pipefail
B=${ZV_BUILD_DIR:?}
S=${ZV_SOURCE_DIR:?}
T=$(mktemp -d /tmp/zv-sigrep-XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/in" "$T/out" "$T/story"
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

# 60 children: 45 started last quarter, 15 this quarter; referrers, forms,
# crisis, endings and waiting days varied, some groups small on purpose.
$PY - "$T" <<'PY'
import datetime, random, sys
T = sys.argv[1]
rng = random.Random(16)
today = datetime.date.today()
q0 = datetime.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)   # this quarter
pq = (q0 - datetime.timedelta(days=1)).replace(day=1)
pq = datetime.date(pq.year, (pq.month - 1) // 3 * 3 + 1, 1)          # last quarter
label = "%d-Q%d" % (pq.year, (pq.month - 1) // 3 + 1)
def elf(s): return (sum(int(s[i]) * (9 - i) for i in range(8)) - int(s[8])) % 11 == 0
bsns, n = [], 999900000
while len(bsns) < 60:
    if elf("%09d" % n): bsns.append("%09d" % n)
    n += 1
rows = ["id;bsn;achternaam;geboortedatum;postcode;verwijzer;toewijzing;start;vorm;crisis;eind;reden"]
for i, bsn in enumerate(bsns):
    base = pq if i < 45 else q0
    start = base + datetime.timedelta(days=rng.randint(0, 60 if i < 45 else max(0, (today - q0).days - 1)))
    wait = rng.choice([2, 5, 12, 20, 40, 70])
    birth = start - datetime.timedelta(days=rng.randint(365 * 1, 365 * 17))
    ref = rng.choice(["01", "01", "01", "01", "04", "04", "02", "03"])
    form = rng.choice(["ambulant", "ambulant", "ambulant", "pleegzorg", "verblijf", "gezinshuis"])
    crisis = "J" if i % 11 == 0 else "N"
    end, reason = "", ""
    if i % 4 == 0 and i < 45:
        end = (start + datetime.timedelta(days=20)).isoformat()
        reason = rng.choice(["01", "01", "02"])
    rows.append(";".join(["R%02d" % i, bsn, "Achternaamq%02d" % i, birth.isoformat(),
                          "%04dZX" % (1000 + i), ref, (start - datetime.timedelta(days=wait)).isoformat(),
                          start.isoformat(), form, crisis, end, reason]))
open(T + "/in/export.csv", "w").write("\n".join(rows) + "\n")
open(T + "/label", "w").write(label)
open(T + "/story/%s.md" % label, "w").write(
    "## Wat we zagen\n\nMeer kinderen kwamen via het **wijkteam**; de wachttijd werd korter.\n\n"
    "- twee nieuwe pleeggezinnen\n- crisisplaatsingen bleven *zeldzaam*\n")
PY
label=$(cat "$T/label")

cat > "$T/z.conf" <<CONF
{
  "state_dir": "$T/state", "catalogue_dir": "$S/conf/catalogue", "plugin_dir": "${ZV_PLUGIN_DIR:?}",
  "organisation": {"agb": "12345678", "name": "Zorg Test"},
  "sources": [{"name": "ecd", "type": "filedrop",
    "options": {"directory": "$T/in", "delimiter": ";", "settle": "0s"},
    "mapping": {"record_id": "id", "records": [{"kind": "delivery", "fields": {
      "client.bsn": "bsn", "client.family_name": "achternaam", "client.birth_date": "geboortedatum",
      "client.postcode": "postcode", "entitlement.law": {"value": "jw"},
      "entitlement.funder": {"value": "0363"},
      "entitlement.referrer": "verwijzer", "entitlement.start": "toewijzing",
      "delivery.start": "start", "delivery.care_form": "vorm", "delivery.crisis": "crisis",
      "delivery.end": "eind", "delivery.end_reason": "reden"}}]}}],
  "destinations": [
    {"name": "regio-signalen", "format": "signals", "transport": "filedrop",
     "catalogue": {"file": "signalen-jeugd.json"},
     "format_options": {"signal_set": "$S/conf/signals/gemeente-jeugd.json",
                        "narrative": "$T/story", "pdf": true},
     "transport_options": {"dir": "$T/out"},
     "policy": {"schedule": "quarterly", "batch_window": "1s"}}
  ]
}
CONF
"$B/zinvold" --config "$T/z.conf" --once 2>"$T/run.log" || { cat "$T/run.log"; exit 1; }
ls "$T/out"
for ext in json html pdf; do
    f=$(ls "$T/out"/regio-signalen_report_"${label}"_1_"$ext".* 2>/dev/null | head -1)
    [ -s "$f" ] || { echo "no $ext report for $label"; cat "$T/run.log"; exit 1; }
    cp "$f" "$T/report.$ext"
done
# The running quarter: no report yet, running counts only.
[ "$(ls "$T/out" | grep _report_ | grep -vc "_${label}_")" = 0 ] || { echo "report for a running quarter"; exit 1; }
grep -q "report $label revision 1 (json, html, pdf)" "$T/run.log"

# Nothing personal left: no BSN, name, birth date or postcode in any byte
# (the PDF's text layer included).
pdftotext "$T/report.pdf" "$T/report.txt"
$PY - "$T" <<'PY'
import glob, json, sys
T = sys.argv[1]
rows = [l.split(";") for l in open(T + "/in/done/export.csv" if glob.glob(T + "/in/done/export.csv") else T + "/in/export.csv").read().splitlines()[1:]]
files = glob.glob(T + "/out/*") + [T + "/report.txt"]
for f in files:
    data = open(f, "rb").read()
    for r in rows:
        for v in (r[1], r[2], r[3], r[4]):
            assert v.encode() not in data, "%s leaked into %s" % (v, f)
doc = json.load(open(T + "/report.json"))
assert doc["final"] is True and doc["revision"] == 1, doc.get("final")
assert "**wijkteam**" in doc["narrative"]
print("ok: %d files, nothing personal" % len(files))
PY
$PY - "$S/conf/schema/signals.schema.json" "$T/out" <<'PY'
import glob, json, sys
from jsonschema import Draft202012Validator
v = Draft202012Validator(json.load(open(sys.argv[1])))
bad = 0
for p in glob.glob(sys.argv[2] + "/*.json"):
    for e in v.iter_errors(json.load(open(p))):
        print(p, list(e.path), e.message); bad += 1
sys.exit(1 if bad else 0)
PY
grep -q "Het verhaal achter de cijfers" "$T/report.txt"
grep -q "<5" "$T/report.txt"
grep -q "wijkteam" "$T/report.txt"

chrome=$(command -v chromium || true)
SELPY=
for p in /usr/bin/python3 python3; do "$p" -c 'import selenium' 2>/dev/null && { SELPY=$p; break; }; done
if [ -z "$chrome" ] || [ -z "$SELPY" ] || ! command -v pdftoppm >/dev/null; then
    echo "SKIP browser part: chromium, python3-selenium or poppler-utils missing"; exit 77
fi
SHOTS="$B/screenshots"; mkdir -p "$SHOTS"
"$SELPY" - "$T" "$SHOTS" <<'PY'
import os, sys
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
T, shots = sys.argv[1], sys.argv[2]
o = Options()
for a in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--hide-scrollbars", "--user-data-dir=" + T + "/sel-profile"]:
    o.add_argument(a)
o.binary_location = "/usr/bin/chromium"
d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
try:
    for w in (1280, 390):
        d.set_window_size(w, 900)
        d.get("file://%s/report.html" % T)
        inner = d.execute_script("return document.documentElement.clientWidth")
        sw = d.execute_script("return document.documentElement.scrollWidth")
        assert sw <= inner + 1, "at %d px: content %d px wide, cut off" % (w, sw)
        measures = d.find_elements(By.CSS_SELECTOR, "section.measure")
        assert len(measures) == 6, len(measures)
        for m in measures:   # a drawn chart in every measure
            svg = m.find_element(By.TAG_NAME, "svg")
            assert svg.size["width"] > 200 and svg.size["height"] > 10, svg.size
            assert m.find_elements(By.CSS_SELECTOR, "svg rect"), "no bars"
        small = [c for c in d.find_elements(By.CSS_SELECTOR, "td.sup") if c.text == "<5"]
        assert small and all(c.is_displayed() for c in small), "no <5 cell shown"
        story = d.find_element(By.CSS_SELECTOR, "#verhaal .story")
        assert "wijkteam" in story.find_element(By.TAG_NAME, "strong").text
        assert len(story.find_elements(By.TAG_NAME, "li")) == 2
        assert not d.find_elements(By.TAG_NAME, "script")
        h = d.execute_script("return document.documentElement.scrollHeight")
        d.set_window_size(w, min(h + 20, 6000))
        path = os.path.join(shots, "signals-report-%d.png" % w)
        d.save_screenshot(path)
        print("screenshot", path)
finally:
    d.quit()
PY
pdftoppm -r 60 -png -f 1 -l 1 "$T/report.pdf" "$SHOTS/signals-report-pdf"
png=$(ls "$SHOTS"/signals-report-pdf*.png | head -1)
$PY - "$png" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n"
w, h = struct.unpack(">II", data[16:24])
assert w > 400 and h > 400 and len(data) > 15000, (w, h, len(data))
print("pdf page", sys.argv[1], w, h)
PY
echo "ok: quarterly report $label as JSON, HTML and PDF"
