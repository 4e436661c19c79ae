// `isthmus --help`, `isthmus run --help`, every command's --help, --version, and usage errors,
// through the real command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { RUN_FLAGS } from '../../src/cli/args.js';
import { CLI, repoRoot, runCli } from './cli-harness.js';

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

test('isthmus validate --help and isthmus echo --help print their usage and exit 0', async () => {
  const [validate, validateShort, echo] = await Promise.all([runCli(['validate', '--help']), runCli(['validate', '-h']), runCli(['echo', '--help'])]);
  for (const [res, usage] of [[validate, 'Usage: isthmus validate DIR'], [validateShort, 'Usage: isthmus validate DIR'], [echo, 'Usage: isthmus echo']] as const) {
    assert.equal(res.code, 0, res.stderr);
    assert.ok(res.stdout.startsWith(usage), res.stdout);
    assert.equal(res.stderr, '');
  }
  assert.match(echo.stdout, /--listen HOST:PORT .*\(default: 127\.0\.0\.1:8080\)/);
  assert.match(echo.stdout, /--name NAME .*\(default: echo\)/);
});

test('isthmus validate with an option it does not have exits 2 instead of reading "--x" as a folder', async () => {
  const res = await runCli(['validate', '--strict', 'examples/quickstart']);
  assert.equal(res.code, 2);
  assert.match(res.stderr, /Unknown option '--strict'/);
});

test('isthmus --version and isthmus version print the version in package.json', async () => {
  const { version } = JSON.parse(readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')) as { version: string };
  for (const args of [['--version'], ['version']]) {
    const res = await runCli(args);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, `isthmus ${version}\n`);
  }
});

test('bin/isthmus.js runs as a program (shebang, executable bit), and npx finds it in the package folder', async () => {
  const { version } = JSON.parse(readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')) as { version: string };
  // Executed directly, as a shell or npm's bin link does: the `#!/usr/bin/env -S node ...` line must work.
  const direct = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
    const child = spawn(CLI, ['--version'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.on('error', reject); // ENOENT (no node for env) or EACCES (not executable)
    child.on('close', (code) => resolve({ code, stdout }));
  });
  assert.deepEqual(direct, { code: 0, stdout: `isthmus ${version}\n` });
  // `npx isthmus` in the clone: package.json's bin. Offline and without --yes, so it can never
  // fetch a package of that name from the registry instead.
  const viaNpx = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
    execFile('npx', ['isthmus', '--version'], { cwd: repoRoot(), env: { ...process.env, npm_config_offline: 'true', npm_config_yes: 'false' }, timeout: 60_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`npx isthmus --version: ${error.message}\n${stderr}`)) : resolve({ stdout, stderr }),
    );
  });
  assert.equal(viaNpx.stdout, `isthmus ${version}\n`);
});
