// A Dockerfile, read and carried out without Docker: no Docker engine runs on the project's
// machines and no registry is reachable, so the test performs the Dockerfile's own steps in
// scratch folders instead. Each stage's filesystem root is a folder; COPY copies for real (from
// the build context, minus .dockerignore, or from an earlier stage), RUN runs through `sh -c` in
// the stage's WORKDIR. What cannot be reproduced is named, not faked: the base image's own files
// (node and npm come from this machine, whatever version the FROM line names) and USER (the
// steps run as the current user; the test checks the instruction instead).
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export interface Instruction {
  readonly keyword: string;
  /** `--from=build` → { from: 'build' }. */
  readonly flags: Readonly<Record<string, string>>;
  /** The rest of the line after the flags. */
  readonly rest: string;
  readonly line: number;
}

/** Instructions in order: continuation lines joined, comments and parser directives dropped. */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i]!;
    if (/^\s*(#.*)?$/.test(line)) continue;
    while (/\\\s*$/.test(line) && i + 1 < lines.length) {
      i++;
      const next = lines[i]!;
      if (/^\s*#/.test(next)) continue; // comment lines inside a continuation are dropped
      line = line.replace(/\\\s*$/, '') + ' ' + next.trim();
    }
    const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!match) throw new Error(`Dockerfile line ${start + 1}: cannot parse ${JSON.stringify(line)}`);
    let rest = match[2]!.trim();
    const flags: Record<string, string> = {};
    for (;;) {
      const flag = /^--([a-z-]+)=(\S+)\s+/.exec(rest);
      if (!flag) break;
      flags[flag[1]!] = flag[2]!;
      rest = rest.slice(flag[0].length);
    }
    out.push({ keyword: match[1]!.toUpperCase(), flags, rest, line: start + 1 });
  }
  return out;
}

/** JSON (exec) form, or a whitespace-split list. */
function words(rest: string): string[] {
  if (rest.startsWith('[')) {
    const parsed: unknown = JSON.parse(rest);
    if (!Array.isArray(parsed) || !parsed.every((p) => typeof p === 'string')) throw new Error(`not a JSON list of strings: ${rest}`);
    return parsed;
  }
  return rest.split(/\s+/).filter((w) => w !== '');
}

// --- .dockerignore ---------------------------------------------------------------------------

interface IgnoreRule {
  readonly negate: boolean;
  readonly regex: RegExp;
}

/** Docker's rules: paths relative to the context root, `*` within a segment, `**` any depth, `!` re-includes, the last match wins. */
export function parseDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split('\n')) {
    let pattern = raw.trim();
    if (pattern === '' || pattern.startsWith('#')) continue;
    const negate = pattern.startsWith('!');
    if (negate) pattern = pattern.slice(1).trim();
    pattern = path.posix.normalize(pattern).replace(/^\/+/, '').replace(/\/+$/, '');
    let source = '';
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern[i]!;
      if (c === '*' && pattern[i + 1] === '*') {
        source += pattern[i + 2] === '/' ? '(?:.*/)?' : '.*';
        i += pattern[i + 2] === '/' ? 2 : 1;
      } else if (c === '*') source += '[^/]*';
      else if (c === '?') source += '[^/]';
      else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
    // A pattern that names a folder excludes everything under it.
    rules.push({ negate, regex: new RegExp(`^${source}(?:/.*)?$`) });
  }
  return rules;
}

export function isIgnored(rules: readonly IgnoreRule[], relativePath: string): boolean {
  let ignored = false;
  for (const rule of rules) if (rule.regex.test(relativePath)) ignored = !rule.negate;
  return ignored;
}

// --- running the stages ----------------------------------------------------------------------

export interface Stage {
  readonly index: number;
  readonly name: string | undefined;
  /** The FROM image (or earlier stage) it starts from. */
  readonly base: string;
  /** This stage's filesystem root, a scratch folder. */
  readonly root: string;
  workdir: string;
  readonly env: Record<string, string>;
  user: string | undefined;
  readonly expose: string[];
  entrypoint: string[] | undefined;
  cmd: string[] | undefined;
  /** RUN flags that were read and deliberately not reproduced, with why. */
  readonly notes: string[];
}

export interface BuildOptions {
  readonly dockerfile: string;
  readonly context: string;
  readonly scratch: string;
  /** Environment for RUN steps (the stage's ENV is added on top). */
  readonly runEnv: NodeJS.ProcessEnv;
  /** Called before each step, for progress messages. */
  readonly log?: (message: string) => void;
}

function hostPath(stage: Stage, containerPath: string): string {
  const absolute = path.posix.resolve(stage.workdir, containerPath);
  return path.join(stage.root, absolute);
}

/** Copies a context path into the stage, skipping what .dockerignore excludes. */
function copyFromContext(context: string, rules: readonly IgnoreRule[], source: string, destination: string, intoDirectory: boolean): void {
  const relative = path.posix.normalize(source).replace(/^\.?\/*/, '').replace(/\/+$/, '');
  if (relative.startsWith('..')) throw new Error(`COPY ${source}: outside the build context`);
  if (/[*?[]/.test(relative)) throw new Error(`COPY ${source}: wildcards are not supported by this test's COPY`);
  if (relative !== '' && isIgnored(rules, relative)) throw new Error(`COPY ${source}: excluded by .dockerignore (docker build would fail too)`);
  const from = path.join(context, relative);
  if (!existsSync(from)) throw new Error(`COPY ${source}: not in the build context`);
  if (statSync(from).isDirectory()) {
    // A folder's contents are copied, not the folder itself (Docker's COPY).
    mkdirSync(destination, { recursive: true });
    for (const entry of readdirSync(from)) {
      const child = relative === '' ? entry : `${relative}/${entry}`;
      if (isIgnored(rules, child)) continue;
      copyFromContext(context, rules, child, path.join(destination, entry), false);
    }
    return;
  }
  const target = intoDirectory ? path.join(destination, path.basename(from)) : destination;
  mkdirSync(path.dirname(target), { recursive: true });
  cpSync(from, target);
}

function runShell(command: string, cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** Carries out every instruction; resolves to the stages, the last one being the image. */
export async function build(options: BuildOptions): Promise<Stage[]> {
  const instructions = parseDockerfile(readFileSync(options.dockerfile, 'utf8'));
  const ignoreFile = path.join(options.context, '.dockerignore');
  const rules = existsSync(ignoreFile) ? parseDockerignore(readFileSync(ignoreFile, 'utf8')) : [];
  const stages: Stage[] = [];
  const args: Record<string, string> = {};
  let stage: Stage | undefined;
  for (const step of instructions) {
    const where = `Dockerfile line ${step.line} (${step.keyword} ${step.rest})`;
    options.log?.(where);
    if (step.keyword === 'ARG') {
      const [name, value = ''] = step.rest.split('=');
      args[name!] = value;
      continue;
    }
    if (step.keyword === 'FROM') {
      const [image, as, name] = words(step.rest);
      if (image === undefined || (as !== undefined && as.toUpperCase() !== 'AS')) throw new Error(`${where}: expected FROM image [AS name]`);
      const root = path.join(options.scratch, `stage-${stages.length}${name === undefined ? '' : '-' + name}`);
      mkdirSync(root, { recursive: true });
      const parent = stages.find((s) => s.name === image);
      if (parent) cpSync(parent.root, root, { recursive: true });
      stage = {
        index: stages.length,
        name,
        base: image,
        root,
        workdir: parent?.workdir ?? '/',
        env: { ...(parent?.env ?? {}) },
        user: parent?.user,
        expose: [...(parent?.expose ?? [])],
        entrypoint: parent?.entrypoint,
        cmd: parent?.cmd,
        notes: [],
      };
      stages.push(stage);
      continue;
    }
    if (stage === undefined) throw new Error(`${where}: before any FROM`);
    switch (step.keyword) {
      case 'WORKDIR':
        stage.workdir = path.posix.resolve(stage.workdir, step.rest);
        mkdirSync(hostPath(stage, '.'), { recursive: true });
        break;
      case 'ENV': {
        const pairs = /^[^\s=]+\s+[^=]*$/.test(step.rest) ? [step.rest.replace(/\s+/, '=')] : words(step.rest);
        for (const pair of pairs) {
          const eq = pair.indexOf('=');
          if (eq <= 0) throw new Error(`${where}: expected KEY=value`);
          stage.env[pair.slice(0, eq)] = pair.slice(eq + 1).replace(/^"(.*)"$/, '$1');
        }
        break;
      }
      case 'COPY': {
        for (const flag of Object.keys(step.flags)) if (flag !== 'from') throw new Error(`${where}: COPY --${flag} is not supported by this test`);
        const parts = words(step.rest);
        const destination = parts.pop();
        if (destination === undefined || parts.length === 0) throw new Error(`${where}: expected COPY source... destination`);
        const into = destination.endsWith('/') || parts.length > 1;
        const target = hostPath(stage, destination);
        if (step.flags.from !== undefined) {
          const from = stages.find((s) => s.name === step.flags.from || String(s.index) === step.flags.from);
          if (from === undefined) throw new Error(`${where}: no earlier stage ${step.flags.from}`);
          for (const source of parts) {
            const sourcePath = path.join(from.root, path.posix.resolve('/', source));
            if (!existsSync(sourcePath)) throw new Error(`${where}: ${source} does not exist in stage ${step.flags.from}`);
            if (statSync(sourcePath).isDirectory()) cpSync(sourcePath, target, { recursive: true });
            else {
              const file = into ? path.join(target, path.basename(sourcePath)) : target;
              mkdirSync(path.dirname(file), { recursive: true });
              cpSync(sourcePath, file);
            }
          }
        } else {
          for (const source of parts) copyFromContext(options.context, rules, source, target, into);
        }
        break;
      }
      case 'RUN': {
        for (const [flag, value] of Object.entries(step.flags)) {
          // A cache mount is not part of the image: npm uses this machine's cache instead.
          if (flag === 'mount' && value.startsWith('type=cache')) stage.notes.push(`${where}: --mount=${value} (a build cache, not in the image) not reproduced`);
          else throw new Error(`${where}: RUN --${flag}=${value} is not supported by this test`);
        }
        const command = step.rest.startsWith('[') ? words(step.rest).map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ') : step.rest;
        const result = await runShell(command, hostPath(stage, '.'), { ...options.runEnv, ...stage.env }, 240_000);
        if (result.code !== 0) {
          const offline = /ENOTCACHED|offline/i.test(result.output)
            ? '\nnpm ran offline (npm_config_offline=true) and a package was not in the npm cache: run `npm ci` once on this machine (CI does before the tests) so the cache is warm.'
            : '';
          throw new Error(`${where} failed with exit code ${result.code}:${offline}\n${result.output.slice(-4000)}`);
        }
        break;
      }
      case 'USER':
        stage.user = step.rest;
        break;
      case 'EXPOSE':
        stage.expose.push(...words(step.rest));
        break;
      case 'ENTRYPOINT':
        stage.entrypoint = words(step.rest);
        // Docker: a new ENTRYPOINT resets an inherited CMD.
        stage.cmd = undefined;
        break;
      case 'CMD':
        stage.cmd = words(step.rest);
        break;
      case 'LABEL':
        break;
      default:
        throw new Error(`${where}: ${step.keyword} is not supported by this test`);
    }
  }
  return stages;
}
