#!/usr/bin/env bash
# Hostile file drops through the real daemon (zinvold --once, real SQLite
# store, json format, filedrop transport).  Issue 10 rows D1, D2, D3, D7, D8
# and D14, issue 12 items 7b and 8b, issue 14 item 5 (one log line per file):
#  - every poison record is quarantined naming its field, the good records
#    of the same files are delivered, and --once ends (and exits 0);
#  - nothing from a "\u0000" or a NUL byte ever replaces another field;
#  - a 200,000-column CSV is refused quickly; links and pipes are refused
#    without being read;
#  - a file still being written when --once starts is waited for;
#  - done/ is pruned after `retention`.
set -euo pipefail
: "${ZV_SOURCE_DIR:?}" "${ZV_BUILD_DIR:?}" "${ZV_PLUGIN_DIR:?}"
tmp=$(mktemp -d /tmp/zv-hostile-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
in="$tmp/inbox"
mkdir -p "$in" "$tmp/state" "$tmp/out-5501" "$tmp/out-5599"

python3 - "$tmp" "$ZV_SOURCE_DIR" <<'PY'
import json, sys
tmp, src = sys.argv[1], sys.argv[2]
fields_csv = {"client.id": "id", "client.bsn": "bsn", "client.family_name": "naam",
              "entitlement.law": {"value": "wlz"}, "entitlement.funder": "funder",
              "delivery.start": "start", "delivery.care_form": {"value": "verblijf"},
              "client.birth_date": {"value": "1950-01-01"}}
fields_json = {k: ("/" + v if isinstance(v, str) else v) for k, v in fields_csv.items()}
fields_json["client.family_name"] = "/naam/family"
mapping = {"record_id": ["id", "/id"],
           "records": [{"when": {"type": "csv"}, "kind": "delivery", "fields": fields_csv},
                       {"kind": "delivery", "fields": fields_json}]}
def dest(funder):
    return {"name": "zk-" + funder, "format": "json", "transport": "filedrop",
            "transport_options": {"dir": tmp + "/out-" + funder},
            "catalogue": {"file": "json-example.json"},
            "match": {"entitlement.funder": [funder]},
            "policy": {"threshold": "contract", "batch_window": "1s"}}
conf = {
    "state_dir": tmp + "/state",
    "catalogue_dir": src + "/conf/catalogue",
    "organisation": {"agb": "12345678", "name": "Zorggroep Test"},
    "retention": "1d",
    "sources": [{"name": "ecd", "type": "filedrop",
                 "options": {"directory": tmp + "/inbox", "settle": "2s", "settle_wait": "1m",
                             "max_line_length": 4000000},
                 "mapping": mapping}],
    "destinations": [dest("5501"), dest("5599")],
}
json.dump(conf, open(tmp + "/zinvol.conf", "w"), indent=1)

# The drops, all complete except the last (written "now", see below).
good = lambda i, bsn: {"id": "g%d" % i, "bsn": bsn, "naam": {"family": "Goed%d" % i},
                       "funder": "5501", "start": "2026-01-05"}
# D1: the note comes first; its tail used to become fields of their own.
d1 = [{"id": "d1", "naam": {"family": "Notitie\u0000/bsn\u0000999900018\u0000/funder\u00005599"},
       "bsn": "999900006", "funder": "5501", "start": "2026-01-05"},
      good(1, "999900031")]
json.dump(d1, open(tmp + "/inbox/json-a.json", "w"))
lines = [json.dumps(good(2, "999900043")).encode(),
         # D2: a surrogate (ED A0 80) and an overlong form yajl lets through
         b'{"id": "s1", "bsn": "999900055", "naam": {"family": "Bak\xed\xa0\x80ker"}, '
         b'"funder": "5501", "start": "2026-01-05"}',
         b'{"id": "s2", "bsn": "999900067", "naam": {"family": "\xc0\xaf"}, '
         b'"funder": "5501", "start": "2026-01-05"}',
         # D3: a broken line longer than the raw cut, a character across byte 4096
         b'{"id": "s3", "naam": "' + b"x" * (4095 - 22) + "é".encode() + b' no end',
         json.dumps(good(3, "999900079")).encode()]
open(tmp + "/inbox/json-b.jsonl", "wb").write(b"\n".join(lines) + b"\n")
# D14: a NUL byte inside a CSV field
open(tmp + "/inbox/csv-c.csv", "wb").write(
    b"id,bsn,naam,funder,start\n"
    b"c1,999900080,Bakker\x00-Jansen,5501,2026-01-05\n"
    b"c2,999900092,Jansen,5501,2026-01-05\n")
# D2 in a CSV (encoding utf-8): the whole file is refused with the byte offset
open(tmp + "/inbox/csv-d.csv", "wb").write(
    b"id,bsn,naam,funder,start\nd1,999900109,Bak\xed\xa0\x80ker,5501,2026-01-05\n")
# D7: 200,000 columns
open(tmp + "/inbox/csv-e.csv", "w").write(
    ",".join("c%d" % i for i in range(200000)) + "\n" + ",".join("1" * 200000) + "\n")
PY

# D8: a link to a file outside the drop folder, and a named pipe.
printf 'id,bsn,naam,funder,start\nx,999900110,GEHEIM-UIT-ETC,5599,2026-01-05\n' >"$tmp/secret.csv"
ln -s "$tmp/secret.csv" "$in/csv-f.csv"
mkfifo "$in/csv-g.csv"
touch -h -d '-1 hour' "$in"/*.csv "$in"/*.json "$in"/*.jsonl
# 7b: written just before the run; --once must wait for it to settle.
printf 'id,bsn,naam,funder,start\nh1,999900122,Laat,5501,2026-01-05\n' >"$in/csv-h.csv"

run() {
    timeout -k 10 120 "$ZV_BUILD_DIR/zinvold" --once --config "$tmp/zinvol.conf" \
        --plugin-dir "$ZV_PLUGIN_DIR" >>"$tmp/zinvold.out" 2>>"$tmp/zinvold.log"
}
fail() { echo "FAIL: $*"; echo "--- log"; tail -40 "$tmp/zinvold.log"; exit 1; }
db="$tmp/state/zinvol.db"
q() { sqlite3 "$db" "$1"; }

start=$(date +%s)
rc=0
run || rc=$?
took=$(($(date +%s) - start))
[ "$rc" = 0 ] || fail "zinvold --once exited with $rc (124: it never ended)"
echo "--once took ${took}s"

# Every good record was delivered, to the right funder only.
# (by BSN: the json-example catalogue sends no client id or name)
for bsn in 999900031 999900043 999900079 999900092 999900122; do
    cat "$tmp/out-5501"/* 2>/dev/null | grep -q "\"$bsn\"" || fail "good record $bsn not delivered"
done
if ls "$tmp/out-5599" | grep -q .; then fail "something went to funder 5599: $(cat "$tmp/out-5599"/*)"; fi
if cat "$tmp/out-5501"/* | grep -q 999900018; then fail "the BSN from a note was sent"; fi
for bsn in 999900006 999900055 999900067 999900080; do
    if cat "$tmp/out-5501"/* | grep -q "$bsn"; then fail "poison record $bsn was sent"; fi
done

# The poison records: quarantined naming the field, one entry each.
reason() { q "SELECT field || ': ' || reason FROM quarantine WHERE record_id='$1'"; }
case "$(reason d1)" in "client.family_name: contains a control character (0x00"*) ;;
    *) fail "D1 entry: $(reason d1)" ;; esac
case "$(reason c1)" in "client.family_name: contains a control character (0x00 at byte 6)"*) ;;
    *) fail "D14 entry: $(reason c1)" ;; esac
case "$(reason s1)" in "record: value of field '/naam/family' is not valid UTF-8 at byte 3 (UTF-16 surrogate"*) ;;
    *) fail "D2 entry: $(reason s1)" ;; esac
case "$(reason s2)" in *"not valid UTF-8 at byte 0 (overlong"*) ;;
    *) fail "D2 overlong entry: $(reason s2)" ;; esac
case "$(reason json-b.jsonl:line4)" in "record: line 4: "*) ;;
    *) fail "D3 entry: $(reason json-b.jsonl:line4)" ;; esac
nq=$(q "SELECT count(*) FROM quarantine")
[ "$nq" = 5 ] || fail "expected 5 quarantine entries, got $nq: $(q 'SELECT record_id, reason FROM quarantine')"
# Kept exactly: the NUL byte survives in the kept item for a retry.
q "SELECT item_json FROM quarantine WHERE record_id='c1'" | grep -qF 'Bakker\u0000-Jansen' ||
    fail "D14 item not kept exactly"

# Rejected files, each with its reason; the link's target was never read.
why() { cat "$in/rejected/$1.reason" 2>/dev/null || echo "(no reason file)"; }
case "$(why csv-d.csv)" in *"not valid UTF-8 at byte 41 (line 2: UTF-16 surrogate"*) ;;
    *) fail "csv-d.csv: $(why csv-d.csv)" ;; esac
case "$(why csv-e.csv)" in *"more than max_columns (2000)"*) ;;
    *) fail "csv-e.csv: $(why csv-e.csv)" ;; esac
case "$(why csv-f.csv)" in *"symbolic link"*) ;; *) fail "csv-f.csv: $(why csv-f.csv)" ;; esac
case "$(why csv-g.csv)" in *"named pipe"*) ;; *) fail "csv-g.csv: $(why csv-g.csv)" ;; esac
[ -L "$in/rejected/csv-f.csv" ] || fail "the link itself was not moved to rejected/"
if q "SELECT item_json FROM quarantine" | grep -q GEHEIM; then fail "a link's target was read"; fi
if grep -q GEHEIM "$tmp/zinvold.log"; then fail "a link's target is in the log"; fi

# One info line per processed file.
grep -q 'json-b.jsonl processed: 5 rows, 2 new, 0 unchanged, 3 quarantined, 2 staged for destinations' "$tmp/zinvold.log" ||
    fail "no per-file line for json-b.jsonl"
grep -q 'csv-c.csv processed: 2 rows, 1 new, 0 unchanged, 1 quarantined, 1 staged for destinations' "$tmp/zinvold.log" ||
    fail "no per-file line for csv-c.csv"
grep -q 'waiting for 1 file(s) still being written' "$tmp/zinvold.log" || fail "no wait notice"
[ -f "$in/done/csv-h.csv" ] || fail "the file written just before the run was not processed"

# Dropped again: everything unchanged, said so; then done/ is pruned after
# the retention (1d) - counted from the move into done/.
cp "$in/done/csv-c.csv" "$in/csv-c2.csv"
touch -d '-1 hour' "$in/csv-c2.csv"
touch -d '-2 days' "$in/done/json-a.json"
run || fail "second run exited with $?"
grep -q 'csv-c2.csv processed: 2 rows, 0 new, 2 unchanged, 0 quarantined, 0 staged for destinations' "$tmp/zinvold.log" ||
    fail "re-drop not reported as unchanged"
[ ! -e "$in/done/json-a.json" ] || fail "done/json-a.json outlived the retention"
[ -f "$in/done/json-b.jsonl" ] || fail "done/json-b.jsonl pruned too early"
echo "ok: 5 poison records quarantined, 5 good delivered, 4 files rejected, --once ${took}s"
