#!/bin/bash
# Work units in daemon mode (issue 13 item 2): zinvold running normally, a
# batch window closing over 200+ staged records renders them in units of
# max_records, one loop turn each, until nothing is left; a record whose
# message alone is larger than max_bytes goes to quarantine (ZV-SIZE) and
# the rest is sent; SIGTERM ends it with 0.
set -euo pipefail
B=${ZV_BUILD_DIR:?}
S=${ZV_SOURCE_DIR:?}
P=${ZV_PLUGIN_DIR:?}
TP=${ZV_TEST_PLUGIN_DIR:?}
[ -f "$TP/fmt_refuse.so" ] || cmake --build "$B" --target fmt_refuse >/dev/null
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 CLI missing"; exit 77; }
T=$(mktemp -d /tmp/zv-units-XXXXXX)
DPID=
cleanup() {
    [ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null
    wait 2>/dev/null || true
    [ -n "${ZV_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/plugins" "$T/inbox" "$T/state" "$T/out" "$T/gen"
ln -s "$P"/*.so "$T/plugins/"
ln -s "$TP/fmt_refuse.so" "$T/plugins/"

python3 "$S/conf/demo/generate-ecd" --clients 200 --seed 9 --bad 0 --out "$T/gen" --format csv \
    --name ecd-export 2>/dev/null
# One family name so long that its line alone exceeds max_bytes.
python3 - "$T/gen/ecd-export.csv" <<'PY'
import sys
p = sys.argv[1]
lines = open(p, encoding="utf-8", newline="").read().split("\r\n")
head = lines[0].split(";")
i = head.index("achternaam")
for n, line in enumerate(lines[1:], 1):
    f = line.split(";")
    if len(f) == len(head) and "WLZ" in f:
        f[i] = "Lang" * 300
        lines[n] = ";".join(f)
        print(f[head.index("leveringsnummer")], file=open(p + ".big", "w"))
        break
open(p, "w", encoding="utf-8", newline="").write("\r\n".join(lines))
PY
python3 - "$S" "$T" >"$T/z.conf" <<'PY'
import json, sys
S, T = sys.argv[1:]
family = {"field": "client.family_name", "element": "LINES.family_name", "level": "contract",
          "citation": "test", "frequency": "event", "purpose": "test"}
print(json.dumps({
    "state_dir": T + "/state", "catalogue_dir": S + "/conf/catalogue",
    "plugin_dir": T + "/plugins", "log_level": "info",
    "organisation": {"agb": "12345678", "name": "Test"},
    "sources": [{"name": "ecd", "type": "filedrop",
                 "options": {"directory": T + "/inbox", "delimiter": ";", "settle": "0s"},
                 "mapping": json.load(open(S + "/conf/demo/mapping-ecd.json"))}],
    "destinations": [
        {"name": "lines", "format": "refuse", "transport": "filedrop",
         "catalogue": {"file": "json-example.json", "fields": [family]},
         "transport_options": {"dir": T + "/out"},
         "policy": {"batch_window": "1s", "max_records": 5, "max_bytes": 1024,
                    "concurrency": 16}}]}))
PY

"$B/zinvold" --config "$T/z.conf" 2>"$T/log" &
DPID=$!
cp "$T/gen/ecd-export.csv" "$T/inbox/ecd-export.csv.part"
mv "$T/inbox/ecd-export.csv.part" "$T/inbox/ecd-export.csv"
rows=$(($(wc -l <"$T/gen/ecd-export.csv") - 1))
q() { sqlite3 "$T/state/zinvol.db" "$1" 2>/dev/null || echo -1; }
for _ in $(seq 600); do
    staged=$(q "SELECT count(*) FROM staged")
    pending=$(q "SELECT count(*) FROM outbox WHERE state <> 'delivered'")
    delivered=$(q "SELECT coalesce(sum(json_array_length(records_json)), 0) FROM outbox WHERE state = 'delivered'")
    quarantined=$(q "SELECT count(*) FROM quarantine")
    [ "$staged" = 0 ] && [ "$pending" = 0 ] && [ $((delivered + quarantined)) -ge "$rows" ] && break
    sleep 0.2
done
kill -TERM "$DPID"
status=0
wait "$DPID" || status=$?
DPID=
fail() { echo "FAIL: $*"; tail -20 "$T/log"; exit 1; }
[ "$status" = 0 ] || fail "zinvold exited $status on SIGTERM"
[ $((delivered + quarantined)) = "$rows" ] || fail "$delivered delivered + $quarantined quarantined of $rows"
big=$(cat "$T/gen/ecd-export.csv.big")
[ "$(q "SELECT rule || ' ' || stage FROM quarantine WHERE record_id = '$big'")" = "ZV-SIZE render" ] ||
    fail "the oversized record is not quarantined with ZV-SIZE: $(q 'SELECT record_id, rule, reason FROM quarantine')"
[ "$quarantined" = 1 ] || fail "$quarantined quarantined, expected only the oversized record"
max=$(q "SELECT max(json_array_length(records_json)) FROM outbox")
big_payload=$(q "SELECT max(length(payload)) FROM outbox")
units=$(q "SELECT count(*) FROM outbox")
[ "$max" -le 5 ] || fail "a message carries $max records (max_records 5)"
[ "$big_payload" -le 1024 ] || fail "a message of $big_payload bytes (max_bytes 1024)"
[ "$units" -ge $(((rows - 1) / 5)) ] || fail "only $units messages for $rows records"
[ "$(ls "$T/out" | wc -l)" = "$units" ] || fail "files in the drop folder differ from the outbox"
echo "OK: $rows records in $units messages of at most 5 records and 1024 bytes; the oversized one quarantined (ZV-SIZE)"
