#!/bin/bash
# Issue 12 item 9 through the real zinvold: a file-drop destination with a
# retour_dir.  An AW36 dropped there is applied as `zinvolctl retour` does
# (the rejected record to the dead letter with its codes, the accepted ones
# marked) and moved to done/; a broken file is moved to rejected/ with its
# reason beside it; both audited.  Once at the start of --once, and while
# the daemon runs (polled).
set -euo pipefail
B=${ZV_BUILD_DIR:?}
S=${ZV_SOURCE_DIR:?}
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 CLI missing"; exit 77; }
T=$(mktemp -d /tmp/zv-liferet-XXXXXX)
DPID=
cleanup() {
    [ -n "$DPID" ] && kill "$DPID" 2>/dev/null
    wait 2>/dev/null || true
    [ -n "${ZV_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
export ZINVOL_PLUGIN_DIR=${ZV_PLUGIN_DIR:-$B/plugins}
mkdir -p "$T/inbox" "$T/out"
DB=$T/state/zinvol.db
q() { sqlite3 "$DB" "$1"; }
python3 - "$S" "$T" <<'PY'
import json, sys
S, T = sys.argv[1:]
m = json.load(open(S + "/conf/demo/mapping-ecd.json"))
json.dump({"state_dir": T + "/state", "catalogue_dir": S + "/conf/catalogue",
           "organisation": {"agb": "12345678", "name": "Retour"},
           "admin": {"socket": T + "/admin.sock"},
           "sources": [{"name": "ecd", "type": "filedrop", "mapping": m,
                        "options": {"directory": T + "/inbox", "delimiter": ";", "settle": "0s"}}],
           "destinations": [{"name": "zk-iwlz", "format": "iwlz", "transport": "filedrop",
                             "match": {"entitlement.funder": "5501"},
                             "format_options": {"zorgkantoor": "5501"},
                             "transport_options": {"dir": T + "/out",
                                                   "retour_dir": T + "/retour"}}]},
          open(T + "/z.conf", "w"), indent=1)
PY
# The store exists (first run), then holds a delivered AW35 that the
# fixture AW36 answers (as store_ctl makes it).
"$B/zinvold" --once --config "$T/z.conf" 2>"$T/once0.log" >/dev/null || fail "first run: $(cat "$T/once0.log")"
[ -d "$T/retour/done" ] && [ -d "$T/retour/rejected" ] || fail "retour folders not made at start"
python3 - "$DB" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
recs = ('[{"source":"ons","record_id":"c1","key":"111222333/100001"},'
        '{"source":"ons","record_id":"c1b","key":"111222333/100002"},'
        '{"source":"ons","record_id":"c2","key":"123456782/200001"}]')
db.execute("INSERT INTO outbox(destination, message, idem_key, payload, records_json, state, "
           "first_enqueued, delivered_at) VALUES('zk-iwlz', 'AW35', 'AW35-1', x'00', ?, "
           "'delivered', 0, 0)", (recs,))
db.commit()
PY
cp "$S/tests/fixtures/iwlz/aw36-mixed.xml" "$T/retour/AW36-1.xml"
printf 'this is no AW36' >"$T/retour/broken.xml"
"$B/zinvold" --once --config "$T/z.conf" 2>"$T/once1.log" >/dev/null || fail "--once: $(cat "$T/once1.log")"
[ -f "$T/retour/done/AW36-1.xml" ] || fail "the AW36 was not moved to done/: $(ls -R "$T/retour")"
[ -f "$T/retour/rejected/broken.xml" ] || fail "the broken file was not moved to rejected/"
grep -q "could not read this retour message" "$T/retour/rejected/broken.xml.reason" ||
    fail "reason: $(cat "$T/retour/rejected/broken.xml.reason")"
[ ! -e "$T/retour/AW36-1.xml" ] && [ ! -e "$T/retour/broken.xml" ] || fail "files left in the folder"
[ "$(q "SELECT count(*) FROM dead_letter WHERE record_key = '123456782/200001' AND codes LIKE '%0448%'")" = 1 ] ||
    fail "the rejected record is not in the dead letter: $(q "SELECT record_key, codes FROM dead_letter")"
[ "$(q "SELECT count(*) FROM verdict WHERE accepted = 1")" = 2 ] || fail "accepted records not marked"
grep -q "REJECTED" "$T/once1.log" && ! grep -q "123456782" "$T/once1.log" || fail "log lines (BSN masked)"
q "SELECT detail FROM audit WHERE kind = 'admin'" | grep -q "retour file AW36-1.xml for zk-iwlz applied (done/)" ||
    fail "not audited"
q "SELECT detail FROM audit WHERE kind = 'admin'" | grep -q "retour file broken.xml for zk-iwlz not applied (rejected/)" ||
    fail "broken one not audited"

# While the daemon runs: a retour dropped later is applied within seconds,
# a file being written (dot name) is left alone.
"$B/zinvold" --config "$T/z.conf" 2>"$T/daemon.log" &
DPID=$!
for _ in $(seq 100); do grep -q "started (running)" "$T/daemon.log" && break; sleep 0.1; done
printf 'still no AW36' >"$T/retour/.partial.xml"
printf 'again no AW36' >"$T/retour/broken2.xml"
for _ in $(seq 150); do [ -f "$T/retour/rejected/broken2.xml" ] && break; sleep 0.1; done
[ -f "$T/retour/rejected/broken2.xml" ] || fail "the running daemon did not take the retour: $(tail -5 "$T/daemon.log")"
[ -f "$T/retour/.partial.xml" ] || fail "a file still being written was taken"
kill "$DPID"
wait "$DPID" || true
DPID=
echo "ok: AW36 applied (1 rejected, 2 accepted) and moved to done/, broken files kept in rejected/ with their reason"
