#!/usr/bin/env bash
# Restart safety of the core's aggregate path (ABI 2.4): an export whose
# rows come period by period (so early periods are touched only by early
# work units of a flush, whose running counts wait for the flush's last
# batch) goes through `zinvold --once` with a signals destination of small
# work units.  The run is SIGKILLed twice while it counts (once the
# plugin's state has committed units, at a varying delay after that), and
# run again to the end each time.  Then, against one clean run of the same
# export:
#   - the last running payload of every period has the same counts (no
#     count lost or doubled, and no period's running counts lost with the
#     crash: pending periods are in the plugin's state);
#   - the store's counters give every row exactly once as counted or not
#     counted (a row is tallied in the unit that commits it, never again;
#     the reasons are proven in unit/test_signals_fmt);
#   - nothing is left staged, and no disclosure row exists (counts name no one).
set -euo pipefail
B=${ZV_BUILD_DIR:?}
S=${ZV_SOURCE_DIR:?}
ROWS=${ZV_SIGNALS_CRASH_ROWS:-12000}
T=$(mktemp -d /tmp/zv-signals-crash-XXXXXX)
DPID=
cleanup() {
    [ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

# Rows period by period: quarter q's children come after quarter q-1's.
python3 - "$ROWS" "$T/ecd.csv" <<'PY'
import sys
n, out = int(sys.argv[1]), open(sys.argv[2], "w")
out.write("id;bsn;geboortedatum;geslacht;verwijzer;toewijzing;start;vorm;crisis;eind;reden\n")
REF = ["01", "01", "02", "04", "04", "05"]
FORM = ["ambulant", "pleegzorg", "verblijf", "gezinshuis"]
b = 100000000
for i in range(n):
    while True:
        b += 1
        s = str(b).zfill(9)
        if (sum(int(s[k]) * (9 - k) for k in range(8)) - int(s[8])) % 11 == 0:
            break
    month = 1 + i * 24 // n            # contiguous: 24 months in row order
    y, m, d = 2024 + (month - 1) // 12, (month - 1) % 12 + 1, 1 + i % 27
    end = reason = ""
    if i % 4 == 0:
        end, reason = "%04d-%02d-28" % (y, m), "01" if i % 8 else "02"
    out.write(";".join(["R%d" % i, s, "%04d-%02d-%02d" % (2008 + i % 17, m, d),
                        "12"[i % 2], REF[i % 6], "%04d-%02d-01" % (y, m), "%04d-%02d-%02d" % (y, m, d),
                        FORM[i % 4], "J" if i % 13 == 0 else "N", end, reason]) + "\n")
PY

conf() { # $1 run dir
    cat >"$1/zinvol.conf" <<CONF
{"state_dir": "$1/state", "catalogue_dir": "$S/conf/catalogue", "plugin_dir": "${ZV_PLUGIN_DIR:?}",
 "log_level": "info", "organisation": {"agb": "12345678", "name": "Test"},
 "sources": [{"name": "ecd", "type": "filedrop", "options": {"directory": "$1/inbox", "delimiter": ";", "settle": "0s"},
   "mapping": {"record_id": "id", "records": [{"kind": "delivery", "fields": {
     "client.bsn": "bsn", "client.birth_date": "geboortedatum", "client.sex": "geslacht",
     "entitlement.law": {"value": "jw"}, "entitlement.funder": {"value": "0363"}, "delivery.provider_agb": {"value": "12345678"}, "entitlement.referrer": "verwijzer", "entitlement.start": "toewijzing",
     "delivery.start": "start", "delivery.care_form": "vorm", "delivery.crisis": "crisis",
     "delivery.end": "eind", "delivery.end_reason": "reden"}}]}}],
 "destinations": [{"name": "regio-signalen", "format": "signals", "transport": "filedrop",
   "catalogue": {"file": "signalen-jeugd.json"},
   "format_options": {"signal_set": "$S/conf/signals/gemeente-jeugd.json", "salt": "crash-test"},
   "transport_options": {"dir": "$1/out"},
   "policy": {"schedule": "event", "max_records": 300}}]}
CONF
}
prepare() { # $1 run dir
    mkdir -p "$1/inbox" "$1/state" "$1/out"
    conf "$1"
    cp "$T/ecd.csv" "$1/inbox/"
}
once() { # $1 run dir
    "$B/zinvold" --once --config "$1/zinvol.conf" >>"$1/log" 2>&1 || { echo "signals_crash: zinvold --once in $1 failed:" >&2; tail -20 "$1/log" >&2; exit 1; }
}
units() { # units the plugin committed so far
    python3 - "$1/state/plugins/format/regio-signalen/signals.db" <<'PY'
import sqlite3, sys, os
if not os.path.exists(sys.argv[1]): print(0); sys.exit()
try:
    print(sqlite3.connect(sys.argv[1], timeout=5).execute("SELECT count(*) FROM changes").fetchone()[0])
except sqlite3.Error:
    print(0)
PY
}

prepare "$T/clean"
once "$T/clean"

prepare "$T/crash"
kills=0
for delay in 0 0.4; do
    before=$(units "$T/crash")
    "$B/zinvold" --once --config "$T/crash/zinvol.conf" >>"$T/crash/log" 2>&1 &
    DPID=$!
    # Until the plugin has committed a unit more than before, then a little later.
    for _ in $(seq 600); do
        [ "$(units "$T/crash")" -gt "$before" ] && break
        kill -0 "$DPID" 2>/dev/null || break
        sleep 0.05
    done
    sleep "$delay"
    if kill -9 "$DPID" 2>/dev/null; then kills=$((kills + 1)); fi
    wait "$DPID" 2>/dev/null || true
    DPID=
done
[ "$kills" -ge 1 ] || { echo "signals_crash: the run ended before any kill; raise ZV_SIGNALS_CRASH_ROWS" >&2; exit 1; }
once "$T/crash"
[ -z "$(ls "$T/crash/inbox"/*.csv 2>/dev/null)" ] || { echo "signals_crash: the export was not read to the end" >&2; exit 1; }

python3 - "$T" "$ROWS" "$kills" <<'PY'
import json, sqlite3, sys, pathlib
t, rows, kills = pathlib.Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
def last_counts(run):
    best = {}
    for p in (t / run / "out").glob("*.json"):
        d = json.load(open(p))
        if d.get("final"): continue
        lab, b = d["period"]["label"], int(d["batch_id"])
        if lab not in best or b > best[lab][0]:
            best[lab] = (b, [(m["id"], m.get("total"), json.dumps(m.get("cells"), sort_keys=True))
                             for m in d["measures"]])
    return {k: v[1] for k, v in best.items()}
clean, crash = last_counts("clean"), last_counts("crash")
bad = 0
if len(clean) < 8:
    print(f"clean run gave {len(clean)} periods, expected 8", file=sys.stderr); bad += 1
for lab in sorted(set(clean) | set(crash)):
    if clean.get(lab) != crash.get(lab):
        print(f"period {lab}: counts after the crashes differ from the clean run", file=sys.stderr)
        bad += 1
for run in ("clean", "crash"):
    db = sqlite3.connect(t / run / "state" / "zinvol.db")
    counted = db.execute("SELECT coalesce(sum(n),0) FROM counters WHERE destination='regio-signalen'"
                         " AND field='record' AND what='counted'").fetchone()[0]
    nc = dict(db.execute("SELECT field, n FROM counters WHERE destination='regio-signalen'"
                         " AND what='not_counted'").fetchall())
    staged = db.execute("SELECT count(*) FROM staged").fetchone()[0]
    disclosed = db.execute("SELECT count(*) FROM disclosure").fetchone()[0]
    if counted + sum(nc.values()) != rows:
        print(f"{run}: {counted} counted + {sum(nc.values())} not counted, expected {rows} rows once",
              file=sys.stderr); bad += 1
    if staged or disclosed:
        print(f"{run}: {staged} rows left staged, {disclosed} disclosure rows", file=sys.stderr); bad += 1
if bad: sys.exit(1)
print(f"ok: {rows} rows, {kills} kills, {len(clean)} periods with the same counts as the clean run")
PY
