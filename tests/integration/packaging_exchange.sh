#!/usr/bin/env bash
# The documented way for an SFTP or portal-upload account to reach the inbox
# and outbox (README.md, "Running under systemd"), with the real daemon and
# real permissions: exchange folders of group "zinvol" with the setgid bit,
# the service with UMask 0027, the upload account in that group.  The account
# uploads an export; zinvold, running as its own user, reads it, moves it to
# done/ and writes the message; the account can read and remove the message;
# an account outside the group can do neither.  Without systemd: setpriv
# gives each step its uid, gid and groups (numeric ids, no passwd entries).
set -euo pipefail
BUILD=${ZV_BUILD_DIR:?run through ctest}
SRC=${ZV_SOURCE_DIR:?}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to switch users"; exit 77; }
command -v setpriv >/dev/null || { echo "SKIP: setpriv (util-linux) missing"; exit 77; }
work=$(mktemp -d /tmp/zv-exchange-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
chmod 0755 "$work"
svc=61990 portal=61991 other=61992 # uids; group "zinvol" is gid $svc
as_svc() { setpriv --reuid=$svc --regid=$svc --clear-groups -- "$@"; }
as_portal() { setpriv --reuid=$portal --regid=$portal --groups=$svc -- "$@"; }
as_other() { setpriv --reuid=$other --regid=$other --clear-groups -- "$@"; }

# The build and source trees may sit below a folder only root can enter (a
# checkout in a mktemp -d folder, as CI's copy without ../shared is): the
# service user runs copies of the daemon, its plugins and the catalogues.
bin=$work/bin
mkdir -p "$bin/plugins" "$bin/catalogue"
cp "$BUILD/zinvold" "$bin/"
cp "$BUILD"/plugins/*.so "$bin/plugins/"
cp "$SRC"/conf/catalogue/*.json "$bin/catalogue/"
chmod -R a+rX "$bin"

# What the package's postinst (or the README's steps) set up.
spool=$work/spool
install -d -o $svc -g $svc -m 2770 "$spool" "$spool/inbox" "$spool/outbox" "$spool/outbox/example"
install -d -o $svc -g $svc -m 0700 "$work/state"
sed -e "s#\"/var/lib/zinvol\"#\"$work/state\"#" -e "s#/var/lib/zinvol/inbox#$spool/inbox#" \
    -e "s#/var/lib/zinvol/outbox/example#$spool/outbox/example#" \
    -e "s#\"catalogue_dir\": \"catalogue\"#\"catalogue_dir\": \"$bin/catalogue\"#" \
    "$SRC/conf/zinvol.conf" >"$work/zinvol.conf"
chmod 0644 "$work/zinvol.conf"

# The portal account uploads with the umask the README gives for SFTP (-u 0027).
cat >"$work/export.csv" <<'CSV'
regel_id;bsn;voorletters;voorvoegsel;achternaam;geboortedatum;geslacht;postcode;wet;toewijzingnummer;financier;begindatum;einddatum;zorgvorm
R1;999990019;J.;;Jansen;01-02-1950;M;1234AB;wlz;123456789;5501;01-01-2026;;3
R2;999990020;P.;de;Vries;03-04-1960;V;2345BC;wlz;223456789;5501;01-02-2026;;3
CSV
chmod 0644 "$work/export.csv"
as_portal sh -c "umask 0027; cp '$work/export.csv' '$spool/inbox/export.csv'"
[ "$(stat -c %g "$spool/inbox/export.csv")" = "$svc" ] || fail "upload did not get the group (setgid)"
# Uploaded a minute ago: settled (the source waits 2 s after the last write).
touch -d '-1 min' "$spool/inbox/export.csv"

# The service, as its own user with the unit's UMask.
as_svc sh -c "umask 0027; ZINVOL_PLUGIN_DIR='$bin/plugins' '$bin/zinvold' --once --config '$work/zinvol.conf'" \
  >"$work/once.out" 2>"$work/once.err" || { cat "$work/once.err"; fail "zinvold --once as the service user"; }
[ -e "$spool/inbox/export.csv" ] && fail "the export was not picked up"
ls "$spool/inbox/done/" | grep -q export || fail "the export is not in done/: $(ls -R "$spool/inbox")"
msgs=$(find "$spool/outbox/example" -type f -not -name '.*')
[ -n "$msgs" ] || { cat "$work/once.err"; fail "no message in the outbox"; }
msg=$(echo "$msgs" | head -1)
[ "$(stat -c %a "$msg")" = 640 ] || fail "message mode $(stat -c %a "$msg"), want 640 (UMask 0027)"
[ "$(stat -c %g "$msg")" = "$svc" ] || fail "message group $(stat -c %g "$msg"), want the zinvol group"

# The portal account fetches and removes the message; another account cannot.
as_other cat "$msg" >/dev/null 2>&1 && fail "an account outside the group reads the outbox"
as_other ls "$spool/inbox" >/dev/null 2>&1 && fail "an account outside the group lists the inbox"
as_portal cat "$msg" | grep -q '"client' || fail "the portal account cannot read the message"
as_portal rm "$msg" || fail "the portal account cannot remove the fetched message"
# The private state stays private.
as_portal ls "$work/state" >/dev/null 2>&1 && fail "the portal account reaches the state directory"
echo "packaging_exchange: upload, pickup, message for the group, fetch and remove: all as documented"
