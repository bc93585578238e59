#!/bin/bash
# zinvold --describe prints every option of the configuration and of each
# plugin, with type, default, range and description, straight from the
# option tables the daemon checks configurations with.
set -u
ZINVOLD="$ZV_BUILD_DIR/zinvold"
PD="$ZV_PLUGIN_DIR"
fail() { echo "FAIL: $*" >&2; exit 1; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT

"$ZINVOLD" --plugin-dir "$PD" --describe > "$out" || fail "--describe exited $?"
grep -q '^zinvol.conf destinations\[\].policy$' "$out" || fail "no policy table"
grep -Eq '^  timeout +duration, at least 100ms +30s +per delivery attempt$' "$out" ||
    fail "policy timeout line: $(grep timeout "$out" | head -3)"
grep -Eq '^  max_bytes +size, 1 KiB to 1 GiB +8MiB ' "$out" || fail "policy max_bytes line"
grep -Eq '^  threshold +one of: law, standard, regulator, contract, sector, internal, none +contract ' \
    "$out" || fail "policy threshold line"
grep -Eq '^  max_pending_age +duration, at least 1s +1h ' "$out" || fail "health line"
for p in "$PD"/*.so; do
    base=$(basename "$p" .so)
    grep -q "($base, version" "$out" || fail "plugin $base not described"
done

# One plugin: every declared option, once, in the table's order.
"$ZINVOLD" --plugin-dir "$PD" --describe http > "$out" || fail "--describe http exited $?"
head -1 "$out" | grep -q '^transport http (out_http, version ' || fail "heading: $(head -1 "$out")"
names=$(awk 'NR > 1 && NF {print $1}' "$out" | tr '\n' ' ')
[ "$names" = "url headers ca_file cert_file key_file bearer_token idempotency_header timeout max_response " ] ||
    fail "options of http: $names"
grep -Eq '^  timeout +duration, 100ms to 1h +30s +per request$' "$out" || fail "http timeout line"
grep -Eq '^  url +string +required ' "$out" || fail "required not shown"
grep -Eq '^  bearer_token .*\(secret: never logged\)$' "$out" || fail "secret not flagged"

# "filedrop" is a source and a transport: both.
"$ZINVOLD" --plugin-dir "$PD" --describe filedrop > "$out" || fail "--describe filedrop"
grep -q '^source filedrop (in_filedrop' "$out" && grep -q '^transport filedrop (out_filedrop' "$out" ||
    fail "filedrop: $(grep '^[a-z]' "$out")"
"$ZINVOLD" --plugin-dir "$PD" --describe --markdown out_filedrop > "$out" || fail "--markdown"
[ "$(head -2 "$out" | tr '\n' '|')" = "| option | type | default | description |||---|---|---|---||" ] ||
    fail "markdown head: $(head -2 "$out")"
grep -qF '| `dir` | path | required | ' "$out" || fail "markdown row: $(cat "$out")"

# An unknown plugin is an error that says so.
if "$ZINVOLD" --plugin-dir "$PD" --describe nosuch 2> "$out"; then fail "nosuch accepted"; fi
grep -q 'no plugin "nosuch" in ' "$out" || fail "nosuch message: $(cat "$out")"
echo "ok"
