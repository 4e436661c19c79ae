// The L4 bind step: which L4 listeners may share a socket with an HTTPS bind (one TLS listener on
// exactly its address and port) and which are left out with ERR_L4_LISTENER_CONFLICT.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Diagnostic } from '../../src/core/diagnostic.js';
import { L4_DEFAULTS, type IrL4Listener } from '../../src/ir/l4.js';
import type { IrBind } from '../../src/ir/types.js';
import { bindL4Listeners } from '../../src/translate/binds/bind-l4-listeners.js';

function l4(name: string, protocol: IrL4Listener['protocol'], address: string, port: number): IrL4Listener {
  return {
    name,
    address,
    port,
    protocol,
    ...(protocol === 'TLS' ? { tls: { mode: 'passthrough' as const } } : {}),
    routes: [{ name: `${name}/route`, sniHosts: protocol === 'TLS' ? ['db.example.com'] : [], backends: [] }],
    scheduler: L4_DEFAULTS.scheduler,
    idleTimeoutMs: L4_DEFAULTS.idleTimeoutMs,
    connectTimeoutMs: L4_DEFAULTS.connectTimeoutMs,
    drainTimeoutMs: L4_DEFAULTS.drainTimeoutMs,
  };
}

const binds: IrBind[] = [
  { name: '10.0.0.1:443', protocol: 'https', address: '10.0.0.1', port: 443, listeners: [] },
  { name: '10.0.0.1:80', protocol: 'http', address: '10.0.0.1', port: 80, listeners: [] },
];
const options = { listenAddress: '0.0.0.0', portMap: new Map<number, number>() };

test('one TLS listener on exactly an HTTPS bind shares it; a second one, a TCP one, one on a wildcard address or on an HTTP bind are conflicts', () => {
  const diagnostics: Diagnostic[] = [];
  const out = bindL4Listeners(
    [l4('tls-a', 'TLS', '10.0.0.1', 443), l4('tls-b', 'TLS', '10.0.0.1', 443), l4('tcp', 'TCP', '10.0.0.1', 443), l4('tls-wild', 'TLS', '0.0.0.0', 443), l4('tls-http', 'TLS', '10.0.0.1', 80), l4('udp', 'UDP', '10.0.0.1', 443)],
    binds,
    options,
    diagnostics,
  );
  assert.deepEqual(out.map((l) => [l.name, l.sharesBind]), [['tls-a', '10.0.0.1:443'], ['udp', undefined]]);
  assert.deepEqual(
    diagnostics.map((d) => [d.code, /L4 listener (\S+)/.exec(d.message)?.[1]]),
    [['ERR_L4_LISTENER_CONFLICT', 'tls-b'], ['ERR_L4_LISTENER_CONFLICT', 'tcp'], ['ERR_L4_LISTENER_CONFLICT', 'tls-wild'], ['ERR_L4_LISTENER_CONFLICT', 'tls-http']],
  );
  assert.match(diagnostics[0]!.message, /shared with L4 listener tls-a/);
});

test('--port-map applies before the comparison: a TLS listener mapped onto the HTTPS bind\'s real port shares it', () => {
  const diagnostics: Diagnostic[] = [];
  const out = bindL4Listeners([l4('tls', 'TLS', '10.0.0.1', 8443)], binds, { ...options, portMap: new Map([[8443, 443]]) }, diagnostics);
  assert.deepEqual(out.map((l) => [l.port, l.sharesBind]), [[443, '10.0.0.1:443']]);
  assert.deepEqual(diagnostics, []);
});
