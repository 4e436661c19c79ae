// `isthmus sidecar`: the gateway's composition (cli/gateway.ts: file source, reloads, data plane,
// admin API, metrics, access log) with the mesh translation in place of the edge one, so the
// sidecar's requests take the same compiled route tables, filters and clusters as the gateway's.
import { parseSidecarArgs, sidecarHelp } from './sidecar-args.js';
import { formatRules, transparentRedirectRules } from './iptables-rules.js';
import { drainOnSignal } from '../drain-on-signal.js';

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
    // One listener, set by --listen HOST:PORT; start-up errors name it rather than run's --http-port.
    bindFlags: { port: () => '--listen HOST:PORT', address: '--listen HOST:PORT', admin: '--admin-port' },
  });
  drainOnSignal('isthmus sidecar', run.shutdownGraceMs, sidecar);
  await sidecar.start();
  const ports = sidecar.dataPlane.boundPorts();
  process.stderr.write(`isthmus sidecar: outbound on ${JSON.stringify(ports)} (namespace ${mesh.namespace}), admin on 127.0.0.1:${sidecar.adminPort}\n`);
}

