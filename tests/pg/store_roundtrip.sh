#!/bin/bash
# SQLite -> PostgreSQL -> SQLite: a store the real zinvold made (deliveries
# to a loopback receiver, dead letters, verdicts, disclosure, quarantine
# open and closed, watermark, seen, the audit chain; staged rows with their
# source items, batch sequences, change digests) copied into PostgreSQL
# with `store copy --to URL` and back into a new file with `store copy --from
# URL --to FILE`.  Every table the copy carries, and the file's indexes made
# from them (audit_client, disclosure), must hold the same rows in the same
# form in both files; each has rows in the first one, so a table the copy
# skipped fails here.  The chain of the result is verified offline.
# Runs through run_pg.sh (ZV_PG_HOST, ZV_PG_USER, ZV_PG_BINDIR).
set -euo pipefail
# shellcheck source=tests/pg/lib.sh
. "${ZV_SOURCE_DIR:?}/tests/pg/lib.sh"
zv_pg_setup roundtrip
zv_receiver
mkdir -p "$T/state" "$T/back"
conf() { zv_delivery_conf "$1" "$2" zinvol.db; } # conf FILE STATE_DIR
conf "$T/z.conf" "$T/state"
conf "$T/back.conf" "$T/back"
A=$T/state/zinvol.db
"$B/tests/store_fill" "$A" zk 60 10 >/dev/null # every 10th is refused: dead letters
# The records each payload carries, so that its "delivered" entry names its
# clients (audit.clients, and the file's audit_client index of it).
sqlite3 "$A" "UPDATE outbox SET records_json = '[{\"client\":\"k-' || (id % 7) ||
  '\",\"record\":\"r-' || id || '\",\"fields\":[\"client.name\"]}]'"
"$B/zinvold" --config "$T/z.conf" --once 2>"$T/run.log"
"$B/tests/store_fill" "$A" zk 5 0 Q >/dev/null # still pending
# Rows of the tables nothing above writes, in the forms the store writes them.
sqlite3 "$A" "INSERT INTO watermark VALUES('ons', 'cursor', '2026-11-30T10:00:00Z');
  INSERT INTO seen VALUES('hook', 'evt-1', 'abc');
  INSERT INTO verdict VALUES(3, 'r-3', 0, 1764500001), (4, 'r-4', 1, 1764500002);
  INSERT INTO disclosure VALUES(62, 'k-1', 'r-62', '{\"client.name\":\"A\",\"n\":2}'),
                               (62, 'k-2', 'r-62b', '[1,\"x\"]'), (63, 'k-1', NULL, 'null');
  INSERT INTO quarantine(created, source, record_id, stage, field, reason, item_json, record,
                         state)
  VALUES(1764500000, 'ons', 'r-9', 'mapping', 'client.bsn', 'BSN fails the 11-test', '{}',
         X'00ff10', 'open');
  INSERT INTO quarantine_closed(id, created, source, record_id, stage, field, reason, closed_at,
                                outcome, detail)
  VALUES(7, 1764400000, 'ons', 'r-7', 'mapping', 'client.bsn', 'bad', 1764400500, 'dropped',
         'by an operator');
  INSERT INTO source_item VALUES(5, 'ons', 'r-5', '{\"geslacht\":\"M\"}', 'abc123', 1764500003);
  INSERT INTO staged(id, destination, message, rec, created, item_id)
  VALUES(11, 'zk', 0, X'0102ff', 1764500004, 5), (12, 'zk', 1, X'', 1764500005, NULL);
  INSERT INTO batch_seq VALUES('zk', 41);
  INSERT INTO sent_digest VALUES('zk', 'ons' || char(31) || 'r-5', 'd1', 'AW35', 1764500006,
                                 X'aabb'), ('zk', 'ons' || char(31) || 'r-6', 'd2', 'AW39',
                                 1764500007, NULL);"
"$B/zinvolctl" -c "$T/z.conf" audit verify >/dev/null || fail "source chain"
n_audit=$(sqlite3 "$A" "SELECT count(*) FROM audit")
[ "$n_audit" -gt 0 ] || fail "no audit entries to copy"
sqlite3 "$A" "INSERT INTO audit_client VALUES('k-1', 1)" # replaced by what audit.clients says

PSQL -d postgres -c "CREATE DATABASE $DB"
URL="postgresql://$ZV_PG_USER@/$DB?host=$ZV_PG_HOST"
"$B/zinvolctl" -c "$T/z.conf" store copy --to "$URL" >"$T/to.txt" || fail "copy to: $(cat "$T/to.txt")"
# New rows in the database go after the copied ids (a quarantine id after
# the closed ones too: an id is never used twice).
[ "$(PSQL -d "$DB" -c "SELECT nextval(pg_get_serial_sequence('quarantine', 'id'))")" = 8 ] ||
    fail "quarantine id sequence"
[ "$(PSQL -d "$DB" -c "SELECT nextval(pg_get_serial_sequence('staged', 'id')) ||
    ' ' || nextval(pg_get_serial_sequence('source_item', 'id'))")" = "13 6" ] ||
    fail "staged / source_item id sequences"
C=$T/back/zinvol.db
"$B/zinvolctl" store copy --from "$URL" --to "$C" >"$T/from.txt" 2>&1 ||
    fail "copy from: $(cat "$T/from.txt")"
grep -q "^audit trail: intact in the copy, $n_audit entries$" "$T/from.txt" ||
    fail "copy back: $(cat "$T/from.txt")"
grep -Eq '^  outbox +65 rows' "$T/from.txt" || fail "outbox rows: $(cat "$T/from.txt")"

# The audit_client row above is not in audit.clients: the copy rebuilds the
# index from the chained column, so the source's index is rebuilt the same
# way before comparing (what the file's own appends would have written).
sqlite3 "$A" "DELETE FROM audit_client;
  INSERT OR IGNORE INTO audit_client SELECT json_extract(j.value, '$.client'), a.seq
  FROM audit a, json_each(a.clients) j WHERE a.clients IS NOT NULL
  AND json_extract(j.value, '$.client') IS NOT NULL"
tables="outbox dead_letter verdict quarantine quarantine_closed watermark seen audit audit_head
        disclosure staged source_item batch_seq sent_digest"
for t in $tables; do
    q="SELECT * FROM $t"
    [ "$t" = disclosure ] && q="SELECT * FROM disclosure ORDER BY outbox_id, rowid"
    [ "$(sqlite3 "$A" "SELECT count(*) FROM $t")" -gt 0 ] || fail "$t: no rows in the source"
    sqlite3 -cmd '.mode quote' "$A" "$q" | sort >"$T/a-$t"
    sqlite3 -cmd '.mode quote' "$C" "$q" | sort >"$T/c-$t"
    cmp -s "$T/a-$t" "$T/c-$t" || fail "$t differs: $(diff "$T/a-$t" "$T/c-$t" | head -4)"
done
for t in audit_client; do
    [ "$(sqlite3 "$A" "SELECT count(*) FROM $t")" -gt 0 ] || fail "$t: no rows in the source"
    sqlite3 "$A" "SELECT * FROM $t ORDER BY 1, 2" >"$T/a-$t"
    sqlite3 "$C" "SELECT * FROM $t ORDER BY 1, 2" >"$T/c-$t"
    cmp -s "$T/a-$t" "$T/c-$t" || fail "$t differs: $(diff "$T/a-$t" "$T/c-$t" | head -4)"
done
# The result is a store: checked through the interface, its chain verified.
"$B/zinvolctl" -c "$T/back.conf" store check >"$T/check.txt" || fail "$(cat "$T/check.txt")"
grep -q "^audit trail: intact, $n_audit entries$" "$T/check.txt" || fail "$(cat "$T/check.txt")"
"$B/zinvolctl" -c "$T/back.conf" audit verify >"$T/verify.txt" || fail "$(cat "$T/verify.txt")"
grep -qx "audit trail intact: $n_audit entries" "$T/verify.txt" || fail "$(cat "$T/verify.txt")"

# Rows in flight on a node are pending in the file; an existing file is
# never written; a database without a store is refused, and leaves no file.
PSQL -d "$DB" -c "UPDATE outbox SET state = 'inflight', claimed_by = 'n1', lease_until = 1
                  WHERE idem_key LIKE 'Q-%'"
"$B/zinvolctl" store copy --from "$URL" --to "$T/inflight.db" >/dev/null || fail "copy with inflight rows"
[ "$(sqlite3 "$T/inflight.db" "SELECT count(*) FROM outbox WHERE state = 'pending'")" = 5 ] ||
    fail "inflight rows are not pending in the file"
if "$B/zinvolctl" store copy --from "$URL" --to "$C" >/dev/null 2>"$T/exists.err"; then
    fail "copied over an existing file"
fi
grep -q 'exists: copy into a new file' "$T/exists.err" || fail "$(cat "$T/exists.err")"
cmp -s <(sqlite3 "$A" "SELECT count(*) FROM outbox") <(sqlite3 "$C" "SELECT count(*) FROM outbox") ||
    fail "the existing file was changed"
# A tampered entry in the database: the copy back does not verify, and no
# file is left that looks like a store.
PSQL -d "$DB" -c "UPDATE audit SET fields = 'client.bsn=none' WHERE seq = 2"
if "$B/zinvolctl" store copy --from "$URL" --to "$T/bad.db" >/dev/null 2>"$T/bad.err"; then
    fail "a broken chain verified"
fi
grep -q 'does not verify: ' "$T/bad.err" || fail "$(cat "$T/bad.err")"
[ ! -e "$T/bad.db" ] || fail "a copy that failed left its file"
echo "ok: store round trip ($n_audit audit entries, $(echo $tables | wc -w) tables + audit_client equal)"
