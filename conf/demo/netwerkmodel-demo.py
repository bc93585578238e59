#!/usr/bin/python3
"""make demo, part 9 (run-demo.sh): the iWlz netwerkmodel.  The demo export
goes to zorgkantoor 5501 twice: as AW35/AW39 messages (format iwlz, file
drop) and into the Leveringsregister (format leveringsregister), which
notifies the zorgkantoor through the local gateway; the gateway then asks
QLR-0006-ZK for every new Leveringperiode, as the zorgkantoor would.  At the
start the zorgkantoor's bemiddelingspecificaties for the export go in
first (tests/fixtures/netwerkmodel/assignments.py, what source
bemiddelingsregister would map from QBR-0001-ZA), so that every Levering
refers to what the zorgkantoor assigned.  At the
end the audit trail says, per client, what AW35/AW39 sent and what the
zorgkantoor asked: the netwerkmodel's measured saving.

Usage: netwerkmodel-demo.py ROOT BUILD OUT
"""
import glob
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time

root, build, out = sys.argv[1:4]
rel = os.path.join(root, 'plugins/fmt_leveringsregister/netwerkmodel/lvr-1.0-rc1')
gw = os.path.join(root, 'tests/fixtures/netwerkmodel/gateway.py')
sys.path.insert(0, os.path.join(root, 'tests/fixtures/netwerkmodel'))
import assignments  # noqa: E402
pki = os.path.join(out, 'pki')
for d in ('inbox', 'export', 'bemiddelingen', 'outbox/zk-5501', 'state', 'gw', 'pki'):
    os.makedirs(os.path.join(out, d), exist_ok=True)


def sh(*cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, **kw)


def cert(name, cn, server=False):
    sh('openssl', 'req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=' + cn,
       '-keyout', f'{pki}/{name}.key', '-out', f'{pki}/{name}.csr')
    ext = f'{pki}/{name}.ext'
    open(ext, 'w').write('subjectAltName=IP:127.0.0.1\n' if server else 'extendedKeyUsage=clientAuth\n')
    sh('openssl', 'x509', '-req', '-in', f'{pki}/{name}.csr', '-CA', f'{pki}/ca.pem', '-CAkey',
       f'{pki}/ca.key', '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', f'{pki}/{name}.pem')


sh('openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=netwerk demo CA',
   '-keyout', f'{pki}/ca.key', '-out', f'{pki}/ca.pem')
cert('register', '127.0.0.1', True)
cert('gateway', '127.0.0.1', True)
cert('provider', 'agb:12345678')
cert('pep', 'pep.nid')

gwp = subprocess.Popen(['/usr/bin/python3', gw, 'serve', '--dir', f'{out}/gw', '--ca', f'{pki}/ca.pem',
                        '--cert', f'{pki}/gateway.pem', '--key', f'{pki}/gateway.key', '--allow',
                        'agb:12345678=organisaties/zorgkantoor/notificaties/notificatie:create'],
                       stderr=open(f'{out}/gateway.log', 'w'))
daemon = None
try:
    for _ in range(100):
        if os.path.exists(f'{out}/gw/port'):
            break
        time.sleep(0.1)
    gport = open(f'{out}/gw/port').read().strip()
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    rport = s.getsockname()[1]
    s.close()
    # The demo's own source and mapping, two destinations for zorgkantoor 5501.
    text = open(os.path.join(root, 'conf/demo/zinvol-demo.conf')).read()
    conf = json.loads(re.sub(r'^\s*//.*$', '', text, flags=re.M))
    src = conf['sources'][0]
    src['options']['directory'] = f'{out}/inbox'
    match = {'entitlement.funder': ['5501']}
    conf.update({'state_dir': f'{out}/state', 'catalogue_dir': os.path.join(root, 'conf/catalogue'),
                 'plugin_dir': os.path.join(build, 'plugins'),
                 'sources': [assignments.source(f'{out}/bemiddelingen'), src], 'destinations': [
                     {'name': 'zk-5501', 'format': 'iwlz', 'transport': 'filedrop', 'match': match,
                      'format_options': {'zorgkantoor': '5501'},
                      'transport_options': {'dir': f'{out}/outbox/zk-5501'},
                      'policy': {'batch_window': '1s'}},
                     {'name': 'lvr-5501', 'format': 'leveringsregister', 'transport': 'netwerkmodel',
                      'match': match,
                      'format_options': {'listen': f'127.0.0.1:{rport}', 'tls_cert': f'{pki}/register.pem',
                                         'tls_key': f'{pki}/register.key', 'client_ca': f'{pki}/ca.pem'},
                      'transport_options': {'url': f'https://127.0.0.1:{gport}/graphql',
                                            'token_url': f'https://127.0.0.1:{gport}/auth/token',
                                            'scope': 'organisaties/zorgkantoor/notificaties/notificatie:create',
                                            'ca_file': f'{pki}/ca.pem', 'cert_file': f'{pki}/provider.pem',
                                            'key_file': f'{pki}/provider.key'},
                      'policy': {'batch_window': '1s'}}]})
    conf.pop('admin', None)
    cpath = f'{out}/zinvol-netwerkmodel.conf'
    json.dump(conf, open(cpath, 'w'), indent=2)
    subprocess.run(['/usr/bin/python3', os.path.join(root, 'conf/demo/generate-ecd'), '--clients', '200',
                    '--seed', '7', '--out', f'{out}/export', '--format', 'csv', '--name', 'ecd-export'],
                   check=True, stdout=subprocess.DEVNULL)
    nspec = assignments.write(f'{out}/export/ecd-export.csv', f'{out}/bemiddelingen/bemiddelingen.csv')
    daemon = subprocess.Popen([os.path.join(build, 'zinvold'), '--config', cpath],
                              stderr=open(f'{out}/zinvold.log', 'w'))
    # the assignments are in the register before the export comes
    want = sum(1 for l in open(f'{out}/bemiddelingen/bemiddelingen.csv') if l.split(';')[2:3] == ['5501'])
    for _ in range(600):
        try:
            reg = glob.glob(f'{out}/state/plugins/*/lvr-5501/leveringsregister.db')
            have = sqlite3.connect(reg[0]).execute(
                'SELECT count(*) FROM bemiddelingspecificatie').fetchone()[0] if reg else 0
        except sqlite3.Error:
            have = 0
        if have >= want:
            break
        time.sleep(0.1)
    print(f'   the zorgkantoor assigned {nspec} bemiddelingspecificaties; the register refers to them')
    os.rename(f'{out}/export/ecd-export.csv', f'{out}/inbox/ecd-export.csv')
    notes = f'{out}/gw/notifications.jsonl'
    last, stable = -1, 0
    for _ in range(600):  # until the notifications stop coming (at most a minute)
        n = sum(1 for _ in open(notes)) if os.path.exists(notes) else 0
        stable = stable + 1 if n == last and n > 0 else 0
        last = n
        if stable >= 30:
            break
        if daemon.poll() is not None:
            sys.exit('zinvold stopped; see ' + f'{out}/zinvold.log')
        time.sleep(0.1)
    rows = [json.loads(l) for l in open(notes)] if os.path.exists(notes) else []
    kinds = {}
    for r in rows:
        kinds[r['input']['eventType']] = kinds.get(r['input']['eventType'], 0) + 1
    print(f'   the register notified zorgkantoor 5501 {len(rows)} times through the gateway:')
    for k, v in sorted(kinds.items()):
        print(f'     {v:4d} {k}')
    periods = [r['input']['subjectList'][0]['recordID'].split('/')[1] for r in rows
               if r['input']['eventType'] == 'NIEUWE_LEVERINGPERIODE_ZORGKANTOOR']
    asked = ok = 0
    for lp in periods[:40]:
        q = subprocess.run(['/usr/bin/python3', gw, 'query', '--register', f'https://127.0.0.1:{rport}/graphql',
                            '--template', f'{rel}/templates/QLR-0006-ZK.graphql', '--published',
                            *[os.path.join(rel, 'templates', f) for f in sorted(os.listdir(f'{rel}/templates'))
                              if f.startswith('QLR')],
                            '--sdl', f'{rel}/Leveringsregister.graphql', '--vars',
                            json.dumps({'leveringperiodeID': lp}), '--uzovi', '5501', '--ca', f'{pki}/ca.pem',
                            '--cert', f'{pki}/pep.pem', '--key', f'{pki}/pep.key'],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        asked += 1
        ok += q.returncode == 0
    print(f'   the zorgkantoor asked QLR-0006-ZK for {asked} of the new Leveringperiodes: '
          f'{ok} answers match the published SDL (graphql-core)')
    # Sent versus asked, as the audit report shows it (zinvolctl audit).
    rep = json.loads(subprocess.run([os.path.join(build, 'zinvolctl'), '-c', cpath, 'audit', '--format',
                                     'json'], check=True, stdout=subprocess.PIPE).stdout)
    sva = rep.get('sent_versus_asked') or {'parties': [], 'registers': []}
    for r in sva['registers']:
        print(f"   register {r['destination']}: {r['answers']} queries answered, {r['notifications']} "
              f"notifications, {r['notifications_with_fields']} of them with data")
    for p in sva['parties']:
        print(f"   sent versus asked, zorgkantoor {p['party']} (zinvolctl audit):")
        print(f"     AW35/AW39 sent fields of {p['sent_clients']} clients in {p['sent_messages']} messages;"
              f" the zorgkantoor asked about {p['asked_clients']} clients in {p['answers']} answers")
        for f in sorted(p['fields'], key=lambda x: -x['sent_not_asked'])[:8]:
            print(f"     {f['field']:32s} sent for {f['sent_clients']:3d} clients, asked for "
                  f"{f['asked_clients']:3d}, sent but never asked {f['sent_not_asked']:3d}")
    json.dump(sva, open(f'{out}/sent-versus-asked.json', 'w'), indent=2)
    subprocess.run([os.path.join(build, 'zinvolctl'), '-c', cpath, 'audit', '--format', 'html', '--output',
                    f'{out}/audit.html'], check=True)
    print(f'   details: {out}/sent-versus-asked.json, {out}/audit.html ("Verstuurd versus gevraagd");'
          f' zinvolctl -c {cpath} disclose BSN lists both')
finally:
    if daemon:
        daemon.terminate()
        daemon.wait()
    gwp.terminate()
