#!/bin/bash
# Printing a signals report's PDF does not stop the daemon's loop: the
# running zinvold (not --once) with an HTTP listener renders a quarterly
# report with option pdf.  ZV_CHROMIUM points at a wrapper that, before it
# hands over to the real Chromium, asks the daemon's /healthz and notes the
# answer.  The wrapper is started by the thread that prints; if that were
# the loop thread, nobody would answer /healthz until the print is over and
# the wrapper would note no answer (000, after curl's 20 s bound).  The
# report must arrive with its PDF, and /healthz must have answered while the
# print was under way.
set -euo pipefail
B=${ZV_BUILD_DIR:?}
S=${ZV_SOURCE_DIR:?}
chrome=$(command -v chromium || true)
if [ -z "$chrome" ]; then echo "SKIP: chromium missing"; exit 77; fi
T=$(mktemp -d /tmp/zv-sigpdf-XXXXXX)
pid=""
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- daemon log"; cat "$T/run.log" 2>/dev/null || true; exit 1; }
mkdir -p "$T/in" "$T/out"
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# 30 children who started care last quarter: its report is due at once.
$PY - "$T" <<'PY'
import datetime, sys
T = sys.argv[1]
today = datetime.date.today()
q0 = datetime.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
pq = (q0 - datetime.timedelta(days=1)).replace(day=1)
pq = datetime.date(pq.year, (pq.month - 1) // 3 * 3 + 1, 1)
def elf(s): return (sum(int(s[i]) * (9 - i) for i in range(8)) - int(s[8])) % 11 == 0
bsns, n = [], 999800000
while len(bsns) < 30:
    if elf("%09d" % n): bsns.append("%09d" % n)
    n += 1
rows = ["id;bsn;geboortedatum;verwijzer;toewijzing;start;vorm;crisis"]
for i, bsn in enumerate(bsns):
    start = pq + datetime.timedelta(days=i * 2)
    rows.append(";".join(["R%02d" % i, bsn, (start - datetime.timedelta(days=365 * (3 + i % 12))).isoformat(),
                          ["01", "04", "02"][i % 3], (start - datetime.timedelta(days=10)).isoformat(),
                          start.isoformat(), ["ambulant", "pleegzorg"][i % 2], "N"]))
open(T + "/in/export.csv", "w").write("\n".join(rows) + "\n")
open(T + "/label", "w").write("%d-Q%d" % (pq.year, (pq.month - 1) // 3 + 1))
PY
label=$(cat "$T/label")

cat > "$T/chromium" <<SH
#!/bin/bash
curl -s -o /dev/null -w '%{http_code}' -m 20 "http://127.0.0.1:$PORT/healthz" > "$T/healthz.tmp" || true
mv "$T/healthz.tmp" "$T/healthz-during-print"
exec "$chrome" "\$@"
SH
chmod +x "$T/chromium"

cat > "$T/z.conf" <<CONF
{
  "state_dir": "$T/state", "catalogue_dir": "$S/conf/catalogue", "plugin_dir": "${ZV_PLUGIN_DIR:?}",
  "organisation": {"agb": "12345678", "name": "Zorg Test"},
  "http": {"listen": "127.0.0.1:$PORT"},
  "sources": [{"name": "ecd", "type": "filedrop",
    "options": {"directory": "$T/in", "delimiter": ";", "settle": "0s"},
    "mapping": {"record_id": "id", "records": [{"kind": "delivery", "fields": {
      "client.bsn": "bsn", "client.birth_date": "geboortedatum",
      "entitlement.law": {"value": "jw"}, "entitlement.funder": {"value": "0363"},
      "entitlement.referrer": "verwijzer", "entitlement.start": "toewijzing",
      "delivery.start": "start", "delivery.care_form": "vorm", "delivery.crisis": "crisis"}}]}}],
  "destinations": [
    {"name": "regio-signalen", "format": "signals", "transport": "filedrop",
     "catalogue": {"file": "signalen-jeugd.json"},
     "format_options": {"signal_set": "$S/conf/signals/gemeente-jeugd.json", "pdf": true},
     "transport_options": {"dir": "$T/out"},
     "policy": {"schedule": "quarterly", "batch_window": "1s"}}
  ]
}
CONF
ZV_CHROMIUM="$T/chromium" "$B/zinvold" --config "$T/z.conf" 2>"$T/run.log" &
pid=$!
# Bounded waits (a shared 2-core machine): the PDF delivered, at most 5 min.
for _ in $(seq 3000); do
    ls "$T/out"/regio-signalen_report_"${label}"_1_pdf.* >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || fail "zinvold stopped"
    sleep 0.1
done
pdf=$(ls "$T/out"/regio-signalen_report_"${label}"_1_pdf.* 2>/dev/null | head -1)
[ -s "$pdf" ] || fail "no PDF report for $label"
head -c 5 "$pdf" | grep -q '%PDF-' || fail "$pdf is not a PDF"
[ -s "$T/healthz-during-print" ] || fail "the wrapper did not run"
code=$(cat "$T/healthz-during-print")
case "$code" in
    200 | 503) ;;
    *) fail "/healthz did not answer while the PDF was printed (curl: $code): the print blocked the loop" ;;
esac
grep -q "report $label revision 1 (json, html, pdf)" "$T/run.log" || fail "no report line"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=""
[ "$status" -eq 0 ] || fail "exit status $status after SIGTERM"
echo "ok: /healthz answered $code while Chromium printed the $label report"
