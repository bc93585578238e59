# Shared setup of the netwerkmodel tests (sourced): a temporary folder,
# certificates made with openssl, the local gateway
# (tests/fixtures/netwerkmodel/gateway.py) on 127.0.0.1, helpers.
# Sets T, P (pki), GW, REL, PY, GPORT, GPID; the caller sets DPID when it
# starts zinvold.
B=${ZV_BUILD_DIR:?}
S=${ZV_SOURCE_DIR:?}
PY=/usr/bin/python3
if ! $PY -c 'import graphql' 2>/dev/null; then
    echo "SKIP: /usr/bin/python3 has no graphql module (Debian python3-graphql-core)"
    exit 77
fi
command -v openssl >/dev/null || { echo "SKIP: no openssl"; exit 77; }
T=$(mktemp -d /tmp/zv-nm-XXXXXX)
GW=$S/tests/fixtures/netwerkmodel/gateway.py
REL=$S/plugins/fmt_leveringsregister/netwerkmodel/lvr-1.0-rc1
GPID= DPID=
nm_cleanup() {
    [ -n "$DPID" ] && kill "$DPID" 2>/dev/null
    [ -n "$GPID" ] && kill "$GPID" 2>/dev/null
    wait 2>/dev/null
    if [ "${KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap nm_cleanup EXIT
fail() {
    echo "FAIL: $*"
    echo "--- zinvold.log"; tail -40 "$T/zinvold.log" 2>/dev/null
    echo "--- gateway.log"; tail -20 "$T/gateway.log" 2>/dev/null
    exit 1
}
mkdir -p "$T/in" "$T/gw" "$T/pki"
P=$T/pki
nm_ca() { openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1" -keyout "$P/$1.key" -out "$P/$1.pem" 2>/dev/null; }
nm_leaf() { # name CN issuer [server]
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$2" -keyout "$P/$1.key" -out "$P/$1.csr" 2>/dev/null
    if [ "${4:-}" = server ]; then ext="subjectAltName=IP:127.0.0.1,DNS:localhost"; else ext="extendedKeyUsage=clientAuth"; fi
    openssl x509 -req -in "$P/$1.csr" -CA "$P/$3.pem" -CAkey "$P/$3.key" -CAcreateserial -days 2 \
        -extfile <(echo "$ext") -out "$P/$1.pem" 2>/dev/null
}
nm_ca netwerk-ca
nm_leaf register localhost netwerk-ca server # zinvol's register endpoint
nm_leaf gateway localhost netwerk-ca server  # nID and PEP
nm_leaf provider agb:12345678 netwerk-ca     # the provider's system certificate
nm_leaf pep pep.nid netwerk-ca               # the PEP calling the register

nm_gateway() { # extra serve arguments
    $PY "$GW" serve --dir "$T/gw" --ca "$P/netwerk-ca.pem" --cert "$P/gateway.pem" --key "$P/gateway.key" \
        "$@" 2>"$T/gateway.log" &
    GPID=$!
    for _ in $(seq 100); do [ -f "$T/gw/port" ] && break; sleep 0.1; done
    GPORT=$(cat "$T/gw/port")
}
free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ctl() { "$B/zinvolctl" -c "$T/z.conf" "$@"; }
# wait_for SECONDS COMMAND...: until the command succeeds, or fail.
wait_for() {
    local n=$(( $1 * 10 )); shift
    for _ in $(seq "$n"); do
        "$@" >/dev/null 2>&1 && return 0
        [ -z "$DPID" ] || kill -0 "$DPID" 2>/dev/null || fail "zinvold stopped"
        sleep 0.1
    done
    return 1
}
lines() { [ -f "$1" ] && wc -l < "$1" || echo 0; }
