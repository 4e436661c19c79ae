// The commands the documentation shows run as written. Every `isthmus ...` line (also
// `npx isthmus ...` and `node bin/isthmus.js ...`) in a sh code block of README.md, docs/*.md and
// examples/*/README.md is run through the real command from the repository root, as a reader in
// the clone would: `validate` and `--help` / `--version` to completion (exit 0), `run`, `echo` and
// `sidecar` until they serve (then SIGTERM, exit 0), with their ports moved to free ones and the
// listeners on loopback. `npm ...` lines must name scripts package.json has. The README's
// external-service recipe is run end to end. Fenced blocks marked `text` (usage synopses) are not
// commands.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, repoRoot, runCli, startCli, type Cleanup } from './cli-harness.js';

const ROOT = repoRoot();
const SHELL_FENCES = new Set(['sh', 'bash', 'shell', 'console']);

/** The Markdown files whose shell blocks are checked. */
function docFiles(): string[] {
  const docs = readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);
  const examples = readdirSync(path.join(ROOT, 'examples'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && readdirSync(path.join(ROOT, 'examples', d.name)).includes('README.md'))
    .map((d) => `examples/${d.name}/README.md`);
  return ['README.md', ...docs.sort(), ...examples.sort()];
}

interface DocCommand {
  /** `README.md:87`. */
  readonly where: string;
  /** The whole shell line, continuation lines joined. */
  readonly line: string;
  /** One simple command of the line (a pipeline or `&` splits a line), as words. */
  readonly words: readonly string[];
}

/** Lines of shell code blocks, with `\` continuations joined. */
function shellLines(markdown: string, file: string): { where: string; text: string }[] {
  const out: { where: string; text: string }[] = [];
  let fence: string | undefined;
  let pending: { start: number; text: string } | undefined;
  markdown.split('\n').forEach((raw, i) => {
    const marker = /^\s*```\s*(\S*)/.exec(raw);
    if (marker) {
      fence = fence === undefined ? marker[1] ?? '' : undefined;
      return;
    }
    if (fence === undefined || !SHELL_FENCES.has(fence)) return;
    const text = raw.trim();
    pending = pending === undefined ? { start: i + 1, text } : { start: pending.start, text: `${pending.text} ${text}` };
    if (pending.text.endsWith('\\')) {
      pending = { start: pending.start, text: pending.text.slice(0, -1).trimEnd() };
      return;
    }
    if (pending.text !== '') out.push({ where: `${file}:${pending.start}`, text: pending.text });
    pending = undefined;
  });
  return out;
}

type Token = { readonly kind: 'word'; readonly value: string } | { readonly kind: 'op'; readonly value: string };

/** POSIX-shell words of one line: quotes, backslashes, `#` comments, and `|`, `&`, `;`, `&&`, `||` as separators. */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let word: string | undefined;
  const flush = (): void => {
    if (word !== undefined) tokens.push({ kind: 'word', value: word });
    word = undefined;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end === -1) throw new Error(`unclosed ' in: ${text}`);
      word = (word ?? '') + text.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      let value = '';
      for (; j < text.length && text[j] !== '"'; j++) value += text[j] === '\\' && j + 1 < text.length ? text[++j] : text[j];
      if (j >= text.length) throw new Error(`unclosed " in: ${text}`);
      word = (word ?? '') + value;
      i = j;
    } else if (c === '\\' && i + 1 < text.length) {
      word = (word ?? '') + text[++i];
    } else if (c === ' ' || c === '\t') {
      flush();
    } else if (c === '#' && word === undefined) {
      break; // a comment: `#` at the start of a word
    } else if (c === '|' || c === '&' || c === ';') {
      flush();
      const two = text.slice(i, i + 2);
      if (two === '&&' || two === '||') i++;
      tokens.push({ kind: 'op', value: two === '&&' || two === '||' ? two : c });
    } else {
      word = (word ?? '') + c;
    }
  }
  flush();
  return tokens;
}

/** The simple commands of the shell blocks of one Markdown text; leading `VAR=value` words are dropped. */
function commandsIn(markdown: string, file: string): DocCommand[] {
  const commands: DocCommand[] = [];
  for (const { where, text } of shellLines(markdown, file)) {
    let words: string[] = [];
    const end = (): void => {
      while (words.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!)) words.shift();
      if (words.length > 0) commands.push({ where, line: text, words });
      words = [];
    };
    for (const token of tokenize(text)) {
      if (token.kind === 'op') end();
      else words.push(token.value);
    }
    end();
  }
  return commands;
}

/** The arguments after the program, when the command runs Isthmus' CLI. */
function isthmusArgs(words: readonly string[]): string[] | undefined {
  if (words[0] === 'isthmus') return words.slice(1);
  if (words[0] === 'npx' && words[1] === 'isthmus') return words.slice(2);
  if (words[0] === 'node' && words[1] === 'bin/isthmus.js') return words.slice(2);
  return undefined;
}

/** `args` with every `flag VALUE` / `flag=VALUE` set to `value(old)`, or the flag appended when absent. */
function withFlag(args: readonly string[], flag: string, value: (old: string | undefined) => string): string[] {
  const out: string[] = [];
  let seen = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === flag && i + 1 < args.length) {
      out.push(flag, value(args[++i]));
      seen = true;
    } else if (a.startsWith(`${flag}=`)) {
      out.push(`${flag}=${value(a.slice(flag.length + 1))}`);
      seen = true;
    } else {
      out.push(a);
    }
  }
  return seen ? out : [...out, flag, value(undefined)];
}

/** `HOST:PORT` → `HOST:0`: the same address, a port the OS picks; a value that is not HOST:PORT stays, for the command to refuse. */
function anyPortOn(listen: string | undefined, fallbackHost: string): string {
  if (listen === undefined) return `${fallbackHost}:0`;
  const colon = listen.lastIndexOf(':');
  return colon > 0 ? `${listen.slice(0, colon)}:0` : listen;
}

/** `run`'s flags with the ports free and the listeners on loopback; the rest as written. */
function runOnFreePorts(args: readonly string[]): string[] {
  let out = [...args];
  for (const flag of ['--http-port', '--https-port', '--admin-port']) out = withFlag(out, flag, () => '0');
  out = withFlag(out, '--listen-address', () => '127.0.0.1');
  return withFlag(out, '--access-log', () => 'off');
}

const PACKAGE = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; scripts: Record<string, string>; bin: Record<string, string> };

/** npm subcommands the docs may show that need no script: installing, linking, unlinking. */
const NPM_PLAIN = new Set(['install', 'i', 'ci', 'link']);

/** Runs or checks one documented command; undefined when it does what the docs promise, else why not. */
async function checkCommand(t: Cleanup, command: DocCommand): Promise<string | undefined> {
  try {
    const { words } = command;
    if (words[0] === 'npm') return checkNpm(words.slice(1));
    if (words[0] === 'npx' && words[1] === 'isthmus' && PACKAGE.bin['isthmus'] === undefined) return 'package.json has no bin "isthmus" for npx';
    const args = isthmusArgs(words);
    if (args === undefined) return undefined; // curl, jq, tail, ...: not ours to run here
    const [sub, ...rest] = args;
    if (sub === undefined || ['--help', '-h', 'help', '--version', 'version'].includes(sub) || rest.includes('--help') || rest.includes('-h')) {
      return exitsZero(await runCli(args, 15_000, { cwd: ROOT }));
    }
    switch (sub) {
      case 'validate':
        return exitsZero(await runCli(args, 30_000, { cwd: ROOT }));
      case 'run': {
        const cli = await startCli(t, runOnFreePorts(args), /^isthmus: listening .*admin on 127\.0\.0\.1:\d+$/m, { cwd: ROOT, timeoutMs: 30_000 });
        // As written means without errors too: a --config folder that does not exist still starts, with one.
        const applied = /config generation \d+ applied .*, (\d+) errors,/.exec(cli.stderr());
        const stopped = await cli.stop();
        if (applied?.[1] !== '0') return `started with errors:\n${cli.stderr()}`;
        return stopped.code === 0 ? undefined : `exit ${stopped.code ?? stopped.signal} after SIGTERM:\n${cli.stderr()}`;
      }
      case 'echo': {
        const cli = await startCli(t, withFlag(args, '--listen', (old) => anyPortOn(old, '127.0.0.1')), /listening on /, { cwd: ROOT });
        const stopped = await cli.stop();
        return stopped.code === 0 ? undefined : `exit ${stopped.code ?? stopped.signal} after SIGTERM:\n${cli.stderr()}`;
      }
      case 'sidecar': {
        if (rest.includes('--print-iptables')) return exitsZero(await runCli(args, 15_000, { cwd: ROOT }));
        const freed = withFlag(withFlag(args, '--listen', (old) => anyPortOn(old, '127.0.0.1')), '--admin-port', () => '0');
        const cli = await startCli(t, withFlag(freed, '--access-log', () => 'off'), /outbound on /, { cwd: ROOT, timeoutMs: 30_000 });
        const stopped = await cli.stop();
        return stopped.code === 0 ? undefined : `exit ${stopped.code ?? stopped.signal} after SIGTERM:\n${cli.stderr()}`;
      }
      case 'keys': {
        // Prints a Secret on stdout (and the key on stderr): it must exit 0 with a Secret.
        const result = await runCli(args, 15_000, { cwd: ROOT });
        return exitsZero(result) ?? (/^kind: Secret$/m.test(result.stdout) ? undefined : `no Secret on stdout:\n${result.stdout}`);
      }
      default:
        return `no such command: isthmus ${sub}`;
    }
  } catch (err) {
    return (err as Error).message;
  }
}

function exitsZero(res: { code: number | null; stdout: string; stderr: string }): string | undefined {
  return res.code === 0 ? undefined : `exit ${res.code}:\n${res.stdout}${res.stderr}`;
}

function checkNpm(args: readonly string[]): string | undefined {
  const [sub, ...rest] = args;
  if (sub === 'start' || sub === 'test') return PACKAGE.scripts[sub] === undefined ? `package.json has no "${sub}" script` : undefined;
  if (sub === 'run' || sub === 'run-script') return rest[0] !== undefined && PACKAGE.scripts[rest[0]] !== undefined ? undefined : `package.json has no script "${rest[0] ?? ''}"`;
  if (sub === 'uninstall' || sub === 'unlink') return rest.filter((a) => !a.startsWith('-')).every((a) => a === PACKAGE.name) ? undefined : `npm ${args.join(' ')}: not this package`;
  if (sub !== undefined && NPM_PLAIN.has(sub)) return undefined;
  return `npm ${sub ?? ''}: not a command the docs should show`;
}

test('the command checker fails what does not run as written', async (t) => {
  // Without this, a checker that runs nothing would pass the docs too.
  const sample = [
    '```sh',
    'isthmus frobnicate',
    'isthmus validate examples/no-such-folder',
    'isthmus run --config examples/quickstart --no-such-flag',
    'isthmus run --config examples/quickstrat   # a typo: it starts, serving nothing, with an error',
    'isthmus echo --listen nowhere',
    'npm run no-such-script',
    '```',
    '```text',
    'isthmus run [--config DIR ...]   # a synopsis, not a command',
    '```',
  ].join('\n');
  const commands = commandsIn(sample, 'sample.md');
  assert.deepEqual(commands.map((c) => c.where), ['sample.md:2', 'sample.md:3', 'sample.md:4', 'sample.md:5', 'sample.md:6', 'sample.md:7']);
  for (const command of commands) assert.ok((await checkCommand(t, command)) !== undefined, `${command.line} should fail the check`);
});

test('the shell words of a documented line: quotes, comments, pipes and background jobs', () => {
  const [printf, curl, echo, proxied] = commandsIn(
    [
      '```sh',
      "printf '\\0\\0hello' | curl -s -H 'content-type: application/grpc' \\",
      '  --data-binary @- http://grpc.gw.localhost:8080/x   # a comment',
      'isthmus echo --listen 127.0.0.1:3000 --name "demo one" &',
      'http_proxy=http://127.0.0.1:15001 curl http://reviews.shop:9080/',
      '```',
    ].join('\n'),
    'x.md',
  );
  assert.deepEqual(printf?.words, ['printf', '\\0\\0hello']);
  assert.deepEqual(curl?.words, ['curl', '-s', '-H', 'content-type: application/grpc', '--data-binary', '@-', 'http://grpc.gw.localhost:8080/x']);
  assert.equal(curl?.where, 'x.md:2');
  assert.deepEqual(echo?.words, ['isthmus', 'echo', '--listen', '127.0.0.1:3000', '--name', 'demo one']);
  assert.deepEqual(proxied?.words, ['curl', 'http://reviews.shop:9080/']);
});

test('every isthmus and npm command in the docs runs as written', async (t) => {
  const commands = docFiles().flatMap((file) => commandsIn(readFileSync(path.join(ROOT, file), 'utf8'), file));
  const ours = commands.filter((c) => isthmusArgs(c.words) !== undefined || c.words[0] === 'npm');
  const readme = ours.filter((c) => c.where.startsWith('README.md:')).map((c) => c.words.join(' '));
  // The README's first hour, found where it should be (else the extraction broke, not the docs).
  for (const expected of ['npm install', 'npm start', 'npm link', 'isthmus --version', 'isthmus run --config examples/external-service', 'isthmus echo --listen 127.0.0.1:9000 --name mine']) {
    assert.ok(readme.includes(expected), `README.md shows \`${expected}\`; found: ${readme.join(' | ')}`);
  }
  assert.ok(ours.length >= 10, `only ${ours.length} commands found`);
  for (const command of ours) {
    await t.test(`${command.where}: ${command.words.join(' ')}`, async (st: TestContext) => {
      assert.equal(await checkCommand(st, command), undefined);
    });
  }
});

test('README: the gateway in front of a server you already run (examples/external-service), as the three lines say', async (t) => {
  const readme = commandsIn(readFileSync(path.join(ROOT, 'README.md'), 'utf8'), 'README.md');
  const runLine = readme.find((c) => isthmusArgs(c.words)?.join(' ') === 'run --config examples/external-service');
  assert.ok(runLine, 'README.md runs the gateway with --config examples/external-service');
  const block = readme.filter((c) => Math.abs(lineOf(c) - lineOf(runLine)) <= 3);
  const echo = block.find((c) => isthmusArgs(c.words)?.[0] === 'echo');
  const curl = block.find((c) => c.words[0] === 'curl');
  assert.ok(echo && curl, `the echo and curl lines beside ${runLine.where}`);
  const echoArgs = isthmusArgs(echo.words)!;
  const listen = echoArgs[echoArgs.indexOf('--listen') + 1] ?? '';
  const name = echoArgs[echoArgs.indexOf('--name') + 1] ?? '';

  // The example points at exactly the address the README's server listens on.
  const exampleFile = path.join(ROOT, 'examples', 'external-service', 'external-service.yaml');
  const example = readFileSync(exampleFile, 'utf8');
  const [host, port] = [listen.slice(0, listen.lastIndexOf(':')), listen.slice(listen.lastIndexOf(':') + 1)];
  assert.match(example, new RegExp(`addresses: \\["${host.replaceAll('.', '\\.')}"\\]`), `the EndpointSlice names ${host}`);
  const portLine = new RegExp(`^(\\s+port: )${port}(\\s.*)?$`, 'm');
  assert.match(example, portLine, `the EndpointSlice names port ${port}`);

  // Run it as written, with one change: free ports for the server (in a copy of the example) and the gateway.
  const serverPort = await freePort(host);
  const dir = mkdtempSync(path.join(tmpdir(), 'isthmus-external-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'external-service.yaml'), example.replace(portLine, `$1${serverPort}$2`));
  await startCli(t, withFlag(echoArgs, '--listen', () => `${host}:${serverPort}`), /listening on /, { cwd: ROOT });
  const runArgs = runOnFreePorts(withFlag(isthmusArgs(runLine.words)!, '--config', () => dir));
  const gateway = await startCli(t, runArgs, /^isthmus: listening .*admin on/m, { cwd: ROOT });
  const httpPort = Number(/"protocol":"http","port":(\d+)/.exec(gateway.stderr())?.[1]);
  const url = curl.words.find((w) => w.startsWith('http://127.0.0.1:8080/'));
  assert.ok(url, `the curl line asks the gateway on 127.0.0.1:8080: ${curl.line}`);
  const args = curl.words.slice(1).map((w) => (w === url ? url.replace(':8080/', `:${httpPort}/`) : w));
  const stdout = await new Promise<string>((resolve, reject) => execFile('curl', ['--silent', '--show-error', '--max-time', '5', ...args], (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out))));
  const answer = JSON.parse(stdout) as { name?: string; path?: string };
  assert.equal(answer.name, name, 'the server the README started answered');
  assert.equal(answer.path, new URL(url).pathname);
  assert.match(gateway.stderr(), /applied .*, 0 errors, 0 warnings/);
  assert.doesNotMatch(gateway.stderr(), /nothing listens/);
});

function lineOf(command: DocCommand): number {
  return Number(command.where.slice(command.where.lastIndexOf(':') + 1));
}
