#!/usr/bin/env bash
# Change detection on what would be sent (issue 12 item 3), through the real
# zinvold --once on a real store: an iWlz destination per zorgkantoor and a
# JSON monitor.  The same export dropped again sends nothing and says
# "N unchanged"; a change in a column no destination receives (postcode)
# sends nothing; one sent field changed (a family name) goes, to the one
# destination that receives the record, as the iWlz standard wants it (no
# "changed" AW35, CS058/TR074): the AW35 as sent withdrawn (StatusAanlevering
# 3), then the record anew (1) - two messages, each carrying it alone.
set -euo pipefail
: "${ZV_SOURCE_DIR:?}" "${ZV_BUILD_DIR:?}" "${ZV_PLUGIN_DIR:?}"
tmp=$(mktemp -d /tmp/zv-change-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/inbox" "$tmp/state" "$tmp/out/zk-5501" "$tmp/out/zk-5502" "$tmp/out/monitor"

python3 "$ZV_SOURCE_DIR/conf/demo/generate-ecd" --clients 30 --seed 7 --format csv --bad 0 \
    --out "$tmp" --name export 2>/dev/null

python3 - "$tmp" "$ZV_SOURCE_DIR" <<'PY'
import json, sys
tmp, src = sys.argv[1], sys.argv[2]
mapping = json.load(open(src + "/conf/demo/mapping-ecd.json"))
def iwlz(zk):
    return {"name": "zk-" + zk, "format": "iwlz", "transport": "filedrop",
            "match": {"entitlement.funder": zk}, "format_options": {"zorgkantoor": zk},
            "transport_options": {"dir": tmp + "/out/zk-" + zk}}
conf = {
    "state_dir": tmp + "/state",
    "catalogue_dir": src + "/conf/catalogue",
    "organisation": {"agb": "12345678", "name": "Zorggroep Test"},
    "sources": [{"name": "ecd", "type": "filedrop",
                 "options": {"directory": tmp + "/inbox", "delimiter": ";", "settle": "0s"},
                 "mapping": mapping}],
    "destinations": [iwlz("5501"), iwlz("5502"),
                     {"name": "monitor", "format": "json", "transport": "filedrop",
                      "match": {"entitlement.law": "wlz"},
                      "transport_options": {"dir": tmp + "/out/monitor"},
                      "catalogue": {"file": "json-example.json"}}],
}
json.dump(conf, open(tmp + "/zinvol.conf", "w"), indent=1)
PY

db="$tmp/state/zinvol.db"
fail() { echo "FAIL: $*"; echo "--- last summary"; tail -1 "$tmp/zinvold.out"; echo "--- log"; tail -30 "$tmp/zinvold.log"; exit 1; }
q() { sqlite3 "$db" "$1"; }
# drop NAME: the export (as edited) under another file name, one --once run.
drop() {
    cp "$tmp/export.csv" "$tmp/inbox/export_$1.csv"
    touch -d '-1 hour' "$tmp/inbox/export_$1.csv"
    "$ZV_BUILD_DIR/zinvold" --once --config "$tmp/zinvol.conf" --plugin-dir "$ZV_PLUGIN_DIR" \
        >>"$tmp/zinvold.out" 2>>"$tmp/zinvold.log" || fail "zinvold --once ($1) exited with $?"
}
# summary DEST: "<staged> <messages> <quarantined> <unchanged>" of the last run.
summary() {
    tail -1 "$tmp/zinvold.out" |
        sed -nE "s/.*$1: ([0-9]+) records staged, ([0-9]+) messages out, ([0-9]+) quarantined, ([0-9]+) unchanged.*/\\1 \\2 \\3 \\4/p"
}
messages() { q "SELECT count(*) FROM outbox WHERE destination='$1'"; }
records() { q "SELECT coalesce(sum(json_array_length(records_json)), 0) FROM outbox WHERE destination='$1'"; }

# 1. The first drop: everything is new.
drop first
rows=$(($(wc -l <"$tmp/export.csv") - 1))
for d in zk-5501 zk-5502 monitor; do
    [ "$(messages $d)" -ge 1 ] || fail "$d got no message"
    eval "m1_$(echo $d | tr - _)=$(messages $d) r1_$(echo $d | tr - _)=$(records $d)"
done
[ "$(q "SELECT count(*) FROM quarantine")" = 0 ] || fail "clean export quarantined something"
wlz=$(awk -F';' 'NR > 1 && toupper($13) == "WLZ"' "$tmp/export.csv" | wc -l)
[ "$r1_monitor" = "$wlz" ] || fail "monitor carries $r1_monitor of $wlz Wlz rows"
[ $((r1_zk_5501 + r1_zk_5502)) = "$wlz" ] || fail "zorgkantoren carry $((r1_zk_5501 + r1_zk_5502)) of $wlz"

# 2. The same export dropped again: nothing new, every record said unchanged.
drop again
for d in zk-5501 zk-5502 monitor; do
    v=$(echo $d | tr - _)
    m=m1_$v r=r1_$v
    [ "$(messages $d)" = "${!m}" ] || fail "re-drop sent to $d ($(messages $d) messages, was ${!m})"
    [ "$(summary $d)" = "0 0 0 ${!r}" ] || fail "$d summary after re-drop: $(summary $d), want 0 0 0 ${!r}"
done
tail -1 "$tmp/zinvold.out" | grep -q "records in: $rows (quarantined at mapping: 0, $rows unchanged)" ||
    fail "re-drop summary does not say $rows unchanged"

# 3. A postcode changed (no destination receives it): nothing is sent.
row=$(python3 - "$tmp/export.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=";"))
h = rows[0]
i = next(n for n, r in enumerate(rows[1:], 1) if r[h.index("financier")] == "5501"
         and r[h.index("wet")].upper() == "WLZ")
rows[i][h.index("postcode")] = "1011AB" if rows[i][h.index("postcode")] != "1011AB" else "1012CD"
csv.writer(open(sys.argv[1], "w", newline=""), delimiter=";", lineterminator="\n").writerows(rows)
print(rows[i][h.index("leveringsnummer")])
PY
)
drop postcode
for d in zk-5501 zk-5502 monitor; do
    m=m1_$(echo $d | tr - _)
    [ "$(messages $d)" = "${!m}" ] || fail "a postcode change sent a message to $d"
done
[ "$(summary zk-5501)" = "0 0 0 $r1_zk_5501" ] || fail "zk-5501 after postcode: $(summary zk-5501)"

# 4. The same row's family name changed (AW35 Achternaam): to zk-5501 only,
#    its withdrawal then the record anew, each message carrying it alone.
python3 - "$tmp/export.csv" "$row" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=";"))
h = rows[0]
for r in rows[1:]:
    if r[h.index("leveringsnummer")] == sys.argv[2]:
        r[h.index("achternaam")] = "Veranderd"
csv.writer(open(sys.argv[1], "w", newline=""), delimiter=";", lineterminator="\n").writerows(rows)
PY
drop name
[ "$(messages zk-5501)" = $((m1_zk_5501 + 2)) ] || fail "zk-5501: $(messages zk-5501) messages, want $((m1_zk_5501 + 2))"
[ "$(messages zk-5502)" = "$m1_zk_5502" ] || fail "a name change for 5501 sent to zk-5502"
# The monitor's catalogue has no family name: nothing new for it either.
[ "$(messages monitor)" = "$m1_monitor" ] || fail "a field the monitor does not receive sent it a message"
python3 - "$tmp/state/zinvol.db" "$row" <<'PY' || fail "not the withdrawal then the changed record"
import json, sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute(
    "SELECT records_json, CAST(payload AS TEXT) FROM outbox WHERE destination = 'zk-5501' "
    "ORDER BY id DESC LIMIT 2").fetchall()
new, old = rows
for recs, _ in rows:
    assert [r["record_id"] for r in json.loads(recs)] == [sys.argv[2]], recs
assert "StatusAanlevering>3<" in old[1] and "Veranderd" not in old[1], old[1]
assert "StatusAanlevering>1<" in new[1] and "Veranderd" in new[1], new[1]
PY
[ "$(summary zk-5501)" = "1 2 0 $((r1_zk_5501 - 1))" ] || fail "zk-5501 after name change: $(summary zk-5501)"

# 5. Dropped once more: the changed row is now what was last sent.
drop name-again
[ "$(messages zk-5501)" = $((m1_zk_5501 + 2)) ] || fail "the changed row went out twice"
echo "ok: $rows rows; re-drop, postcode change: nothing sent; name change: withdrawal + new AW35, 1 record each"
