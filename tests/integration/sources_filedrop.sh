#!/usr/bin/env bash
# The filedrop source through the real daemon (zinvold --once, real SQLite
# store): the demo generator's export is mapped with conf/demo/mapping-ecd.json,
# the deliberately bad rows land in quarantine naming their field (no BSN in
# clear), the file moves to done/, and the same export dropped again is
# recognised record by record (nothing new staged, quarantined or sent).
set -euo pipefail
: "${ZV_SOURCE_DIR:?}" "${ZV_BUILD_DIR:?}" "${ZV_PLUGIN_DIR:?}"
tmp=$(mktemp -d /tmp/zv-src-int-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/inbox" "$tmp/state" "$tmp/out"

python3 "$ZV_SOURCE_DIR/conf/demo/generate-ecd" --clients 40 --seed 11 --format csv \
    --out "$tmp" --name ecd-export 2>/dev/null
cp "$tmp/ecd-export.csv" "$tmp/inbox/"

python3 - "$tmp" "$ZV_SOURCE_DIR" <<'PY'
import json, sys
tmp, src = sys.argv[1], sys.argv[2]
mapping = json.load(open(src + "/conf/demo/mapping-ecd.json"))
conf = {
    "state_dir": tmp + "/state",
    "catalogue_dir": src + "/conf/catalogue",
    "organisation": {"agb": "12345678", "name": "Zorggroep Test"},
    "sources": [{"name": "ecd", "type": "filedrop",
                 "options": {"directory": tmp + "/inbox", "delimiter": ";", "settle": "0s",
                             "batch_rows": 7},
                 "mapping": mapping}],
    "destinations": [{"name": "monitor", "format": "json", "transport": "filedrop",
                      "transport_options": {"dir": tmp + "/out"},
                      "catalogue": {"file": "json-example.json"},
                      "policy": {"threshold": "contract"}}],
}
json.dump(conf, open(tmp + "/zinvol.conf", "w"), indent=1)
PY

run() { "$ZV_BUILD_DIR/zinvold" --once --config "$tmp/zinvol.conf" --plugin-dir "$ZV_PLUGIN_DIR" \
            >>"$tmp/zinvold.out" 2>>"$tmp/zinvold.log"; }
fail() { echo "FAIL: $*"; echo "--- log"; tail -30 "$tmp/zinvold.log"; exit 1; }

run || fail "zinvold --once exited with $?"
db="$tmp/state/zinvol.db"
[ -f "$db" ] || fail "no store at $db"
[ -f "$tmp/inbox/done/ecd-export.csv" ] || fail "export not moved to done/"
[ ! -e "$tmp/inbox/ecd-export.csv" ] || fail "export still in the inbox"

q=$(sqlite3 "$db" "SELECT count(*) FROM quarantine WHERE stage='mapping'")
[ "$q" = 3 ] || fail "expected 3 quarantined records, got $q"
for f in client.bsn client.birth_date delivery.start; do
    n=$(sqlite3 "$db" "SELECT count(*) FROM quarantine WHERE field='$f'")
    [ "$n" = 1 ] || fail "no quarantine entry for $f"
done
# Reasons never carry a BSN in clear (the test range starts with 9999).
if sqlite3 "$db" "SELECT reason FROM quarantine" | grep -Eq '9999[0-9]{5}'; then
    fail "a BSN in clear in a quarantine reason"
fi
staged=$(sqlite3 "$db" "SELECT count(*) FROM seen WHERE source='ecd'")
rows=$(($(wc -l <"$tmp/ecd-export.csv") - 1))
[ "$staged" = "$rows" ] || fail "seen $staged of $rows rows"
fin=$(sqlite3 "$db" "SELECT value FROM watermark WHERE source='ecd' AND key='finished'")
case "$fin" in ecd-export.csv\|*) ;; *) fail "finished watermark is '$fin'" ;; esac

# The same export dropped again: every record is a duplicate.
out_before=$(sqlite3 "$db" "SELECT count(*) FROM outbox")
[ "$out_before" -gt 0 ] || fail "nothing reached the outbox"
ls "$tmp/out" | grep -q . || fail "no message delivered to the transport's directory"
cp "$tmp/ecd-export.csv" "$tmp/inbox/"
touch -d '-1 hour' "$tmp/inbox/ecd-export.csv"
run || fail "second run exited with $?"
[ -f "$tmp/inbox/done/ecd-export.csv.1" ] || fail "second drop not moved to done/"
q2=$(sqlite3 "$db" "SELECT count(*) FROM quarantine")
out_after=$(sqlite3 "$db" "SELECT count(*) FROM outbox")
[ "$q2" = 3 ] || fail "re-drop quarantined again ($q2)"
[ "$out_after" = "$out_before" ] || fail "re-drop produced new messages ($out_before -> $out_after)"
echo "ok: $rows rows, 3 quarantined, re-drop recognised"
