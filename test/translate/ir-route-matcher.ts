import type { IrListener, IrPathMatch, IrRoute, IrSnapshot, IrVirtualHost } from '../../src/ir/types.js';
import { compileFullMatchRegex } from '../../src/core/linear-regex.js';

// A reference reading of the IR's matching contract (ir/types.ts): virtual hosts by exact name,
// then `*.suffix` (one label), then `*`; the first route whose path matches wins. Tests use it to
// check translator output against the Ingress specification without starting a data plane.

function selectVirtualHost(listener: IrListener, host: string): IrVirtualHost | undefined {
  const hosts = listener.virtualHosts;
  const exact = hosts.find((v) => v.hostnames.includes(host));
  if (exact) return exact;
  const dot = host.indexOf('.');
  if (dot > 0) {
    const wildcard = hosts.find((v) => v.hostnames.includes(`*${host.slice(dot)}`));
    if (wildcard) return wildcard;
  }
  return hosts.find((v) => v.hostnames.includes('*'));
}

export function pathMatches(match: IrPathMatch, path: string): boolean {
  switch (match.kind) {
    case 'any':
      return true;
    case 'exact':
      return path === match.value;
    case 'prefix':
      return match.value === '/' || path === match.value || path.startsWith(`${match.value}/`);
    case 'string-prefix':
      return path.startsWith(match.value);
    case 'regex': {
      // The same RE2 full match the data plane uses; a pattern it refuses matches nothing.
      const compiled = compileFullMatchRegex(match.value);
      return compiled.kind === 'ok' && compiled.matcher.test(path);
    }
  }
}

export function matchRoute(ir: IrSnapshot, listenerName: string, host: string, path: string): IrRoute | undefined {
  const listener = ir.listeners.find((l) => l.name === listenerName);
  if (!listener) return undefined;
  return selectVirtualHost(listener, host)?.routes.find((r) => pathMatches(r.match.path, path));
}

/** `service/<ns>/<name>/<port>` of a forwarding route's single backend, split up. */
export function backendOf(route: IrRoute | undefined): { service: string; port: number } | undefined {
  if (route?.action.kind !== 'forward') return undefined;
  const [, , service, port] = route.action.backends[0]?.cluster.split('/') ?? [];
  return service === undefined ? undefined : { service, port: Number(port) };
}
