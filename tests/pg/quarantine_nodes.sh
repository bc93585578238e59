#!/bin/bash
# Quarantine on a shared store (issue 17): node A reads an export with a
# mapping that has no code for geslacht V, so those rows are quarantined in
# PostgreSQL.  Node B (a running zinvold with the fixed mapping) retries one
# and drops one through its admin API (zinvolctl over its socket); then, with
# no daemon running, zinvolctl on a third node's config (the PostgreSQL URL)
# drops one and retries the rest.  Every entry ends in exactly one state
# (closed once, with its outcome), every close has its audit entry in the one
# chain, a second drop finds nothing open, what a retry staged reaches the
# shared outbox, and no node's own file holds quarantine entries or items.
# Runs through run_pg.sh (ZV_PG_HOST, ZV_PG_USER, ZV_PG_BINDIR).
set -euo pipefail
B=${ZV_BUILD_DIR:?}
S=${ZV_SOURCE_DIR:?}
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 CLI missing"; exit 77; }
T=$(mktemp -d /tmp/zv-pg-quar-XXXXXX)
DB=zv_quar_$$
PSQL() { "$ZV_PG_BINDIR/psql" -h "$ZV_PG_HOST" -U "$ZV_PG_USER" -X -q -t -A "$@"; }
q() { PSQL -d "$DB" -c "$1"; }
BPID=
cleanup() {
    [ -z "$BPID" ] || kill -9 "$BPID" 2>/dev/null || true
    wait 2>/dev/null
    PSQL -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
    [ -n "${ZV_KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    for n in a b c; do echo "--- $n (last lines)"; tail -n 8 "$T/$n.log" 2>/dev/null; done >&2
    exit 1
}

mkdir -p "$T/inbox" "$T/gen"
python3 "$S/conf/demo/generate-ecd" --clients 20 --seed 11 --bad 0 --out "$T/gen" --format csv \
    --name export >/dev/null 2>&1
PSQL -d postgres -c "CREATE DATABASE $DB"
URL="postgresql://$ZV_PG_USER@/$DB?host=$ZV_PG_HOST"
for n in a b c; do
    mkdir -p "$T/state-$n" "$T/out-$n"
    python3 - "$T" "$S" "$n" "$URL" "${ZV_PLUGIN_DIR:?}" <<'PY'
import json, sys
t, src, n, url, plugins = sys.argv[1:6]
m = json.load(open(src + "/conf/demo/mapping-ecd.json"))
if n == "a":  # broken: no code for geslacht V
    for rule in m["records"]:
        if "client.sex" in rule["fields"]:
            del rule["fields"]["client.sex"]["map"]["V"]
conf = {
    "state_dir": "%s/state-%s" % (t, n), "store": url, "node": "node-" + n, "store_lease": "5s",
    "catalogue_dir": src + "/conf/catalogue", "plugin_dir": plugins, "log_level": "info",
    "organisation": {"agb": "12345678", "name": "Test"},
    "sources": [{"name": "ecd", "type": "filedrop", "mapping": m,
                 "options": {"directory": t + "/inbox", "delimiter": ";", "settle": "0s"}}],
    "destinations": [{"name": "monitor", "format": "json", "transport": "filedrop",
                      "transport_options": {"dir": "%s/out-%s" % (t, n)},
                      "catalogue": {"file": "json-example.json"},
                      "policy": {"threshold": "contract", "schedule": "event"}}],
}
json.dump(conf, open("%s/%s.conf" % (t, n), "w"), indent=1)
PY
done
ctl() { local n=$1; shift; "$B/zinvolctl" -c "$T/$n.conf" "$@"; }
NV=$(awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "geslacht") c = i; next }
                $c == "V" { n++ } END { print n + 0 }' "$T/gen/export.csv")
[ "$NV" -ge 4 ] || fail "the export has only $NV rows with geslacht V"

# ---- node A quarantines ----
cp "$T/gen/export.csv" "$T/inbox/"
"$B/zinvold" --once --config "$T/a.conf" 2>>"$T/a.log" || fail "node A's --once failed"
OPEN=$(q "SELECT count(*) FROM quarantine WHERE state = 'open' AND stage = 'mapping'")
[ "$OPEN" = "$NV" ] || fail "quarantined at the mapping: $OPEN, expected $NV"
IDS=($(q "SELECT id FROM quarantine WHERE stage = 'mapping' ORDER BY id"))
[ "$(q "SELECT count(*) FROM quarantine WHERE item_json LIKE '%geslacht%'")" = "$NV" ] ||
    fail "entries without their raw item"
SENT0=$(q "SELECT count(*) FROM outbox")

# ---- node B retries one and drops one through its admin API ----
"$B/zinvold" --config "$T/b.conf" 2>>"$T/b.log" &
BPID=$!
for _ in $(seq 200); do [ -S "$T/state-b/admin.sock" ] && break; sleep 0.05; done
[ -S "$T/state-b/admin.sock" ] || fail "node B has no admin socket"
[ "$(ctl b quarantine list | grep -c "mapping")" -ge "$NV" ] ||
    fail "node B does not list node A's entries: $(ctl b quarantine list)"
out=$(ctl b quarantine retry "${IDS[0]}") || fail "retry on B: $out"
case "$out" in *"staged: queued for monitor"*) ;; *) fail "retry on B: $out" ;; esac
[ "$(q "SELECT outcome FROM quarantine_closed WHERE id = ${IDS[0]}")" = staged ] ||
    fail "entry ${IDS[0]} not closed as staged"
[ "$(q "SELECT count(*) FROM outbox")" -gt "$SENT0" ] || fail "the retried record is not in the shared outbox"
out=$(ctl b quarantine drop "${IDS[1]}") || fail "drop on B: $out"
case "$out" in *dropped*) ;; *) fail "drop on B: $out" ;; esac
if out=$(ctl b quarantine drop "${IDS[1]}" 2>&1); then fail "a second drop succeeded: $out"; fi
case "$out" in *"no open quarantine entry ${IDS[1]}"*) ;; *) fail "second drop: $out" ;; esac
kill -TERM "$BPID"
wait "$BPID" 2>/dev/null || true
BPID=

# ---- no daemon: zinvolctl on the PostgreSQL URL ----
[ ! -S "$T/state-c/admin.sock" ] || fail "node C runs"
out=$(ctl c quarantine drop "${IDS[2]}") || fail "offline drop: $out"
case "$out" in *dropped*) ;; *) fail "offline drop: $out" ;; esac
out=$(ctl c quarantine retry --all 2>>"$T/c.log") || fail "offline retry --all: $out"
echo "$out" | grep -q "$((NV - 3)) entries processed again: $((NV - 3)) staged" ||
    fail "offline retry --all: $out"

# ---- every entry once, every close audited, one chain ----
[ "$(q "SELECT count(*) FROM quarantine WHERE stage = 'mapping'")" = 0 ] || fail "entries left open"
[ "$(q "SELECT count(*) FROM quarantine_closed")" = "$NV" ] || fail "closed: not $NV"
[ "$(q "SELECT count(*) FROM quarantine q JOIN quarantine_closed c USING (id)")" = 0 ] ||
    fail "an entry is both open and closed"
[ "$(q "SELECT string_agg(outcome || ':' || n, ' ' ORDER BY outcome) FROM (SELECT outcome,
        count(*) n FROM quarantine_closed GROUP BY outcome) x")" = "dropped:2 staged:$((NV - 2))" ] ||
    fail "outcomes: $(q "SELECT id, outcome, detail FROM quarantine_closed")"
[ "$(q "SELECT count(*) FROM audit WHERE kind = 'quarantine'")" = "$NV" ] ||
    fail "audit entries of the quarantine: $(q "SELECT count(*) FROM audit WHERE kind = 'quarantine'"), not $NV"
for i in 1 2; do
    q "SELECT detail FROM audit WHERE kind = 'quarantine' AND detail LIKE
       'quarantine entry ${IDS[$i]} (%dropped: by %'" | grep -q . ||
        fail "no audit entry for the drop of ${IDS[$i]}"
done
q "SELECT detail FROM audit WHERE detail LIKE 'quarantine entry ${IDS[2]} %'" |
    grep -q "with zinvolctl on the store" || fail "the offline drop does not name zinvolctl"
ctl c audit verify >"$T/verify.txt" 2>&1 || fail "audit verify: $(cat "$T/verify.txt")"
# What the retries staged was rendered into the shared outbox, its items gone.
[ "$(q "SELECT count(*) FROM staged")" = 0 ] || fail "staged rows left"
[ "$(q "SELECT count(*) FROM source_item")" = 0 ] || fail "source items kept after the render"
for n in a b c; do
    f=$T/state-$n/node-local.db
    [ ! -f "$f" ] || [ "$(sqlite3 "$f" "SELECT (SELECT count(*) FROM quarantine) +
        (SELECT count(*) FROM quarantine_closed) + (SELECT count(*) FROM source_item)")" = 0 ] ||
        fail "node $n keeps quarantine entries or items in its own file"
done
echo "ok: pg quarantine across nodes: $NV entries made by node A; node B retried 1 and dropped 1 (a second drop refused); zinvolctl on the URL dropped 1 and retried $((NV - 3)); each closed once, $NV audit entries, chain intact"
