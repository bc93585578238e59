#!/bin/bash
# Issue 12 items 1 and 2 through the real zinvold --once and zinvolctl on a
# real store: the quarantine keeps the raw item, the source and mapping
# version, the stage and every reason; retry runs the raw item through the
# CURRENT mapping, catalogue, routing and format (a record the XSD refused
# is fixed by the mapping and goes out); show / list filters / export csv
# (BSNs masked); drop audited; a corrected version supersedes the old entry;
# no entry ever leaves without an audit entry.
set -euo pipefail
B=${ZV_BUILD_DIR:?}
S=${ZV_SOURCE_DIR:?}
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 CLI missing"; exit 77; }
T=$(mktemp -d /tmp/zv-lifeq-XXXXXX)
trap '[ -n "${ZV_KEEP:-}" ] || rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
export ZINVOL_PLUGIN_DIR=${ZV_PLUGIN_DIR:-$B/plugins}
mkdir -p "$T/inbox" "$T/gen" "$T/out"
DB=$T/state/zinvol.db
q() { sqlite3 "$DB" "$1"; }
ctl() { "$B/zinvolctl" -c "$T/z.conf" "$@"; }
once() {
    local st=0
    "$B/zinvold" --once --config "$T/z.conf" 2>>"$T/zinvold.log" || st=$?
    [ $st = 0 ] || { tail -20 "$T/zinvold.log"; fail "zinvold --once exited $st"; }
}

python3 "$S/conf/demo/generate-ecd" --clients 26 --seed 11 --bad 0 --out "$T/gen" --format csv \
    --name export >/dev/null 2>&1
# conf.py broken|fixed writes the config: the broken mapping has no code
# for geslacht V and takes functie as it is; the fixed one maps V and
# corrects functie 99 (which only the official AW35 XSD refuses) to 31.
cat >"$T/conf.py" <<'PY'
import csv, json, sys
S, T, which = sys.argv[1:]
m = json.load(open(S + "/conf/demo/mapping-ecd.json"))
funcs = sorted({r["functie"] for r in csv.DictReader(open(T + "/gen/export.csv"), delimiter=";")
                if r["functie"]} | {"31"})
for rule in m["records"]:
    f = rule["fields"]
    if which == "broken":
        if "client.sex" in f:
            del f["client.sex"]["map"]["V"]
    elif "entitlement.function_code" in f:
        f["entitlement.function_code"] = {"from": "functie",
                                          "map": dict({x: x for x in funcs}, **{"99": "31"})}
def dest(name, fmt, match, opts):
    return {"name": name, "format": fmt, "transport": "filedrop", "match": match,
            "format_options": opts, "transport_options": {"dir": T + "/out/" + name},
            "policy": {"threshold": "contract", "schedule": "event"}}
conf = {"state_dir": T + "/state", "catalogue_dir": S + "/conf/catalogue", "log_level": "info",
        "organisation": {"agb": "12345678", "name": "Lifecycle"},
        "sources": [{"name": "ecd", "type": "filedrop", "mapping": m,
                     "options": {"directory": T + "/inbox", "delimiter": ";", "settle": "0s"}}],
        "destinations": [
            dest("zk-5501", "iwlz", {"entitlement.funder": "5501"}, {"zorgkantoor": "5501"}),
            dest("zk-5502", "iwlz", {"entitlement.funder": "5502"}, {"zorgkantoor": "5502"}),
            dest("gem-0363", "ijw", {"entitlement.funder": "0363", "entitlement.law": "jw"},
                 {"standard": "jw", "variant": "inspanningsgericht", "gemeente": "0363"}),
            dest("gem-0599", "ijw", {"entitlement.funder": "0599", "entitlement.law": "jw"},
                 {"standard": "jw", "variant": "inspanningsgericht", "gemeente": "0599"}),
            dest("gem-wmo", "ijw", {"entitlement.law": "wmo"},
                 {"standard": "wmo", "variant": "inspanningsgericht"})]}
for d in conf["destinations"]:
    import os
    os.makedirs(d["transport_options"]["dir"], exist_ok=True)
json.dump(conf, open(T + "/z.conf", "w"), indent=1)
PY
# The first export: the last two rows are held back for later steps; one
# Wlz row of zk-5501 (a man, so the mapping takes him) gets functie 99.
python3 - "$T" <<'PY'
import csv, json, sys
T = sys.argv[1]
rows = list(csv.DictReader(open(T + "/gen/export.csv", newline=""), delimiter=";"))
cols = list(rows[0].keys())
per = {}
for r in rows:
    per[r["clientnummer"]] = per.get(r["clientnummer"], 0) + 1
later, first = rows[-2:], rows[:-2]
xsd = next(r for r in first if r["wet"] == "WLZ" and r["financier"] == "5501" and
           not r["zorg_eind"] and r["geslacht"] == "M" and per[r["clientnummer"]] == 1)
xsd.update(zzp="", functie="99", leveringsvorm="7", klasse="K1")
def write(name, rs):
    with open(T + "/" + name, "w", newline="") as f:
        w = csv.DictWriter(f, cols, delimiter=";")
        w.writeheader()
        w.writerows(rs)
write("export1.csv", first)
nv = sum(1 for r in first if r["geslacht"] == "V")
# Later: one row with a BSN failing the elfproef (dropped by the operator),
# one with geslacht X (then corrected: superseded).
bad_bsn = dict(later[0], bsn="123456789")
bad_sex = dict(later[1], geslacht="X")
write("bad.csv", [bad_bsn, bad_sex])
write("corrected.csv", [dict(later[1], geslacht="M")])
json.dump({"nv": nv, "xsd": xsd["leveringsnummer"], "xsd_bsn": xsd["bsn"],
           "bsns": sorted({r["bsn"] for r in rows}), "bad_bsn": bad_bsn["leveringsnummer"],
           "bad_sex": bad_sex["leveringsnummer"]}, open(T + "/facts.json", "w"))
PY
fact() { python3 -c "import json,sys; print(json.load(open('$T/facts.json'))['$1'])"; }
NV=$(fact nv)
XSD=$(fact xsd)
XSD_BSN=$(fact xsd_bsn)
[ "$NV" -ge 3 ] || fail "the export has only $NV rows with geslacht V"

python3 "$T/conf.py" "$S" "$T" broken
cp "$T/export1.csv" "$T/inbox/"
once
OPEN=$(q "SELECT count(*) FROM quarantine WHERE state = 'open'")
[ "$OPEN" = $((NV + 1)) ] || fail "quarantined: $OPEN, expected $NV at the mapping + 1 at the XSD: $(ctl quarantine list)"
[ "$(q "SELECT count(*) FROM quarantine WHERE stage = 'mapping'")" = "$NV" ] || fail "mapping entries"
QX=$(q "SELECT id FROM quarantine WHERE record_id = '$XSD'")
[ "$(q "SELECT stage || ' ' || destination FROM quarantine WHERE id = $QX")" = "schema zk-5501" ] ||
    fail "the functie 99 record: $(q "SELECT stage, destination, reason FROM quarantine WHERE id = $QX")"
# The raw item, versions and reasons are kept for every stage.
[ "$(q "SELECT count(*) FROM quarantine WHERE item_json LIKE '%functie%' AND mapping_version IS NOT NULL
        AND source_version LIKE 'filedrop %' AND json_array_length(reasons) >= 1")" = "$OPEN" ] ||
    fail "entries without raw item, versions or reasons: $(q "SELECT id, stage, mapping_version, source_version FROM quarantine")"
[ "$(q "SELECT count(*) FROM source_item")" = 0 ] || fail "source items kept after they were rendered"

# ---- show, list filters, export ----
ctl quarantine show "$QX" >"$T/show.json"
python3 - "$T/show.json" "$XSD_BSN" <<'PY' || fail "quarantine show: $(cat "$T/show.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["stage"] == "schema" and d["destination"] == "zk-5501", d
assert dict(d["item"]["fields"])["functie"] == "99", d["item"]
assert d["mapping_version"] and d["source_version"].startswith("filedrop"), d
assert d["reasons"] and all("reason" in r for r in d["reasons"]), d
assert sys.argv[2] not in open(sys.argv[1]).read(), "BSN in clear"
PY
lines() { ctl quarantine list "$@" | tail -n +2 | wc -l; }
[ "$(lines)" = "$OPEN" ] || fail "list"
[ "$(lines --stage schema)" = 1 ] || fail "list --stage schema"
[ "$(lines --stage mapping --source ecd)" = "$NV" ] || fail "list --stage mapping --source ecd"
[ "$(lines --source other)" = 0 ] || fail "list --source other"
[ "$(lines --reason geslacht)" = "$NV" ] || fail "list --reason geslacht: $(ctl quarantine list --reason geslacht)"
[ "$(lines --since 1d)" = "$OPEN" ] || fail "list --since 1d"
[ "$(lines --since 2099-01-01)" = 0 ] || fail "list --since a future date"
ctl quarantine list --since yesterday >/dev/null 2>&1 && fail "a bad --since was taken"
ctl quarantine export --format csv --output "$T/q.csv"
python3 - "$T/q.csv" "$OPEN" "$T/facts.json" <<'PY' || fail "export csv"
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert len(rows) == int(sys.argv[2]), len(rows)
assert {"id", "stage", "reason", "all_reasons", "item", "mapping_version"} <= set(rows[0])
text = open(sys.argv[1]).read()
leaked = [b for b in json.load(open(sys.argv[3]))["bsns"] if b in text]
assert not leaked, "BSNs in clear: %s" % leaked
assert all(r["item"] for r in rows)
PY

# ---- the mapping is fixed: retry sends exactly the fixed records ----
python3 "$T/conf.py" "$S" "$T" fixed
BEFORE=$(q "SELECT count(*) FROM outbox")
ctl quarantine retry --all >"$T/retry.out"
[ "$(grep -c ': staged: queued for ' "$T/retry.out")" = "$OPEN" ] || fail "retry --all: $(cat "$T/retry.out")"
grep -q "^$QX: staged: queued for zk-5501 (1 message made)" "$T/retry.out" || fail "the XSD record: $(grep "^$QX:" "$T/retry.out")"
[ "$(q "SELECT count(*) FROM quarantine")" = 0 ] || fail "entries left open: $(ctl quarantine list)"
[ "$(q "SELECT count(*) FROM quarantine_closed WHERE outcome = 'staged'")" = "$OPEN" ] || fail "closed as staged"
NEW=$(( $(q "SELECT count(*) FROM outbox") - BEFORE ))
[ "$NEW" -ge 1 ] || fail "no message made"
# The refused functie went out as 31, taken from the raw item with the new mapping.
[ "$(q "SELECT count(*) FROM outbox WHERE destination = 'zk-5501' AND id > $BEFORE AND
        instr(CAST(payload AS TEXT), '$XSD_BSN') > 0")" = 1 ] || fail "the fixed record is in no zk-5501 message"
# Exactly the fixed records: the payloads made by the retry carry OPEN records.
[ "$(q "SELECT sum(json_array_length(records_json)) FROM outbox WHERE id > $BEFORE")" = "$OPEN" ] ||
    fail "the retry's messages carry $(q "SELECT sum(json_array_length(records_json)) FROM outbox WHERE id > $BEFORE") records, not $OPEN"
once
[ "$(q "SELECT count(*) FROM outbox WHERE id > $BEFORE AND state = 'delivered'")" = "$NEW" ] ||
    fail "the retried messages were not delivered"
ctl quarantine list --state staged | grep -q "^$QX .* staged " || fail "list --state staged"

# ---- drop (audited) and supersede ----
cp "$T/bad.csv" "$T/inbox/"
once
BADB=$(fact bad_bsn)
BADS=$(fact bad_sex)
QB=$(q "SELECT id FROM quarantine WHERE record_id = '$BADB'")
QS=$(q "SELECT id FROM quarantine WHERE record_id = '$BADS'")
[ -n "$QB" ] && [ -n "$QS" ] || fail "the bad rows were not quarantined: $(ctl quarantine list)"
ctl quarantine drop "$QB" | grep -q "^$QB: dropped: dropped (recorded in the audit trail)" || fail "drop"
q "SELECT detail FROM audit WHERE kind = 'quarantine'" | grep -q "quarantine entry $QB (ecd/$BADB, mapping) dropped: by uid $(id -u)" ||
    fail "drop not audited"
! ctl quarantine retry "$QB" >"$T/closed.out" || fail "a dropped entry was retried"
grep -q "^$QB: quarantine entry $QB is closed (dropped)" "$T/closed.out" || fail "retry of a closed entry: $(cat "$T/closed.out")"
cp "$T/corrected.csv" "$T/inbox/"
once
[ "$(q "SELECT outcome FROM quarantine_closed WHERE id = $QS")" = superseded ] ||
    fail "the corrected record did not supersede entry $QS"
ctl quarantine list --state superseded | grep -q "^$QS .* superseded " || fail "list --state superseded"
q "SELECT detail FROM audit WHERE kind = 'quarantine'" | grep -q "quarantine entry $QS .* superseded: a newer version" ||
    fail "supersede not audited"
[ "$(q "SELECT count(*) FROM quarantine")" = 0 ] || fail "open entries left: $(ctl quarantine list)"
[ "$(q "SELECT count(*) FROM outbox WHERE instr(records_json, '$BADS') > 0")" = 1 ] ||
    fail "the corrected record was not sent once"

# Never silently: every closed entry has its audit entry, the chain holds.
[ "$(q "SELECT count(*) FROM quarantine_closed")" = "$(q "SELECT count(*) FROM audit WHERE kind = 'quarantine'")" ] ||
    fail "closed entries without an audit entry"
ctl audit verify >/dev/null || fail "audit trail broken"
echo "ok: $OPEN quarantined ($NV mapping, 1 XSD), $OPEN retried into $NEW messages, 1 dropped, 1 superseded"
