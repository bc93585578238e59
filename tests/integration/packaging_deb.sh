#!/usr/bin/env bash
# dpkg-buildpackage builds the .deb from a copy of the source tree; lintian
# reports no errors; the package, unpacked into a clean root, passes
# `zinvold --check-config /etc/zinvol/zinvol.conf` there (in a chroot when we
# are root, so that the compiled-in /usr/lib/zinvol/plugins is the root's).
set -euo pipefail
SRC=${ZV_SOURCE_DIR:?run through ctest}
for t in dpkg-buildpackage dh lintian; do
  command -v $t >/dev/null || { echo "SKIP: $t is not installed (debhelper, lintian)"; exit 77; }
done
work=$(mktemp -d /tmp/zv-deb-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

mkdir "$work/zinvol"
(cd "$SRC" && tar --exclude=./.git --exclude='./build*' --exclude=./demo-out --exclude=./obj-\* -cf - .) \
  | tar -C "$work/zinvol" -xf -
# Unit tests are the project's CI's job; the package build here only proves
# that it builds (nocheck also leaves the test programs out).
start=$(date +%s)
(cd "$work/zinvol" && DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b) \
  >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; fail "dpkg-buildpackage"; }
echo "dpkg-buildpackage: $(( $(date +%s) - start ))s"
deb=$(ls "$work"/zinvol_*_*.deb)
changes=$(ls "$work"/zinvol_*.changes)

lintian --tag-display-limit 0 "$changes" >"$work/lintian.txt" 2>&1 || true
echo "--- lintian"; grep -v "running with root privileges" "$work/lintian.txt" || true; echo "---"
grep -q "^E: " "$work/lintian.txt" && fail "lintian reports errors"

root=$work/root
dpkg -x "$deb" "$root"
for f in usr/bin/zinvold usr/bin/zinvolctl usr/lib/zinvol/plugins/in_filedrop.so \
         usr/lib/zinvol/plugins/fmt_iwlz.so usr/share/zinvol/iwlz/releases/2.2/xsd/AW35.xsd \
         etc/zinvol/zinvol.conf etc/zinvol/catalogue/iwlz-aw35.json lib/systemd/system/zinvol.service \
         usr/share/man/man8/zinvold.8.gz usr/share/man/man8/zinvolctl.8.gz \
         usr/share/man/man5/zinvol.conf.5.gz usr/share/doc/zinvol/README.md usr/share/doc/zinvol/copyright; do
  [ -e "$root/$f" ] || fail "package lacks /$f"
done
grep -qx "ExecStart=/usr/bin/zinvold --config /etc/zinvol/zinvol.conf" "$root/lib/systemd/system/zinvol.service" \
  || fail "unit ExecStart"
dpkg-deb -I "$deb" postinst | grep -q "adduser --quiet --system --group" || fail "postinst creates no system user"
dpkg-deb -I "$deb" postinst | grep -q "systemctl.*enable\|deb-systemd-helper" || fail "postinst does not enable the unit"

if [ "$(id -u)" = 0 ] && command -v chroot >/dev/null; then
  # The root gets the shared libraries the binaries and plugins need, nothing else.
  for f in "$root/usr/bin/zinvold" "$root"/usr/lib/zinvol/plugins/*.so; do
    ldd "$f" | grep -o '/[^ ]*' || true
  done | sort -u | while read -r lib; do
    mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"
  done
  mkdir -p "$root/tmp" "$root/dev"
  chroot "$root" /usr/bin/zinvold --check-config /etc/zinvol/zinvol.conf >"$work/check.out" 2>&1 \
    || { cat "$work/check.out"; fail "check-config in the clean root"; }
  cat "$work/check.out"
else
  # Not root: the same file with its paths moved into the root.
  sed "s#/var/lib/zinvol#$root/var/lib/zinvol#g" "$root/etc/zinvol/zinvol.conf" >"$root/etc/zinvol/zinvol-root.conf"
  "$root/usr/bin/zinvold" --plugin-dir "$root/usr/lib/zinvol/plugins" \
    --check-config "$root/etc/zinvol/zinvol-root.conf" || fail "check-config in the unpacked root"
fi
echo "packaging_deb: all checks passed"
