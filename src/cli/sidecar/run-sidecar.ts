// `isthmus sidecar`: the gateway's composition (cli/gateway.ts: file source, reloads, data plane,
// admin API, metrics, access log) with the mesh translation in place of the edge one, so the
// sidecar's requests take the same compiled route tables, filters and clusters as the gateway's.
import { parseSidecarArgs, sidecarHelp } from './sidecar-args.js';
import { formatRules, transparentRedirectRules } from './iptables-rules.js';

export async function runSidecar(argv: readonly string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(sidecarHelp());
    return;
  }
  const command = parseSidecarArgs(argv);
  if (command.kind === 'print-iptables') {
    process.stdout.write(formatRules(transparentRedirectRules(command.proxyUid, command.port)));
    return;
  }
  const [{ Gateway }, { translateSidecar }] = await Promise.all([import('../gateway.js'), import('../../translate/translate-sidecar.js')]);
  const { run, mesh } = command;
  const sidecar = new Gateway(run, {
    translate: (snapshot) => translateSidecar(snapshot, { mesh, binds: { listenAddress: run.listenAddress, portMap: run.portMap } }),
  });
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`isthmus sidecar: ${signal}: draining (grace ${run.shutdownGraceMs} ms)\n`);
    const cut = await sidecar.stop();
    process.stderr.write(`isthmus sidecar: stopped${cut > 0 ? ` (${cut} requests cut at the deadline)` : ''}\n`);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  await sidecar.start();
  const ports = sidecar.dataPlane.boundPorts();
  process.stderr.write(`isthmus sidecar: outbound on ${JSON.stringify(ports)} (namespace ${mesh.namespace}), admin on 127.0.0.1:${sidecar.adminPort}\n`);
}

