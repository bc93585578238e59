#!/usr/bin/env bash
# Every installed path follows the configured prefix: the files land below
# it, the daemon's compiled-in defaults and the generated unit and config
# name it, and the unit keeps its hardening score.
set -euo pipefail
BUILD=${ZV_BUILD_DIR:?run through ctest}
work=$(mktemp -d /tmp/zv-layout-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cache() { sed -n "s/^$1:[A-Z]*=//p" "$BUILD/CMakeCache.txt"; }

prefix=$(cache CMAKE_INSTALL_PREFIX)
[ -n "$prefix" ] || fail "no CMAKE_INSTALL_PREFIX in the cache"
DESTDIR=$work/root cmake --install "$BUILD" >"$work/install.log" 2>&1 || { cat "$work/install.log"; fail "install"; }
root=$work/root$prefix
# GNUInstallDirs: /usr gives /etc and /var, any other prefix <prefix>/etc, <prefix>/var.
if [ "$prefix" = /usr ]; then etc=/etc; var=/var; else etc=$prefix/etc; var=$prefix/var; fi
unitdir=$(cache ZV_SYSTEMD_UNIT_DIR)
case $unitdir in /*) ;; *) unitdir=$prefix/$unitdir ;; esac

for f in "$prefix/bin/zinvold" "$prefix/bin/zinvolctl" "$prefix/lib/zinvol/plugins/in_filedrop.so" \
         "$prefix/share/zinvol/iwlz/releases/2.2/xsd/AW35.xsd" "$etc/zinvol/zinvol.conf" \
         "$etc/zinvol/catalogue/json-example.json" "$unitdir/zinvol.service" \
         "$prefix/share/doc/zinvol/README.md" "$prefix/share/doc/zinvol/LICENSE"; do
  [ -e "$work/root$f" ] || fail "missing $f"
done
if command -v pandoc >/dev/null; then
  for m in man8/zinvold.8 man8/zinvolctl.8 man5/zinvol.conf.5; do
    [ -s "$root/share/man/$m" ] || fail "missing man page $m"
  done
  # The pages are valid roff that man can format.
  if command -v man >/dev/null; then
    man -l "$root/share/man/man8/zinvold.8" >"$work/man.txt" 2>&1 || true
  grep -q -- "--dry-run" "$work/man.txt" || fail "zinvold(8) does not format"
  fi
fi
# Nothing was installed outside the prefix (and /etc, /var for prefix /usr; the unit dir).
stray=$(cd "$work/root" && find . -type f | sed 's|^\.||' | grep -v "^$prefix/" | grep -v "^$etc/" \
        | grep -v "^$unitdir/" || true)
[ -z "$stray" ] || fail "installed outside the prefix: $stray"

# Compiled-in defaults.
help=$("$work/root$prefix/bin/zinvold" --help)
grep -q "config $etc/zinvol/zinvol.conf" <<<"$help" || fail "default config: $help"
grep -q "state_dir $var/lib/zinvol" <<<"$help" || fail "default state dir: $help"
grep -q "plugin_dir $prefix/lib/zinvol/plugins" <<<"$help" || fail "default plugin dir: $help"
strings "$work/root$prefix/lib/zinvol/plugins/fmt_iwlz.so" | grep -x "$prefix/share/zinvol/iwlz/releases" >/dev/null \
  || fail "fmt_iwlz's bundled releases folder is not below the prefix"

# The generated unit and config.
unit=$work/root$unitdir/zinvol.service
grep -qx "ExecStart=$prefix/bin/zinvold --config $etc/zinvol/zinvol.conf" "$unit" || fail "ExecStart: $(grep ExecStart "$unit")"
grep -qx "ExecStartPre=$prefix/bin/zinvold --check-config $etc/zinvol/zinvol.conf" "$unit" || fail "ExecStartPre"
grep -qx "Documentation=file://$prefix/share/doc/zinvol/README.md" "$unit" || fail "Documentation="
grep -qx "ReadWritePaths=-$var/spool/zinvol" "$unit" || fail "exchange folder"
grep -q "\"state_dir\": \"$var/lib/zinvol\"" "$work/root$etc/zinvol/zinvol.conf" || fail "installed config's state_dir"
grep -q "@[A-Z_]*@" "$unit" && fail "unsubstituted variable in the unit"

# Hardening: the score systemd computes for the unit stays at 1.1 or better.
if command -v systemd-analyze >/dev/null; then
  cp "$unit" "$work/zinvol.service"
  out=$(cd "$work" && systemd-analyze security --offline=yes zinvol.service 2>&1) || true
  score=$(echo "$out" | sed -n 's/.*Overall exposure level for zinvol.service: \([0-9.]*\).*/\1/p')
  [ -n "$score" ] || fail "systemd-analyze gave no score: $out"
  echo "systemd-analyze security: exposure $score"
  awk -v s="$score" 'BEGIN { exit !(s <= 1.1) }' || fail "hardening score $score is worse than 1.1"
fi
echo "packaging_layout: all checks passed (prefix $prefix)"
