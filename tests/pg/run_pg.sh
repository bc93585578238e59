#!/usr/bin/env bash
# run_pg.sh STATE COMMAND...: runs COMMAND with the test cluster of
# pg_cluster.sh (STATE/env) in its environment; exit 77 when there is none.
set -euo pipefail
envf="${1:?usage: run_pg.sh STATE COMMAND...}/env"
shift
if [ ! -f "$envf" ]; then
    echo "SKIP: no test cluster ($envf is missing: run the pg/cluster_start fixture)"
    exit 77
fi
# shellcheck disable=SC1090
. "$envf"
if [ -n "${ZV_PG_SKIP:-}" ]; then
    echo "SKIP: $ZV_PG_SKIP"
    exit 77
fi
export ZV_PG_HOST ZV_PG_USER ZV_PG_BINDIR
exec "$@"
