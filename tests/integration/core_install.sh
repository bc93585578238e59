#!/usr/bin/env bash
# cmake --install puts everything where the README says, and a plugin author
# can build a plugin against the installed headers with pkg-config alone;
# zinvold then loads it, and refuses the same plugin built for ABI major+1.
set -euo pipefail
BUILD=${ZV_BUILD_DIR:?run through ctest}
SRC=${ZV_SOURCE_DIR:?}
work=$(mktemp -d /tmp/zv-install-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

prefix=$work/prefix
cmake --install "$BUILD" --prefix "$prefix" >"$work/install.log" 2>&1 || { cat "$work/install.log"; fail "install"; }
for f in bin/zinvold bin/zinvolctl lib/zinvol/plugins/fmt_json.so lib/zinvol/plugins/out_filedrop.so \
         etc/zinvol/zinvol.conf etc/zinvol/catalogue/json-example.json \
         include/zinvol/plugin.h include/zinvol/model.h include/zinvol/json.h; do
  [ -e "$prefix/$f" ] || fail "missing $f after install"
done
pc=$(find "$prefix" -name zinvol-plugin.pc | head -1)
[ -n "$pc" ] || fail "no zinvol-plugin.pc"
export PKG_CONFIG_PATH=$(dirname "$pc")

# A plugin author's plugin, outside the source tree, built with pkg-config.
cat > "$work/out_mine.c" <<'C'
#include <zinvol/plugin.h>
static int create(zv_ctx *c, const zv_host *h, void **s, char *e, size_t n)
{ (void)c; (void)h; (void)e; (void)n; *s = 0; return 0; }
static void destroy(void *s) { (void)s; }
static int send_it(void *s, const zv_delivery *d, zv_send_cb cb, void *a)
{ (void)s; (void)d; (void)cb; (void)a; return -1; }
static const zv_transport_ops ops = {ZV_SIZED(zv_transport_ops), send_it};
#ifndef MAJOR
#define MAJOR ZV_ABI_MAJOR
#endif
ZV_EXPORT const zv_plugin_descriptor zv_plugin = {
    .abi_major = MAJOR, .abi_minor = ZV_ABI_MINOR, .size = sizeof(zv_plugin_descriptor),
    .kind = ZV_PLUGIN_TRANSPORT, .name = "mine", .create = create, .destroy = destroy,
    .transport = &ops};
C
mkdir -p "$work/plugins" "$work/plugins2"
cc -std=c17 -Wall -Wextra -Werror -fPIC -shared $(pkg-config --cflags zinvol-plugin) \
   -o "$work/plugins/out_mine.so" "$work/out_mine.c" || fail "plugin does not build against installed headers"
cc -std=c17 -fPIC -shared -DMAJOR=99 $(pkg-config --cflags zinvol-plugin) \
   -o "$work/plugins2/out_mine.so" "$work/out_mine.c"
cp "$prefix/lib/zinvol/plugins/fmt_json.so" "$work/plugins/"
cp "$prefix/lib/zinvol/plugins/fmt_json.so" "$work/plugins2/"

conf() { cat > "$work/$1.conf" <<JSON
{ "state_dir": "$work/state", "plugin_dir": "$2", "catalogue_dir": "$prefix/etc/zinvol/catalogue",
  "destinations": [{"name": "x", "format": "json", "transport": "mine",
                    "catalogue": {"file": "json-example.json"}}] }
JSON
}
conf good "$work/plugins"
conf bad "$work/plugins2"
"$prefix/bin/zinvold" --check-config "$work/good.conf" >/dev/null || fail "own plugin refused"
if "$prefix/bin/zinvold" --check-config "$work/bad.conf" 2>"$work/bad.err"; then fail "ABI 99 accepted"; fi
grep -Eq "out_mine.so: plugin ABI 99\.[0-9]+ is not supported: this zinvold provides ABI 2" "$work/bad.err" \
  || fail "unclear refusal: $(cat "$work/bad.err")"

# The bundled default configuration validates (plugins from the build).
ZINVOL_PLUGIN_DIR=$BUILD/plugins ZINVOL_STATE_DIR=$work/state2 \
  "$BUILD/zinvold" --check-config "$SRC/conf/zinvol.conf" >/dev/null || fail "conf/zinvol.conf invalid"
echo "core_install: all checks passed"
