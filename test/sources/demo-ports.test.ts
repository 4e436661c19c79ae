// `npm start` binds the gateway on 0.0.0.0 with the default ports, and starts the demo's echo
// Pods on 127.0.x.y addresses. On Linux a socket on 127.0.2.1:8080 keeps 0.0.0.0:8080 from being
// bound (EADDRINUSE), so no demo Pod may listen on a port the gateway uses by default. (This once
// broke `npm start`: the Gateway API example's Pods used 8080.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { embeddedDemoDirs } from '../../src/sources/embedded/embedded-source.js';
import { loadDirs } from '../../src/sources/file/load-dirs.js';
import { parseRunArgs } from '../../src/cli/args.js';

test('no demo Pod listens on a default gateway port', async () => {
  const defaults = parseRunArgs([]);
  const gatewayPorts = new Set([defaults.httpPort, defaults.httpsPort, defaults.adminPort]);
  const snapshot = await loadDirs(embeddedDemoDirs());
  const pods = snapshot.resources.filter((r) => r.kind === 'Pod') as unknown as { metadata: { name: string }; spec: { containers: { ports?: { containerPort: number }[] }[] } }[];
  assert.ok(pods.length > 0, 'the demo has Pods');
  const clashes = pods.flatMap((p) => p.spec.containers.flatMap((c) => (c.ports ?? []).filter((port) => gatewayPorts.has(port.containerPort)).map((port) => `${p.metadata.name}:${port.containerPort}`)));
  assert.deepEqual(clashes, []);
});
