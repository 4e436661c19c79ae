// `npm run bench`: Isthmus against nginx and a bare Node proxy on this machine (main table),
// Isthmus on 10,000 Ingress paths against 10 (scale), a CPU profile of Isthmus (profile), and the
// Gateway API path: an HTTPRoute against the bare proxy and with filters against without (gwapi),
// 10,000 HTTPRoute rules against 10 (gwapi-scale), Istio (istio), and API management: an HTTPRoute
// with an API key + a global rate limit in Redis, and with a JWT, against the bare route (apim).
// Writes BENCHMARKS.md and bench/results/bench-<time>.json. `--help` lists the flags.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { APIM, GATEWAY_FILTERS, writeApimConfig, writeGatewayScaleConfig, writeGatewaySimpleConfig, writeIstioSimpleConfig, writeScaleConfig, writeSidecarConfig, writeSimpleConfig } from './lib/config-gen.mjs';
import { describeExit, freePorts, groupCpuSeconds, httpGet, installCleanup, pinningAvailable, rssMiB, stopProcess } from './lib/processes.mjs';
import { apimTable, apimVerdicts, gwapiTable, gwapiVerdicts, istioTable, istioVerdicts, keepOtherHarnessSections, machineInfo, mainTable, mainVerdict, renderMarkdown, scaleTable, scaleVerdicts, spliceMarkdown } from './lib/report.mjs';
import {
  applyLogLine, BENCH_DIR, checkProxied, diagnosticsCount, metricValue, NGINX, redisCommandCalls, ROOT,
  startBareProxy, startGateway, startNginxProxy, startOrigin, startRedis, startSidecar,
} from './lib/targets.mjs';
import { requireWrk, runWrk, WRK } from './lib/wrk.mjs';
import { measureInterleaved } from './lib/measure.mjs';
import { OUTAGE, outageTable, outageVerdicts, runRedisOutage } from './lib/redis-outage.mjs';
import { formatSummary, summariseProfile } from './profile-summary.mjs';
import { runH2Part } from './lib/h2-part.mjs';
import { h2Table, h2Verdicts } from './lib/h2-report.mjs';
import { runWorkersScaling, workersVerdicts } from './lib/workers-part.mjs';
import { availableParallelism } from 'node:os';

const HELP = `usage: npm run bench -- [flags]      (or node bench/run.mjs [flags])
parts (default: all nine):  --main   --scale   --profile   --gwapi   --gwapi-scale   --istio   --apim   --h2   --workers-scaling
                        (--apim needs redis-server; with --profile too, the route without policies,
                        with key + Redis and with JWT are profiled for one round each and compared)
  A run of some parts only replaces those parts' sections of an existing report (and the
  reference figures); the others, and the Setup of the run that wrote them, stay.
  --rounds N            interleaved rounds per proxy (3)
  --duration S          seconds per round (10)
  --warmup S            warm-up seconds per proxy (3)
  --connections N       wrk connections (50); --threads N wrk threads (1)
  --no-nginx            node origin, no nginx proxy, even when nginx is installed
  --gateway-cmd CMD     command standing in for "node bin/isthmus.js" (e.g. "node bench/bare-proxy.mjs",
                        to test the harness); results then go to bench/results/, not BENCHMARKS.md
  --endpoints KIND      slice (EndpointSlice, default) or endpoints (v1 Endpoints)
  --scale-ingresses N --scale-hosts N --scale-paths N   scale shape (100 × 10 × 10)
  --gwapi-routes N --gwapi-rules N                      Gateway API scale shape (1000 HTTPRoutes × 10 rules)
  --out FILE            report file (default BENCHMARKS.md)
  --workers N           every Isthmus runs \`isthmus run --workers N\` (unpinned when N > 1)
  --h2: HTTPS + HTTP/2 downstream, nginx (listen ssl http2) vs Isthmus (HTTPS listener, ALPN h2); needs h2load
                        (apt-get install nghttp2-client) and openssl
  --h2-clients N        h2load connections (10); --h2-streams N concurrent streams per connection (10)
  --workers-scaling: isthmus run --workers 1 vs --workers N, nothing pinned (wrk, origin, gateway), the ratio
                        and where the cores went (also bench/workers.mjs)
  --scaling-workers N   N (default: one per core, ${availableParallelism()} here); --scaling-threads N wrk threads (2)
  --sched none|rr       cluster scheduling for --workers-scaling (none)`;

const { values: opts } = parseArgs({
  options: {
    main: { type: 'boolean' }, scale: { type: 'boolean' }, profile: { type: 'boolean' },
    gwapi: { type: 'boolean' }, 'gwapi-scale': { type: 'boolean' }, istio: { type: 'boolean' }, apim: { type: 'boolean' },
    h2: { type: 'boolean' }, 'h2-clients': { type: 'string', default: '10' }, 'h2-streams': { type: 'string', default: '10' },
    'workers-scaling': { type: 'boolean' }, 'scaling-workers': { type: 'string' }, 'scaling-threads': { type: 'string', default: '2' }, sched: { type: 'string', default: 'none' },
    'gwapi-routes': { type: 'string', default: '1000' }, 'gwapi-rules': { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' }, duration: { type: 'string', default: '10' }, warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' }, threads: { type: 'string', default: '1' },
    'no-nginx': { type: 'boolean' }, 'gateway-cmd': { type: 'string' }, endpoints: { type: 'string', default: 'slice' },
    'scale-ingresses': { type: 'string', default: '100' }, 'scale-hosts': { type: 'string', default: '10' }, 'scale-paths': { type: 'string', default: '10' },
    out: { type: 'string' }, workers: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  },
});
if (opts.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}
const anyPart = opts.main || opts.scale || opts.profile || opts.gwapi || opts['gwapi-scale'] || opts.istio || opts.apim || opts.h2 || opts['workers-scaling'];
const parts = {
  main: !anyPart || !!opts.main, scale: !anyPart || !!opts.scale, profile: !anyPart || !!opts.profile,
  gwapi: !anyPart || !!opts.gwapi, gwapiScale: !anyPart || !!opts['gwapi-scale'], istio: !anyPart || !!opts.istio,
  apim: !anyPart || !!opts.apim, h2: !anyPart || !!opts.h2, workersScaling: !anyPart || !!opts['workers-scaling'],
};
const positive = (name) => {
  const n = Number(opts[name]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${opts[name]}`);
  return n;
};
const settings = {
  rounds: positive('rounds'), durationS: positive('duration'), warmupS: positive('warmup'),
  connections: positive('connections'), threads: positive('threads'),
  useNginx: !opts['no-nginx'] && NGINX !== null, gatewayCmd: opts['gateway-cmd'],
  endpointsKind: opts.endpoints === 'endpoints' ? 'endpoints' : 'slice',
  pinned: pinningAvailable(),
  command: commandLine(process.argv.slice(2)),
  workers: opts.workers === undefined ? undefined : positive('workers'),
  h2Clients: positive('h2-clients'), h2Streams: positive('h2-streams'),
  scalingWorkers: opts['scaling-workers'] === undefined ? availableParallelism() : positive('scaling-workers'),
  scalingThreads: positive('scaling-threads'),
  sched: opts.sched,
};
if (settings.sched !== 'none' && settings.sched !== 'rr') throw new Error(`--sched must be none or rr, got ${settings.sched}`);

function commandLine(argv) {
  const quoted = argv.map((a) => (/^[\w./=:,@-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`)).join(' ');
  if (process.env.npm_lifecycle_event === 'bench') return `npm run bench${quoted ? ` -- ${quoted}` : ''}`;
  return `node bench/run.mjs ${quoted}`.trim();
}
const stamp = new Date().toISOString().replaceAll(':', '-').replace(/\..*$/, '');
const resultsDir = join(BENCH_DIR, 'results');
const workDir = join(resultsDir, `run-${stamp}`);
const log = (line) => process.stdout.write(`${line}\n`);
/**
 * Warm each target up, then interleave rounds (a, b, c, a, b, c, ...) of wrk; medians per target
 * (lib/measure.mjs). With `requireOk`, a warm-up that got any non-2xx answer or no answer throws.
 */
function measure(targets, request, rounds = settings.rounds, options = {}) {
  return measureInterleaved({
    targets, rounds, warmupS: settings.warmupS, durationS: settings.durationS, log, ...options,
    runOnce: (t, durationS) => runWrk({ ...wrkBase(t, t.request ?? request), durationS }),
  });
}

function wrkBase(target, { host, path, headers = [] }) {
  return { port: target.port, host, path, headers, threads: settings.threads, connections: settings.connections };
}

async function stopGateway(gw) {
  const info = await stopProcess(gw.handle, 15_000);
  if (info?.code !== 0) log(`  warning: ${gw.name} exited with ${describeExit(info)} after SIGTERM (expected code 0); log: ${gw.handle.logPath}`);
  return info;
}

async function runMain(origin) {
  log('\n== Proxy throughput: nginx vs Isthmus vs bare Node proxy');
  const configDir = join(workDir, 'config-main');
  const request = writeSimpleConfig(configDir, { upstreamPort: origin.port, endpointsKind: settings.endpointsKind });
  const order = [...(settings.useNginx ? ['nginx'] : []), 'isthmus', 'bare'];
  const [nginxPort, barePort, http, https, admin] = await freePorts(5);
  const started = [];
  const results = {};
  const starters = {
    nginx: () => startNginxProxy({ workDir, port: nginxPort, originPort: origin.port }),
    isthmus: () => startGateway({ workers: settings.workers, name: 'isthmus', gatewayCmd: settings.gatewayCmd, configDir, ports: { http, https, admin }, originPort: origin.port, workDir }),
    bare: () => startBareProxy({ workDir, port: barePort, originPort: origin.port }),
  };
  for (const name of order) {
    let target;
    try {
      target = await starters[name]();
      await checkProxied(target, request);
      started.push(target);
      log(`  ${name}: up on 127.0.0.1:${target.port}`);
    } catch (err) {
      results[name] = { error: err.message };
      log(`  ${name}: FAILED: ${err.message}`);
      if (target) await stopProcess(target.handle);
    }
  }
  Object.assign(results, (await measure(started, request)).results);
  for (const t of started) {
    if (t.name === 'isthmus') await stopGateway(t);
    else await stopProcess(t.handle);
  }
  const main = { order, results, request };
  log(`\n${mainTable(main)}\n\n${mainVerdict(main)}`);
  return main;
}

async function runScale(origin) {
  const shape = { ingresses: positive('scale-ingresses'), hostsPerIngress: positive('scale-hosts'), pathsPerHost: positive('scale-paths') };
  const totalHosts = shape.ingresses * shape.hostsPerIngress;
  log(`\n== Scale: ${totalHosts * shape.pathsPerHost} paths over ${totalHosts} hosts vs ${shape.pathsPerHost} paths`);
  const base = { upstreamPort: origin.port, endpointsKind: settings.endpointsKind };
  const large = writeScaleConfig(join(workDir, 'config-scale-large'), { ...base, ...shape });
  const small = writeScaleConfig(join(workDir, 'config-scale-small'), { ...base, ingresses: 1, hostsPerIngress: 1, pathsPerHost: shape.pathsPerHost, firstHostIndex: totalHosts - 1 });
  if (large.host !== small.host || large.path !== small.path) throw new Error('scale configs do not serve the same request');
  const gateways = [];
  const info = {};
  try {
    for (const [name, config, dir] of [['isthmus-small', small, 'config-scale-small'], ['isthmus-large', large, 'config-scale-large']]) {
      const [http, https, admin] = await freePorts(3);
      const gw = await startGateway({ workers: settings.workers, name, gatewayCmd: settings.gatewayCmd, configDir: join(workDir, dir), ports: { http, https, admin }, originPort: origin.port, workDir, readyTimeoutMs: 60_000 });
      gateways.push(gw);
      await checkProxied(gw, large);
      info[name] = { ...config, readyMs: gw.readyMs, diagnostics: await diagnosticsCount(admin) };
      log(`  ${name}: ${config.paths} paths, start → ready ${gw.readyMs.toFixed(0)} ms`);
    }
    const { results } = await measure(gateways, large);
    const scale = {
      target: { host: large.host, path: large.path },
      shape: `${shape.ingresses} Ingresses × ${shape.hostsPerIngress} hosts × ${shape.pathsPerHost} Prefix paths, all to one Service`,
      small: { ...info['isthmus-small'], ...results['isthmus-small'] },
      large: { ...info['isthmus-large'], ...results['isthmus-large'] },
      applyLog: applyLogLine(gateways[1].logPath),
    };
    log(`\n${scaleTable(scale)}\n`);
    for (const line of scaleVerdicts(scale)) log(line);
    return scale;
  } finally {
    for (const gw of gateways) await stopGateway(gw);
  }
}

/**
 * Gateway API, one route: (a) an HTTPRoute without filters against the bare Node proxy, and (b)
 * the same route with RequestHeaderModifier + ResponseHeaderModifier + CORS against it. Two
 * gateway processes (one per config), rounds interleaved with the bare proxy; every request
 * carries the same allowed Origin, so only the filters differ.
 */
async function runGatewayApi(origin) {
  log('\n== Gateway API: HTTPRoute without filters vs bare Node proxy; with header modifiers + CORS vs without');
  const base = { upstreamPort: origin.port, endpointsKind: settings.endpointsKind };
  const plain = writeGatewaySimpleConfig(join(workDir, 'config-gwapi-plain'), { ...base, filters: false });
  writeGatewaySimpleConfig(join(workDir, 'config-gwapi-filters'), { ...base, filters: true });
  const order = ['isthmus-route', 'isthmus-filters', 'bare'];
  const results = await measureTargets(origin, plain, [
    { name: 'isthmus-route', configDir: 'config-gwapi-plain' },
    {
      name: 'isthmus-filters',
      configDir: 'config-gwapi-filters',
      // The filters must really run: the response header modifier and CORS both show.
      check: (res) => {
        if (res.headers['x-served-by'] !== 'isthmus' || res.headers['access-control-allow-origin'] !== GATEWAY_FILTERS.origin) {
          throw new Error(`isthmus-filters: the filters did not apply (x-served-by ${res.headers['x-served-by']}, access-control-allow-origin ${res.headers['access-control-allow-origin']})`);
        }
      },
    },
    { name: 'bare' },
  ]);
  const gwapi = { order, results, request: plain };
  log(`\n${gwapiTable(gwapi)}\n`);
  for (const line of gwapiVerdicts(gwapi)) log(line);
  if (parts.profile && !settings.gatewayCmd) {
    // Where the filters' extra CPU goes: both routes profiled for one round, self time per request compared by function.
    log('\n== CPU profiles of the Gateway API route without and with filters (one round each)');
    const profiles = {};
    for (const [name, dir] of [['isthmus-route', 'config-gwapi-plain'], ['isthmus-filters', 'config-gwapi-filters']]) {
      profiles[name] = await profileGateway(origin, { name: `${name}-profile`, configDir: join(workDir, dir), request: plain, dirName: `profile-${stamp}-${name}`, top: 100_000 });
    }
    gwapi.profileDiff = profileDiff(profiles['isthmus-route'], profiles['isthmus-filters']);
    log(`\n${gwapi.profileDiff.error ?? gwapi.profileDiff.rows.map((r) => `${r.deltaUs.toFixed(2).padStart(7)} µs/req  ${r.name} (${r.location || r.area})`).join('\n')}`);
  }
  return gwapi;
}

/**
 * Starts each target (an Isthmus process on `configDir` under workDir, or `bare`, the bare Node
 * proxy), checks that `request` is proxied (and `check`, when not standing in with
 * --gateway-cmd), measures them interleaved, and stops them. A target that fails to start is
 * reported with its error and the others are still measured.
 */
async function measureTargets(origin, request, specs, measureOptions = {}) {
  const started = [];
  const results = {};
  try {
    for (const spec of specs) {
      let target;
      try {
        if (spec.name === 'bare') {
          const [port] = await freePorts(1);
          target = await startBareProxy({ workDir, port, originPort: origin.port });
        } else if (spec.sidecar) {
          const [port, adminPort] = await freePorts(2);
          target = { ...(await startSidecar({ name: spec.name, configDir: join(workDir, spec.configDir), port, adminPort, workDir })), request: spec.request, sidecar: true };
        } else {
          const [http, https, admin] = await freePorts(3);
          target = await startGateway({ workers: settings.workers, name: spec.name, gatewayCmd: settings.gatewayCmd, configDir: join(workDir, spec.configDir), ports: { http, https, admin }, originPort: origin.port, workDir, extraArgs: spec.extraArgs });
          if (spec.request) target.request = spec.request;
        }
        const res = await checkProxied(target, spec.request ?? request);
        if (spec.check && !settings.gatewayCmd) spec.check(res);
        if (spec.verify && !settings.gatewayCmd) await spec.verify(target);
        started.push(target);
        log(`  ${spec.name}: up on 127.0.0.1:${target.port}`);
      } catch (err) {
        results[spec.name] = { error: err.message };
        log(`  ${spec.name}: FAILED: ${err.message}`);
        if (target) await stopProcess(target.handle);
      }
    }
    if (measureOptions.requireOk && started.length < specs.length) throw new Error(`not every target started: ${Object.entries(results).map(([n, r]) => `${n}: ${r.error.split('\n')[0]}`).join('; ')}`);
    Object.assign(results, (await measure(started, request, settings.rounds, { ...measureOptions, beforeRounds: () => measureOptions.beforeRounds?.(started) })).results);
    if (measureOptions.afterRounds) await measureOptions.afterRounds(started, results);
  } finally {
    for (const t of started) {
      if (t.name === 'bare' || t.sidecar) await stopProcess(t.handle);
      else await stopGateway(t);
    }
  }
  return results;
}

/**
 * Istio at the edge, one route: an Istio Gateway + VirtualService route to a DestinationRule
 * subset with a retry policy, against an Ingress route to the same origin and the bare proxy.
 */
async function runIstio(origin) {
  log('\n== Istio: VirtualService route (subset + retries) vs Ingress route; the sidecar (explicit mode) vs bare Node proxy');
  const request = writeSimpleConfig(join(workDir, 'config-istio-ingress'), { upstreamPort: origin.port, endpointsKind: settings.endpointsKind });
  const istio = writeIstioSimpleConfig(join(workDir, 'config-istio-vs'), { upstreamPort: origin.port });
  if (istio.host !== request.host || istio.path !== request.path) throw new Error('the Istio and Ingress configs do not serve the same request');
  const sidecarRequest = writeSidecarConfig(join(workDir, 'config-istio-sidecar'), { upstreamPort: origin.port });
  const order = ['isthmus-ingress', 'isthmus-istio', 'isthmus-sidecar', 'bare'];
  const results = await measureTargets(origin, request, [
    { name: 'isthmus-ingress', configDir: 'config-istio-ingress' },
    { name: 'isthmus-istio', configDir: 'config-istio-vs' },
    { name: 'isthmus-sidecar', configDir: 'config-istio-sidecar', sidecar: true, request: sidecarRequest },
    { name: 'bare' },
  ]);
  const report = { order, results, request };
  log(`\n${istioTable(report)}\n`);
  for (const line of istioVerdicts(report)) log(line);
  return report;
}

/**
 * API management on one HTTPRoute (the Gateway API part's route without filters): the route with
 * no policies, the route with an AuthPolicy API key + a RateLimitPolicy with one `scope: global`
 * limit too high to refuse (counted in a redis-server started here, `--redis-url`), and the route
 * with an AuthPolicy JWT (inline JWKS, an RS256 token signed here with jose, valid for a day).
 * Every request carries both the key and the token, so the three see the same bytes and only the
 * policies differ. Before the rounds each policy is seen refusing a request without credentials
 * (so it really runs), and Redis is seen counting; after them, every request of the key + Redis
 * route must have been counted in Redis (the gateway's isthmus_shared_store_takes_total; the
 * requests of one turn share one script call, whose count Redis reports) and none may have failed
 * over to a local count.
 */
async function runApim(origin) {
  log('\n== API management: HTTPRoute with API key + global rate limit (Redis), with JWT, vs the route without policies');
  const { exportJWK, generateKeyPair, SignJWT } = await import('jose');
  const { publicKey, privateKey } = await generateKeyPair('RS256', { modulusLength: 2048 });
  const kid = 'bench-rs256';
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
    .setIssuer(APIM.issuer).setAudience(APIM.audience).setSubject(APIM.subject)
    .setIssuedAt().setExpirationTime('24h')
    .sign(privateKey);
  const keySha256 = createHash('sha256').update(APIM.apiKey).digest('hex');
  const base = { upstreamPort: origin.port, endpointsKind: settings.endpointsKind };
  const request = { ...writeApimConfig(join(workDir, 'config-apim-route'), { ...base, variant: 'route' }), headers: [`x-api-key: ${APIM.apiKey}`, `Authorization: Bearer ${token}`] };
  writeApimConfig(join(workDir, 'config-apim-key-redis'), { ...base, variant: 'key-redis', keySha256 });
  writeApimConfig(join(workDir, 'config-apim-jwt'), { ...base, variant: 'jwt', jwks: { keys: [jwk] } });
  const [redisPort] = await freePorts(1);
  const redis = await startRedis({ workDir, port: redisPort });
  log(`  redis: redis-server on 127.0.0.1:${redisPort} (no persistence)`);
  const redisArgs = ['--redis-url', redis.url];
  const scriptCalls = async () => {
    const calls = await redisCommandCalls(redisPort);
    return (calls.evalsha ?? 0) + (calls.eval ?? 0);
  };
  /** A request without credentials (and one with wrong ones) must be refused with 401: the policy runs. */
  const refuses = async (target, wrong) => {
    for (const [what, headers] of [['no credentials', {}], ['wrong credentials', wrong]]) {
      const res = await httpGet({ port: target.port, path: request.path, host: request.host, headers, timeoutMs: 5000 });
      if (res.status !== 401) throw new Error(`${target.name}: a request with ${what} answered ${res.status}, expected 401: the AuthPolicy does not apply`);
    }
  };
  const order = ['isthmus-route', 'isthmus-key-redis', 'isthmus-jwt'];
  const redisStats = {};
  const problems = [];
  let results;
  try {
    results = await measureTargets(origin, request, [
      { name: 'isthmus-route', configDir: 'config-apim-route' },
      {
        name: 'isthmus-key-redis',
        configDir: 'config-apim-key-redis',
        extraArgs: redisArgs,
        verify: async (target) => {
          await refuses(target, { 'x-api-key': `${APIM.apiKey}-wrong` });
          // The client connects in the background: wait until a request is counted in Redis.
          const before = await scriptCalls();
          const deadline = performance.now() + 10_000;
          for (;;) {
            await checkProxied(target, request);
            if ((await scriptCalls()) > before) break;
            if (performance.now() > deadline) throw new Error(`${target.name}: no rate-limit script ran in Redis within 10 s of requests (is --redis-url used?)`);
            await new Promise((r) => setTimeout(r, 100));
          }
        },
      },
      {
        name: 'isthmus-jwt',
        configDir: 'config-apim-jwt',
        verify: (target) => refuses(target, { authorization: `Bearer ${token.slice(0, -4)}AAAA` }),
      },
    ], {
      requireOk: true,
      beforeRounds: async (started) => {
        const gw = started.find((t) => t.name === 'isthmus-key-redis');
        redisStats.before = { calls: await scriptCalls(), cpu: groupCpuSeconds(redis.handle.pid), failures: await metricValue(gw.adminPort, 'isthmus_shared_store_failures_total'), takes: await metricValue(gw.adminPort, 'isthmus_shared_store_takes_total') };
      },
      afterRounds: async (started, res) => {
        const gw = started.find((t) => t.name === 'isthmus-key-redis');
        const after = { calls: await scriptCalls(), cpu: groupCpuSeconds(redis.handle.pid), failures: await metricValue(gw.adminPort, 'isthmus_shared_store_failures_total'), takes: await metricValue(gw.adminPort, 'isthmus_shared_store_takes_total') };
        const requests = res['isthmus-key-redis'].requests;
        redisStats.requests = requests;
        redisStats.scriptCallsPerReq = (after.calls - redisStats.before.calls) / requests;
        redisStats.takesPerReq = after.takes === null || redisStats.before.takes === null ? null : (after.takes - redisStats.before.takes) / requests;
        if (after.cpu && redisStats.before.cpu) redisStats.cpuUsPerReq = ((after.cpu.user + after.cpu.sys - redisStats.before.cpu.user - redisStats.before.cpu.sys) * 1e6) / requests;
        redisStats.storeFailures = after.failures === null || redisStats.before.failures === null ? null : after.failures - redisStats.before.failures;
        redisStats.storeFailuresAtStart = redisStats.before.failures;
      },
    });
  } finally {
    await stopProcess(redis.handle);
  }
  // The figures only mean something if every request passed every policy and Redis counted each one.
  for (const name of order) {
    const r = results[name];
    if (r?.non2xx || r?.socketErrors) problems.push(`${name}: ${r.non2xx} non-2xx answers and ${r.socketErrors} socket errors during the rounds`);
  }
  if (redisStats.storeFailures === null || redisStats.storeFailures === undefined) problems.push('isthmus-key-redis: isthmus_shared_store_failures_total could not be read');
  // A few timeouts (--redis-timeout, 100 ms) when the load core is starved do not change the figure; more would.
  else if (redisStats.storeFailures > redisStats.requests / 1000) problems.push(`isthmus-key-redis: ${redisStats.storeFailures} of ${redisStats.requests} requests fell back to a local count (Redis failed or took over 100 ms) during the rounds`);
  // Every request must have been counted in Redis: the gateway's takes (a request joins its turn's
  // script call for the counter) per request served, and Redis must have run the calls.
  if (!(redisStats.takesPerReq >= 0.99 && redisStats.takesPerReq <= 1.01)) problems.push(`isthmus-key-redis: ${redisStats.takesPerReq?.toFixed(3)} requests counted in Redis (isthmus_shared_store_takes_total) per request served (expected 1)`);
  if (!(redisStats.scriptCallsPerReq > 0)) problems.push('isthmus-key-redis: Redis ran no rate-limit script during the rounds');
  const apim = { order, results, request: { host: request.host, path: request.path, headerNames: ['x-api-key', 'Authorization: Bearer'] }, jwt: { alg: 'RS256', modulusLength: 2048, tokenBytes: token.length }, redis: redisStats, problems };
  log(`\n${apimTable(apim)}\n`);
  for (const line of apimVerdicts(apim)) log(line);
  for (const p of problems) log(`  INVALID: ${p}`);
  if (!settings.gatewayCmd) {
    log(`\n== Redis failing under load (hung: SIGSTOP; killed: SIGKILL, started again), --redis-timeout ${OUTAGE.timeoutMs} ms`);
    writeApimConfig(join(workDir, 'config-apim-key-redis-closed'), { ...base, variant: 'key-redis', keySha256, onStoreFailure: 'closed' });
    try {
      apim.outage = await runRedisOutage({ origin, workDir, request, log, configDirs: { open: join(workDir, 'config-apim-key-redis'), closed: join(workDir, 'config-apim-key-redis-closed') } });
      log(`\n${outageTable(apim.outage)}\n`);
      for (const line of outageVerdicts(apim.outage)) log(line);
    } catch (err) {
      apim.outageError = err.message.split('\n')[0];
      log(`  failed: ${apim.outageError}`);
    }
  }
  if (parts.profile && !settings.gatewayCmd) {
    log('\n== CPU profiles of the route without policies, with API key + Redis, and with JWT (one round each)');
    const [port] = await freePorts(1);
    const profRedis = await startRedis({ workDir, port });
    try {
      const profiles = {};
      for (const [name, dir, extraArgs] of [['isthmus-route', 'config-apim-route', []], ['isthmus-key-redis', 'config-apim-key-redis', ['--redis-url', profRedis.url]], ['isthmus-jwt', 'config-apim-jwt', []]]) {
        profiles[name] = await profileGateway(origin, { name: `${name}-profile`, configDir: join(workDir, dir), request, extraArgs, dirName: `profile-${stamp}-apim-${name}`, top: 100_000 });
      }
      apim.profileDiffs = {
        'isthmus-key-redis': profileDiff(profiles['isthmus-route'], profiles['isthmus-key-redis']),
        'isthmus-jwt': profileDiff(profiles['isthmus-route'], profiles['isthmus-jwt']),
      };
      for (const [name, d] of Object.entries(apim.profileDiffs)) {
        log(`\n  ${name} minus isthmus-route, self µs/req:\n${d.error ?? d.rows.map((r) => `${r.deltaUs.toFixed(2).padStart(7)} µs/req  ${r.name} (${r.location || r.area})`).join('\n')}`);
      }
    } finally {
      await stopProcess(profRedis.handle);
    }
  }
  return apim;
}

/** Gateway API at scale: `routes` HTTPRoutes × `rules` rules (one hostname each) against one route of `rules` rules. */
async function runGatewayScale(origin) {
  const shape = { routes: positive('gwapi-routes'), rulesPerRoute: positive('gwapi-rules') };
  log(`\n== Gateway API scale: ${shape.routes * shape.rulesPerRoute} HTTPRoute rules over ${shape.routes} hostnames vs ${shape.rulesPerRoute} rules`);
  const base = { upstreamPort: origin.port, endpointsKind: settings.endpointsKind };
  const large = writeGatewayScaleConfig(join(workDir, 'config-gwapi-scale-large'), { ...base, ...shape });
  const small = writeGatewayScaleConfig(join(workDir, 'config-gwapi-scale-small'), { ...base, routes: 1, rulesPerRoute: shape.rulesPerRoute, firstHostIndex: shape.routes - 1 });
  if (large.host !== small.host || large.path !== small.path) throw new Error('Gateway API scale configs do not serve the same request');
  const gateways = [];
  const info = {};
  try {
    for (const [name, config, dir] of [['isthmus-gw-small', small, 'config-gwapi-scale-small'], ['isthmus-gw-large', large, 'config-gwapi-scale-large']]) {
      const [http, https, admin] = await freePorts(3);
      const gw = await startGateway({ workers: settings.workers, name, gatewayCmd: settings.gatewayCmd, configDir: join(workDir, dir), ports: { http, https, admin }, originPort: origin.port, workDir, readyTimeoutMs: 60_000 });
      gateways.push(gw);
      await checkProxied(gw, large);
      info[name] = { ...config, readyMs: gw.readyMs, diagnostics: await diagnosticsCount(admin), rssAtReadyMiB: rssMiB(gw.handle.pid), applyLog: applyLogLine(gw.logPath) };
      log(`  ${name}: ${config.paths} rules, start → ready ${gw.readyMs.toFixed(0)} ms; ${info[name].applyLog ?? 'no apply log line'}`);
    }
    const { results } = await measure(gateways, large);
    const scale = {
      kind: 'gateway-api',
      target: { host: large.host, path: large.path },
      shape: `${shape.routes} HTTPRoutes × ${shape.rulesPerRoute} PathPrefix rules, one hostname each, all to one Service`,
      small: { ...info['isthmus-gw-small'], ...results['isthmus-gw-small'] },
      large: { ...info['isthmus-gw-large'], ...results['isthmus-gw-large'] },
      applyLog: info['isthmus-gw-large'].applyLog,
    };
    log(`\n${scaleTable(scale)}\n`);
    for (const line of scaleVerdicts(scale)) log(line);
    return scale;
  } finally {
    for (const gw of gateways) await stopGateway(gw);
  }
}

async function runProfile(origin) {
  log('\n== CPU profile of Isthmus (one round)');
  const configDir = join(workDir, 'config-profile');
  const request = writeSimpleConfig(configDir, { upstreamPort: origin.port, endpointsKind: settings.endpointsKind });
  return profileGateway(origin, { name: 'isthmus-profile', configDir, request, dirName: `profile-${stamp}` });
}

/** One warm-up and one round of `request` through Isthmus on `configDir` under --cpu-prof, summarised (`top` functions). */
async function profileGateway(origin, { name, configDir, request, extraArgs, dirName, top = 25 }) {
  const profileDir = join(resultsDir, dirName);
  mkdirSync(profileDir, { recursive: true });
  const [http, https, admin] = await freePorts(3);
  let gw;
  try {
    gw = await startGateway({
      name, gatewayCmd: settings.gatewayCmd, nodeFlags: ['--cpu-prof', '--cpu-prof-dir', profileDir],
      configDir, ports: { http, https, admin }, originPort: origin.port, workDir, extraArgs,
    });
    await checkProxied(gw, request);
    const { results, roundsStartedAt } = await measure([gw], request, 1);
    // The profile is written when the process exits normally (SIGTERM → drain → exit).
    await stopGateway(gw);
    const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error(`no .cpuprofile in ${profileDir}: did the gateway exit through process.exit after SIGTERM? (${describeExit(gw.handle.exitInfo)})`);
    const path = join(profileDir, file);
    // Only the measured round: start-up (module loading, compiling) and warm-up are left out.
    const skipMs = roundsStartedAt - gw.startedAt;
    const summary = summariseProfile(JSON.parse(readFileSync(path, 'utf8')), { top, root: ROOT, skipMs });
    log(formatSummary({ ...summary, rows: summary.rows.slice(0, 25) }));
    return { rps: results[gw.name].rps, requests: results[gw.name].requests, cpuUsPerReq: results[gw.name].cpuUsPerReq, file: relative(ROOT, path), summary };
  } catch (err) {
    if (gw) await stopProcess(gw.handle);
    log(`  profile FAILED: ${err.message}`);
    return { error: err.message.split('\n')[0] };
  }
}

/** Self time per request, by function and by area: `b` minus `a`, largest increases first. */
function profileDiff(a, b) {
  if (a.error || b.error || !a.requests || !b.requests) return { error: `profile not taken: ${a.error ?? b.error ?? 'no requests counted'}` };
  const perReq = (p, key) => {
    const m = new Map();
    for (const r of key === 'fn' ? p.summary.rows : p.summary.areas) {
      const id = key === 'fn' ? `${r.name}\u0000${r.location}` : r.area;
      m.set(id, { ...r, usPerReq: (r.selfMs * 1000) / p.requests });
    }
    return m;
  };
  const diff = (key) => {
    const ma = perReq(a, key);
    const mb = perReq(b, key);
    const ids = new Set([...ma.keys(), ...mb.keys()]);
    return [...ids].map((id) => {
      const ra = ma.get(id);
      const rb = mb.get(id);
      const base = rb ?? ra;
      return { name: base.name ?? base.area, location: base.location ?? '', area: base.area, aUs: ra?.usPerReq ?? 0, bUs: rb?.usPerReq ?? 0, deltaUs: (rb?.usPerReq ?? 0) - (ra?.usPerReq ?? 0) };
    }).filter((r) => r.name !== '(idle)').sort((x, y) => y.deltaUs - x.deltaUs);
  };
  const busy = (p) => (p.summary.busyMs * 1000) / p.requests;
  return {
    files: [a.file, b.file],
    rps: [a.rps, b.rps],
    busyUsPerReq: [busy(a), busy(b)],
    rows: diff('fn').slice(0, 20),
    areas: diff('area').slice(0, 12),
  };
}

async function main() {
  installCleanup();
  requireWrk();
  mkdirSync(workDir, { recursive: true });
  const machine = machineInfo({ nginx: NGINX, wrk: WRK });
  log(`bench: Node ${machine.node}, ${machine.nproc} cores (${machine.cpu}), ${machine.wrk}, nginx ${machine.nginx}`);
  log(`bench: work folder ${relative(ROOT, workDir)}; parts: ${Object.keys(parts).filter((p) => parts[p]).join(', ')}`);
  if (!settings.pinned) log('bench: warning: not pinning to cores (needs taskset and 2 cores)');
  if (machine.loadAtStart > 0.5) log(`bench: warning: load average ${machine.loadAtStart.toFixed(2)}: something else is running, figures will be noisy`);
  if (settings.gatewayCmd) log(`bench: gateway slot runs "${settings.gatewayCmd}" instead of Isthmus`);
  const [originPort] = await freePorts(1);
  const origin = await startOrigin({ workDir, port: originPort, useNginx: settings.useNginx });
  log(`bench: origin ${origin.kind} on 127.0.0.1:${origin.port}`);
  settings.origin = origin.kind;
  const report = { machine, settings, parts };
  let failed = false;
  try {
    if (parts.main) {
      report.main = await runMain(origin);
      failed ||= Object.values(report.main.results).some((r) => r.error);
    }
    if (parts.h2) {
      try {
        report.h2 = await runH2Part({ origin, workDir, settings, log, stopGateway });
        log(`\n${h2Table(report.h2)}\n`);
        for (const line of h2Verdicts(report.h2, report.main)) log(line);
        failed ||= Object.values(report.h2.results).some((r) => r.error) || report.h2.problems.length > 0;
      } catch (err) {
        failed = true;
        report.h2Error = err.message.split('\n')[0];
        log(`  HTTP/2 FAILED: ${err.message}`);
      }
    }
    if (parts.scale) {
      try {
        report.scale = await runScale(origin);
      } catch (err) {
        failed = true;
        log(`  scale FAILED: ${err.message}`);
      }
    }
    if (parts.profile) {
      report.profile = await runProfile(origin);
      failed ||= !!report.profile.error;
    }
    if (parts.gwapi) {
      report.gwapi = await runGatewayApi(origin);
      failed ||= Object.values(report.gwapi.results).some((r) => r.error);
    }
    if (parts.gwapiScale) {
      try {
        report.gwapiScale = await runGatewayScale(origin);
      } catch (err) {
        failed = true;
        log(`  Gateway API scale FAILED: ${err.message}`);
      }
    }
    if (parts.istio) {
      try {
        report.istio = await runIstio(origin);
        failed ||= Object.values(report.istio.results).some((r) => r.error);
      } catch (err) {
        failed = true;
        log(`  Istio FAILED: ${err.message}`);
      }
    }
    if (parts.apim) {
      try {
        report.apim = await runApim(origin);
        failed ||= Object.values(report.apim.results).some((r) => r.error) || report.apim.problems.length > 0;
      } catch (err) {
        failed = true;
        report.apimError = err.message.split('\n')[0];
        log(`  API management FAILED: ${err.message}`);
      }
    }
    if (parts.workersScaling) {
      try {
        report.workersScaling = await runWorkersScaling({
          workDir, log, workers: settings.scalingWorkers, rounds: settings.rounds, durationS: settings.durationS, warmupS: settings.warmupS,
          connections: settings.connections, threads: settings.scalingThreads, sched: settings.sched, useNginx: settings.useNginx,
          endpointsKind: settings.endpointsKind, gatewayCmd: settings.gatewayCmd,
        });
        log('');
        for (const line of workersVerdicts(report.workersScaling)) log(line);
      } catch (err) {
        failed = true;
        report.workersScalingError = err.message.split('\n')[0];
        log(`  workers scaling FAILED: ${err.message}`);
      }
    }
  } finally {
    await stopProcess(origin.handle);
  }
  const out = opts.out ?? (settings.gatewayCmd ? join(resultsDir, `BENCHMARKS-${stamp}.md`) : join(ROOT, 'BENCHMARKS.md'));
  // A run of some parts only replaces those parts' sections of an existing report.
  const partial = Object.values(parts).some((on) => !on);
  const rendered = renderMarkdown(report);
  const spliced = partial && existsSync(out) ? spliceMarkdown(readFileSync(out, 'utf8'), rendered, report) : null;
  writeFileSync(out, spliced ?? (existsSync(out) ? keepOtherHarnessSections(readFileSync(out, 'utf8'), rendered) : rendered));
  writeFileSync(join(resultsDir, `bench-${stamp}.json`), `${JSON.stringify(report, null, 2)}\n`);
  log(`\nbench: wrote ${out}${spliced ? ' (this run\'s parts spliced into it)' : ''} and ${join(resultsDir, `bench-${stamp}.json`)}`);
  if (failed) {
    log('bench: some parts FAILED (see above)');
    process.exitCode = 1;
  }
}

main().catch((err) => {
  process.stderr.write(`bench: ${err.stack ?? err}\n`);
  process.exit(1);
});
