// The embedded demo: start an echo backend for every Pod in the demo folder, on its podIP and
// container ports, so `npm start` needs nothing else on the machine.
import type { ResourceSnapshot } from '../store/resource-snapshot.js';
import type { DemoPod } from '../demo/echo-server.js';

export function demoPodsOf(snapshot: ResourceSnapshot): DemoPod[] {
  const pods: DemoPod[] = [];
  for (const r of snapshot.resources) {
    if (r.kind !== 'Pod' || r.status.podIP === undefined) continue;
    const service = r.metadata.labels?.['app'];
    for (const c of r.spec.containers) {
      for (const p of c.ports) {
        pods.push({
          address: r.status.podIP,
          port: p.containerPort,
          name: r.metadata.name,
          namespace: r.metadata.namespace ?? 'default',
          ...(service === undefined ? {} : { service }),
        });
      }
    }
  }
  return pods;
}

export function demoBanner(httpPort: number, httpsPort: number, adminPort: number): string {
  return [
    '',
    'Isthmus is running the embedded demo (examples/quickstart). Try:',
    `  curl -H 'Host: shop.localhost' http://127.0.0.1:${httpPort}/`,
    `  curl -H 'Host: shop.localhost' http://127.0.0.1:${httpPort}/api/orders`,
    `  curl http://127.0.0.1:${httpPort}/anything            # the host-less rule`,
    `  curl -k --resolve shop.localhost:${httpsPort}:127.0.0.1 https://shop.localhost:${httpsPort}/   # TLS + SNI, HTTP/2`,
    `  curl http://127.0.0.1:${adminPort}/api/config         # the applied IR`,
    `  curl http://127.0.0.1:${adminPort}/metrics`,
    'Edit the YAML in examples/quickstart/ (or run with --config DIR) and the change applies within a second.',
    '',
  ].join('\n');
}
