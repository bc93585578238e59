# Shared by the tests/pg/*.sh scripts (sourced, not run): a temporary folder
# and database per test, psql on the test cluster, a loopback receiver, and a
# delivery-only configuration.  Runs under run_pg.sh (ZV_PG_HOST,
# ZV_PG_USER, ZV_PG_BINDIR); the script sets `set -euo pipefail` itself.

# zv_pg_setup NAME: T (a new folder), DB (a database name, not made yet),
# PSQL, fail, and a trap that stops the receiver and drops DB and T (T is
# kept when KEEP is set).
zv_pg_setup() {
    B=${ZV_BUILD_DIR:?}
    S=${ZV_SOURCE_DIR:?}
    T=$(mktemp -d "/tmp/zv-$1-XXXXXX")
    DB=zv_${1//-/_}_$$
    RPID=
    trap zv_pg_cleanup EXIT
}
PSQL() { "$ZV_PG_BINDIR/psql" -h "$ZV_PG_HOST" -U "$ZV_PG_USER" -X -q -t -A "$@"; }
zv_pg_cleanup() {
    [ -z "$RPID" ] || kill "$RPID" 2>/dev/null || true
    wait 2>/dev/null
    PSQL -d postgres -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
    [ -n "${KEEP:-}" ] || rm -rf "$T"
}
fail() { echo "FAIL: $*" >&2; exit 1; }

# zv_receiver [ARGS]: the Python loopback receiver (records to $T/recv.jsonl,
# refuses records marked BAD); its port in $T/port, its pid in RPID.
zv_receiver() {
    python3 "$S/tests/fixtures/receiver/receiver.py" --port-file "$T/port" --log "$T/recv.jsonl" \
        --reject BAD "$@" &
    RPID=$!
    for _ in $(seq 200); do [ -s "$T/port" ] && break; sleep 0.05; done
    [ -s "$T/port" ] || fail "receiver did not start"
}

# zv_delivery_conf FILE STATE_DIR STORE [EXTRA_TOP_LEVEL_JSON]: no sources,
# one JSON destination "zk" posting to the receiver.
zv_delivery_conf() {
    cat >"$1" <<CONF
{
  "state_dir": "$2", "store": "$3", ${4:-}
  "catalogue_dir": "$S/conf/catalogue", "plugin_dir": "${ZV_PLUGIN_DIR:?}",
  "log_level": "info", "organisation": {"agb": "12345678", "name": "Test"},
  "sources": [],
  "destinations": [
    {"name": "zk", "format": "json", "transport": "http",
     "catalogue": {"file": "json-example.json"},
     "transport_options": {"url": "http://127.0.0.1:$(cat "$T/port")/in"},
     "policy": {"max_age": "1h", "backoff_initial": "1s", "backoff_max": "2s"}}
  ]
}
CONF
}
