#!/usr/bin/env bash
# A temporary PostgreSQL cluster for the tests labelled `pg`.
#
#   pg_cluster.sh start STATE   initdb into a fresh folder under /tmp, start it
#                               on a Unix socket only (no TCP), write STATE/env
#   pg_cluster.sh stop STATE    stop it and remove its folder
#
# STATE/env is sourced by the tests: ZV_PG_HOST (the socket folder), ZV_PG_USER,
# ZV_PG_DATA, or ZV_PG_SKIP with the reason when there is no PostgreSQL here
# (the tests then exit 77).  The cluster runs as the calling user, or, when
# that is root (initdb refuses root), as the `postgres` account Debian's
# package creates.  Authentication is `trust` on the socket, whose folder only
# the cluster's owner and root can reach (mode 0700); the role zinvol_pw
# alone must give its password.
set -euo pipefail
cmd=${1:?usage: pg_cluster.sh start|stop STATE}
state=${2:?usage: pg_cluster.sh start|stop STATE}
mkdir -p "$state"
envf="$state/env"

bindir() {
    if [ -n "${ZV_PG_BINDIR:-}" ]; then echo "$ZV_PG_BINDIR"; return; fi
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return; }
    done
    command -v initdb >/dev/null 2>&1 && dirname "$(command -v initdb)"
    return 0
}

as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

stop() {
    [ -f "$envf" ] || return 0
    # shellcheck disable=SC1090
    . "$envf"
    if [ -n "${ZV_PG_DATA:-}" ] && [ -d "$ZV_PG_DATA" ]; then
        as_owner "$ZV_PG_BINDIR/pg_ctl" -D "$ZV_PG_DATA" -m immediate -w stop >/dev/null 2>&1 || true
        rm -rf "$ZV_PG_ROOT"
    fi
    rm -f "$envf"
}

skip() {
    printf 'ZV_PG_SKIP=%q\n' "$1" >"$envf"
    echo "pg_cluster: $1: the pg tests will skip"
    exit 0
}

case "$cmd" in
stop)
    stop
    exit 0
    ;;
start) ;;
*)
    echo "usage: pg_cluster.sh start|stop STATE" >&2
    exit 2
    ;;
esac

stop # a cluster left by an interrupted run
bin=$(bindir)
[ -n "$bin" ] && [ -x "$bin/initdb" ] || skip "no PostgreSQL server binaries (Debian package postgresql)"
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    skip "running as root and there is no postgres account to run the cluster as"
fi
root=$(mktemp -d /tmp/zv-pg-XXXXXX)
chmod 0700 "$root"
[ "$(id -u)" = 0 ] && chown postgres: "$root"
data="$root/data"
sock="$root"
as_owner "$bin/initdb" -D "$data" -U zinvol --auth=trust -E UTF8 --no-locale >"$root/initdb.log" 2>&1 || {
    cat "$root/initdb.log" >&2
    rm -rf "$root"
    exit 1
}
# One role must give a password (scram), so the tests prove that
# store_password_file and PGPASSWORD reach the server; everyone else: trust.
as_owner sed -i '1i local all zinvol_pw scram-sha-256' "$data/pg_hba.conf"
# Small and quick: the tests make and drop many databases; fsync stays on,
# because what the tests prove is the durable path.
as_owner tee -a "$data/postgresql.conf" >/dev/null <<EOF
listen_addresses = ''
unix_socket_directories = '$sock'
max_connections = 60
shared_buffers = 32MB
log_min_messages = warning
EOF
if ! as_owner "$bin/pg_ctl" -D "$data" -l "$root/server.log" -w -t 60 start >/dev/null; then
    cat "$root/server.log" >&2
    rm -rf "$root"
    exit 1
fi
{
    printf 'ZV_PG_ROOT=%q\n' "$root"
    printf 'ZV_PG_DATA=%q\n' "$data"
    printf 'ZV_PG_BINDIR=%q\n' "$bin"
    printf 'ZV_PG_HOST=%q\n' "$sock"
    printf 'ZV_PG_USER=zinvol\n'
} >"$envf"
echo "pg_cluster: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on $sock"
