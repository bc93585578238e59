#!/usr/bin/env bash
# ABI snapshot: compile abi_anchor.c against include/zinvol, dump its types
# with abidw and compare them with the checked-in baseline of the version
# plugin.h declares (tests/abi/zv-abi-MAJOR.MINOR.abi).  Fails when the
# layout changed but the version did not; also checks that a minor only
# appended to the earlier minors of its major.
#   abi_check.sh CC SRCDIR WORKDIR          check (the test abi/snapshot)
#   abi_check.sh CC SRCDIR WORKDIR --write  record the baseline of this version
set -euo pipefail
cc=$1 src=$2 work=$3 mode=${4:-check}
here=$src/tests/abi
if ! command -v abidw >/dev/null || ! command -v abidiff >/dev/null; then
  echo "SKIP: abidw/abidiff not found (Debian package abigail-tools, see .ci/install-deps)"
  exit 77
fi
hdr=$src/include/zinvol/plugin.h
major=$(sed -n 's/^#define ZV_ABI_MAJOR \([0-9]*\).*/\1/p' "$hdr")
minor=$(sed -n 's/^#define ZV_ABI_MINOR \([0-9]*\).*/\1/p' "$hdr")
[ -n "$major" ] && [ -n "$minor" ] || { echo "FAIL: no ZV_ABI_MAJOR/MINOR in $hdr"; exit 1; }
ver=$major.$minor
base=$here/zv-abi-$ver.abi
mkdir -p "$work"
# No sanitizer or optimisation flags: only the types matter, and they must
# not depend on the build type.  The prefix map keeps paths out of the dump.
"$cc" -std=c17 -g -O0 -shared -fPIC -fvisibility=hidden -fdebug-prefix-map="$src"=. \
  -I"$src/include" "$here/abi_anchor.c" -o "$work/abi_anchor.so"
abidw --no-show-locs --no-corpus-path --no-comp-dir-path --drop-undefined-syms \
  "$work/abi_anchor.so" >"$work/current.abi"

if [ "$mode" = --write ]; then
  if grep -qx "$ver" "$here/released"; then
    echo "FAIL: ABI $ver is released (tests/abi/released): bump ZV_ABI_MINOR or ZV_ABI_MAJOR"
    exit 1
  fi
  cp "$work/current.abi" "$base"
  echo "recorded the layout of plugin ABI $ver in $base"
  exit 0
fi

if [ ! -f "$base" ]; then
  echo "FAIL: plugin.h declares ABI $ver but tests/abi/zv-abi-$ver.abi does not exist."
  echo "If you bumped the version on purpose, record its layout and commit it:"
  echo "  cmake --build <build dir> --target abi-baseline"
  exit 1
fi
rc=0
abidiff "$base" "$work/current.abi" >"$work/diff.txt" || rc=$?
if [ $rc -ne 0 ]; then
  cat "$work/diff.txt"
  echo
  if grep -qx "$ver" "$here/released"; then
    echo "FAIL: the plugin ABI layout changed (above) but plugin.h still says $ver, which is"
    echo "released. Bump ZV_ABI_MINOR (members only appended at the end of sized structs) or"
    echo "ZV_ABI_MAJOR (anything else), then: cmake --build <build dir> --target abi-baseline"
  else
    echo "FAIL: the plugin ABI layout changed (above) but the baseline of $ver (not released"
    echo "yet) was not re-recorded. If the change is meant: cmake --build <build dir> --target"
    echo "abi-baseline and commit tests/abi/zv-abi-$ver.abi (see plugin.h, 'Changing the ABI')."
  fi
  exit 1
fi
# A minor may only append: nothing earlier minors had moves or disappears.
for old in "$here"/zv-abi-"$major".*.abi; do
  [ -f "$old" ] || continue
  m=${old##*/zv-abi-$major.}; m=${m%.abi}
  [ "$m" -lt "$minor" ] || continue
  abidiff "$old" "$work/current.abi" >"$work/diff-$m.txt" || true
  if awk '/type size changed from/ { if ($5+0 > $7+0) bad=1 } /offset changed|deletion|[1-9][0-9]* Removed|value changed/ { bad=1 } END { exit bad ? 0 : 1 }' "$work/diff-$m.txt"; then
    cat "$work/diff-$m.txt"
    echo "FAIL: ABI $ver is not an append-only extension of $major.$m (above): that needs a major bump"
    exit 1
  fi
done
echo "plugin ABI $ver: layout matches tests/abi/zv-abi-$ver.abi"
