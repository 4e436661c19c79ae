// `isthmus run | validate | echo`: the command-line contract other tools and tests drive.
import { parseArgs } from 'node:util';
import { parseRunArgs, RUN_FLAGS, UsageError, type RunOptions } from './args.js';
import { Gateway } from './gateway.js';
import { demoBanner, demoPodsOf } from './demo.js';
import { embeddedDemoDir } from '../sources/embedded/embedded-source.js';
import { loadDirs } from '../sources/file/load-dirs.js';
import { translate } from '../translate/translate.js';
import { formatDiagnostic, hasErrors } from '../core/diagnostic.js';
import { EchoServer, startDemoBackends } from '../demo/echo-server.js';

const HELP = `isthmus: an API gateway and Kubernetes ingress

Usage:
  isthmus run [--config DIR ...] [flags]     serve the resources in the folders (watched)
  isthmus validate DIR [DIR ...]             print every diagnostic; exit 1 if any is an error
  isthmus echo --listen HOST:PORT --name N   run the demo backend (answers with JSON about the request)
  isthmus --help | run --help

Run \`isthmus run --help\` for the flags of run.
`;

function runHelp(): string {
  const width = Math.max(...RUN_FLAGS.map(([f]) => f.length));
  const lines = RUN_FLAGS.map(([flag, def, text]) => `  ${flag.padEnd(width)}  ${text} (default: ${def})`);
  return `Usage: isthmus run [flags]\n\nFlags:\n${lines.join('\n')}\n`;
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        process.stdout.write(`${HELP}\n${runHelp()}`);
        return;
      case 'run':
        if (rest.includes('--help') || rest.includes('-h')) {
          process.stdout.write(runHelp());
          return;
        }
        return await run(parseRunArgs(rest));
      case 'validate':
        return await validate(rest);
      case 'echo':
        return await echo(rest);
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (err) {
    if (err instanceof UsageError || (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`isthmus: ${(err as Error).message}\n\n${HELP}`);
      process.exit(2);
    }
    throw err;
  }
}

async function run(parsed: RunOptions): Promise<void> {
  let options = parsed;
  let backends: { close(): Promise<void> } | undefined;
  if (options.demo) {
    const dir = embeddedDemoDir();
    options = { ...options, configDirs: [...options.configDirs, dir] };
    backends = await startDemoBackends(demoPodsOf(await loadDirs([dir])));
  }
  const gateway = new Gateway(options);
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`isthmus: ${signal}: draining (grace ${options.shutdownGraceMs} ms)\n`);
    const cut = await gateway.stop();
    await backends?.close();
    process.stderr.write(`isthmus: stopped${cut > 0 ? ` (${cut} requests cut at the deadline)` : ''}\n`);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  await gateway.start();
  const ports = gateway.dataPlane.boundPorts();
  process.stderr.write(`isthmus: listening ${JSON.stringify(ports)}, admin on 127.0.0.1:${gateway.adminPort}\n`);
  if (options.demo) process.stderr.write(demoBanner(options.httpPort, options.httpsPort, gateway.adminPort) + '\n');
}

async function validate(dirs: string[]): Promise<void> {
  if (dirs.length === 0) throw new UsageError('validate: name at least one folder');
  const snapshot = await loadDirs(dirs);
  const result = translate(snapshot, { ingressClass: 'isthmus', ingressController: 'isthmus.dev/ingress-controller' });
  const diagnostics = [...snapshot.diagnostics, ...result.diagnostics];
  for (const d of diagnostics) process.stdout.write(formatDiagnostic(d) + '\n');
  const routes = result.ir.listeners.reduce((n, l) => n + l.virtualHosts.reduce((m, v) => m + v.routes.length, 0), 0);
  process.stdout.write(`${snapshot.resources.length} objects, ${routes} routes, ${diagnostics.length} diagnostics\n`);
  if (hasErrors(diagnostics)) process.exit(1);
}

async function echo(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { listen: { type: 'string' }, name: { type: 'string' } }, strict: true });
  const listen = values.listen ?? '127.0.0.1:8080';
  const colon = listen.lastIndexOf(':');
  const host = listen.slice(0, colon).replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = Number(listen.slice(colon + 1));
  if (colon === -1 || !Number.isInteger(port)) throw new UsageError(`echo: --listen expects HOST:PORT, got ${JSON.stringify(listen)}`);
  const server = new EchoServer({ host, port, name: values.name ?? 'echo' });
  const bound = await server.listen();
  process.stderr.write(`isthmus echo: ${values.name ?? 'echo'} listening on ${bound.host}:${bound.port}\n`);
  const stop = (): void => void server.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
