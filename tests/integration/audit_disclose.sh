#!/bin/bash
# Disclosure (AVG art. 15) through the real zinvold and zinvolctl: three
# clients' records go to two destinations; `zinvolctl disclose` answers for
# each one exactly (which messages, to whom, which fields with values and
# levels), the trail holds pseudonymous client keys and no BSN, and after
# retention prunes the payloads the same messages and fields are still
# disclosed, without values.
set -euo pipefail
B=${ZV_BUILD_DIR:?}
S=${ZV_SOURCE_DIR:?}
T=$(mktemp -d /tmp/zv-disclose-XXXXXX)
DPID=
cleanup() { [ -n "$DPID" ] && kill "$DPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
mkdir -p "$T/in" "$T/out-a" "$T/out-b" "$T/out-c"

write_conf() { # $1: retention
cat > "$T/z.conf" <<CONF
{
  "state_dir": "$T/state", "catalogue_dir": "$S/conf/catalogue", "plugin_dir": "${ZV_PLUGIN_DIR:?}",
  "log_level": "info", "organisation": {"agb": "12345678", "name": "Zorg Test"},
  "retention": "$1",
  "sources": [{"name": "ecd", "type": "filedrop",
    "options": {"directory": "$T/in", "delimiter": ";", "settle": "0s"},
    "mapping": {"record_id": "id", "records": [{"kind": "delivery", "fields": {
      "client.bsn": "bsn", "client.birth_date": "geboren", "client.phone": "telefoon",
      "entitlement.funder": "financier", "entitlement.law": {"value": "wlz"},
      "delivery.start": "start", "delivery.end": "eind"}}]}}],
  "destinations": [
    {"name": "monitor-a", "format": "json", "transport": "filedrop",
     "match": {"entitlement.funder": "5501"}, "catalogue": {"file": "json-example.json"},
     "transport_options": {"dir": "$T/out-a"}, "policy": {"batch_window": "1s"}},
    {"name": "monitor-b", "format": "json", "transport": "filedrop",
     "match": {"entitlement.funder": "5502"}, "catalogue": {"file": "json-example.json"},
     "transport_options": {"dir": "$T/out-b"},
     "policy": {"batch_window": "1s", "threshold": "standard"}},
    {"name": "monitor-c", "format": "json", "transport": "filedrop",
     "match": {"entitlement.funder": "5501"}, "catalogue": {"file": "json-example.json"},
     "transport_options": {"dir": "$T/out-c"},
     "policy": {"batch_window": "1s", "threshold": "standard"}}
  ]
}
CONF
}
write_conf 30d
cat > "$T/in/export.csv" <<'CSV'
id;bsn;geboren;telefoon;financier;start;eind
R1;999900043;1947-12-19;06-05262308;5501;2025-03-13;
R2;999900043;1947-12-19;06-05262308;5502;2025-04-13;2025-05-01
R3;999900006;1954-03-14;06-68106871;5502;2025-04-11;2025-04-14
R4;999900055;1954-12-30;06-07912728;5501;2025-10-25;
CSV
"$B/zinvold" --config "$T/z.conf" --once 2>"$T/run1.log" || { cat "$T/run1.log"; exit 1; }
ctl() { "$B/zinvolctl" -c "$T/z.conf" "$@"; }

# No BSN anywhere in the trail, but a client key on every delivery.
! sqlite3 "$T/state/zinvol.db" "SELECT * FROM audit" | grep -Eq '9999000(43|06|55)'
[ "$(stat -c %a "$T/state/client-key.secret")" = 600 ]

check() { # $1 BSN, $2 expected "dest:field=level=value|..." lines (sorted), $3 label
    ctl disclose "$1" --format json > "$T/d.json"
    python3 - "$T/d.json" "$2" "$3" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
got = sorted("%s %s %s:%s" % (m["destination"], m["message"], m["state"],
             ",".join("%s=%s=%s" % (f["field"], f["level"], f["value"]) for f in m["fields"]))
             for m in d["messages"])
want = sorted(l for l in sys.argv[2].strip().split("\n") if l)
if got != want:
    print("%s: disclosure differs\n got: %s\nwant: %s" % (sys.argv[3], got, want)); sys.exit(1)
assert d["client"].startswith("*****"), d["client"]
PY
}
# monitor-a (threshold contract): bsn (law), birth date (contract), start/end (standard);
# phone is internal -> never sent. monitor-b (threshold standard): no birth date.
check 999900043 "
monitor-a JSON delivered:client.bsn=law=999900043,client.birth_date=contract=1947-12-19,delivery.start=standard=2025-03-13
monitor-c JSON delivered:client.bsn=law=999900043,delivery.start=standard=2025-03-13
monitor-b JSON delivered:client.bsn=law=999900043,delivery.start=standard=2025-04-13,delivery.end=standard=2025-05-01" A
check 999900006 "
monitor-b JSON delivered:client.bsn=law=999900006,delivery.start=standard=2025-04-11,delivery.end=standard=2025-04-14" B
check 9999.00.055 "
monitor-a JSON delivered:client.bsn=law=999900055,client.birth_date=contract=1954-12-30,delivery.start=standard=2025-10-25
monitor-c JSON delivered:client.bsn=law=999900055,delivery.start=standard=2025-10-25" C

# Redundancy measured on these flows, counted by hand from the export:
# client.bsn went for A to a, b and c; for C to a and c; B only to b.
# delivery.start: R1 and R4 each went to a and c (the same delivery twice);
# A's R2 start is another delivery, so not a duplicate of R1's.
ctl audit --format json --period-days 30 > "$T/audit.json"
python3 - "$T/audit.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["measured_flows"] is True
got = {}
for d in r["destinations"]:
    for m in d["messages"]:
        for f in m["fields"]:
            c = f["counts"]
            if c["clients"]:
                got[(d["name"], f["field"])] = (c["clients"], c["client_messages"], c["max_per_client"], c["duplicate_clients"])
want = {
  ("monitor-a", "client.bsn"): (2, 2, 1, 2), ("monitor-a", "client.birth_date"): (2, 2, 1, 0),
  ("monitor-a", "delivery.start"): (2, 2, 1, 2),
  ("monitor-b", "client.bsn"): (2, 2, 1, 1), ("monitor-b", "delivery.start"): (2, 2, 1, 0),
  ("monitor-b", "delivery.end"): (2, 2, 1, 0),
  ("monitor-c", "client.bsn"): (2, 2, 1, 2), ("monitor-c", "delivery.start"): (2, 2, 1, 2),
}
assert got == want, "flows differ:\n got %s\nwant %s" % (sorted(got.items()), sorted(want.items()))
dups = {(f["destination"], f["field"]): {x["name"]: x["shared_clients"] for x in f["destinations"]}
        for f in r["flags"] if f["id"] == "duplicate"}
assert set(dups) == {("monitor-a", "client.bsn"), ("monitor-a", "delivery.start"),
                     ("monitor-b", "client.bsn"), ("monitor-c", "client.bsn"),
                     ("monitor-c", "delivery.start")}, sorted(dups)
assert dups[("monitor-a", "client.bsn")] == {"monitor-a": 0, "monitor-b": 1, "monitor-c": 2}, dups
assert dups[("monitor-b", "client.bsn")]["monitor-a"] == 1
assert dups[("monitor-a", "delivery.start")]["monitor-c"] == 2
assert dups[("monitor-a", "delivery.start")].get("monitor-b", 0) == 0
PY
# A client nobody sent anything about.
ctl disclose 999900067 --format json | python3 -c 'import json,sys; assert json.load(sys.stdin)["messages"] == []'
# Plain Dutch text and HTML name the reasons.
ctl disclose 999900043 | grep -q 'Wettelijk verplicht'
ctl disclose 999900043 | grep -q 'bericht JSON aan monitor-a: afgeleverd'
ctl disclose 999900043 --format html | grep -q '<html lang="nl">'
# A period that ends before today shows nothing.
ctl disclose 999900043 --to 2001-01-01 --format json | python3 -c 'import json,sys; assert json.load(sys.stdin)["messages"] == []'
! ctl disclose 12 2>/dev/null
# A date that does not exist is refused, not rolled over into March.
if out=$(ctl disclose 999900043 --from 2026-02-30 2>&1); then echo "FAIL: 2026-02-30 accepted"; exit 1; fi
case $out in *"is not a date"*) ;; *) echo "FAIL: 2026-02-30: $out"; exit 1 ;; esac
ctl disclose 999900043 --from 2026-02-28 --format json >/dev/null

# Retention: the daemon prunes the payloads (and the values kept beside them);
# the trail still discloses every message and field, without values.
write_conf 1s
sleep 2
"$B/zinvold" --config "$T/z.conf" 2>"$T/run2.log" &
DPID=$!
for _ in $(seq 100); do
    n=$(sqlite3 "$T/state/zinvol.db" "SELECT count(*) FROM outbox WHERE payload IS NOT NULL")
    v=$(sqlite3 "$T/state/zinvol.db" "SELECT count(*) FROM disclosure")
    [ "$n" = 0 ] && [ "$v" = 0 ] && break
    sleep 0.1
done
# The same disclosure through the running daemon's admin API (Unix socket):
# identical to zinvolctl's, and itself written to the audit trail.
for _ in $(seq 50); do [ -S "$T/state/admin.sock" ] && break; sleep 0.1; done
curl -sf --unix-socket "$T/state/admin.sock" "http://zinvol/api/disclose?bsn=999900006&format=json" > "$T/api.json"
ctl --offline disclose 999900006 --format json > "$T/ctl.json" 2>/dev/null || ctl disclose 999900006 --format json > "$T/ctl.json"
python3 - "$T/api.json" "$T/ctl.json" <<'PY'
import json, sys
a, c = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert a["messages"] == c["messages"] and len(a["messages"]) == 1, (a, c)
PY
[ "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$T/state/admin.sock" "http://zinvol/api/disclose?bsn=12")" = 400 ]
sqlite3 "$T/state/zinvol.db" "SELECT detail FROM audit WHERE kind='disclosed'" | grep -q "disclosure asked by uid 0"
! sqlite3 "$T/state/zinvol.db" "SELECT * FROM audit WHERE kind='disclosed'" | grep -q 999900006
kill "$DPID"; wait "$DPID" || true; DPID=
[ "$n" = 0 ] && [ "$v" = 0 ] || { echo "retention did not prune (payloads $n, values $v)"; exit 1; }
check 999900043 "
monitor-a JSON delivered:client.bsn=law=None,client.birth_date=contract=None,delivery.start=standard=None
monitor-c JSON delivered:client.bsn=law=None,delivery.start=standard=None
monitor-b JSON delivered:client.bsn=law=None,delivery.start=standard=None,delivery.end=standard=None" A-after
check 999900006 "
monitor-b JSON delivered:client.bsn=law=None,delivery.start=standard=None,delivery.end=standard=None" B-after
ctl disclose 999900043 | grep -q 'niet meer bewaard'
ctl audit verify | grep -q 'intact'

# The index is not believed on its own: a forged index row adds nothing.
sqlite3 "$T/state/zinvol.db" "INSERT INTO audit_client SELECT client_key, 1 FROM audit_client LIMIT 1" 2>/dev/null || true
K6=$(ctl disclose 999900006 --format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["messages"]))')
[ "$K6" = 1 ]
echo "disclosure: 3 clients exact, before and after retention"

# The auditor's report and the disclosure in a real browser and on paper:
# nothing cut off at 1280 and 390 px, the filters work, PDFs render.
chrome=$(command -v chromium || true)
# Debian's python3-selenium belongs to /usr/bin/python3, which a pyenv on PATH may hide.
SELPY=
for p in /usr/bin/python3 python3; do "$p" -c 'import selenium' 2>/dev/null && { SELPY=$p; break; }; done
if [ -z "$chrome" ] || [ -z "$SELPY" ] || ! command -v pdftoppm >/dev/null; then
    echo "SKIP browser part: chromium, python3-selenium or poppler-utils missing"; exit 77
fi
SHOTS="$B/screenshots"; mkdir -p "$SHOTS"
ctl audit --format html --period-days 30 --output "$T/audit.html" 2>/dev/null
ctl disclose 999900043 --format html --output "$T/disclose.html"
"$SELPY" - "$T" "$SHOTS" <<'PY'
import sys, os
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
    for page in ("audit", "disclose"):
        for w in (1280, 390):
            d.set_window_size(w, 900)
            d.get("file://%s/%s.html" % (T, page))
            inner = d.execute_script("return document.documentElement.clientWidth")
            sw = d.execute_script("return document.documentElement.scrollWidth")
            assert sw <= inner + 1, "%s at %d px: content %d px wide, cut off" % (page, w, sw)
            h = d.execute_script("return document.documentElement.scrollHeight")
            d.set_window_size(w, min(h, 4000))
            path = os.path.join(shots, "%s-%d.png" % (page, w))
            d.save_screenshot(path)
            print("screenshot", path)
    # the filter: choose monitor-b, every detail row of another destination hides
    d.set_window_size(1280, 900)
    d.get("file://%s/audit.html" % T)
    d.find_element(By.CSS_SELECTOR, "label[for=fd1]").click()
    rows = d.find_elements(By.CSS_SELECTOR, ".rep .row")
    shown = [r for r in rows if r.is_displayed()]
    assert shown and all("d1" in r.get_attribute("class").split() for r in shown), "filter"
    assert len(shown) < len(rows)
    d.find_element(By.CSS_SELECTOR, "label[for=ff1]").click()   # duplicates only
    shown = [r for r in rows if r.is_displayed()]
    assert shown and all("f1" in r.get_attribute("class").split() for r in shown), "signal filter"
    # the answer is at the top
    first = d.find_element(By.CSS_SELECTOR, "main h2").text
    assert first == "Wettelijk verplicht of niet?", first
finally:
    d.quit()
PY
ctl audit --format pdf --period-days 30 --output "$T/audit.pdf" 2>/dev/null
ctl disclose 999900043 --format pdf --output "$T/disclose.pdf"
for f in audit disclose; do
    pdftoppm -r 60 -png -f 1 -l 1 "$T/$f.pdf" "$SHOTS/$f-pdf"
    png=$(ls "$SHOTS/$f-pdf"*.png | head -1)
    python3 - "$png" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n"
w, h = struct.unpack(">II", data[16:24])
assert w > 400 and h > 400 and len(data) > 15000, (w, h, len(data))
print("pdf page", sys.argv[1], w, h)
PY
done
