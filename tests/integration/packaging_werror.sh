#!/usr/bin/env bash
# The compile commands carry -Werror exactly when the build was configured
# with ZV_WERROR=ON, and a fresh configure without it leaves it off.
set -euo pipefail
BUILD=${ZV_BUILD_DIR:?run through ctest}
SRC=${ZV_SOURCE_DIR:?}
fail() { echo "FAIL: $*"; exit 1; }
on=$(sed -n 's/^ZV_WERROR:BOOL=//p' "$BUILD/CMakeCache.txt")
cc=$BUILD/compile_commands.json
[ -s "$cc" ] || fail "no compile_commands.json"
n=$(grep -c '"command"' "$cc")
w=$(grep '"command"' "$cc" | grep -c -- '-Werror\b' || true)
case $on in
  ON) [ "$w" = "$n" ] || fail "ZV_WERROR=ON but $w of $n compile commands have -Werror" ;;
  *) [ "$w" = 0 ] || fail "ZV_WERROR=$on but $w compile commands have -Werror" ;;
esac
# The default of a fresh configure is OFF (configure only, nothing is built).
work=$(mktemp -d /tmp/zv-werror-XXXXXX)
trap 'rm -rf "$work"' EXIT
cmake -S "$SRC" -B "$work/b" -DZV_TESTS=OFF >/dev/null 2>&1 || fail "configure"
grep -qx 'ZV_WERROR:BOOL=OFF' "$work/b/CMakeCache.txt" || fail "ZV_WERROR does not default to OFF"
grep -q -- '-Werror\b' "$work/b/compile_commands.json" && fail "-Werror in a default build"
echo "packaging_werror: ZV_WERROR=$on, $w of $n compile commands with -Werror; default OFF"
