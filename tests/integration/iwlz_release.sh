#!/usr/bin/env bash
# A release is data.  zinvold --check-config accepts the bundled iWlz 2.2
# release (by release_dir, and by name once installed) and refuses an
# incomplete or inconsistent release directory with a reason naming it.
set -euo pipefail
BUILD=${ZV_BUILD_DIR:?run through ctest}
SRC=${ZV_SOURCE_DIR:?}
work=$(mktemp -d /tmp/zv-iwlz-release-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
mkdir -p "$work/out" "$work/in"

# conf NAME FORMAT_OPTIONS_JSON [PLUGIN_DIR]
conf() {
    cat > "$work/$1.conf" <<JSON
{ "state_dir": "$work/state-$1", "plugin_dir": "${3:-$BUILD/plugins}",
  "catalogue_dir": "$SRC/conf/catalogue", "organisation": {"agb": "12345678"},
  "destinations": [{"name": "zk", "format": "iwlz", "transport": "filedrop",
                    "format_options": $2, "transport_options": {"dir": "$work/out"}}] }
JSON
}
ok() { conf "$1" "$2" "${3:-}"; "${4:-$BUILD/zinvold}" --check-config "$work/$1.conf" >"$work/$1.log" 2>&1 \
         || fail "$1 refused: $(cat "$work/$1.log")"; }
refused() { # NAME OPTIONS EXPECTED-TEXT
    conf "$1" "$2"
    if "$BUILD/zinvold" --check-config "$work/$1.conf" >"$work/$1.log" 2>&1; then
        fail "$1: accepted"
    fi
    grep -qF -- "$3" "$work/$1.log" || fail "$1: unclear reason: $(cat "$work/$1.log")"
    echo "refused $1: $(grep -F -- "$3" "$work/$1.log" | head -1 | sed "s|$work|TMP|g")"
}

ok bundled "{\"release_dir\": \"$SRC/plugins/fmt_iwlz/releases/2.2\"}"

# A copy of the release, broken in one way each time.
broken() { rm -rf "$work/rel"; cp -a "$SRC/plugins/fmt_iwlz/releases/2.2" "$work/rel"; }
opts="{\"release_dir\": \"$work/rel\"}"

broken; ok copy "$opts"
broken; rm "$work/rel/release.json"
refused no-manifest "$opts" "no release.json (not a release directory)"
broken; rm "$work/rel/xslt/wlz/2_2/AW39.xsl"
refused no-xslt "$opts" "AW39.xslt: file 'xslt/wlz/2_2/AW39.xsl' not found (incomplete release)"
broken; rm "$work/rel/xsd/AW310.xsd"
refused no-xsd "$opts" "AW310.xsd: file 'xsd/AW310.xsd' not found (incomplete release)"
broken; sed -i 's|iwlz/2_2/aw35/schema|iwlz/2_4/aw35/schema|' "$work/rel/release.json"
refused wrong-namespace "$opts" "AW35: namespace in release.json (http://www.istandaarden.nl/iwlz/2_4/aw35/schema) differs from the XSD's targetNamespace"
broken; sed -i 's|"bericht_code": "358"|"bericht_code": "354"|' "$work/rel/release.json"
refused wrong-code "$opts" "AW39: BerichtCode in release.json is '354', the XSD fixes '358' (inconsistent release)"
broken; sed -i 's|Leveringsstatus|Leveringstatus|' "$work/rel/xslt/wlz/2_2/rules/TR046.xsl"
refused changed-file "$opts" "'xslt/wlz/2_2/rules/TR046.xsl' differs from its checksum in SHA256SUMS (changed file)"
unsum() { # a user's own release carries no SHA256SUMS
    python3 -c 'import json,sys; p=sys.argv[1]; m=json.load(open(p)); m.pop("checksums"); json.dump(m, open(p,"w"))' "$work/rel/release.json"
    rm "$work/rel/SHA256SUMS"
}
broken; unsum; ok no-checksums "$opts"
broken; unsum; echo '<xsl:stylesheet' > "$work/rel/xslt/wlz/2_2/AW35.xsl"
refused bad-xslt "$opts" "AW35.xsl: the rule set does not compile"
broken; sed -i 's|"messages"|"berichten"|' "$work/rel/release.json"
refused no-messages "$opts" "\"messages\" missing in release.json"
refused unknown-name '{"release": "2.4"}' "no bundled release '2.4'"
refused bad-name '{"release": "../2.2"}' "is not a release name"

# Installed: "release": "2.2" (the default) finds the bundled copy next to
# the installed plugin.
prefix=$work/prefix
cmake --install "$BUILD" --prefix "$prefix" >"$work/install.log" 2>&1 || { cat "$work/install.log"; fail install; }
[ -f "$prefix/share/zinvol/iwlz/releases/2.2/release.json" ] || fail "release not installed"
(cd "$prefix/share/zinvol/iwlz/releases/2.2" && sha256sum --quiet -c SHA256SUMS) || fail "installed release differs"
ok installed '{"release": "2.2"}' "$prefix/lib/zinvol/plugins" "$prefix/bin/zinvold"
ok installed-default '{}' "$prefix/lib/zinvol/plugins" "$prefix/bin/zinvold"
echo "iwlz releases: bundled and installed accepted, 10 broken ones refused"
