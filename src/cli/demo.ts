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
          ...(isGrpcPortName(p.name) ? { protocol: 'grpc' as const } : {}),
        });
      }
    }
  }
  return pods;
}

/** A container port named `grpc` or `grpc-*` gets the gRPC echo. */
function isGrpcPortName(name: string | undefined): boolean {
  return name === 'grpc' || (name?.startsWith('grpc-') ?? false);
}

export function demoBanner(httpPort: number, httpsPort: number, adminPort: number): string {
  return [
    '',
    'Isthmus is running the embedded demo (examples/quickstart, examples/gateway-api and examples/istio). Ingress (examples/quickstart):',
    `  curl -H 'Host: shop.localhost' http://127.0.0.1:${httpPort}/`,
    `  curl -H 'Host: shop.localhost' http://127.0.0.1:${httpPort}/api/orders`,
    `  curl http://127.0.0.1:${httpPort}/anything            # the host-less rule`,
    `  curl -k --resolve shop.localhost:${httpsPort}:127.0.0.1 https://shop.localhost:${httpsPort}/   # TLS + SNI, HTTP/2`,
    `  curl http://127.0.0.1:${adminPort}/api/config         # the applied IR`,
    `  curl http://127.0.0.1:${adminPort}/metrics`,
    'Gateway API (examples/gateway-api):',
    `  curl http://echo.gw.localhost:${httpPort}/                    # plain HTTPRoute`,
    `  curl http://split.gw.localhost:${httpPort}/                   # 80/20 split: blue-1 or green-1`,
    `  curl -i http://echo.gw.localhost:${httpPort}/old/page          # 301 to /new/page`,
    `  curl -i http://secure.gw.localhost:${httpPort}/                # 301 to https://secure.gw.localhost:8443/`,
    `  curl -i -H 'X-Debug: 1' http://headers.gw.localhost:${httpPort}/  # request and response header modifiers`,
    `  curl -k https://secure.gw.localhost:${httpsPort}/              # HTTPS listener, SNI *.gw.localhost`,
    '  (gRPC on grpc.gw.localhost: see examples/gateway-api/README.md)',
    'Istio (examples/istio: Bookinfo routing at the edge):',
    `  curl http://bookinfo.localhost:${httpPort}/productpage             # Gateway + VirtualService → productpage`,
    `  curl -H 'end-user: jason' http://reviews.bookinfo.localhost:${httpPort}/   # reviews v2 (DestinationRule subset)`,
    `  curl http://reviews.bookinfo.localhost:${httpPort}/                # reviews v1 or v3, 50/50`,
    'Edit the YAML in examples/quickstart/, examples/gateway-api/ or examples/istio/ (or run with --config DIR) and the change applies within a second.',
    '',
  ].join('\n');
}
