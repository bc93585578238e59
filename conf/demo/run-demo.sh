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


echo "== 1. a synthetic ECD export: 200 clients, Wlz, Jeugdwet and Wmo, a few broken rows, and the billing export"
python3 "$root/conf/demo/generate-ecd" --clients 200 --seed 7 --out "$out/inbox" --format csv \
    --name ecd-export --declarations
wc -l "$out/inbox/ecd-export.csv" | awk '{print "   " $1 - 1 " delivery rows in demo-out/inbox/ecd-export.csv"}'
wc -l "$out/inbox/declaraties-ecd-export.csv" |
    awk '{print "   " $1 - 1 " declaration lines (JW323/WMO323) in demo-out/inbox/declaraties-ecd-export.csv"}'

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

echo "== 4b. counts instead of records (signals format): the period reports"
for d in regio-signalen cbs-signalen; do
    last=$(ls "$out/outbox/$d" | sed -n 's/.*_report_\(.*\)_1_html\.html/\1/p' | sort | tail -1)
    printf '   %-14s %s periods reported; latest %s: %s\n' "$d" \
        "$(ls "$out/outbox/$d" | grep -c '_report_.*_json\.json')" "${last:-none}" \
        "$(cd "$out/outbox/$d" && ls | grep "_report_${last}_" | tr '\n' ' ')"
done
echo "== 5. quarantined records, with the reason (zinvolctl quarantine list)"
$zinvolctl quarantine list | sed 's/^/   /' | head -15

echo "== 6. requirements and redundancy report"
$zinvolctl audit --format html --output "$out/audit.html"
$zinvolctl audit --format json --output "$out/audit.json"
$zinvolctl audit --format csv --output "$out/audit.csv"
python3 - "$out/audit.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
print(f"   {s['fields_requested']} fields requested by {s['destinations']} destinations, "
      f"{s['fields_sent']} sent at their thresholds; by level: "
      + ", ".join(f"{k} {v}" for k, v in s["by_level"].items() if v))
for kind, n in s["flags"].items():
    print(f"   flag {kind:26s} {n}")
PY
echo "   report: demo-out/audit.html (open it in a browser), audit.json, audit.csv"

echo "== 7. audit trail of what left the building"
$zinvolctl audit verify | sed 's/^/   /'

echo
echo "== 8. the same export over HTTPS with mutual TLS to a local receiver (demo-out/https/)"
h=$out/https
mkdir -p "$h/inbox" "$h/state" "$h/pki"
pki=$h/pki
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=zinvol demo CA" \
    -keyout "$pki/ca.key" -out "$pki/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$pki/server.key" \
    -out "$pki/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' > "$pki/san.ext"
openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 2 -extfile "$pki/san.ext" -out "$pki/server.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=zorggroep-demo" -keyout "$pki/client.key" \
    -out "$pki/client.csr" 2>/dev/null
openssl x509 -req -in "$pki/client.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 2 -out "$pki/client.pem" 2>/dev/null
python3 "$root/tests/fixtures/receiver/receiver.py" --port 18443 --port-file "$h/port" \
    --log "$h/received.jsonl" --tls "$pki/server.pem" "$pki/server.key" \
    --client-ca "$pki/ca.pem" 2>"$h/receiver.log" &
receiver=$!
trap 'kill $receiver 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$h/port" ] && break; sleep 0.1; done
[ -s "$h/port" ] || { echo "receiver did not start (port 18443 taken?)"; cat "$h/receiver.log"; exit 1; }
cp "$out/inbox/done/ecd-export.csv" "$h/inbox/" 2>/dev/null ||
    python3 "$root/conf/demo/generate-ecd" --clients 200 --seed 7 --out "$h/inbox" --format csv --name ecd-export >/dev/null
status=0
"$zinvold" --once --config "$root/conf/demo/zinvol-demo-https.conf" 2>"$h/zinvold.log" || status=$?
[ "$status" -eq 0 ] || { echo "zinvold exited with $status"; tail -20 "$h/zinvold.log"; exit "$status"; }
python3 - "$h/received.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ok = [r for r in rows if r["status"] < 300]
certs = sorted({r.get("client_cert") or "-" for r in rows})
print(f"   receiver got {len(rows)} requests over HTTPS, {len(ok)} accepted; client certificate(s): {', '.join(certs)}")
PY
kill $receiver 2>/dev/null || true

echo
echo "== 9. the iWlz netwerkmodel: the Leveringsregister beside AW35/AW39, a local gateway asking (demo-out/netwerkmodel/)"
if /usr/bin/python3 -c 'import graphql' 2>/dev/null; then
    /usr/bin/python3 "$root/conf/demo/netwerkmodel-demo.py" "$root" "$build" "$out/netwerkmodel"
else
    echo "   skipped: /usr/bin/python3 has no graphql module (python3-graphql-core)"
fi
echo "done: everything is in demo-out/"
