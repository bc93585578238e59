#!/usr/bin/env bash
# `make demo`: zinvol's main job on bundled demo data, with every output in
# demo-out/ (emptied first).  Usage: run-demo.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
out=$root/demo-out
conf=$root/conf/demo/zinvol-demo.conf
export ZINVOL_PLUGIN_DIR=$build/plugins
zinvold=$build/zinvold
zinvolctl="$build/zinvolctl -c $conf"

rm -rf "$out"
mkdir -p "$out/inbox" "$out/state"
for d in zk-5501 zk-5502 gem-0363 gem-0599 regio-monitor; do mkdir -p "$out/outbox/$d"; done

echo "== 1. a synthetic ECD export: 200 clients, Wlz and Jeugdwet, a few broken rows"
python3 "$root/conf/demo/generate-ecd" --clients 200 --seed 7 --out "$out/inbox" --format csv \
    --name ecd-export
wc -l "$out/inbox/ecd-export.csv" | awk '{print "   " $1 - 1 " delivery rows in demo-out/inbox/ecd-export.csv"}'

echo "== 2. configuration check"
"$zinvold" --check-config "$conf"

echo "== 3. zinvold --once: map, minimise, render, deliver (log: demo-out/zinvold.log)"
status=0
"$zinvold" --once --config "$conf" 2>"$out/zinvold.log" || status=$?
if [ "$status" -ne 0 ]; then
    echo "zinvold exited with $status; last log lines:"; tail -20 "$out/zinvold.log"; exit "$status"
fi

echo "== 4. messages out, per destination (demo-out/outbox/)"
for d in "$out"/outbox/*/; do
    printf '   %-14s %3d messages\n' "$(basename "$d")" "$(find "$d" -maxdepth 1 -type f | wc -l)"
done

echo "== 5. quarantined records, with the reason (zinvolctl quarantine list)"
$zinvolctl quarantine list | sed 's/^/   /' | head -15

echo "== 6. requirements and redundancy report"
$zinvolctl audit --format html --output "$out/audit.html"
$zinvolctl audit --format json --output "$out/audit.json"
$zinvolctl audit --format csv --output "$out/audit.csv"
python3 - "$out/audit.json" <<'PY'
import json, sys, collections
r = json.load(open(sys.argv[1]))
flags = collections.Counter()
def walk(o):
    if isinstance(o, dict):
        for f in o.get("flags", []) if isinstance(o.get("flags"), list) else []:
            flags[f.get("kind") or f.get("id") or str(f)] += 1
        for v in o.values(): walk(v)
    elif isinstance(o, list):
        for v in o: walk(v)
walk(r)
for k, n in sorted(flags.items()):
    print(f"   {k:26s} {n}")
PY
echo "   report: demo-out/audit.html (open it in a browser), audit.json, audit.csv"

echo "== 7. audit trail of what left the building"
$zinvolctl audit verify | sed 's/^/   /'
echo "done: everything is in demo-out/"
