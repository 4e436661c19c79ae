// What the data plane cannot apply flows back into statuses: a new Gateway listener on a port
// another process holds makes the change fail to apply (the last good configuration serves on),
// and the Gateway's status and the diagnostic both name the listener and the reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { adminJson, configDir, get, pollUntil, serviceYaml, startEcho, startGateway, takenPort } from './cli-harness.js';
import { gatewayWithListeners } from './gateway-fixture.js';

const gatewayYaml = (listeners: string): string => gatewayWithListeners(listeners, 'web.test');

interface Status {
  kind: string;
  name: string;
  status: { conditions?: { type: string; status: string; reason: string; message: string }[]; listeners?: { name: string; conditions: { type: string; status: string; reason: string }[] }[] };
}

test('a listener whose port cannot be bound: Programmed False on the Gateway and the listener, a diagnostic naming it, the old config serving', async (t) => {
  const taken = await takenPort(t);

  const web = await startEcho(t, '127.0.0.2', 'web');
  const dir = configDir(t, { 'web.yaml': serviceYaml(web), 'gateway.yaml': gatewayYaml('{name: http, port: 80, protocol: HTTP}') });
  const gateway = await startGateway(t, { config: [dir], extraArgs: ['--port-map', `8081=${taken}`] });
  assert.equal((await get(gateway.httpPort, '/', 'web.test')).name, 'web');

  writeFileSync(path.join(dir, 'gateway.yaml'), gatewayYaml('{name: http, port: 80, protocol: HTTP}, {name: extra, port: 8081, protocol: HTTP}'));
  const eg = await pollUntil(
    'the Gateway reported not programmed',
    async () => {
      const statuses = (await adminJson(gateway.adminPort, '/api/status')) as Status[];
      const s = statuses.find((x) => x.kind === 'Gateway' && x.name === 'eg');
      return s?.status.conditions?.find((c) => c.type === 'Programmed')?.status === 'False' ? s : undefined;
    },
    10_000,
    100,
  );
  const programmed = eg.status.conditions!.find((c) => c.type === 'Programmed')!;
  assert.equal(programmed.reason, 'AddressNotUsable');
  assert.match(programmed.message, /EADDRINUSE/);
  const extra = eg.status.listeners!.find((l) => l.name === 'extra')!;
  assert.deepEqual(extra.conditions.find((c) => c.type === 'Programmed'), { ...extra.conditions.find((c) => c.type === 'Programmed'), status: 'False', reason: 'Pending' });

  const diagnostics = (await adminJson(gateway.adminPort, '/api/diagnostics')) as { code: string; text: string }[];
  const bind = diagnostics.find((d) => d.code === 'ERR_LISTENER_BIND');
  assert.ok(bind, JSON.stringify(diagnostics));
  assert.match(bind.text, /Gateway default\/eg spec\.listeners\[1\]: bind .* cannot listen/);
  assert.ok(diagnostics.some((d) => d.code === 'ERR_CONFIG_REJECTED'));
  assert.equal((await get(gateway.httpPort, '/', 'web.test')).name, 'web', 'the last good configuration serves on');
});
