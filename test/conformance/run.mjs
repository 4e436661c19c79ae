#!/usr/bin/env node
// Conformance-case runner: drives a gateway under test (file mode) against the
// transcribed cases in corpus/*/ and shared/conformance/cases/*/. See README.md.
//
//   node run.mjs --gateway "node /path/dist/cli.js" --cases DIR_OR_FILE [--cases ...]
//                [--filter REGEX] [--json out.json] [--verbose] [--keep] ...
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { checkStatus, describeStatusCheck, runCase, skipReason } from './cases.mjs';
import { importDep } from './deps.mjs';
import { EchoFleet } from './echo.mjs';
import { GatewayProcess, adminGetJson, allocPort, killAllChildren } from './gateway.mjs';
import { buildConfig, initYaml, manifestsForStep } from './manifests.mjs';
import { CertStore } from './tls.mjs';

const USAGE = `usage: node run.mjs --gateway "<command>" --cases <file-or-dir> [--cases ...] [options]

  --gateway CMD          command that starts the gateway; the runner appends
                         run --config DIR --admin-port N --http-port N --https-port N
                             --port-map 80=P1,443=P2,... --listen-address 127.0.0.1
  --cases PATH           a case file, or a folder of them (searched recursively); repeatable
  --filter REGEX         run only cases whose "<test> :: <case name>" matches
  --exclude REGEX        leave out cases whose "<test> :: <case name>" matches (counted
                         and listed as excluded, never as passed)
  --json FILE            write every result as JSON
  --verbose              progress, config details and gateway output on failures
  --keep                 keep each test's temp folder (config dir, gateway log)
  --timeout MS           per-request timeout (default 10000)
  --ready-timeout MS     how long to wait for GET /ready (default 20000)
  --reload-wait MS       wait after deleting resources (default 1500)
  --settle MS            after a deletion, keep retrying a failing case this long (default 5000)
  --case-timeout MS      give up on one case after this long (default 300000)
  --istio-mesh MODE      bind (default): bind mesh VirtualServices to a synthetic Istio
                         Gateway and test them through it; skip: SKIP mesh-scope cases;
                         sidecar: send mesh-scope cases to "<gateway cmd> sidecar" (by Host)
  --status-checks        also check statusChecks through GET /api/status
  --consistency          require 3 consecutive passes within 30 s per simple case (like the suite)
  --endpointslices       also write an EndpointSlice per selector Service
  --weight-attempts N    attempts for weight cases that do not say (default 3)
  --base-manifests FILE  Gateway API base manifests (default: next to the case files)
  --gateway-class NAME   GatewayClass to use (default isthmus)
  --controller-name N    its controllerName (default isthmus.dev/gateway-controller)
  --pod-subnet-base N    echo pods listen on 127.0.N.x (default 10); another N lets two runs
                         share one machine
  --ingress-class NAME   IngressClass to use (default isthmus)
  --ingress-controller N its spec.controller (default isthmus.dev/ingress-controller)
`;

function parseArgs(argv) {
  const o = {
    gateway: null, cases: [], filter: null, exclude: null, json: null, verbose: false, keep: false,
    timeoutMs: 10000, readyTimeoutMs: 20000, reloadWaitMs: 1500, settleMs: 5000, caseTimeoutMs: 300000,
    istioMesh: 'bind', statusChecks: false, consistency: false, endpointSlices: false, weightAttempts: 3,
    baseManifests: null, gatewayClass: 'isthmus', controllerName: 'isthmus.dev/gateway-controller',
    ingressClass: 'isthmus', ingressController: 'isthmus.dev/ingress-controller',
    listenAddress: '127.0.0.1', podSubnetBase: 10, loadBackendDelayMs: 100,
  };
  const num = (v, name) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${name} needs a number, got ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--gateway': o.gateway = val(); break;
      case '--cases': o.cases.push(val()); break;
      case '--filter': o.filter = new RegExp(val()); break;
      case '--exclude': o.exclude = new RegExp(val()); break;
      case '--json': o.json = val(); break;
      case '--verbose': case '-v': o.verbose = true; break;
      case '--keep': o.keep = true; break;
      case '--timeout': o.timeoutMs = num(val(), a); break;
      case '--ready-timeout': o.readyTimeoutMs = num(val(), a); break;
      case '--reload-wait': o.reloadWaitMs = num(val(), a); break;
      case '--settle': o.settleMs = num(val(), a); break;
      case '--case-timeout': o.caseTimeoutMs = num(val(), a); break;
      case '--istio-mesh': o.istioMesh = val(); if (!['bind', 'skip', 'sidecar'].includes(o.istioMesh)) throw new Error('--istio-mesh is bind, skip or sidecar'); break;
      case '--status-checks': o.statusChecks = true; break;
      case '--consistency': o.consistency = true; break;
      case '--endpointslices': o.endpointSlices = true; break;
      case '--weight-attempts': o.weightAttempts = Math.max(1, num(val(), a)); break;
      case '--base-manifests': o.baseManifests = resolve(val()); break;
      case '--gateway-class': o.gatewayClass = val(); break;
      case '--controller-name': o.controllerName = val(); break;
      case '--ingress-class': o.ingressClass = val(); break;
      case '--ingress-controller': o.ingressController = val(); break;
      case '--pod-subnet-base': o.podSubnetBase = num(val(), a); if (o.podSubnetBase < 1 || o.podSubnetBase > 250) throw new Error('--pod-subnet-base is 1..250'); break;
      case '--help': case '-h': process.stdout.write(USAGE); process.exit(0); break;
      default: throw new Error(`unknown argument ${a}`);
    }
  }
  if (!o.gateway) throw new Error('--gateway is required');
  if (!o.cases.length) throw new Error('--cases is required');
  return o;
}

function collectCaseFiles(paths) {
  const out = [];
  const walk = (p) => {
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const name of readdirSync(p).sort()) {
        const q = join(p, name);
        if (statSync(q).isDirectory() || name.endsWith('.json')) walk(q);
      }
    } else out.push(resolve(p));
  };
  for (const p of paths) {
    if (!existsSync(p)) throw new Error(`no such file or folder: ${p}`);
    walk(p);
  }
  const files = [];
  for (const f of out) {
    let data;
    try {
      data = JSON.parse(readFileSync(f, 'utf8'));
    } catch (err) {
      throw new Error(`${f}: ${err.message}`);
    }
    if (Array.isArray(data?.cases)) files.push({ file: f, data });
  }
  return files;
}

function detectSuite(file, data) {
  const dir = basename(dirname(file));
  if (['gateway-api', 'istio', 'ingress', 'ingress-nginx'].includes(dir)) return dir;
  if (data.test && data.sourceGo) return 'gateway-api';
  if (data.cases.some((c) => c.scope)) return 'istio';
  if (/ingress-nginx/.test(JSON.stringify(data.source ?? ''))) return 'ingress-nginx';
  return 'ingress';
}

// ---- results ----

const results = [];
const counts = { PASS: 0, FAIL: 0, SKIP: 0, EXCLUDED: 0 };
let opts;

function emit(test, name, r, extra = {}) {
  const reason = r.reason ? String(r.reason).replace(/\s+/g, ' ').trim() : '';
  counts[r.status]++;
  results.push({ test, case: name, status: r.status, reason, ...extra });
  const shown = reason.length > 600 ? `${reason.slice(0, 600)}…` : reason;
  process.stdout.write(`${r.status} ${test} :: ${name}${shown ? ` [${shown}]` : ''}\n`);
}

const log = (msg) => { if (opts?.verbose) process.stderr.write(`${msg}\n`); };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((res) => { timer = setTimeout(() => res({ status: 'FAIL', reason: `${what} did not finish within ${ms} ms` }), ms); }),
  ]).finally(() => clearTimeout(timer));
}

// ---- one test file ----

function groupCases(data, cases) {
  const groups = new Map();
  const unresolved = [];
  for (const c of cases) {
    let text;
    if (c.manifestsSynthesized) text = c.manifestsSynthesized;
    else {
      const r = manifestsForStep(data.manifests ?? '', c.step);
      if (r.error) { unresolved.push([c, r.error]); continue; }
      text = r.text;
    }
    if (!groups.has(text)) groups.set(text, []);
    groups.get(text).push(c);
  }
  return { groups, unresolved };
}

const tempDirs = new Set();

async function runFile({ file, data }, shared) {
  const suite = detectSuite(file, data);
  const test = suite === 'gateway-api' ? data.test ?? basename(file, '.json') : `${suite}/${data.name ?? basename(file, '.json')}`;
  const chosen = data.cases.filter((c) => !opts.filter || opts.filter.test(`${test} :: ${c.name}`));
  const isExcluded = (c) => opts.exclude !== null && opts.exclude.test(`${test} :: ${c.name}`);
  for (const c of chosen.filter(isExcluded)) emit(test, c.name, { status: 'EXCLUDED', reason: `--exclude ${opts.exclude.source}` }, { file });
  const selected = chosen.filter((c) => !isExcluded(c));
  const statusChecks = (data.statusChecks ?? []).filter((sc) => !opts.filter || opts.filter.test(`${test} :: ${describeStatusCheck(sc)}`));
  if (!selected.length && !statusChecks.length) return;
  const { groups, unresolved } = groupCases(data, selected);
  for (const [c, why] of unresolved) emit(test, c.name, { status: 'SKIP', reason: why }, { file });
  if (statusChecks.length && !opts.statusChecks) {
    for (const sc of statusChecks) emit(test, describeStatusCheck(sc), { status: 'SKIP', reason: 'status checks are off (pass --status-checks)' }, { file });
  }
  if (statusChecks.length && opts.statusChecks) {
    const text = data.manifests ?? '';
    if (!groups.has(text)) groups.set(text, []);
  }
  let first = true;
  for (const [manifests, cases] of groups) {
    await runGroup({ file, data, suite, test, manifests, cases, statusChecks: first && opts.statusChecks ? statusChecks : [] }, shared);
    first = false;
  }
}

async function runGroup({ file, data, suite, test, manifests, cases, statusChecks }, shared) {
  const runnable = [];
  for (const c of cases) {
    const why = skipReason(suite, c, opts);
    if (why) emit(test, c.name, { status: 'SKIP', reason: why }, { file });
    else runnable.push(c);
  }
  if (!runnable.length && !statusChecks.length) return;
  const failAll = (reason) => {
    for (const sc of statusChecks) emit(test, describeStatusCheck(sc), { status: 'FAIL', reason }, { file });
    for (const c of runnable) emit(test, c.name, { status: 'FAIL', reason }, { file });
  };

  const work = mkdtempSync(join(tmpdir(), 'isthmus-conformance-'));
  tempDirs.add(work);
  const configDir = join(work, 'config');
  let fleet;
  let gw;
  let sidecar;
  try {
    let config;
    try {
      config = await buildConfig({
        suite, data, file, manifests, cases: runnable, dir: configDir, certs: shared.certs, allocPort, options: opts,
      });
    } catch (err) {
      failAll(`cannot build the config: ${err.message}`);
      return;
    }
    log(`== ${test}: config ${configDir} (${config.files.size} objects, ${config.pods.length} pods)`);
    log(`   gateways ${JSON.stringify(Object.fromEntries(config.gatewayAddrs))} ports ${JSON.stringify(Object.fromEntries(config.portMap))}`);
    for (const n of config.notes) log(`   note: ${n}`);

    fleet = new EchoFleet({ verbose: false });
    try {
      await fleet.start(config.pods);
    } catch (err) {
      failAll(`cannot start the echo pods: ${err.message}`);
      return;
    }

    const adminPort = await allocPort();
    const args = [
      'run', '--config', configDir, '--admin-port', String(adminPort),
      '--http-port', String(config.portMap.get(80)), '--https-port', String(config.portMap.get(443)),
      '--port-map', [...config.portMap].map(([l, p]) => `${l}=${p}`).join(','),
      '--listen-address', opts.listenAddress,
    ];
    log(`   gateway: ${opts.gateway} ${args.join(' ')}`);
    gw = new GatewayProcess({ command: opts.gateway, args, logFile: join(work, 'gateway.log') });
    const ready = await gw.waitReady(adminPort, opts.readyTimeoutMs);
    if (!ready.ok) {
      failAll(`${ready.reason}; ${gw.tails(800)}`);
      return;
    }

    // --istio-mesh sidecar: mesh-scope cases go to `isthmus sidecar` on the same folder, as a
    // workload's redirected connections would (transparent mode: routed by Host, which names the
    // Service and port).
    let sidecarPort;
    if (suite === 'istio' && opts.istioMesh === 'sidecar' && runnable.some((c) => c.scope === 'mesh')) {
      const [sidecarAdmin, port] = [await allocPort(), await allocPort()];
      const sidecarArgs = [
        'sidecar', '--config', configDir, '--admin-port', String(sidecarAdmin), '--listen', `${opts.listenAddress}:${port}`,
        '--namespace', data.backendService?.namespace ?? 'default',
      ];
      log(`   sidecar: ${opts.gateway} ${sidecarArgs.join(' ')}`);
      sidecar = new GatewayProcess({ command: opts.gateway, args: sidecarArgs, logFile: join(work, 'sidecar.log') });
      const sidecarReady = await sidecar.waitReady(sidecarAdmin, opts.readyTimeoutMs);
      if (!sidecarReady.ok) {
        failAll(`sidecar: ${sidecarReady.reason}; ${sidecar.tails(800)}`);
        return;
      }
      sidecarPort = port;
    }

    if (statusChecks.length) {
      const st = await adminGetJson(adminPort, '/api/status');
      for (const sc of statusChecks) {
        emit(test, describeStatusCheck(sc), st.ok ? checkStatus(sc, st.json) : { status: 'FAIL', reason: st.error }, { file });
      }
    }

    const env = {
      suite, test, data, config, fleet, adminPort, sidecarPort, options: opts, WebSocket: shared.WebSocket,
      backendMode: suite === 'ingress' || suite === 'ingress-nginx' ? 'service' : 'pod',
    };
    for (const c of runnable) {
      if (gw.exit) {
        emit(test, c.name, { status: 'FAIL', reason: `gateway ${gw.describeExit()}; ${gw.tails(800)}` }, { file });
        continue;
      }
      const started = Date.now();
      let r;
      try {
        r = await withTimeout(runCase(env, c), opts.caseTimeoutMs, 'the case');
      } catch (err) {
        r = { status: 'FAIL', reason: `runner error: ${err?.stack ?? err}` };
      }
      // A gateway that just crashed shows first as ECONNRESET/ECONNREFUSED: give its exit
      // event a moment to arrive, so that the reason says what happened.
      if (r.status === 'FAIL' && !gw.exit) await Promise.race([gw.exited, sleep(100)]);
      if (r.status === 'FAIL' && gw.exit) r = { ...r, reason: `${r.reason}; gateway ${gw.describeExit()}; ${gw.tails(800)}` };
      emit(test, c.name, r, { file, durationMs: Date.now() - started });
      if (r.status === 'FAIL' && opts.verbose) log(`   gateway output: ${gw.tails(1500)}`);
    }
  } finally {
    await gw?.stop();
    await sidecar?.stop();
    await fleet?.stop();
    if (opts.keep) process.stderr.write(`kept ${work}\n`);
    else {
      rmSync(work, { recursive: true, force: true });
      tempDirs.delete(work);
    }
  }
}

function cleanupAndExit(code) {
  killAllChildren();
  if (!opts?.keep) for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  process.exit(code);
}

async function main() {
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err.message}\n\n${USAGE}`);
    process.exit(2);
  }
  process.on('exit', killAllChildren);
  process.on('SIGINT', () => cleanupAndExit(130));
  process.on('SIGTERM', () => cleanupAndExit(143));
  process.on('unhandledRejection', (err) => process.stderr.write(`conformance: unhandled rejection: ${err?.stack ?? err}\n`));

  let files;
  try {
    files = collectCaseFiles(opts.cases);
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  await initYaml();
  const ws = await importDep('ws');
  const certDir = mkdtempSync(join(tmpdir(), 'isthmus-conformance-certs-'));
  tempDirs.add(certDir);
  const shared = { certs: new CertStore(certDir), WebSocket: ws.WebSocket ?? ws };
  const started = Date.now();
  for (const f of files) {
    try {
      await runFile(f, shared);
    } catch (err) {
      emit(f.data.test ?? f.data.name ?? basename(f.file), '(file)', { status: 'FAIL', reason: `runner error: ${err?.stack ?? err}` }, { file: f.file });
    }
  }
  if (!opts.keep) {
    rmSync(certDir, { recursive: true, force: true });
    tempDirs.delete(certDir);
  }
  // Finding no case is a failure, not a quiet pass: a moved folder must not turn the suite off.
  if (!results.length) process.stderr.write('conformance: FAIL: no case was selected (check --cases and --filter)\n');
  const summary = `${counts.PASS} passed, ${counts.FAIL} failed, ${counts.SKIP} skipped${counts.EXCLUDED ? `, ${counts.EXCLUDED} excluded` : ''}`;
  if (opts.json) {
    writeFileSync(opts.json, JSON.stringify({
      gateway: opts.gateway, startedAt: new Date(started).toISOString(), durationMs: Date.now() - started,
      summary: { passed: counts.PASS, failed: counts.FAIL, skipped: counts.SKIP, excluded: counts.EXCLUDED }, results,
    }, null, 2));
  }
  process.stdout.write(`${summary}\n`);
  killAllChildren();
  process.exit(counts.FAIL || !results.length ? 1 : 0);
}

main();
