// `isthmus run | validate | echo | sidecar | keys | api | kube-proxy | explain | lb | version`: the command-line contract other tools and tests drive.
// Each command loads its modules when it runs, so `--help` and `echo` start fast.
import { parseArgs } from 'node:util';
import { parseRunArgs, RUN_FLAGS, UsageError, type RunOptions } from './args.js';
import { drainOnSignal } from './drain-on-signal.js';

const HELP = `isthmus: an API gateway and Kubernetes ingress

Usage:
  isthmus run [--config DIR ...] [flags]     serve the resources in the folders (watched)
  isthmus run --kubernetes [flags]           serve what the cluster holds; write statuses back
  isthmus validate DIR [DIR ...]             print every diagnostic; exit 1 if any is an error
  isthmus echo --listen HOST:PORT --name N   run the demo backend (answers with JSON about the request)
  isthmus sidecar --config DIR [--listen 127.0.0.1:15001]
                                             outbound proxy for one workload: mesh VirtualServices
                                             and DestinationRules (docs/sidecar.md; sidecar --help)
  isthmus keys create --consumer N --namespace NS
                                             a new API key (printed once) and the Secret of its hash
  isthmus api import FILE [--gateway G --service S --port P]
                                             an OpenAPI document → a ConfigMap and an API to apply
  isthmus kube-proxy render --mode iptables|nftables|ipvs --config DIR [flags]
                                             the rules kube-proxy would program on a node for the
                                             Services and EndpointSlices (docs/kube-proxy.md)
  isthmus kube-proxy apply --mode nftables|iptables --config DIR --netns NAME [flags]
                                             program them in a network namespace and keep them in
                                             sync (docs/kube-proxy-nftables.md, docs/kube-proxy.md)
  isthmus explain --config DIR (URL | --connect ADDR:PORT) [flags]
                                             the whole path of one request or connection: node port,
                                             rule chain, listener, route, filters, endpoint (docs/explain.md)
  isthmus lb (--config DIR | --kubernetes) [--node NAME=ADDR ...]
                                             an L4 load balancer for LoadBalancer Services in front of
                                             the nodes' node ports, with health checks (docs/load-balancer.md)
  isthmus version                            print the version (also --version)
  isthmus --help | run --help | validate --help | echo --help | sidecar --help | keys create --help
          | api import --help | kube-proxy --help | explain --help | lb --help
`;

const VALIDATE_HELP = `Usage: isthmus validate DIR [DIR ...]

Loads the folders as \`isthmus run --config DIR\` would (*.yaml, *.yml, *.json, sub-folders too),
translates them and prints every diagnostic, one line each, then a summary line. Serves nothing.
Exit status: 0 when no diagnostic is an error (warnings allowed), 1 when one is, 2 for a usage error.
`;

const ECHO_HELP = `Usage: isthmus echo [--listen HOST:PORT] [--name NAME]

The demo backend: answers every HTTP/1.1 request with JSON describing it (method, path, host,
headers, body); ?status=NNN, ?delay=MS and ?size=N change the answer; WebSockets are echoed
(docs/observability.md).

Flags:
  --listen HOST:PORT  Where to listen. (default: 127.0.0.1:8080)
  --name NAME         The name every answer carries, to tell backends apart. (default: echo)
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
      case '--version':
      case 'version':
        process.stdout.write(`isthmus ${(await import('../core/package-root.js')).packageVersion()}\n`);
        return;
      case 'run':
        if (rest.includes('--help') || rest.includes('-h')) {
          process.stdout.write(runHelp());
          return;
        }
        return await run(parseRunArgs(rest));
      case 'validate':
        if (rest.includes('--help') || rest.includes('-h')) {
          process.stdout.write(VALIDATE_HELP);
          return;
        }
        return await validate(rest);
      case 'echo':
        if (rest.includes('--help') || rest.includes('-h')) {
          process.stdout.write(ECHO_HELP);
          return;
        }
        return await echo(rest);
      case 'sidecar': {
        const { runSidecar } = await import('./sidecar/run-sidecar.js');
        return await runSidecar(rest);
      }
      case 'keys': {
        const [sub, ...keysArgs] = rest;
        if (sub !== 'create') throw new UsageError(`keys: unknown subcommand ${JSON.stringify(sub ?? '')} (isthmus keys create --help)`);
        const { keysCreate } = await import('./keys-create.js');
        return await keysCreate(keysArgs);
      }
      case 'api': {
        const [sub, ...apiArgs] = rest;
        if (sub !== 'import') throw new UsageError(`api: unknown subcommand ${JSON.stringify(sub ?? '')} (isthmus api import --help)`);
        const { apiImport, ImportError } = await import('./api-import.js');
        try {
          return await apiImport(apiArgs);
        } catch (err) {
          // A document refused is not a start-up failure: its own message, exit status 1.
          if (!(err instanceof ImportError)) throw err;
          process.stderr.write(`isthmus: api import: ${err.message}\n`);
          process.exit(1);
        }
      }
      case 'lb': {
        const { lbCommand } = await import('./lb-command.js');
        return await lbCommand(rest);
      }
      case 'explain': {
        const { explainCommand } = await import('./explain-command.js');
        return await explainCommand(rest);
      }
      case 'kube-proxy': {
        if (rest[0] === 'apply') {
          const { runKubeProxyApply } = await import('./kube-proxy-apply.js');
          process.exitCode = await runKubeProxyApply(rest);
          return;
        }
        const { kubeProxyCommand } = await import('./kube-proxy.js');
        return await kubeProxyCommand(rest);
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
  // `--workers N`: a worker is this same command forked by the primary; it only serves traffic.
  const cluster = (await import('node:cluster')).default;
  if (cluster.isWorker) {
    const { runWorker } = await import('./workers/worker.js');
    return await runWorker(parsed);
  }
  if (parsed.kubernetes) {
    if (parsed.workersExplicit === true && (parsed.workers ?? 1) > 1) process.stderr.write('isthmus: --workers is not supported with --kubernetes yet; serving from one process\n');
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
  const workers = options.workers ?? 1;
  // One worker is today's single process: no cluster at all.
  const gateway = workers > 1 ? await (await import('./workers/primary.js')).createPrimaryGateway(options, workers) : new Gateway(options);
  drainOnSignal('isthmus', options.shutdownGraceMs, gateway, async () => await backends?.close());
  await gateway.start();
  const ports = gateway.boundPorts();
  // "admin on HOST:PORT" stays last: scripts and the docs' command test read the port off the line's end.
  process.stderr.write(`isthmus: listening ${JSON.stringify(ports)}${workers > 1 ? ` with ${workers} workers` : ''}, admin on 127.0.0.1:${gateway.adminPort}\n`);
  if (options.demo) {
    const { demoBanner } = await import('./demo.js');
    process.stderr.write(demoBanner(options.httpPort, options.httpsPort, gateway.adminPort) + '\n');
  }
}

async function validate(argv: string[]): Promise<void> {
  // strict: an option validate does not have is a usage error, not a folder named "--x".
  const { positionals: dirs } = parseArgs({ args: argv, options: {}, strict: true, allowPositionals: true });
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
  const stop = (): void => void server.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Only now: whoever waits for this line may send SIGTERM at once, and it must find the handler.
  process.stderr.write(`isthmus echo: ${values.name ?? 'echo'} listening on ${bound.host}:${bound.port}\n`);
}
