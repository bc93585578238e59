#!/bin/bash
# Issue 12 item 5 through the real zinvold --once and zinvolctl: a valid
# Jeugdwet start dated a week ahead (the iJw format refuses it, TR134:
# Begindatum after the Dagtekening) is not an error but early: it waits,
# listed as "waiting until D", counted apart from the quarantine, and is sent
# on its day (zinvold --today moves the clock for the test), audited.
set -euo pipefail
B=${ZV_BUILD_DIR:?}
S=${ZV_SOURCE_DIR:?}
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 CLI missing"; exit 77; }
T=$(mktemp -d /tmp/zv-lifedue-XXXXXX)
trap '[ -n "${ZV_KEEP:-}" ] || rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
export ZINVOL_PLUGIN_DIR=${ZV_PLUGIN_DIR:-$B/plugins}
mkdir -p "$T/inbox" "$T/gen" "$T/out/gem-0599" "$T/out/gem-0363"
DB=$T/state/zinvol.db
q() { sqlite3 "$DB" "$1"; }
ctl() { "$B/zinvolctl" -c "$T/z.conf" "$@"; }
once() { # [--today D]
    local st=0
    "$B/zinvold" --once --config "$T/z.conf" "$@" 2>>"$T/zinvold.log" >"$T/once.out" || st=$?
    [ $st = 0 ] || { tail -20 "$T/zinvold.log"; fail "zinvold --once exited $st"; }
}

python3 "$S/conf/demo/generate-ecd" --clients 30 --seed 3 --bad 0 --out "$T/gen" --format csv \
    --name export >/dev/null 2>&1
python3 - "$S" "$T" <<'PY'
import csv, datetime, json, sys
S, T = sys.argv[1:]
rows = [r for r in csv.DictReader(open(T + "/gen/export.csv", newline=""), delimiter=";")
        if r["wet"] == "JW"]
per = {}
for r in rows:
    per[r["clientnummer"]] = per.get(r["clientnummer"], 0) + 1
rows = [r for r in rows if per[r["clientnummer"]] == 1 and not r["zorg_eind"]]
assert len(rows) >= 3, "too few Jeugdwet starts"
due = datetime.date.today() + datetime.timedelta(days=7)
rows[0]["zorg_start"] = due.strftime("%d-%m-%Y")
with open(T + "/inbox/export.csv", "w", newline="") as f:
    w = csv.DictWriter(f, list(rows[0].keys()), delimiter=";")
    w.writeheader()
    w.writerows(rows)
m = json.load(open(S + "/conf/demo/mapping-ecd.json"))
def dest(g):
    return {"name": "gem-" + g, "format": "ijw", "transport": "filedrop",
            "match": {"entitlement.funder": g, "entitlement.law": "jw"},
            "format_options": {"standard": "jw", "variant": "inspanningsgericht", "gemeente": g},
            "transport_options": {"dir": T + "/out/gem-" + g},
            "policy": {"threshold": "contract", "schedule": "event"}}
json.dump({"state_dir": T + "/state", "catalogue_dir": S + "/conf/catalogue",
           "organisation": {"agb": "12345678", "name": "Due"},
           "sources": [{"name": "ecd", "type": "filedrop", "mapping": m,
                        "options": {"directory": T + "/inbox", "delimiter": ";", "settle": "0s"}}],
           "destinations": [dest("0599"), dest("0363")]}, open(T + "/z.conf", "w"), indent=1)
json.dump({"rid": rows[0]["leveringsnummer"], "bsn": rows[0]["bsn"], "due": due.isoformat(),
           "dest": "gem-" + rows[0]["financier"], "n": len(rows),
           "eve": (due - datetime.timedelta(days=1)).isoformat()}, open(T + "/facts.json", "w"))
PY
fact() { python3 -c "import json; print(json.load(open('$T/facts.json'))['$1'])"; }
RID=$(fact rid)
BSN=$(fact bsn)
DUE=$(fact due)
EVE=$(fact eve)
DEST=$(fact dest)
N=$(fact n)

once
grep -q "$DEST: .* 0 quarantined, .*1 waiting for their day" "$T/once.out" ||
    fail "summary: $(cat "$T/once.out")"
[ "$(q "SELECT count(*) FROM quarantine WHERE state = 'open'")" = 0 ] || fail "an early record counts as quarantined"
[ "$(q "SELECT state || ' ' || due FROM quarantine WHERE record_id = '$RID'")" = "waiting $DUE" ] ||
    fail "not waiting: $(q "SELECT state, due, reason FROM quarantine")"
ctl quarantine list --state waiting | grep -q "waiting until $DUE .*$RID.*TR134" ||
    fail "list --state waiting: $(ctl quarantine list --state waiting)"
[ "$(ctl quarantine list | tail -n +2 | wc -l)" = 0 ] || fail "the open list shows the waiting record"
sent() { q "SELECT count(*) FROM outbox WHERE instr(records_json, '\"$RID\"') > 0"; }
[ "$(sent)" = 0 ] || fail "sent before its day"
[ "$(q "SELECT sum(json_array_length(records_json)) FROM outbox")" = $((N - 1)) ] || fail "the others were not all sent"

# The day before: still waiting.  On the day: sent, and audited.
once --today "$EVE"
[ "$(sent)" = 0 ] || fail "sent the day before"
[ "$(q "SELECT count(*) FROM quarantine WHERE state = 'waiting'")" = 1 ] || fail "no longer waiting on the eve"
once --today "$DUE"
[ "$(sent)" = 1 ] || fail "not sent on its day: $(tail -5 "$T/zinvold.log")"
[ "$(q "SELECT count(*) FROM quarantine")" = 0 ] || fail "still waiting on its day: $(ctl quarantine list --state all)"
[ "$(q "SELECT state FROM outbox WHERE instr(records_json, '\"$RID\"') > 0")" = delivered ] || fail "not delivered"
q "SELECT detail FROM audit WHERE kind = 'quarantine'" |
    grep -q "(ecd/$RID, waiting for $DEST) staged: processed again by zinvold (due on $DUE)" ||
    fail "not audited: $(q "SELECT detail FROM audit WHERE kind = 'quarantine'")"
grep -rl "$BSN" "$T/out/$DEST" | xargs grep -l "<ns2:Begindatum>$DUE\|Begindatum>$DUE" >/dev/null ||
    grep -rq "$DUE" "$T/out/$DEST" || fail "the message has not the start $DUE"
[ "$(q "SELECT count(*) FROM audit WHERE kind = 'quarantine'")" = "$(q "SELECT count(*) FROM quarantine_closed")" ] ||
    fail "a closed entry without audit entry"
echo "ok: $((N - 1)) sent at once, 1 waiting until $DUE, sent on $DUE"
