// `isthmus run | validate | echo | sidecar`: the command-line contract other tools and tests drive.
// Each command loads its modules when it runs, so `--help` and `echo` start fast.
import { parseArgs } from 'node:util';
import { parseRunArgs, RUN_FLAGS, UsageError, type RunOptions } from './args.js';
import { drainOnSignal } from './drain-on-signal.js';

const HELP = `isthmus: an API gateway and Kubernetes ingress

Usage:
  isthmus run [--config DIR ...] [flags]     serve the resources in the folders (watched)
  isthmus validate DIR [DIR ...]             print every diagnostic; exit 1 if any is an error
  isthmus echo --listen HOST:PORT --name N   run the demo backend (answers with JSON about the request)
  isthmus sidecar --config DIR [--listen 127.0.0.1:15001]
                                             outbound proxy for one workload: mesh VirtualServices
                                             and DestinationRules (docs/sidecar.md; sidecar --help)
  isthmus --help | run --help
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
      case 'sidecar': {
        const { runSidecar } = await import('./sidecar/run-sidecar.js');
        return await runSidecar(rest);
      }
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (err) {
    if (err instanceof UsageError || (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`isthmus: ${(err as Error).message}\n\n${HELP}`);
      process.exit(2);
    }
    // Start-up failures (a port in use, an unusable log path, a first config that cannot be
    // applied) are one readable line, not a stack trace.
    process.stderr.write(`isthmus: cannot start: ${(err as Error).message}\n`);
    process.exit(1);
  }
}

async function run(parsed: RunOptions): Promise<void> {
  if (parsed.kubernetes) {
    // Loaded only here: client-node is large, and file mode never needs it.
    const { createKubernetesGateway } = await import('./kubernetes-mode.js');
    const k = createKubernetesGateway(parsed, parsed.kubernetes);
    drainOnSignal('isthmus', parsed.shutdownGraceMs, k);
    k.elector.start();
    await k.gateway.start();
    process.stderr.write(`isthmus: listening ${JSON.stringify(k.gateway.dataPlane.boundPorts())}, admin on 127.0.0.1:${k.gateway.adminPort}\n`);
    return;
  }
  const { Gateway } = await import('./gateway.js');
  let options = parsed;
  let backends: { close(): Promise<void> } | undefined;
  if (options.demo) {
    const [{ embeddedDemoDirs }, { loadDirs }, { startDemoBackends }, { demoPodsOf }, path] = await Promise.all([
      import('../sources/embedded/embedded-source.js'),
      import('../sources/file/load-dirs.js'),
      import('../demo/echo-server.js'),
      import('./demo.js'),
      import('node:path'),
    ]);
    // `--config examples/gateway-api --demo` names a demo folder twice: serve it once.
    const given = new Set(options.configDirs.map((d) => path.resolve(d)));
    const dirs = embeddedDemoDirs();
    options = { ...options, configDirs: [...options.configDirs, ...dirs.filter((d) => !given.has(d))] };
    backends = await startDemoBackends(demoPodsOf(await loadDirs(dirs)));
  }
  const gateway = new Gateway(options);
  drainOnSignal('isthmus', options.shutdownGraceMs, gateway, async () => await backends?.close());
  await gateway.start();
  const ports = gateway.dataPlane.boundPorts();
  process.stderr.write(`isthmus: listening ${JSON.stringify(ports)}, admin on 127.0.0.1:${gateway.adminPort}\n`);
  if (options.demo) {
    const { demoBanner } = await import('./demo.js');
    process.stderr.write(demoBanner(options.httpPort, options.httpsPort, gateway.adminPort) + '\n');
  }
}

async function validate(dirs: string[]): Promise<void> {
  if (dirs.length === 0) throw new UsageError('validate: name at least one folder');
  const [{ loadDirs }, { translate }, { formatDiagnostic, hasErrors }] = await Promise.all([
    import('../sources/file/load-dirs.js'),
    import('../translate/translate.js'),
    import('../core/diagnostic.js'),
  ]);
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
  const { EchoServer } = await import('../demo/echo-server.js');
  const server = new EchoServer({ host, port, name: values.name ?? 'echo' });
  const bound = await server.listen();
  process.stderr.write(`isthmus echo: ${values.name ?? 'echo'} listening on ${bound.host}:${bound.port}\n`);
  const stop = (): void => void server.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
