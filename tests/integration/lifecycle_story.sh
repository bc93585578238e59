#!/bin/bash
# Issue 12's story through the real zinvold --once and zinvolctl on a real
# store, every count asserted:
#   1 a broken export (the mapping knows no geslacht V) -> those rows in quarantine
#   2 mapping fixed -> quarantine retry --all sends exactly the fixed records
#   3 the export dropped again -> nothing sent
#   4 one column no destination receives changed (postcode) -> nothing sent
#   5 one sent field changed (family name) -> its AW35 withdrawn, then sent anew
#   6 source replay of the export -> every row mapped again, nothing new sent
#   7 a start dated a week ahead -> waiting until D, sent on D (zinvold --today)
# Steps 3 (its "N unchanged"), 4 and 6 need change detection on
# rendered content (issue 12 item 3, daemon/core/change.c); without it
# those assertions are reported as not run, the rest is asserted.
set -euo pipefail
B=${ZV_BUILD_DIR:?}
S=${ZV_SOURCE_DIR:?}
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 CLI missing"; exit 77; }
T=$(mktemp -d /tmp/zv-story-XXXXXX)
trap '[ -n "${ZV_KEEP:-}" ] || rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; tail -5 "$T/zinvold.log" 2>/dev/null; exit 1; }
export ZINVOL_PLUGIN_DIR=${ZV_PLUGIN_DIR:-$B/plugins}
CHANGE=0
[ -f "$S/daemon/core/change.c" ] && CHANGE=1
mkdir -p "$T/inbox" "$T/gen"
DB=$T/state/zinvol.db
q() { sqlite3 "$DB" "$1"; }
ctl() { "$B/zinvolctl" -c "$T/z.conf" "$@"; }
once() {
    local st=0
    "$B/zinvold" --once --config "$T/z.conf" "$@" 2>>"$T/zinvold.log" >"$T/once.out" || st=$?
    [ $st = 0 ] || fail "zinvold --once exited $st"
}
drop() { cp "$1" "$T/inbox/$2"; once "${@:3}"; }
msgs() { q "SELECT count(*) FROM outbox"; }
recs_after() { q "SELECT coalesce(sum(json_array_length(records_json)), 0) FROM outbox WHERE id > $1"; }
last_id() { q "SELECT coalesce(max(id), 0) FROM outbox"; }
notrun() { echo "NOT RUN (needs issue 12 item 3, change detection): $*"; }

python3 "$S/conf/demo/generate-ecd" --clients 40 --seed 21 --bad 0 --out "$T/gen" --format csv \
    --name export >/dev/null 2>&1
# conf.py broken|fixed: the broken mapping has no code for geslacht V.
cat >"$T/conf.py" <<'PY'
import json, os, sys
S, T, which = sys.argv[1:]
m = json.load(open(S + "/conf/demo/mapping-ecd.json"))
for rule in m["records"]:
    if which == "broken" and "client.sex" in rule["fields"]:
        del rule["fields"]["client.sex"]["map"]["V"]
def dest(name, fmt, match, opts):
    os.makedirs(T + "/out/" + name, exist_ok=True)
    return {"name": name, "format": fmt, "transport": "filedrop", "match": match,
            "format_options": opts, "transport_options": {"dir": T + "/out/" + name},
            "policy": {"threshold": "contract", "schedule": "event"}}
json.dump({"state_dir": T + "/state", "catalogue_dir": S + "/conf/catalogue",
           "organisation": {"agb": "12345678", "name": "Story"},
           "sources": [{"name": "ecd", "type": "filedrop", "mapping": m,
                        "options": {"directory": T + "/inbox", "delimiter": ";", "settle": "0s"}}],
           "destinations": [
               dest("zk-5501", "iwlz", {"entitlement.funder": "5501"}, {"zorgkantoor": "5501"}),
               dest("zk-5502", "iwlz", {"entitlement.funder": "5502"}, {"zorgkantoor": "5502"}),
               dest("gem-0363", "ijw", {"entitlement.funder": "0363", "entitlement.law": "jw"},
                    {"standard": "jw", "variant": "inspanningsgericht", "gemeente": "0363",
                     "stop_requires_start": False}),
               dest("gem-0599", "ijw", {"entitlement.funder": "0599", "entitlement.law": "jw"},
                    {"standard": "jw", "variant": "inspanningsgericht", "gemeente": "0599",
                     "stop_requires_start": False}),
               dest("gem-wmo", "ijw", {"entitlement.law": "wmo"},
                    {"standard": "wmo", "variant": "inspanningsgericht",
                     "stop_requires_start": False})]},
          open(T + "/z.conf", "w"), indent=1)
PY
python3 - "$T" <<'PY'
import csv, datetime, json, sys
T = sys.argv[1]
rows = list(csv.DictReader(open(T + "/gen/export.csv", newline=""), delimiter=";"))
cols = list(rows[0].keys())
per = {}
for r in rows:
    per[r["clientnummer"]] = per.get(r["clientnummer"], 0) + 1
single = lambda r: per[r["clientnummer"]] == 1 and not r["zorg_eind"]
# A Jeugdwet start held back, sent later with a start a week ahead.
future = next(r for r in rows if r["wet"] == "JW" and single(r) and r["geslacht"] == "M")
rows.remove(future)
due = datetime.date.today() + datetime.timedelta(days=7)
future = dict(future, zorg_start=due.strftime("%d-%m-%Y"))
def write(name, rs):
    with open(T + "/" + name, "w", newline="") as f:
        w = csv.DictWriter(f, cols, delimiter=";")
        w.writeheader()
        w.writerows(rs)
write("export.csv", rows)
wlz = next(r for r in rows if r["wet"] == "WLZ" and single(r) and r["geslacht"] == "M")
i = rows.index(wlz)
write("postcode.csv", rows[:i] + [dict(wlz, postcode="9999ZZ")] + rows[i + 1:])
write("name.csv", rows[:i] + [dict(wlz, postcode="9999ZZ", achternaam="Anders")] + rows[i + 1:])
write("future.csv", [future])
json.dump({"rows": len(rows), "nv": sum(r["geslacht"] == "V" for r in rows),
           "wlz": wlz["leveringsnummer"], "wlz_name": wlz["achternaam"], "future": future["leveringsnummer"],
           "due": due.isoformat(), "fdest": "gem-" + future["financier"]},
          open(T + "/facts.json", "w"))
PY
fact() { python3 -c "import json; print(json.load(open('$T/facts.json'))['$1'])"; }
ROWS=$(fact rows)
NV=$(fact nv)
WLZ=$(fact wlz)
FUT=$(fact future)
DUE=$(fact due)
[ "$NV" -ge 3 ] || fail "only $NV rows with geslacht V"

# 1. The broken export.
python3 "$T/conf.py" "$S" "$T" broken
drop "$T/export.csv" export-1.csv
[ "$(q "SELECT count(*) FROM quarantine WHERE state = 'open' AND stage = 'mapping'")" = "$NV" ] ||
    fail "1: $(q "SELECT count(*) FROM quarantine") quarantined, want $NV"
[ "$(q "SELECT count(*) FROM quarantine")" = "$NV" ] || fail "1: other quarantine entries: $(ctl quarantine list)"
[ "$(recs_after 0)" = $((ROWS - NV)) ] || fail "1: $(recs_after 0) records sent, want $((ROWS - NV))"
M1=$(msgs)
echo "1: $ROWS rows, $NV quarantined at the mapping, $((ROWS - NV)) sent in $M1 messages"

# 2. The mapping fixed: the retry sends exactly the fixed records.
python3 "$T/conf.py" "$S" "$T" fixed
L=$(last_id)
ctl quarantine retry --all >"$T/retry.out"
[ "$(grep -c ': staged: queued for ' "$T/retry.out")" = "$NV" ] || fail "2: $(cat "$T/retry.out")"
# One line per entry and the totals; one pass: one render per destination,
# so the fixed records leave together - one AW35 per zorgkantoor holding
# all its clients, not one message each (a JW305/WMO305 holds one client).
[ "$(wc -l <"$T/retry.out")" = $((NV + 1)) ] || fail "2: not one line per entry: $(cat "$T/retry.out")"
grep -q "^$NV entries processed again: $NV staged, 0 refused again, 0 unrouted, 0 other; " "$T/retry.out" ||
    fail "2: totals: $(tail -1 "$T/retry.out")"
AW="FROM outbox WHERE id > $L AND message = 'AW35'"
[ "$(q "SELECT count(*) $AW")" = "$(q "SELECT count(DISTINCT destination) $AW")" ] &&
    [ "$(q "SELECT max(json_array_length(records_json)) $AW")" -gt 1 ] ||
    fail "2: the retry made $(q "SELECT count(*) $AW") AW35 for $(q "SELECT count(DISTINCT destination) $AW") zorgkantoren"
[ "$(recs_after "$L")" = "$NV" ] || fail "2: the retry's messages carry $(recs_after "$L") records, want $NV"
[ "$(q "SELECT count(*) FROM quarantine")" = 0 ] || fail "2: entries left"
once
[ "$(q "SELECT count(*) FROM outbox WHERE state != 'delivered'")" = 0 ] || fail "2: not all delivered"
M2=$(msgs)
echo "2: retry --all: $NV entries staged and queued, $NV records in $((M2 - M1)) messages, all delivered"

# 3. The same export dropped again.
drop "$T/export.csv" export-2.csv
[ "$(msgs)" = "$M2" ] || fail "3: the re-dropped export sent $(( $(msgs) - M2 )) messages"
if [ $CHANGE = 1 ]; then
    grep -q "$ROWS unchanged" "$T/once.out" || fail "3: no '$ROWS unchanged': $(cat "$T/once.out")"
else
    notrun "3: the summary saying '$ROWS unchanged'"
fi
echo "3: re-dropped export: 0 messages"

# 4. A column no destination receives.
L=$(last_id)
drop "$T/postcode.csv" export-3.csv
if [ $CHANGE = 1 ]; then
    [ "$(msgs)" = "$M2" ] || fail "4: a postcode change sent $(( $(msgs) - M2 )) messages"
    echo "4: postcode changed: 0 messages"
else
    notrun "4: postcode change sends nothing (now: $(( $(msgs) - M2 )) messages)"
fi
M4=$(msgs)

# 5. One sent field.  The iWlz standard has no "changed" AW35: StatusAanlevering
# is 1 or 3 only (CS058), a 1 must carry a key new to the zorgkantoor (TR074),
# and AW39's Mutatiecodes (12, 17-21) are events in the care, none a
# correction of data.  So the change goes out as two AW35: the earlier one
# withdrawn (StatusAanlevering 3, as it was sent: the old name), then the
# record as a first delivery (1, the new name) - in that order.
L=$(last_id)
drop "$T/name.csv" export-4.csv
[ "$(( $(msgs) - M4 ))" = 2 ] || fail "5: a family name change made $(( $(msgs) - M4 )) messages, want 2 (withdrawal + new)"
[ "$(q "SELECT group_concat(message || ':' || json_array_length(records_json), ',') FROM (SELECT * FROM outbox WHERE id > $L ORDER BY id)")" = "AW35:1,AW35:1" ] ||
    fail "5: not two AW35 of one record: $(q "SELECT message, records_json FROM outbox WHERE id > $L")"
[ "$(q "SELECT count(*) FROM outbox WHERE id > $L AND instr(records_json, '\"$WLZ\"') > 0")" = 2 ] ||
    fail "5: the messages are not about $WLZ"
python3 - "$DB" "$L" "$(fact wlz_name)" <<'PY' || fail "5: withdrawal and new delivery not as the standard wants"
import sqlite3, sys, xml.etree.ElementTree as ET
db, last, old = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = sqlite3.connect(db).execute(
    "SELECT payload FROM outbox WHERE id > ? ORDER BY id", (last,)).fetchall()
got = []
for (p,) in rows:
    x = ET.fromstring(p)
    text = lambda tag: [e.text for e in x.iter() if e.tag.split("}")[-1] == tag]
    got.append((text("StatusAanlevering"), text("Achternaam")))
print("5: payloads (StatusAanlevering, Achternaam):", got)
assert got[0][0] == ["3"] and got[0][1] == [old], got
assert got[1][0] == ["1"] and got[1][1] == ["Anders"], got
PY
echo "5: family name changed: 2 AW35 with 1 record each (StatusAanlevering 3 with the old name, then 1 with the new)"
M5=$(msgs)

# 6. Replay of the export through the current configuration.
ctl source replay ecd "$T/name.csv" >"$T/replay.out"
grep -q "$ROWS records in, " "$T/replay.out" || fail "6: $(cat "$T/replay.out")"
if [ $CHANGE = 1 ]; then
    grep -q "$ROWS records in, 0 new or changed, $ROWS unchanged, 0 quarantined at the mapping, 0 refused by a destination; 0 messages made" "$T/replay.out" ||
        fail "6: $(cat "$T/replay.out")"
    [ "$(msgs)" = "$M5" ] || fail "6: the replay sent $(( $(msgs) - M5 )) messages"
    echo "6: replay: $ROWS records mapped again, 0 messages"
else
    notrun "6: the replay sending nothing (now: $(( $(msgs) - M5 )) messages)"
fi
once
M6=$(msgs)

# 7. A start a week ahead: waiting, then sent on its day.
drop "$T/future.csv" export-5.csv
[ "$(q "SELECT state || ' ' || due FROM quarantine WHERE record_id = '$FUT'")" = "waiting $DUE" ] ||
    fail "7: not waiting: $(ctl quarantine list --state all | tail -3)"
ctl quarantine list --state waiting | grep -q "waiting until $DUE" || fail "7: not listed as waiting"
[ "$(msgs)" = "$M6" ] || fail "7: sent before its day"
once --today "$DUE"
[ "$(q "SELECT count(*) FROM outbox WHERE id > 0 AND instr(records_json, '\"$FUT\"') > 0 AND state = 'delivered'")" = 1 ] ||
    fail "7: not sent on $DUE"
[ "$(q "SELECT count(*) FROM quarantine WHERE record_id = '$FUT'")" = 0 ] || fail "7: still waiting"
[ "$(q "SELECT outcome FROM quarantine_closed WHERE record_id = '$FUT'")" = staged ] || fail "7: not closed as staged"
if [ $CHANGE = 1 ]; then
    [ "$(q "SELECT count(*) FROM quarantine")" = 0 ] || fail "7: entries left: $(ctl quarantine list --state all)"
else
    # Without change detection the replay (6) sent the Jeugdwet starts again
    # and the iJw format refused them (TR326): visible, not lost.
    notrun "no entry left at the end (now: $(q "SELECT count(*) FROM quarantine") refused resends of the replay)"
fi
echo "7: start on $DUE: waiting, then 1 message on $DUE"

# Nothing left quarantine without an audited outcome.
[ "$(q "SELECT count(*) FROM quarantine_closed")" = "$(q "SELECT count(*) FROM audit WHERE kind = 'quarantine'")" ] ||
    fail "a closed entry without its audit entry"
ctl audit verify >/dev/null || fail "audit trail broken"
echo "ok: story done ($([ $CHANGE = 1 ] && echo "with" || echo "without") change detection)"
