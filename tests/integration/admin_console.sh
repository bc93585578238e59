#!/bin/bash
# The web console in a real browser: zinvold with admin.listen on 127.0.0.1
# (TLS with a certificate made here, a bearer token), headless Chromium
# driven by Selenium logs in with the token, retries a quarantined record and
# drops a dead letter (by keyboard), and the store and the audit trail are
# checked with sqlite3 and zinvolctl.  A screenshot per page at 1280 px and
# at 390 px goes under the build directory (paths printed).  Also: CSRF
# (a form without the token, or from another Origin, changes nothing), the
# login cookie's attributes, labels, contrast, no horizontal scrolling on a
# phone.
set -euo pipefail
B=${ZV_BUILD_DIR:?}
S=${ZV_SOURCE_DIR:?}
PY=/usr/bin/python3
command -v chromium >/dev/null && command -v chromedriver >/dev/null ||
    { echo "SKIP: chromium / chromium-driver missing"; exit 77; }
$PY -c 'import selenium' 2>/dev/null || { echo "SKIP: python3-selenium missing"; exit 77; }
[ -x "$B/zinvold" ] && [ -x "$B/zinvolctl" ] || cmake --build "$B" --target zinvold zinvolctl >/dev/null
T=$(mktemp -d /tmp/zv-console-XXXXXX)
SHOTS="$B/console-screenshots"
rm -rf "$SHOTS"
mkdir -p "$SHOTS"
RPID=
DPID=
cleanup() {
    for p in $DPID $RPID; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- daemon log"; tail -30 "$T/daemon.log" 2>/dev/null; exit 1; }
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
APORT=$(free_port)
TOKEN=console-test-token-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
mkdir -p "$T/state" "$T/inbox"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 1 \
    -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
python3 "$S/tests/fixtures/receiver/receiver.py" --port-file "$T/rport" --log "$T/recv.jsonl" --reject BAD &
RPID=$!
for _ in $(seq 200); do [ -s "$T/rport" ] && break; sleep 0.05; done
[ -s "$T/rport" ] || fail "receiver did not start"
python3 - "$T/inbox/clients.csv" <<'PY'
import sys
def bsn(n):
    while True:
        d = [int(c) for c in f"{n:08d}"]
        for last in range(10):
            x = d + [last]
            if sum(v * w for v, w in zip(x, [9, 8, 7, 6, 5, 4, 3, 2, -1])) % 11 == 0:
                return "".join(map(str, x))
        n += 1
rows = ["nr;bsn;geslacht", f"1;{bsn(99990001)};M", f"2;{bsn(99990002)};X", f"3;{bsn(99990003)};Q"]
open(sys.argv[1], "w").write("\n".join(rows) + "\n")
PY
write_conf() {
cat > "$T/z.conf" <<CONF
{
  "state_dir": "$T/state", "catalogue_dir": "$S/conf/catalogue", "plugin_dir": "${ZV_PLUGIN_DIR:?}",
  "organisation": {"agb": "12345678", "name": "Test"},
  "admin": {"listen": "127.0.0.1:$APORT", "tls_cert": "$T/cert.pem", "tls_key": "$T/key.pem",
            "tokens": {"ops": "$TOKEN"}},
  "sources": [{"name": "ecd", "type": "filedrop",
               "options": {"directory": "$T/inbox", "delimiter": ";", "settle": "0s"},
               "mapping": {"record_id": "nr", "records": [{"kind": "client", "fields": {
                   "client.bsn": "bsn", "client.sex": {"from": "geslacht", "map": $1}}}]}}],
  "destinations": [
    {"name": "rej", "format": "json", "transport": "http",
     "catalogue": {"file": "json-example.json"},
     "transport_options": {"url": "http://127.0.0.1:$(cat "$T/rport")/in"},
     "match": {"client.sex": "never"}}
  ]
}
CONF
}
write_conf '{"M": "1", "V": "2"}'
ctl() { "$B/zinvolctl" -c "$T/z.conf" "$@"; }
DB="$T/state/zinvol.db"
"$B/tests/store_fill" "$DB" rej 12 4 R >/dev/null    # 3 carry BAD: dead letter
"$B/zinvold" --config "$T/z.conf" 2>"$T/daemon.log" &
DPID=$!
for _ in $(seq 300); do
    [ "$(sqlite3 "$DB" "SELECT count(*) FROM dead_letter" 2>/dev/null)" = 3 ] &&
        [ "$(sqlite3 "$DB" "SELECT count(*) FROM quarantine" 2>/dev/null)" = 2 ] && break
    sleep 0.1
done
[ "$(sqlite3 "$DB" "SELECT count(*) FROM dead_letter")" = 3 ] || fail "dead letter not filled"
[ "$(sqlite3 "$DB" "SELECT count(*) FROM quarantine")" = 2 ] || fail "quarantine not filled"
# The mapping learns 'X' (not 'Q'): retrying entry ecd/2 will now succeed.
write_conf '{"M": "1", "V": "2", "X": "9"}'
ctl reload >/dev/null
for _ in $(seq 100); do grep -q 'reloaded' "$T/daemon.log" && break; sleep 0.1; done
grep -q 'reloaded' "$T/daemon.log" || fail "no reload"
QID=$(sqlite3 "$DB" "SELECT id FROM quarantine WHERE record_id='2'")
KEEP=$(sqlite3 "$DB" "SELECT id FROM quarantine WHERE record_id='3'")
DID=$(sqlite3 "$DB" "SELECT min(id) FROM dead_letter")
DLEFT=$(sqlite3 "$DB" "SELECT max(id) FROM dead_letter")

# The TCP listener without a token: refused.
c=$(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$APORT/api/status")
[ "$c" = 401 ] || fail "API without a token: $c"
c=$(curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer wrong-token-wrong-token" "https://127.0.0.1:$APORT/api/status")
[ "$c" = 401 ] || fail "API with a wrong token: $c"
curl -sk -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:$APORT/api/status" | grep -q '"running":true' || fail "API with the token"
c=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$APORT/api/status" || true)
[ "$c" != 200 ] || fail "plain HTTP answered on the TLS listener"

$PY - "$APORT" "$TOKEN" "$SHOTS" "$QID" "$KEEP" "$DID" "$DLEFT" "$DB" <<'PY'
import json, os, sqlite3, ssl, sys, tempfile, urllib.parse, urllib.request, http.cookiejar
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

port, token, shots, qid, keep, did, dleft, dbpath = sys.argv[1:9]
base = f"https://127.0.0.1:{port}"
profile = tempfile.mkdtemp(prefix="zv-chromium-")
opts = webdriver.ChromeOptions()
opts.binary_location = "/usr/bin/chromium"
for a in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--ignore-certificate-errors", f"--user-data-dir={profile}", "--window-size=1280,900"]:
    opts.add_argument(a)
drv = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
drv.set_page_load_timeout(60)
saved = []
# A click that submits a form returns before the next page is there (more so
# on a loaded machine): wait for what the next page must show.
wait = WebDriverWait(drv, 60)

def notice():
    return wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "p.notice"))).text

def shot(name, phone_width_checked=True):
    for w, h in ((1280, 900), (390, 844)):
        drv.set_window_size(w, h)
        # A phone must not need sideways scrolling for the page itself.
        if w == 390 and phone_width_checked:
            sw = drv.execute_script("return document.documentElement.scrollWidth")
            iw = drv.execute_script("return window.innerWidth")
            assert sw <= iw + 1, f"{name}: {sw}px wide at {iw}px"
        full = drv.execute_script("return document.documentElement.scrollHeight")
        drv.set_window_size(w, min(max(full + 120, h), 4000))
        path = os.path.join(shots, f"{name}-{w}.png")
        drv.save_screenshot(path)
        saved.append(path)
    drv.set_window_size(1280, 900)

def check_a11y(name):
    # Every form control has a label (or an aria-label), buttons are real buttons.
    bad = drv.execute_script("""
        return [...document.querySelectorAll('input:not([type=hidden]), select')]
          .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
          .map(e => e.name);""")
    assert not bad, f"{name}: controls without a label: {bad}"
    assert drv.find_elements(By.CSS_SELECTOR, "html[lang]"), f"{name}: no lang"
    assert not drv.find_elements(By.CSS_SELECTOR, "[onclick], script"), f"{name}: scripts"
    # Contrast of text against its background (WCAG AA: 4.5).
    pairs = drv.execute_script("""
        function bg(e){ for(;e;e=e.parentElement){ const c=getComputedStyle(e).backgroundColor;
            if(c && c!=='rgba(0, 0, 0, 0)' && c!=='transparent') return c;} return 'rgb(255, 255, 255)'; }
        return [...document.querySelectorAll('h1,p,td,th,a,button,label,span')]
          .filter(e => e.offsetParent !== null && e.textContent.trim())
          .map(e => [getComputedStyle(e).color, bg(e), e.tagName + ' ' + e.textContent.trim().slice(0,30)]);""")
    def lum(c):
        v = [int(x) for x in c[c.index("(") + 1:c.index(")")].split(",")[:3]]
        v = [x / 255 for x in v]
        v = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in v]
        return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]
    for fg, b, what in pairs:
        l1, l2 = sorted([lum(fg), lum(b)], reverse=True)
        ratio = (l1 + 0.05) / (l2 + 0.05)
        assert ratio >= 4.5, f"{name}: contrast {ratio:.2f} for {what} ({fg} on {b})"

try:
    drv.get(base + "/")
    assert drv.current_url.endswith("/login"), drv.current_url
    check_a11y("login")
    shot("login")
    drv.find_element(By.ID, "token").send_keys(token)
    drv.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait.until(EC.title_contains("Overview"))
    assert drv.find_element(By.TAG_NAME, "h1").text == "Overview", drv.page_source[:500]
    ck = drv.get_cookie("zv_session")
    assert ck and ck["httpOnly"] and ck["secure"] and ck.get("sameSite") == "Strict", ck
    body = drv.find_element(By.TAG_NAME, "body").text
    assert "rej" in body and "ecd" in body and "closed" in body, body
    check_a11y("overview")
    shot("overview")

    drv.get(base + "/quarantine")
    check_a11y("quarantine")
    assert "client.sex" in drv.page_source
    # The filter: only entry 3's reason mentions 'Q'.
    drv.find_element(By.ID, "q").send_keys("'Q'")
    drv.find_element(By.CSS_SELECTOR, "form[role=search] button").click()
    wait.until(EC.url_contains("q="))
    rows = drv.find_elements(By.CSS_SELECTOR, "tbody tr")
    assert len(rows) == 1 and f"ecd/3" in rows[0].text, [r.text for r in rows]
    drv.get(base + "/quarantine")
    shot("quarantine")
    drv.find_element(By.CSS_SELECTOR, f"form[action='/ui/quarantine/{qid}/retry'] button").click()
    text = notice()
    assert f"{qid}: unrouted: no destination takes the record" in text, text
    shot("quarantine-after-retry")

    drv.get(base + "/dlq")
    check_a11y("dlq")
    shot("dlq")
    # Keyboard only: tab to the Drop button of the first entry, press Enter.
    want = f"Drop dlq {did}"
    focused = lambda: drv.switch_to.active_element.get_attribute("aria-label")
    for _ in range(80):
        drv.switch_to.active_element.send_keys(Keys.TAB)
        if focused() == want:
            break
    assert focused() == want, "the Drop button is not reachable by Tab"
    drv.switch_to.active_element.send_keys(Keys.ENTER)
    text = notice()
    assert f"{did}: dropped (recorded in the audit trail)" in text, text
    shot("dlq-after-drop")

    drv.get(base + "/outbox")
    check_a11y("outbox")
    shot("outbox")
    drv.get(base + "/audit")
    check_a11y("audit")
    assert "Audit trail intact" in drv.page_source
    assert "processed again by token ops (console)" in drv.page_source
    shot("audit")
    drv.get(base + "/audit/report")
    assert "zinvol audit" in drv.title, drv.title
    # The report is the audit's own self-contained document (also written
    # to a file by zinvolctl audit); its wide tables scroll on a phone.
    shot("audit-report", phone_width_checked=False)

    # Disclosure: the BSN goes in the form body, the answer is the client's page.
    def bsn(n):
        while True:
            d = [int(c) for c in f"{n:08d}"]
            for last in range(10):
                x = d + [last]
                if sum(v * w for v, w in zip(x, [9, 8, 7, 6, 5, 4, 3, 2, -1])) % 11 == 0:
                    return "".join(map(str, x))
            n += 1
    client = bsn(99990001)
    drv.get(base + "/disclose")
    check_a11y("disclose")
    shot("disclose")
    drv.find_element(By.ID, "bsn").send_keys(client)
    drv.find_element(By.CSS_SELECTOR, "form[action='/disclose'] button[type=submit]").click()
    wait.until(EC.title_contains("Welke gegevens"))
    page = drv.page_source
    assert "Aantal berichten: 0" in page, page[:800]   # nothing of this client was sent
    assert client not in page and ("*****" + client[-4:]) in page
    assert client not in drv.current_url
    shot("disclose-answer")
    session = ck["value"]
finally:
    drv.quit()

# CSRF: the session cookie alone is not enough, and another Origin is refused.
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None
opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=ctx), NoRedirect)
def post(path, data, origin=None):
    req = urllib.request.Request(base + path, data=urllib.parse.urlencode(data).encode(),
                                 method="POST")
    req.add_header("Cookie", "zv_session=" + session)
    req.add_header("Content-Type", "application/x-www-form-urlencoded")
    if origin:
        req.add_header("Origin", origin)
    try:
        r = opener.open(req)
        return r.status, r.headers.get("Location", "")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Location", "")
st, loc = post(f"/ui/dlq/{dleft}/drop", {})
assert st == 303 and "Refused" in urllib.parse.unquote(loc), (st, loc)
page = opener.open(urllib.request.Request(base + "/dlq", headers={"Cookie": "zv_session=" + session})).read().decode()
import re
csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
st, loc = post(f"/ui/dlq/{dleft}/drop", {"csrf": csrf}, origin="https://evil.example")
assert st == 303 and "Refused" in urllib.parse.unquote(loc), (st, loc)
st, loc = post(f"/api/dlq/{dleft}/drop", {})
assert st == 403, st
db = sqlite3.connect(dbpath)
assert db.execute("SELECT count(*) FROM dead_letter WHERE id=?", (dleft,)).fetchone()[0] == 1
assert db.execute("SELECT count(*) FROM dead_letter WHERE id=?", (did,)).fetchone()[0] == 0
assert db.execute("SELECT count(*) FROM quarantine WHERE id=?", (qid,)).fetchone()[0] == 0
assert db.execute("SELECT count(*) FROM quarantine WHERE id=?", (keep,)).fetchone()[0] == 1
for p in saved:
    print("screenshot:", p)
PY
# The store and the audit trail, as an operator would check them.
sqlite3 "$DB" "SELECT detail FROM audit WHERE kind='dlq-drop'" | grep -q "dead letter $DID dropped.*dropped by token ops (console)" ||
    fail "the drop is not in the audit trail with the token's name"
sqlite3 "$DB" "SELECT detail FROM audit WHERE kind='quarantine'" | grep -q "quarantine entry $QID (ecd/2, mapping) unrouted: processed again by token ops (console)" ||
    fail "the retry is not in the audit trail"
ctl quarantine list | grep -q "ecd/3" || fail "the other entry is gone"
! ctl quarantine list | grep -q "ecd/2" || fail "the retried entry is still quarantined"
ctl dlq list | grep -q "^$DLEFT " || fail "the refused (CSRF) drop happened anyway"
sqlite3 "$DB" "SELECT detail FROM audit WHERE kind='disclosed'" | grep -q "disclosure asked by token ops (console)" ||
    fail "the disclosure is not in the audit trail with the token's name"
ctl audit verify | grep -q 'intact' || fail "audit trail broken"
echo "admin_console: ok"
