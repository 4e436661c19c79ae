// The gateway part of `isthmus explain`: for one HTTP request, the bind and listener it reaches,
// the virtual host its host picks, every route of that host in precedence order with the reason
// each earlier one did not match, the filters of the route that did, and its backends, clusters
// and endpoints. It reads the IR the gateway serves and matches with the data plane's own compiled
// matchers (route-match.ts), so what it says is what the router does, not a second opinion.
import type { IncomingHttpHeaders } from 'node:http';
import type { IrBind, IrCluster, IrListener, IrRoute, IrRouteMatch, IrSnapshot, IrVirtualHost } from '../ir/types.js';
import { compileRouteMatch, type MatchInput } from '../dataplane/http/route-match.js';
import { Router, VirtualHostTable } from '../dataplane/http/router.js';
import type { ExplainStep } from './explain-step.js';

export interface HttpProbe {
  /** The port the request arrives on (the bind's real port, after --port-map). */
  readonly port: number;
  /** The local address it arrives on; default: any. */
  readonly address?: string;
  readonly host: string;
  readonly path: string;
  /** With the leading `?`, or ''. */
  readonly query?: string;
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export function explainHttp(ir: IrSnapshot, probe: HttpProbe): ExplainStep[] {
  const steps: ExplainStep[] = [];
  const bind = findBind(ir.binds, probe.port, probe.address);
  if (bind === undefined) {
    steps.push({ stage: 'listener', outcome: 'refused', summary: `no HTTP listener on port ${probe.port}${probe.address ? ` at ${probe.address}` : ''}: the connection is refused`, details: ir.binds.map((b) => `bind ${b.name} (${b.protocol})`) });
    return steps;
  }
  const host = probe.host.toLowerCase().replace(/:\d+$/, '');
  const candidates = bind.listeners.map((bl) => ir.listeners.find((l) => l.name === bl.listener)).filter((l): l is IrListener => l !== undefined);
  const found = findVirtualHost(candidates, host);
  steps.push({
    stage: 'listener',
    outcome: found ? 'matched' : 'refused',
    summary: found ? `bind ${bind.name} (${bind.protocol}) → listener ${found.listener.name}` : `bind ${bind.name} (${bind.protocol}): no listener serves host "${host}": 404 no_route`,
    details: candidates.map((l) => `listener ${l.name}: hosts ${l.virtualHosts.flatMap((v) => v.hostnames).join(', ') || '(none)'}`),
  });
  if (!found) return steps;
  const vh = found.vhost;
  steps.push({ stage: 'virtual-host', outcome: 'matched', summary: `virtual host ${vh.name} (${vh.hostnames.join(', ')}) by host "${host}"`, details: [] });

  const headers: IncomingHttpHeaders = { host: probe.host };
  for (const [k, v] of Object.entries(probe.headers ?? {})) headers[k.toLowerCase()] = v;
  const input: MatchInput = { path: probe.path, query: probe.query ?? '', method: (probe.method ?? 'GET').toUpperCase(), scheme: bind.protocol, authority: probe.host, headers };
  const misses: string[] = [];
  let route: IrRoute | undefined;
  for (const r of vh.routes) {
    if (compileRouteMatch(r.match).test(input)) {
      route = r;
      break;
    }
    misses.push(`${r.name}: ${whyNot(r.match, input)}`);
  }
  if (route === undefined) {
    steps.push({ stage: 'route', outcome: 'refused', summary: `no route of ${vh.name} matches ${input.method} ${probe.path}: 404 no_route`, details: misses });
    return steps;
  }
  steps.push({ stage: 'route', outcome: 'matched', summary: `route ${route.name} (${describeMatch(route.match)})${misses.length > 0 ? `, after ${misses.length} earlier route${misses.length === 1 ? '' : 's'} that did not match` : ''}`, details: misses });
  steps.push({
    stage: 'filters',
    outcome: 'matched',
    summary: route.filters.length === 0 ? 'no filters' : `filters in order: ${route.filters.map((f) => f.kind).join(' → ')}`,
    details: [],
  });
  steps.push(...explainAction(ir, route));
  return steps;
}

function findBind(binds: readonly IrBind[], port: number, address: string | undefined): IrBind | undefined {
  const onPort = binds.filter((b) => b.port === port);
  return onPort.find((b) => address !== undefined && b.address === address) ?? onPort.find((b) => b.address === '0.0.0.0' || b.address === '::') ?? onPort[0];
}

/**
 * The virtual host the data plane's Router picks for `host` among the bind's listeners, in bind
 * order (exact, then the most specific wildcard, then `*`; the first declaration of a name wins).
 * The tables are empty: only the host lookup is asked of the Router here.
 */
function findVirtualHost(listeners: readonly IrListener[], host: string): { listener: IrListener; vhost: IrVirtualHost } | undefined {
  const byTable = new Map<VirtualHostTable, { listener: IrListener; vhost: IrVirtualHost }>();
  const entries = listeners.flatMap((listener) =>
    listener.virtualHosts.map((vhost) => {
      const table = new VirtualHostTable(vhost.name, []);
      byTable.set(table, { listener, vhost });
      return { hostnames: vhost.hostnames, ...(vhost.wildcardMatch !== undefined ? { wildcardMatch: vhost.wildcardMatch } : {}), table, listener: listener.name };
    }),
  );
  const entry = new Router(entries).find(host);
  return entry === undefined ? undefined : byTable.get(entry.table);
}

/** The first part of a match that fails, each part tested alone with the same compiled matcher. */
function whyNot(match: IrRouteMatch, input: MatchInput): string {
  if (!compileRouteMatch({ path: match.path }).test(input)) return `path ${describePath(match)} does not match "${input.path}"`;
  if (match.method !== undefined && match.method !== input.method) return `method ${match.method}, not ${input.method}`;
  for (const h of match.headers ?? []) if (!compileRouteMatch({ path: { kind: 'any' }, headers: [h] }).test(input)) return `header ${h.name} ${h.kind}${h.value !== undefined ? ` "${h.value}"` : ''} does not hold`;
  for (const q of match.queryParams ?? []) if (!compileRouteMatch({ path: { kind: 'any' }, queryParams: [q] }).test(input)) return `query parameter ${q.name} ${q.kind}${q.value !== undefined ? ` "${q.value}"` : ''} does not hold`;
  return 'the match as a whole does not hold';
}

function describePath(match: IrRouteMatch): string {
  const p = match.path;
  return p.kind === 'any' ? 'any' : `${p.kind} ${p.value}`;
}

function describeMatch(match: IrRouteMatch): string {
  const parts = [`path ${describePath(match)}`];
  if (match.method !== undefined) parts.push(`method ${match.method}`);
  for (const h of match.headers ?? []) parts.push(`header ${h.name} ${h.kind}`);
  for (const q of match.queryParams ?? []) parts.push(`query ${q.name} ${q.kind}`);
  return parts.join(', ');
}

function explainAction(ir: IrSnapshot, route: IrRoute): ExplainStep[] {
  const a = route.action;
  switch (a.kind) {
    case 'redirect':
      return [{ stage: 'action', outcome: 'answered', summary: `redirect ${a.redirect.status}`, details: [] }];
    case 'respond':
      return [{ stage: 'action', outcome: 'answered', summary: `local reply ${a.status}`, details: [] }];
    case 'reject':
      return [{ stage: 'action', outcome: 'refused', summary: `rejected by configuration: ${a.reason} (the diagnostics say why)`, details: [] }];
    case 'forward': {
      const total = a.backends.reduce((s, b) => s + b.weight, 0);
      const steps: ExplainStep[] = [
        {
          stage: 'cluster',
          outcome: 'matched',
          summary: a.backends.length === 1 ? `cluster ${a.backends[0]!.cluster}` : `one of ${a.backends.length} clusters by weight`,
          details: a.backends.map((b) => `${b.cluster}: weight ${b.weight}${total > 0 ? ` (${((100 * b.weight) / total).toFixed(1)} %)` : ''}`),
        },
      ];
      for (const b of a.backends) steps.push(explainCluster(ir.clusters.find((c) => c.name === b.cluster), b.cluster));
      return steps;
    }
  }
}

function explainCluster(cluster: IrCluster | undefined, name: string): ExplainStep {
  if (cluster === undefined) return { stage: 'endpoint', outcome: 'refused', summary: `cluster ${name} is not in the configuration: 503`, details: [] };
  if (cluster.endpoints.length === 0) return { stage: 'endpoint', outcome: 'refused', summary: `cluster ${name} has no endpoints: 503 no_healthy_upstream`, details: [] };
  return {
    stage: 'endpoint',
    outcome: 'matched',
    summary: `cluster ${name} (${cluster.protocol}, ${cluster.lb.kind}): one of ${cluster.endpoints.length} endpoint${cluster.endpoints.length === 1 ? '' : 's'}`,
    details: cluster.endpoints.map((e) => `${e.address.includes(':') ? `[${e.address}]` : e.address}:${e.port}${e.weight !== undefined && e.weight !== 1 ? ` weight ${e.weight}` : ''}${e.target ? ` (${e.target})` : ''}`),
  };
}
