// `isthmus --help`, `isthmus run --help` and usage errors, through the real command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RUN_FLAGS } from '../../src/cli/args.js';
import { runCli } from './cli-harness.js';

/** The flags and defaults the CLI contract names; they must never silently change. */
const CONTRACT_DEFAULTS: ReadonlyArray<readonly [flag: string, defaultValue: string]> = [
  ['--config', '(none)'],
  ['--http-port', '8080'],
  ['--https-port', '8443'],
  ['--listen-address', '0.0.0.0'],
  ['--admin-port', '9901'],
  ['--port-map', '80=<http-port>,443=<https-port>'],
  ['--access-log', 'stdout'],
  ['--ingress-class', 'isthmus'],
];

function assertListsEveryFlag(help: string, where: string): void {
  const lines = help.split('\n');
  const lineOf = (flag: string): string | undefined => lines.find((l) => l.trimStart().startsWith(flag + ' ') || l.trim() === flag);
  for (const [flag, defaultValue] of CONTRACT_DEFAULTS) {
    const line = lineOf(flag);
    assert.ok(line, `${where} does not list ${flag}:\n${help}`);
    assert.ok(line.includes(`(default: ${defaultValue})`), `${where}: ${flag} should say (default: ${defaultValue}): ${line}`);
  }
  // Every flag `run` accepts (the table parseRunArgs is built beside) is listed with a default.
  for (const [spec] of RUN_FLAGS) {
    const flag = spec.split(' ')[0] ?? spec;
    const line = lineOf(flag);
    assert.ok(line, `${where} does not list ${flag}`);
    assert.match(line, /\(default: [^)]/, `${where}: ${flag} has no default: ${line}`);
  }
}

test('isthmus run --help lists every flag with its default and exits 0', async () => {
  const res = await runCli(['run', '--help']);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /^Usage: isthmus run/m);
  assertListsEveryFlag(res.stdout, 'run --help');
});

test('isthmus --help shows the commands and every run flag with its default, and exits 0', async () => {
  const res = await runCli(['--help']);
  assert.equal(res.code, 0, res.stderr);
  for (const command of ['isthmus run', 'isthmus validate', 'isthmus echo']) assert.ok(res.stdout.includes(command), `--help lacks ${command}`);
  assertListsEveryFlag(res.stdout, '--help');
});

test('an unknown flag exits 2 and names the flag on stderr', async () => {
  const res = await runCli(['run', '--no-such-flag', '--admin-port', '0']);
  assert.equal(res.code, 2);
  assert.match(res.stderr, /--no-such-flag/);
  assert.match(res.stderr, /Usage:/, 'the usage follows the message');
  assert.equal(res.stdout, '');
});

test('a malformed flag value and an unknown command exit 2 with a message', async () => {
  const [badPort, badCommand, noFolder] = await Promise.all([runCli(['run', '--http-port', 'eighty']), runCli(['serve']), runCli(['validate'])]);
  assert.equal(badPort.code, 2);
  assert.match(badPort.stderr, /--http-port: expected a port number 0-65535, got "eighty"/);

  assert.equal(badCommand.code, 2);
  assert.match(badCommand.stderr, /unknown command "serve"/);

  assert.equal(noFolder.code, 2);
  assert.match(noFolder.stderr, /validate: name at least one folder/);
});
