#!/bin/bash
# zinvolctl store copy --to URL: a store the real zinvold made (deliveries
# to a loopback receiver, dead letters, audit entries, pending rows, a
# watermark, a seen event and a quarantine entry) copied into a fresh PostgreSQL database;
# counts, payload bytes and the chain checked with psql and `store check`;
# a tampered copy is caught.  Also: the `store` setting's PostgreSQL forms in
# a configuration, zinvold delivering the copied backlog from PostgreSQL, and
# a source read there under its lease (given up when it stops).
# Runs through run_pg.sh (ZV_PG_HOST, ZV_PG_USER, ZV_PG_BINDIR).
set -euo pipefail
# shellcheck source=tests/pg/lib.sh
. "${ZV_SOURCE_DIR:?}/tests/pg/lib.sh"
zv_pg_setup store-copy
DB=zv_copy_$$
zv_receiver
mkdir -p "$T/state"
conf() { zv_delivery_conf "$1" "$T/state" "$2" "${3:-}"; } # conf FILE STORE [EXTRA_JSON]
conf "$T/z.conf" zinvol.db
"$B/tests/store_fill" "$T/state/zinvol.db" zk 100 10 >/dev/null # every 10th is refused
"$B/zinvold" --config "$T/z.conf" --once 2>"$T/run.log"
"$B/tests/store_fill" "$T/state/zinvol.db" zk 7 0 Q >/dev/null   # 7 still pending
sqlite3 "$T/state/zinvol.db" "INSERT INTO watermark VALUES('ons', 'cursor', '2026-11-30T10:00:00Z');
  INSERT INTO seen VALUES('hook', 'evt-1', 'abc');
  INSERT INTO quarantine(created, source, record_id, stage, field, reason, item_json, state)
  VALUES(1764500000, 'ons', 'r-9', 'mapping', 'client.bsn', 'BSN fails the 11-test', '{}', 'open');"
"$B/zinvolctl" -c "$T/z.conf" store check >"$T/check-sqlite.txt" || fail "store check (sqlite)"
grep -q '^audit trail: intact, 90 entries$' "$T/check-sqlite.txt" || fail "$(cat "$T/check-sqlite.txt")"
grep -q '7 pending, 0 inflight, 90 delivered, 10 dead' "$T/check-sqlite.txt" ||
    fail "sqlite counts: $(cat "$T/check-sqlite.txt")"

PSQL -d postgres -c "CREATE DATABASE $DB"
URL="postgresql://$ZV_PG_USER@/$DB?host=$ZV_PG_HOST"
"$B/zinvolctl" -c "$T/z.conf" store copy --to "$URL" >"$T/copy.txt" || fail "copy: $(cat "$T/copy.txt")"
grep -Eq '^  outbox +107 rows' "$T/copy.txt" || fail "outbox rows: $(cat "$T/copy.txt")"
grep -Eq '^  dead_letter +10 rows' "$T/copy.txt" || fail "dead letter rows"
grep -Eq '^  audit +90 rows' "$T/copy.txt" || fail "audit rows"
grep -Eq '^  watermark +1 rows' "$T/copy.txt" || fail "watermark rows"
grep -Eq '^  seen +1 rows' "$T/copy.txt" || fail "seen rows"
grep -Eq '^  quarantine +1 rows' "$T/copy.txt" || fail "quarantine rows"
grep -q '^audit trail: intact in the copy, 90 entries$' "$T/copy.txt" || fail "copy chain"

# What psql sees: the rows, states and the very bytes.
[ "$(PSQL -d "$DB" -c "SELECT count(*) FROM outbox WHERE state = 'delivered'")" = 90 ] || fail "delivered"
[ "$(PSQL -d "$DB" -c "SELECT count(*) FROM dead_letter WHERE reason LIKE '%400%'")" = 10 ] ||
    fail "dead letter reasons"
sqlite3 "$T/state/zinvol.db" "SELECT id, idem_key, lower(hex(payload)) FROM outbox ORDER BY id" \
    | tr '|' ' ' >"$T/a.txt"
PSQL -d "$DB" -F ' ' -c "SELECT id, idem_key, encode(payload, 'hex') FROM outbox ORDER BY id" >"$T/b.txt"
cmp -s "$T/a.txt" "$T/b.txt" || fail "payloads differ: $(diff "$T/a.txt" "$T/b.txt" | head -3)"
# New rows go after the copied ids.
[ "$(PSQL -d "$DB" -c "SELECT nextval(pg_get_serial_sequence('outbox', 'id'))")" = 108 ] ||
    fail "outbox id sequence"

# The copy through the store interface: same counts, same chain.
"$B/zinvolctl" store check --url "$URL" >"$T/check-pg.txt" || fail "store check (pg)"
grep -q '(postgresql)' "$T/check-pg.txt" && grep -q '^schema version 5$' "$T/check-pg.txt" ||
    fail "$(cat "$T/check-pg.txt")"
grep -q '7 pending, 0 inflight, 90 delivered, 10 dead' "$T/check-pg.txt" || fail "pg counts"
grep -q '^audit trail: intact, 90 entries$' "$T/check-pg.txt" || fail "pg chain"

# Never into a database that holds a store already.
if "$B/zinvolctl" -c "$T/z.conf" store copy --to "$URL" >/dev/null 2>"$T/again.err"; then
    fail "copied twice"
fi
grep -q 'not empty' "$T/again.err" || fail "second copy: $(cat "$T/again.err")"

# An entry edited in PostgreSQL breaks the chain where it was edited.
orig=$(PSQL -d "$DB" -c "SELECT fields FROM audit WHERE seq = 40")
PSQL -d "$DB" -c "UPDATE audit SET fields = 'client.bsn=none' WHERE seq = 40"
if "$B/zinvolctl" store check --url "$URL" >"$T/check-bad.txt"; then fail "tamper not seen"; fi
grep -q '^audit trail: BROKEN at entry 40: ' "$T/check-bad.txt" || fail "$(cat "$T/check-bad.txt")"

# The setting in a configuration: the URL is checked when it is loaded.
conf "$T/pw.conf" "postgresql://zinvol:hunter2@db/zinvol"
if "$B/zinvold" --check-config "$T/pw.conf" >"$T/pw.out" 2>&1; then fail "password accepted"; fi
grep -q 'store: the URL holds a password' "$T/pw.out" || fail "password: $(cat "$T/pw.out")"
grep -q hunter2 "$T/pw.out" && fail "the password was printed"
conf "$T/pwf.conf" zinvol.db '"store_password_file": "/etc/zinvol/pg.pw",'
if "$B/zinvold" --check-config "$T/pwf.conf" >"$T/pwf.out" 2>&1; then fail "pw file with sqlite"; fi
grep -q 'store_password_file: store_password_file is for a postgresql:// store' "$T/pwf.out" ||
    fail "password file: $(cat "$T/pwf.out")"
# A good URL loads; zinvolctl reaches it from the configuration; zinvold
# delivers the copied backlog (7 pending) from PostgreSQL, each entry on the
# one chain, and reads a source there under the source's lease.
echo "UPDATE audit SET fields = :'f' WHERE seq = 40" | PSQL -d "$DB" -v f="$orig"
conf "$T/pg.conf" "$URL"
"$B/zinvolctl" -c "$T/pg.conf" store check >"$T/check-conf.txt" || fail "check from config: $(cat "$T/check-conf.txt")"
grep -q '^audit trail: intact, 90 entries$' "$T/check-conf.txt" || fail "$(cat "$T/check-conf.txt")"
before=$(wc -l <"$T/recv.jsonl")
"$B/zinvold" --config "$T/pg.conf" --once >"$T/pg.out" 2>&1 || fail "zinvold on PostgreSQL: $(cat "$T/pg.out")"
[ "$(($(wc -l <"$T/recv.jsonl") - before))" = 7 ] || fail "sent from PostgreSQL: $(cat "$T/pg.out")"
tail -n 7 "$T/recv.jsonl" | grep -c '"key": "Q-' | grep -qx 7 || fail "not the pending ones"
"$B/zinvolctl" -c "$T/pg.conf" audit verify >"$T/verify.txt" || fail "audit verify: $(cat "$T/verify.txt")"
grep -qx 'audit trail intact: 97 entries' "$T/verify.txt" || fail "$(cat "$T/verify.txt")"
grep -q '0 pending, 0 inflight, 97 delivered, 10 dead' <("$B/zinvolctl" store check --url "$URL") ||
    fail "pg counts after zinvold"
[ -f "$T/state/node-local.db" ] || fail "no node-local file"
[ ! -e "$T/state/postgresql:" ] && ! ls "$T/state" | grep -q postgres || fail "made a file named after the URL"
conf "$T/pgsrc.conf" "$URL"
sed -i 's|"sources": \[\]|"sources": [{"name": "ecd", "type": "filedrop", "options": {"directory": "'"$T"'/inbox"}, "mapping": {"record_id": "nr", "records": [{"kind": "client", "fields": {"client.bsn": "bsn"}}]}}]|' "$T/pgsrc.conf"
mkdir -p "$T/inbox"
"$B/zinvold" --config "$T/pgsrc.conf" --once >"$T/pgsrc.out" 2>&1 || fail "a source on PostgreSQL: $(cat "$T/pgsrc.out")"
grep -q 'holds the source lease and reads the source' "$T/pgsrc.out" || fail "no source lease: $(cat "$T/pgsrc.out")"
[ -z "$(PSQL -d "$DB" -c "SELECT node FROM source_lease WHERE source = 'ecd'")" ] || fail "lease not given up at the end"
echo "ok: store copy ($(wc -l <"$T/a.txt") payloads, 90 audit entries), check, tamper, settings"
