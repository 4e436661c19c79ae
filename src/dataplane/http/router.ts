// The router: host → virtual host → first matching route, all prepared at apply time.
// Host lookup is one Map get for exact names, one for `*.suffix` wildcards (one label, as Ingress
// and Gateway API define them), then the catch-all. Route lookup is a linear scan for small
// virtual hosts and an index by exact path / prefix boundary for large ones.
import type { MatchInput } from './route-match.js';
import { trimTrailingSlash } from './route-match.js';
import type { CompiledRoute } from './compiled-route.js';

/** Virtual hosts with more routes than this get a path index. */
const INDEX_THRESHOLD = 12;

export class VirtualHostTable {
  private readonly exact = new Map<string, number[]>();
  private readonly prefix = new Map<string, number[]>();
  /** Routes the index cannot answer (regex, headers, method, query, any): always scanned. */
  private readonly scanned: number[] = [];
  private readonly indexed: boolean;

  constructor(readonly name: string, readonly routes: readonly CompiledRoute[]) {
    this.indexed = routes.length > INDEX_THRESHOLD;
    if (!this.indexed) return;
    routes.forEach((route, i) => {
      const p = route.match.path;
      if (route.match.pathOnly && p.kind === 'exact') push(this.exact, p.value, i);
      else if (route.match.pathOnly && p.kind === 'prefix') push(this.prefix, trimTrailingSlash(p.value), i);
      else this.scanned.push(i);
    });
  }

  match(input: MatchInput): CompiledRoute | undefined {
    const routes = this.routes;
    if (!this.indexed) {
      for (let i = 0; i < routes.length; i++) {
        const r = routes[i]!;
        if (r.match.test(input)) return r;
      }
      return undefined;
    }
    // The winner is the candidate with the lowest index (routes are in precedence order).
    let best = Number.MAX_SAFE_INTEGER;
    const path = input.path;
    const exact = this.exact.get(path);
    if (exact !== undefined) best = exact[0]!;
    // Element-wise prefixes: every '/' boundary of the path, and the whole path.
    best = Math.min(best, firstOf(this.prefix.get(trimTrailingSlash(path))));
    best = Math.min(best, firstOf(this.prefix.get('')));
    for (let i = path.indexOf('/', 1); i !== -1; i = path.indexOf('/', i + 1)) {
      best = Math.min(best, firstOf(this.prefix.get(path.slice(0, i))));
    }
    for (const i of this.scanned) {
      if (i >= best) break;
      if (routes[i]!.match.test(input)) {
        best = i;
        break;
      }
    }
    return best === Number.MAX_SAFE_INTEGER ? undefined : routes[best];
  }
}

/** A virtual host as the Router holds it: its hostnames, its table, and its logical listener. */
export interface RouterEntry {
  readonly hostnames: readonly string[];
  readonly wildcardMatch?: 'one-label' | 'any-labels';
  readonly table: VirtualHostTable;
  /** Name of the logical listener (IR) that serves these hosts: 421 compares it (match-request.ts). */
  readonly listener: string;
}

export class Router {
  private readonly exact = new Map<string, RouterEntry>();
  private readonly wildcard = new Map<string, RouterEntry>();
  /** Gateway API wildcards: `*.example.com` covers any number of labels in front. */
  private readonly deepWildcard = new Map<string, RouterEntry>();
  private catchAll: RouterEntry | undefined;

  constructor(vhosts: readonly RouterEntry[]) {
    // First declaration of a hostname wins; the bind step already dropped later ones and said so.
    for (const entry of vhosts) {
      for (const raw of entry.hostnames) {
        const host = raw.toLowerCase();
        if (host === '*') this.catchAll ??= entry;
        else if (host.startsWith('*.')) setOnce(entry.wildcardMatch === 'any-labels' ? this.deepWildcard : this.wildcard, host.slice(2), entry);
        else setOnce(this.exact, host, entry);
      }
    }
  }

  /** `host` is lower-case without port. */
  findVirtualHost(host: string): VirtualHostTable | undefined {
    return this.find(host)?.table;
  }

  /** The entry serving `host` (lower-case, without port): its table and its logical listener. */
  find(host: string): RouterEntry | undefined {
    const exact = this.exact.get(host);
    if (exact !== undefined) return exact;
    if (this.wildcard.size > 0) {
      const dot = host.indexOf('.');
      if (dot > 0) {
        const wild = this.wildcard.get(host.slice(dot + 1));
        if (wild !== undefined) return wild;
      }
    }
    if (this.deepWildcard.size > 0) {
      // Longest suffix first: the most specific wildcard wins.
      for (let dot = host.indexOf('.'); dot > 0; dot = host.indexOf('.', dot + 1)) {
        const wild = this.deepWildcard.get(host.slice(dot + 1));
        if (wild !== undefined) return wild;
      }
    }
    return this.catchAll;
  }
}

function push(map: Map<string, number[]>, key: string, i: number): void {
  const list = map.get(key);
  if (list) list.push(i);
  else map.set(key, [i]);
}

function setOnce<V>(map: Map<string, V>, key: string, value: V): void {
  if (!map.has(key)) map.set(key, value);
}

function firstOf(list: number[] | undefined): number {
  return list === undefined ? Number.MAX_SAFE_INTEGER : list[0]!;
}
