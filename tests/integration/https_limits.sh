#!/bin/bash
# The plugins' TLS listener (zv_host.https_listen; here the
# Leveringsregister's) keeps the plain listener's connection bounds from
# http.limits: at most max_connections at once (the rest wait in the
# backlog, one log line), a whole request within request_timeout however
# slowly it trickles in over TLS, and it serves again once the flood is gone.
set -euo pipefail
. "$(dirname "$0")/netwerkmodel_lib.sh"
RPORT=$(free_port) HPORT=$(free_port)
mkdir -p "$T/out"
cat > "$T/z.conf" <<CONF
{
  "state_dir": "$T/state", "catalogue_dir": "$S/conf/catalogue", "plugin_dir": "${ZV_PLUGIN_DIR:?}",
  "log_level": "info", "organisation": {"agb": "12345678", "name": "Zorg Test"},
  "http": {"listen": "127.0.0.1:$HPORT", "limits": {"max_connections": 5, "request_timeout": "2s"}},
  "sources": [{"name": "ecd", "type": "filedrop",
    "options": {"directory": "$T/in", "delimiter": ";", "settle": "0s"},
    "mapping": {"record_id": "id", "records": [{"kind": "delivery", "fields": {
      "client.bsn": "bsn", "entitlement.law": {"value": "wlz"}, "entitlement.funder": "zk",
      "delivery.start": "start"}}]}}],
  "destinations": [
    {"name": "lvr", "format": "leveringsregister", "transport": "filedrop",
     "format_options": {"listen": "127.0.0.1:$RPORT", "tls_cert": "$P/register.pem",
       "tls_key": "$P/register.key", "client_ca": "$P/netwerk-ca.pem"},
     "transport_options": {"dir": "$T/out"}}]
}
CONF
"$B/zinvold" --check-config "$T/z.conf" >/dev/null || fail "check-config: $("$B/zinvold" --check-config "$T/z.conf" 2>&1)"
"$B/zinvold" --config "$T/z.conf" 2>"$T/zinvold.log" &
DPID=$!
URL=https://127.0.0.1:$RPORT/graphql
tls_get() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$P/netwerk-ca.pem" --cert "$P/pep.pem" --key "$P/pep.key" "$URL"; }
wait_for 30 eval '[ "$(tls_get)" = 405 ]' || fail "the register's TLS listener did not answer"

$PY - "$RPORT" "$P" "$DPID" <<'PY' || fail "bounds"
import os, socket, ssl, sys, time
port, P, pid = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])

def closed(s, wait):
    s.settimeout(wait)
    try:
        return s.recv(1) == b''
    except socket.timeout:
        return False
    except (ConnectionResetError, ssl.SSLError, OSError):
        return True

# 1. a flood of 40 connections that never speak: 5 are taken, the rest wait
#    in the backlog; the deadline closes the taken ones, the next 5 come in.
socks = []
for _ in range(40):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex(('127.0.0.1', port))
    socks.append(s)
time.sleep(1)
fds = len(os.listdir('/proc/%d/fd' % pid))
for s in socks:
    s.close()
print('flood: 40 connections, zinvold holds %d descriptors' % fds)

# 2. slowloris over TLS: a header line every 0.5 s never goes silent; the
#    request deadline (2 s) closes it.
ctx = ssl.create_default_context(cafile=P + '/netwerk-ca.pem')
ctx.load_cert_chain(P + '/pep.pem', P + '/pep.key')
ctx.check_hostname = False
for _ in range(50):  # the flood's waiting connections are closed by their deadline first
    try:
        s = ctx.wrap_socket(socket.create_connection(('127.0.0.1', port), timeout=10))
        break
    except (OSError, ssl.SSLError):
        time.sleep(0.2)
t0 = time.time()
s.sendall(b'POST /graphql HTTP/1.1\r\nHost: t\r\n')
while time.time() - t0 < 12:
    if closed(s, 0.5):
        took = time.time() - t0
        print('slowloris over TLS: closed after %.1f s (deadline 2 s)' % took)
        assert took < 4.5, took
        break
    try:
        s.sendall(b'X-Slow: 1\r\n')
    except (OSError, ssl.SSLError):
        pass
else:
    sys.exit('the trickling TLS request was never closed')
PY
grep -q "5 connections open (http.limits.max_connections)" "$T/zinvold.log" ||
    fail "max_connections not applied to the TLS listener: $(grep http "$T/zinvold.log" | tail -5)"
grep -q "did not send a whole request within 2000 ms" "$T/zinvold.log" ||
    fail "request_timeout not applied to the TLS listener"
# served again once the flood is gone
wait_for 20 eval '[ "$(tls_get)" = 405 ]' || fail "the TLS listener does not answer after the flood"
kill -0 "$DPID" || fail "zinvold died"
kill "$DPID"; wait "$DPID" 2>/dev/null || true; DPID=
echo "https limits: ok"
