// examples/topology as its README runs it: up.sh builds client / gateway / services namespaces
// with `isthmus run`, a transparent `isthmus sidecar` and echo backends; curl from the client
// namespace goes client → gateway → sidecar → services; down.sh removes everything. So the
// example cannot rot. The prefix carries this test's pid: concurrent runs never meet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './cli-harness.js';
import { requireNetnsTools } from './netns-harness.js';

const run = promisify(execFile);
const EXAMPLE = path.join(repoRoot(), 'examples', 'topology');

test('examples/topology: up.sh, curl through gateway and sidecar, down.sh', async (t) => {
  requireNetnsTools();
  const prefix = `isthmus-topo-${process.pid}`;
  const state = mkdtempSync(path.join(tmpdir(), 'isthmus-topology-'));
  const env = { ...process.env, ISTHMUS_TOPOLOGY_PREFIX: prefix, ISTHMUS_TOPOLOGY_STATE: state, NODE: process.execPath };
  let downRan = false;
  t.after(async () => {
    if (!downRan) await run('bash', [path.join(EXAMPLE, 'down.sh')], { env }).catch(() => undefined);
    rmSync(state, { recursive: true, force: true });
  });

  await run('bash', [path.join(EXAMPLE, 'up.sh')], { env, timeout: 60_000 });
  const curl = async (urlPath: string, headers: readonly string[] = []): Promise<{ body: string; headers: string }> => {
    const { stdout } = await run('ip', ['netns', 'exec', `${prefix}-client`, 'curl', '-sS', '-f', '--max-time', '10', '-D', '-', ...headers.flatMap((h) => ['-H', h]), `http://10.88.0.2:8080${urlPath}`]);
    const split = stdout.indexOf('\r\n\r\n');
    return { headers: stdout.slice(0, split), body: stdout.slice(split + 4) };
  };
  const echo = (body: string) => JSON.parse(body) as { name: string; path: string; host: string };

  const jason = await curl('/api/reviews', ['end-user: jason']);
  assert.equal(echo(jason.body).name, 'reviews-v2');
  assert.equal(echo(jason.body).path, '/reviews');
  assert.match(jason.headers, /x-mesh-route: jason/i);

  const seen = new Set<string>();
  for (let i = 0; i < 30; i++) seen.add(echo((await curl('/api/reviews')).body).name);
  assert.ok(seen.has('reviews-v1'), `80/20 split: ${[...seen].join(', ')}`);

  const ratings = echo((await curl('/api/ratings')).body);
  assert.equal(ratings.name, 'ratings-v1');
  assert.equal(ratings.host, 'ratings.shop.svc.cluster.local:9080');

  await run('bash', [path.join(EXAMPLE, 'down.sh')], { env });
  downRan = true;
  const { stdout } = await run('ip', ['netns', 'list']);
  assert.doesNotMatch(stdout, new RegExp(prefix), 'down.sh left namespaces behind');
});
