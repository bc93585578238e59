#!/usr/bin/env bash
# The store's two backends side by side (issue 17): durable enqueue with
# group commit, claim and delivered cost per payload, and 1-3 nodes draining
# one PostgreSQL outbox.  Starts its own temporary cluster (pg_cluster.sh).
#   store_backends_bench.sh [--build DIR] [--rows N] [--batches "1 100"] [--claim C]
# Prints figures; asserts only that every row was delivered once and the
# audit chain verifies.
set -euo pipefail
S=$(cd "$(dirname "$0")/../.." && pwd)
B=${ZV_BUILD_DIR:-$S/build}
ROWS=5000
BATCHES="1 100 1000"
CLAIM=20
# shellcheck disable=SC2086
set -- ${ZV_BENCH_ARGS:-} "$@"
while [ $# -gt 0 ]; do
    case "$1" in
    --build) B=$2; shift 2 ;;
    --rows) ROWS=$2; shift 2 ;;
    --batches) BATCHES=$2; shift 2 ;;
    --claim) CLAIM=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
BIN="$B/tests/store_backends_bench"
[ -x "$BIN" ] || BIN="$B/store_backends_bench"
[ -x "$BIN" ] || { echo "build store_backends_bench first" >&2; exit 1; }
T=$(mktemp -d /tmp/zv-sbb-XXXXXX)
cleanup() { bash "$S/tests/pg/pg_cluster.sh" stop "$T/pg" >/dev/null 2>&1 || true; rm -rf "$T"; }
trap cleanup EXIT
bash "$S/tests/pg/pg_cluster.sh" start "$T/pg" >/dev/null
# shellcheck disable=SC1091
. "$T/pg/env"
[ -z "${ZV_PG_SKIP:-}" ] || { echo "SKIP: $ZV_PG_SKIP"; exit 77; }
PSQL() { "$ZV_PG_BINDIR/psql" -h "$ZV_PG_HOST" -U "$ZV_PG_USER" -X -q -d postgres "$@"; }
fresh_db() { # fresh_db NAME: the URL of a new, empty database
    PSQL -c "CREATE DATABASE zv_bench_$1" >/dev/null
    echo "postgresql://$ZV_PG_USER@/zv_bench_$1?host=$ZV_PG_HOST"
}
echo "store backends, $ROWS rows of 600 bytes; load: $(uptime | sed 's/.*load average: //')"
for batch in $BATCHES; do
    "$BIN" "$T/bench.db" "$ROWS" "$batch" "$CLAIM" 1
    "$BIN" "$(fresh_db "b$batch")" "$ROWS" "$batch" "$CLAIM" 1
done
for nodes in 2 3; do
    "$BIN" "$(fresh_db "n$nodes")" "$ROWS" 1000 "$CLAIM" "$nodes" | grep drain
done
# Prepared statements (claim, outcome, audit append) against none, the same
# drain; 1 row per claim is the engine's case of answers arriving one by one.
for claim in 1 "$CLAIM"; do
    echo "postgresql, $claim per claim, unprepared then prepared; load: $(uptime | sed 's/.*load average: //')"
    ZV_PG_PREPARE=0 "$BIN" "$(fresh_db "u$claim")" "$ROWS" 1000 "$claim" 1 | grep drain |
        sed 's/^postgresql/unprepared/'
    "$BIN" "$(fresh_db "p$claim")" "$ROWS" 1000 "$claim" 1 | grep drain | sed 's/^postgresql/prepared  /'
done
