// The `isthmus sidecar` command line: listed in --help, its own --help with every flag's default,
// usage errors exit 2, and --print-iptables prints the transparent-mode rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from './cli-harness.js';
import { parseSidecarArgs, SIDECAR_FLAGS } from '../../src/cli/sidecar/sidecar-args.js';

test('isthmus --help lists the sidecar command', async () => {
  const res = await runCli(['--help']);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /isthmus sidecar --config DIR/);
});

test('isthmus sidecar --help lists every flag with its default', async () => {
  const res = await runCli(['sidecar', '--help']);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /^Usage: isthmus sidecar/m);
  for (const [flag] of SIDECAR_FLAGS) {
    const line = res.stdout.split('\n').find((l) => l.trimStart().startsWith(flag));
    assert.ok(line, `sidecar --help does not list ${flag}`);
    assert.match(line, /\(default: [^)]/, `${flag} has no default`);
  }
});

test('isthmus sidecar without --config, or with a bad --listen, exits 2 with a message', async () => {
  const [noConfig, badListen] = await Promise.all([runCli(['sidecar']), runCli(['sidecar', '--config', '.', '--listen', 'nowhere'])]);
  assert.equal(noConfig.code, 2);
  assert.match(noConfig.stderr, /sidecar: --config DIR is required/);
  assert.equal(badListen.code, 2);
  assert.match(badListen.stderr, /sidecar --listen: expected HOST:PORT, got "nowhere"/);
});

test('isthmus sidecar --print-iptables: OUTPUT only, the proxy uid and loopback excluded, REDIRECT to the listen port', async () => {
  const res = await runCli(['sidecar', '--print-iptables', '--proxy-uid', '2001', '--listen', '127.0.0.1:15006']);
  assert.equal(res.code, 0, res.stderr);
  assert.equal(
    res.stdout,
    [
      'iptables -t nat -N ISTHMUS_OUTPUT',
      'iptables -t nat -A ISTHMUS_OUTPUT -m owner --uid-owner 2001 -j RETURN',
      'iptables -t nat -A ISTHMUS_OUTPUT -d 127.0.0.0/8 -j RETURN',
      'iptables -t nat -A ISTHMUS_OUTPUT -p tcp -j REDIRECT --to-ports 15006',
      'iptables -t nat -A OUTPUT -p tcp -j ISTHMUS_OUTPUT',
      '',
    ].join('\n'),
  );
  assert.doesNotMatch(res.stdout, /PREROUTING/);
});

test('--workload-labels reaches the mesh options; a malformed list exits 2', async () => {
  const parsed = parseSidecarArgs(['--config', '.', '--namespace', 'shop', '--workload-labels', 'app=productpage,version=v1']);
  assert.equal(parsed.kind, 'serve');
  if (parsed.kind === 'serve') assert.deepEqual([...(parsed.mesh.labels ?? new Map())], [['app', 'productpage'], ['version', 'v1']]);
  const bad = await runCli(['sidecar', '--config', '.', '--workload-labels', 'app']);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /--workload-labels/);
});
