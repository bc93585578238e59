#!/usr/bin/env bash
# zinvold --dry-run maps, minimises and renders a sample export with the
# demo configuration's real mapping, catalogues and format plugins (iwlz
# with its XSDs, ijw, json), prints rows, destinations, messages and
# quarantine reasons with every BSN masked, and touches nothing: the state
# directory, the drop folder and the outboxes stay absent, and an existing
# state directory stays byte for byte the same.
set -euo pipefail
BUILD=${ZV_BUILD_DIR:?run through ctest}
SRC=${ZV_SOURCE_DIR:?}
work=$(mktemp -d /tmp/zv-dry-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
export ZINVOL_PLUGIN_DIR=$BUILD/plugins
zinvold=$BUILD/zinvold

# The demo configuration, with its paths moved into $work (none exists yet).
mkdir -p "$work/conf" "$work/export"
sed -e "s#\"../../demo-out/state\"#\"$work/state\"#" -e "s#../../demo-out/inbox#$work/inbox#" \
    -e "s#../../demo-out/outbox#$work/outbox#g" -e "s#\"../catalogue\"#\"$SRC/conf/catalogue\"#" \
    -e "s#\"../../plugins/fmt_iwlz/schemas\"#\"$SRC/plugins/fmt_iwlz/schemas\"#g" \
    -e "s#\"../signals/#\"$SRC/conf/signals/#g" \
    -e "s#\"regio-signalen-verhaal.md\"#\"$SRC/conf/demo/regio-signalen-verhaal.md\"#" \
    "$SRC/conf/demo/zinvol-demo.conf" >"$work/conf/demo.conf"
grep -q '\.\./' "$work/conf/demo.conf" && fail "a relative path is left in the test config"
python3 "$SRC/conf/demo/generate-ecd" --clients 30 --seed 7 --bad 8 --format csv --out "$work/export" >/dev/null
input=$work/export/ecd-export.csv
ls /dev/shm/zinvol-dry-run-* >/dev/null 2>&1 && fail "scratch directories from an earlier run"

"$zinvold" --dry-run --config "$work/conf/demo.conf" "$input" >"$work/out.txt" 2>"$work/err.txt" \
  || { cat "$work/err.txt"; fail "dry run failed"; }
out=$work/out.txt
for p in state inbox outbox; do
  [ -e "$work/$p" ] && fail "the dry run created $p"
done
ls /dev/shm/zinvol-dry-run-* >/dev/null 2>&1 && fail "scratch directory left behind"

# Every row is there: 33 rows, 8 of them broken on purpose.
grep -q "^summary: 33 rows read, 25 mapped; quarantined: 8 at mapping" "$out" || fail "summary: $(grep summary "$out")"
[ "$(grep -c '^ecd-export.csv:[0-9]* (record L[0-9]*)$' "$out")" = 33 ] || fail "not one block per row"
grep -q "QUARANTINE ecd-export.csv:8 (record L00000007) at mapping: client.birth_date: not a real date" "$out" \
  || fail "mapping quarantine with field and reason"
grep -q "at mapping: delivery.start: required field is missing" "$out" || fail "missing field reason"
# A rule of the standard, from the real ijw format.
grep -q "QUARANTINE .* at rule (gem-0599): TR069 delivery.end" "$out" || fail "rule quarantine"
# Mapped values and what each destination keeps and drops.
grep -q "^  mapped (delivery): client.bsn=\*\*\*\*\*[0-9]\{4\} client.id=C0000001 " "$out" || fail "mapped values"
grep -q "^  -> regio-monitor JSON: sends client.bsn, client.birth_date, client.postcode, delivery.start.*; drops client.id" "$out" \
  || fail "minimised fields per destination"
grep -q "^  -> zk-5501: not for this destination (match)" "$out" || fail "routing"
# The messages, rendered by the real plugins (iwlz validates against its XSDs).
grep -q "^== zk-5501: AW35, 7 records" "$out" || fail "AW35 batch"
grep -q "^  message dry-run: application/xml, [0-9]* bytes, 7 records" "$out" || fail "AW35 message"
grep -q "<BerichtCode>354</BerichtCode>" "$out" || fail "AW35 content"
grep -q "^== gem-0363: JW305, [0-9]* records" "$out" || fail "JW305 batch"
msgs=$(sed -n 's/.* \([0-9][0-9]*\) messages would be queued\. Nothing was stored or sent\.$/\1/p' "$out")
[ -n "$msgs" ] && [ "$msgs" -gt 5 ] || fail "message count: $(grep summary "$out")"
# No BSN in clear anywhere: not one of the export's BSNs appears.
cut -d';' -f3 "$input" | tail -n +2 | sort -u | grep -E '^[0-9]{9}$' >"$work/bsns"
[ -s "$work/bsns" ] || fail "no BSNs in the export?"
grep -F -f "$work/bsns" "$out" "$work/err.txt" && fail "a BSN in clear in the output"
grep -q "<Bsn>\*\*\*\*\*[0-9]\{4\}</Bsn>" "$out" || fail "BSN masked in the message"

# An existing state directory (the daemon ran once) is only read.
mkdir -p "$work/inbox"
cp "$input" "$work/inbox/"
"$zinvold" --once --config "$work/conf/demo.conf" >/dev/null 2>"$work/once.err" || [ $? = 75 ] \
  || { cat "$work/once.err"; fail "--once"; }
# The daemon wrote as many messages as the dry run announced.
files=$(find "$work/outbox" -type f -not -name '.*' | wc -l)
[ "$files" = "$msgs" ] || fail "dry run announced $msgs messages, the daemon wrote $files"
snapshot() { (cd "$work" && find state inbox outbox -printf '%p %s %T@ %m\n' | sort && \
              find state inbox outbox -type f -exec sha256sum {} + | sort); }
snapshot >"$work/before"
"$zinvold" --dry-run --config "$work/conf/demo.conf" "$input" >"$work/out2.txt" 2>&1 || fail "second dry run"
snapshot >"$work/after"
diff "$work/before" "$work/after" || fail "the dry run changed the state, inbox or outbox"
# The daemon quarantined the same record for the same rule as the dry run said.
grep -q "quarantined ecd/L00000027 at rule: TR069 delivery.end" "$work/once.err" || fail "daemon differs"
grep -q "QUARANTINE ecd-export.csv:28 (record L00000027) at rule (gem-0599): TR069 delivery.end" "$work/out2.txt" \
  || fail "second dry run differs"

# Naming the source gives the same report.
"$zinvold" --dry-run --config "$work/conf/demo.conf" --source ecd "$input" >"$work/out3.txt" 2>&1 \
  || fail "--source ecd"
diff <(grep -v '^  message \|Dagtekening\|Identificatie\|"created"\|"generated"' "$work/out2.txt") \
     <(grep -v '^  message \|Dagtekening\|Identificatie\|"created"\|"generated"' "$work/out3.txt") >/dev/null \
  || fail "--source ecd differs from the default source"

# Usage errors.
set +e
"$zinvold" --dry-run --config "$work/conf/demo.conf" --source nope "$input" >/dev/null 2>"$work/e1"; r1=$?
"$zinvold" --dry-run --config "$work/conf/demo.conf" "$work/conf/demo.conf" >/dev/null 2>"$work/e2"; r2=$?
"$zinvold" --dry-run --config "$work/conf/demo.conf" >/dev/null 2>"$work/e3"; r3=$?
set -e
[ $r1 = 2 ] && grep -q "no such source" "$work/e1" || fail "unknown source: $r1 $(cat "$work/e1")"
[ $r2 = 1 ] && grep -q "reads .csv, .json and .jsonl files only" "$work/e2" || fail "wrong input: $r2 $(cat "$work/e2")"
[ $r3 = 2 ] && grep -q "needs an INPUT" "$work/e3" || fail "no input: $r3"
echo "dry_run: all checks passed"
