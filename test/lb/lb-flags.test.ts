// `isthmus lb` refuses flag combinations that cannot mean anything, with a message naming the flag,
// before it reads anything (the real command, so the exit code and message are what a user sees).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../e2e/cli-harness.js';

test('lb: Kubernetes-mode flags need --kubernetes; --kubernetes and --config exclude each other; one advertised address per family', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['lb', '--config', '.', '--advertise-address', '192.0.2.1'], /--advertise-address needs --kubernetes/],
    [['lb', '--config', '.', '--kubeconfig', 'x'], /--kubeconfig needs --kubernetes/],
    [['lb', '--kubernetes', '--config', '.'], /--kubernetes reads the cluster and --config reads folders: choose one/],
    [['lb'], /--config DIR or --kubernetes is required/],
    [['lb', '--kubernetes', '--advertise-address', 'lb.example'], /--advertise-address expects an IP address, got "lb\.example"/],
    [['lb', '--kubernetes', '--advertise-address', '192.0.2.1', '--advertise-address', '192.0.2.2'], /one IPv4 address at most \(got 192\.0\.2\.1 and 192\.0\.2\.2\)/],
    [['lb', '--kubernetes', '--lease-duration', '10'], /--lease-duration expects a whole number of ms ≥ 1000/],
  ];
  for (const [args, message] of cases) {
    const result = await runCli(args);
    assert.equal(result.code, 2, `${args.join(' ')}: exit ${result.code}\n${result.stderr}`);
    assert.match(result.stderr, message, args.join(' '));
  }
  const help = await runCli(['lb', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--advertise-address IP/);
  assert.match(help.stdout, /--load-balancer-class/);
});
