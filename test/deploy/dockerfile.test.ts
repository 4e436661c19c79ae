// The Dockerfile, built without Docker (none runs here, and no registry is reachable): every COPY
// and RUN of every stage is carried out for real in scratch folders (dockerfile.ts), with npm
// offline on the machine's warm cache, then the final stage's ENTRYPOINT is started from its
// folder with demo arguments in place of CMD and has to answer a request through a demo backend.
// The final stage must hold no devDependency and no test/ or src/. What this cannot cover: the
// base image itself (node and npm are this machine's) and running as USER node (checked as an
// instruction). Like test/e2e/demo.test.ts, it starts the demo's backends on fixed loopback
// addresses (127.0.0.2-4, 127.0.2.x, 127.0.3.x), so only one demo may run on the machine at a time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePorts, get, httpRequest, sleep } from '../e2e/cli-harness.js';
import { build, isIgnored, parseDockerfile, parseDockerignore } from './dockerfile.js';
import { repoRoot } from './render.js';

const ROOT = repoRoot();
const DOCKERFILE = path.join(ROOT, 'Dockerfile');

/** The environment of RUN steps: this process's, minus npm's own run-script variables and this repo's node_modules/.bin, plus offline npm. */
function runEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) || key === 'INIT_CWD' || key === 'NODE_ENV') continue;
    env[key] = value;
  }
  env.PATH = (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((dir) => !dir.startsWith(path.join(ROOT, 'node_modules')) && !dir.includes(`${path.sep}node_modules${path.sep}.bin`))
    .join(path.delimiter);
  env.npm_config_offline = 'true';
  env.npm_config_audit = 'false';
  env.npm_config_fund = 'false';
  env.npm_config_update_notifier = 'false';
  env.npm_config_loglevel = 'error';
  return env;
}

test('.dockerignore keeps local builds, dependencies, tests and keys out of the context', () => {
  const rules = parseDockerignore(readFileSync(path.join(ROOT, '.dockerignore'), 'utf8'));
  for (const p of ['node_modules', 'node_modules/typescript/package.json', 'dist/src/cli/main.js', 'test/deploy/manifests.test.ts', 'deploy/base/deployment.yaml', '.git/config', 'examples/x/node_modules/a', 'bench/results/x.log', 'a/b/server.key']) {
    assert.ok(isIgnored(rules, p), `${p} should be excluded from the build context`);
  }
  for (const p of ['package.json', 'package-lock.json', 'tsconfig.json', 'src/cli/main.ts', 'bin/isthmus.js', 'examples/quickstart/web.yaml', 'examples/gateway-api/routes.yaml', 'examples/istio/routing.yaml', 'deploy/crds/authpolicy.yaml']) {
    assert.ok(!isIgnored(rules, p), `${p} is needed by the Dockerfile`);
  }
});

test('the Dockerfile: two stages on a Node 22+ slim image, non-root, the launcher flags, run --kubernetes', () => {
  const steps = parseDockerfile(readFileSync(DOCKERFILE, 'utf8'));
  const froms = steps.filter((s) => s.keyword === 'FROM');
  assert.ok(froms.length >= 2, 'multi-stage: a build stage and a runtime stage');
  for (const from of froms) {
    const match = /^node:(\d+)-(bookworm|trixie)-slim\b/.exec(from.rest);
    assert.ok(match && Number(match[1]) >= 22, `FROM ${from.rest}: expected node:22-bookworm-slim or a newer LTS`);
  }
  const final = steps.slice(steps.indexOf(froms.at(-1)!));
  const last = (keyword: string): string | undefined => final.filter((s) => s.keyword === keyword).at(-1)?.rest;
  assert.equal(last('USER'), 'node');
  assert.deepEqual(JSON.parse(last('CMD') ?? 'null'), ['run', '--kubernetes']);
  for (const port of ['8080', '8443', '9902']) assert.ok(final.some((s) => s.keyword === 'EXPOSE' && s.rest.split(/\s+/).includes(port)), `EXPOSE ${port}`);

  // ENTRYPOINT = node, the flags of bin/isthmus.js's shebang, the launcher.
  const shebang = readFileSync(path.join(ROOT, 'bin', 'isthmus.js'), 'utf8').split('\n')[0]!;
  const shebangWords = shebang.replace(/^#!\s*/, '').split(/\s+/);
  const nodeFlags = shebangWords.slice(shebangWords.indexOf('node') + 1);
  assert.ok(nodeFlags.includes('--max-semi-space-size=8'), `shebang ${shebang}`);
  assert.deepEqual(JSON.parse(last('ENTRYPOINT') ?? 'null'), ['node', ...nodeFlags, 'bin/isthmus.js']);
  // The shebang's NAME=VALUE words (env -S) are the image's ENV.
  const shebangEnv = shebangWords.slice(0, shebangWords.indexOf('node')).filter((w) => /^[A-Z_]+=/.test(w));
  assert.ok(shebangEnv.includes('MALLOC_ARENA_MAX=2'), `shebang ${shebang}`);
  for (const assignment of shebangEnv) assert.ok(final.some((s) => s.keyword === 'ENV' && s.rest.split(/\s+/).includes(assignment)), `ENV ${assignment}`);

  // The runtime stage installs production dependencies only, without the `prepare` build.
  const installs = final.filter((s) => s.keyword === 'RUN' && /\bnpm ci\b/.test(s.rest));
  assert.equal(installs.length, 1);
  assert.match(installs[0]!.rest, /--omit=dev/);
  assert.match(installs[0]!.rest, /--ignore-scripts/);
});

test('the image built without Docker: COPY and RUN carried out, the final stage serves the demo and holds no dev dependency, test/ or src/', async (t) => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'isthmus-image-'));
  t.after(() => rmSync(scratch, { recursive: true, force: true }));
  const started = performance.now();
  const stages = await build({ dockerfile: DOCKERFILE, context: ROOT, scratch, runEnv: runEnvironment() });
  t.diagnostic(`stages built in ${Math.round(performance.now() - started)} ms`);
  for (const stage of stages) for (const note of stage.notes) t.diagnostic(note);

  const image = stages.at(-1)!;
  const app = path.join(image.root, image.workdir);
  assert.equal(image.workdir, '/app');
  // What it holds.
  assert.ok(existsSync(path.join(app, 'dist', 'src', 'cli', 'main.js')), 'dist/src/cli/main.js (the compiled CLI)');
  assert.ok(existsSync(path.join(app, 'bin', 'isthmus.js')));
  for (const absent of ['src', 'test', 'dist/test', 'tsconfig.json', 'node_modules/typescript', 'node_modules/puppeteer-core']) {
    assert.ok(!existsSync(path.join(app, absent)), `${absent} must not be in the image`);
  }
  // Exactly npm's production tree: no package the lockfile marks dev-only, every other one present.
  const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; optional?: boolean }> };
  const devOnly = Object.entries(lock.packages).filter(([p, meta]) => p.startsWith('node_modules/') && meta.dev === true);
  const production = Object.entries(lock.packages).filter(([p, meta]) => p.startsWith('node_modules/') && meta.dev !== true && meta.optional !== true);
  assert.ok(devOnly.length > 0 && production.length > 0);
  assert.deepEqual(devOnly.filter(([p]) => existsSync(path.join(app, p))).map(([p]) => p), [], 'dev-only packages in the image');
  assert.deepEqual(production.filter(([p]) => !existsSync(path.join(app, p))).map(([p]) => p), [], 'production packages missing from the image');

  // Start it: the ENTRYPOINT as written (node → this machine's node), demo arguments instead of CMD.
  const [httpPort, httpsPort, adminPort] = (await freePorts(3)) as [number, number, number];
  const [command, ...entryArgs] = image.entrypoint ?? [];
  assert.equal(command, 'node');
  const demoArgs = ['run', '--workers', '1', '--demo', '--http-port', String(httpPort), '--https-port', String(httpsPort), '--admin-port', String(adminPort), '--listen-address', '127.0.0.1', '--access-log', 'off'];
  const child = spawn(process.execPath, [...entryArgs, ...demoArgs], {
    cwd: app,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: scratch, ...image.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let running = true;
  void exited.then(() => (running = false));
  t.after(async () => {
    if (!running) return;
    child.kill('SIGKILL');
    await exited;
  });
  const deadline = performance.now() + 20_000;
  for (;;) {
    assert.ok(running, `the image's entrypoint exited before it was ready:\n${stderr}`);
    const status = await httpRequest({ port: adminPort, path: '/ready' }).then((r) => r.status, () => 0);
    if (status === 200) break;
    assert.ok(performance.now() < deadline, `not ready within 20 s:\n${stderr}`);
    await sleep(50);
  }
  const answer = await get(httpPort, '/', 'shop.localhost');
  assert.equal(answer.status, 200, answer.body);
  assert.match(answer.name ?? '', /^web-/, `answered by a demo backend (the web pods): ${answer.body}`);
  assert.equal((JSON.parse(answer.body) as { host?: string }).host, 'shop.localhost');

  // SIGTERM drains and exits 0, as in a pod.
  child.kill('SIGTERM');
  assert.equal(await exited, 0, stderr);
});
