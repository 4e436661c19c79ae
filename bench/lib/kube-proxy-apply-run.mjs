// The apply half of bench/kube-proxy-scale.mjs: `isthmus kube-proxy apply --mode nftables|iptables`
// on the generated folder inside a network namespace this creates (real nft or iptables-restore), the full sync's time,
// then one endpoint changed at a time and each partial sync's time, as the command logs them,
// and the wall time from the file write to the command's log line, with the new endpoint's DNAT
// rule read back from the kernel. Needs root, ip (iproute2), and nft (nftables) or iptables.
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { trackChild } from './processes.mjs';
import { ROOT } from './targets.mjs';

const run = promisify(execFile);

export async function requireTools(mode) {
  if (process.getuid?.() !== 0) throw new Error('the apply part needs root (ip netns, nft, iptables)');
  const needed = mode === 'nftables' ? ['nft', '--version', 'nftables'] : ['iptables-restore', '--version', 'iptables'];
  for (const [tool, flag, pkg] of [needed, ['ip', '-V', 'iproute2']]) {
    await run(tool, [flag]).catch(() => {
      throw new Error(`the apply part needs ${tool} (Debian package ${pkg})`);
    });
  }
}

/** Follows a child's stdout line by line; `waitFor(re)` resolves with the first later line matching. */
function lineFollower(stream) {
  const lines = [];
  const waiters = [];
  let buf = '';
  stream.setEncoding('utf8').on('data', (chunk) => {
    buf += chunk;
    for (let eol = buf.indexOf('\n'); eol >= 0; eol = buf.indexOf('\n')) {
      const line = buf.slice(0, eol);
      buf = buf.slice(eol + 1);
      const at = performance.now();
      lines.push({ line, at });
      for (const w of [...waiters]) {
        if (w.re.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve({ line, at, index: lines.length - 1 });
        }
      }
    }
  });
  return {
    lines,
    waitFor(re, timeoutMs, what) {
      const known = lines.find((l) => re.test(l.line));
      if (known) return Promise.resolve({ ...known, index: lines.indexOf(known) });
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no log line ${re} (${what}) within ${timeoutMs / 1000} s; last lines:\n${lines.slice(-8).map((l) => l.line).join('\n')}`)), timeoutMs);
        waiters.push({ re, resolve: (v) => (clearTimeout(timer), resolve(v)) });
      });
    },
  };
}

// Both modes log it; the last figure is nft's, or the iptables commands' (iptables-save and
// iptables-restore in a full sync, iptables-restore alone in a partial one).
const tookRe = /^ {2}took ([\d.]+) ms: plan ([\d.]+) ms, (?:nft|iptables) ([\d.]+) ms$/;
const generationRe = /Service ports ([\d.]+) ms, model and sync ([\d.]+) ms/;

/** The command's own time to the model (nftables) or rendering (iptables): Service ports, then (model and sync) minus the sync. */
function modelMs(line, sync) {
  const m = generationRe.exec(line);
  return m && sync ? Number(m[1]) + Number(m[2]) - sync.syncMs : null;
}

function took(lines, after) {
  const t = lines.slice(after).find((l) => tookRe.test(l.line));
  const m = t && tookRe.exec(t.line);
  return m ? { syncMs: Number(m[1]), planMs: Number(m[2]), nftMs: Number(m[3]) } : null;
}

/**
 * Full sync, then `changes` one-endpoint changes (`gen.changeOneEndpoint` flips the last
 * Service's last endpoint). Returns the figures; the namespace is deleted whatever happens.
 */
export async function runApply({ mode, layout, configDir, gen, changes, log, fullTimeoutMs = 900_000 }) {
  await requireTools(mode);
  const ns = `isthmus-kpbench-${mode}${layout ? `-${layout}` : ''}-${process.pid}`;
  await run('ip', ['netns', 'add', ns]);
  let child;
  try {
    const t0 = performance.now();
    child = spawn(join(ROOT, 'bin', 'isthmus.js'), ['kube-proxy', 'apply', '--mode', mode, ...(layout ? ['--layout', layout] : []), '--config', configDir, '--netns', ns, '--node-ip', '192.168.0.10'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(child, 'kube-proxy apply');
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const out = lineFollower(child.stdout);
    child.once('exit', (code) => out.lines.push({ line: `(exited ${code}) ${stderr.trim()}`, at: performance.now() }));
    const full = await out.waitFor(/^isthmus: generation 1: /, fullTimeoutMs, 'the full sync');
    const fullSync = took(out.lines, 0);
    const result = { ns, full: { ...fullSync, modelMs: modelMs(full.line, fullSync), startToSyncedMs: full.at - t0, summary: out.lines.find((l) => /(nftables|iptables) sync 1 \(full\)/.test(l.line))?.line }, partial: [] };
    log(`  ${mode} full sync: ${fullSync?.syncMs.toFixed(0)} ms (${mode === 'nftables' ? 'nft' : 'iptables'} ${fullSync?.nftMs.toFixed(0)} ms); start → synced ${(full.at - t0).toFixed(0)} ms`);
    for (let i = 1; i <= changes; i++) {
      // The stale chain of the previous change is deleted a second after it: let that pass first.
      await new Promise((r) => setTimeout(r, 1500));
      const mark = out.lines.length;
      const written = performance.now();
      const { newAddress } = gen.changeOneEndpoint();
      const done = await out.waitFor(new RegExp(`^isthmus: generation ${i + 1}: `), 120_000, `change ${i}`);
      const sync = took(out.lines, mark);
      const model = modelMs(done.line, sync);
      const sent = out.lines.slice(mark).filter((l) => /^ {2}(add |flush |delete |IPv[46] )/.test(l.line)).map((l) => l.line.trim());
      await checkKernel(layout === 'compact' ? 'compact' : mode, ns, sent, newAddress, i);
      const summary = out.lines.slice(mark).find((l) => /(nftables|iptables) sync \d+ \(/.test(l.line))?.line;
      result.partial.push({ ...sync, modelMs: model, writeToSyncedMs: done.at - written, summary, sent });
      log(`  ${mode} change ${i}: partial sync ${sync?.syncMs.toFixed(1)} ms (plan ${sync?.planMs.toFixed(1)}, ${mode === 'nftables' ? 'nft' : 'iptables'} ${sync?.nftMs.toFixed(1)}); model ${model?.toFixed(0)} ms; file write → synced ${(done.at - written).toFixed(0)} ms; ${summary}`);
    }
    return result;
  } finally {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    await run('ip', ['netns', 'del', ns]).catch(() => undefined);
  }
}

/** The new endpoint's DNAT rule, read back from the kernel: the change is there, not only logged. */
async function checkKernel(mode, ns, sent, newAddress, i) {
  if (mode === 'compact') {
    // The compact layout: the new endpoint is a value in the cluster IP's endpoint map.
    const element = sent.find((l) => l.startsWith('add element ip kube-proxy service-endpoints-tcp ') && l.includes(`: ${newAddress} . 8080 }`));
    if (!element) throw new Error(`change ${i}: the partial sync added no endpoint element for ${newAddress}:\n${sent.join('\n')}`);
    const key = /\{ (.*) : /.exec(element)[1];
    const { stdout } = await run('ip', ['netns', 'exec', ns, 'nft', 'get', 'element', 'ip', 'kube-proxy', 'service-endpoints-tcp', `{ ${key} }`]);
    if (!stdout.includes(`${newAddress} . 8080`)) throw new Error(`change ${i}: service-endpoints-tcp in the kernel maps ${key} elsewhere:\n${stdout}`);
    return;
  }
  if (mode === 'nftables') {
    const chain = sent.find((l) => l.startsWith('add chain ') && l.includes(`__${newAddress}/`))?.split(' ').at(-1);
    if (!chain) throw new Error(`change ${i}: the partial sync added no endpoint chain for ${newAddress}:\n${sent.join('\n')}`);
    const { stdout } = await run('ip', ['netns', 'exec', ns, 'nft', 'list', 'chain', 'ip', 'kube-proxy', chain]);
    if (!stdout.includes(`dnat to ${newAddress}:8080`)) throw new Error(`change ${i}: ${chain} in the kernel has no DNAT to ${newAddress}:\n${stdout}`);
    return;
  }
  const written = sent.find((l) => l.startsWith('IPv4 nat written: '))?.split(' ').slice(3) ?? [];
  const seps = written.filter((c) => c.startsWith('KUBE-SEP-'));
  if (seps.length !== 1) throw new Error(`change ${i}: expected one endpoint chain written, got:\n${sent.join('\n')}`);
  const { stdout } = await run('ip', ['netns', 'exec', ns, 'iptables', '-t', 'nat', '-S', seps[0]], { maxBuffer: 1 << 20 });
  if (!stdout.includes(`--to-destination ${newAddress}:8080`)) throw new Error(`change ${i}: ${seps[0]} in the kernel has no DNAT to ${newAddress}:\n${stdout}`);
}
