#!/bin/bash
# Issue 12 item 7a: zinvold --check-config changes nothing on disk - no
# state directory, no plugin state database, no drop folders - and reports
# the folders a plugin needs that are missing (made at start) or cannot be
# used (a file in the way, not writable), naming the key.
set -euo pipefail
B=${ZV_BUILD_DIR:?}
S=${ZV_SOURCE_DIR:?}
T=$(mktemp -d /tmp/zv-lifecheck-XXXXXX)
trap '[ -n "${ZV_KEEP:-}" ] || rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
export ZINVOL_PLUGIN_DIR=${ZV_PLUGIN_DIR:-$B/plugins}
conf() { # $1 file, $2 inbox, $3 outbox, $4 state dir
    python3 - "$S" "$@" <<'PY'
import json, sys
S, out, inbox, outbox, state = sys.argv[1:]
m = json.load(open(S + "/conf/demo/mapping-ecd.json"))
import os
json.dump({"state_dir": state, "catalogue_dir": os.environ.get("CAT", S + "/conf/catalogue"),
           "organisation": {"agb": "12345678", "name": "Check"},
           "sources": [{"name": "ecd", "type": "filedrop", "mapping": m,
                        "options": {"directory": inbox, "delimiter": ";"}}],
           "destinations": [
               {"name": "gem", "format": "ijw", "transport": "filedrop",
                "match": {"entitlement.law": "jw"},
                "format_options": {"standard": "jw", "variant": "inspanningsgericht",
                                   "gemeente": "0599"},
                "transport_options": {"dir": outbox}},
               {"name": "zk", "format": "iwlz", "transport": "filedrop",
                "match": {"entitlement.funder": "5501"}, "format_options": {"zorgkantoor": "5501"},
                "transport_options": {"dir": outbox + "-zk"}}]}, open(out, "w"))
PY
}
# What is watched: the folder tree of the configs (outputs go to $T/logs).
mkdir -p "$T/logs"
snapshot() { (cd "$T" && find . -path ./logs -prune -o -print | sort; ls -d /dev/shm/zinvol-check-* /tmp/zinvol-check-* 2>/dev/null || true); }

# Mistyped paths: every folder is missing (the parents exist).
mkdir -p "$T/spool"
conf "$T/typo.conf" "$T/spool/inbx" "$T/spool/outbx" "$T/staet"
before=$(snapshot)
"$B/zinvold" --check-config "$T/typo.conf" >"$T/logs/typo.out" 2>"$T/logs/typo.err" ||
    fail "a config whose folders are only missing was refused: $(cat "$T/logs/typo.err")"
after=$(snapshot)
[ "$before" = "$after" ] || fail "--check-config changed the disk: $(diff <(echo "$before") <(echo "$after"))"
for d in spool/inbx spool/outbx spool/outbx-zk staet; do
    grep -q "$T/$d does not exist yet" "$T/logs/typo.err" || fail "missing $d not reported: $(cat "$T/logs/typo.err")"
done
grep -q "configuration is valid" "$T/logs/typo.out" || fail "no verdict: $(cat "$T/logs/typo.out")"

# A file in the way, a folder below a file: refused, the key named.
touch "$T/spool/afile"
conf "$T/bad.conf" "$T/spool/afile" "$T/spool/afile/out" "$T/state"
before=$(snapshot)
! "$B/zinvold" --check-config "$T/bad.conf" >/dev/null 2>"$T/logs/bad.err" || fail "a file as a folder was accepted"
[ "$before" = "$(snapshot)" ] || fail "--check-config changed the disk (bad config)"
grep -q "sources\[0\].*directory: $T/spool/afile is not a folder" "$T/logs/bad.err" || fail "inbox: $(cat "$T/logs/bad.err")"
grep -q "destinations\[0\].*dir: $T/spool/afile is not a folder" "$T/logs/bad.err" || fail "outbox: $(cat "$T/logs/bad.err")"

# Not writable for the user who runs it (only checkable as another user).
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    mkdir -p "$T/ro/inbox" "$T/ro/state"
    chmod 0755 "$T" "$T/ro" "$T/ro/inbox"
    chmod 0700 "$T/ro/state"
    # The build and source trees may sit below a folder only root can enter
    # (CI's copy without ../shared is in a mktemp -d folder): uid 65534 runs
    # copies of the daemon, its plugins (with the iWlz releases) and catalogues.
    mkdir -p "$T/bin"
    cp "$B/zinvold" "$T/bin/"
    cp -rL "$ZINVOL_PLUGIN_DIR" "$T/bin/plugins"
    cp -r "$S/conf/catalogue" "$T/bin/catalogue"
    chmod -R a+rX "$T/bin"
    CAT=$T/bin/catalogue conf "$T/ro.conf" "$T/ro/inbox" "$T/ro/out" "$T/ro/state2"
    chmod 0644 "$T/ro.conf"
    st=0
    setpriv --reuid=65534 --regid=65534 --clear-groups env ZINVOL_PLUGIN_DIR="$T/bin/plugins" \
        "$T/bin/zinvold" --check-config "$T/ro.conf" >/dev/null 2>"$T/logs/ro.err" || st=$?
    [ $st = 1 ] || fail "unwritable folders accepted (exit $st): $(cat "$T/logs/ro.err")"
    grep -q "directory: $T/ro/inbox is not writable" "$T/logs/ro.err" || fail "unwritable inbox: $(cat "$T/logs/ro.err")"
    grep -q "dir: $T/ro/out does not exist and cannot be made: $T/ro is not writable" "$T/logs/ro.err" ||
        fail "outbox that cannot be made: $(cat "$T/logs/ro.err")"
else
    echo "note: not root or no setpriv: the unwritable case is not tried"
fi

# The daemon itself still makes the folders when it starts.
mkdir -p "$T/run"
conf "$T/run.conf" "$T/run/inbox" "$T/run/out" "$T/run/state"
"$B/zinvold" --once --config "$T/run.conf" >/dev/null 2>"$T/logs/run.err" || fail "--once: $(cat "$T/logs/run.err")"
[ -d "$T/run/inbox" ] && [ -d "$T/run/state" ] || fail "zinvold --once did not make its folders"
echo "ok: nothing changed on disk; missing and unusable folders reported"
