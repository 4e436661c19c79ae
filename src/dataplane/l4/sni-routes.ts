// A TLS listener's routes by SNI, compiled once per apply: an exact name beats a wildcard, and a
// longer wildcard beats a shorter one. `*.example.com` is a suffix match over any number of labels
// (`a.example.com`, `a.b.example.com`, not `example.com`), as Gateway API hostnames are defined and
// as the translators intersect them; a route with no sniHosts takes what no name matched. Names are
// compared lowercased; the first route to claim a name keeps it (routes come ordered from the
// translators).
export class SniRoutes<R extends { readonly sniHosts: readonly string[] }> {
  private readonly exact = new Map<string, R>();
  private readonly wildcard = new Map<string, R>();
  private readonly fallback: R | undefined;

  constructor(routes: readonly R[]) {
    this.fallback = routes.find((r) => r.sniHosts.length === 0);
    for (const route of routes) {
      for (const raw of route.sniHosts) {
        const name = raw.toLowerCase().replace(/\.$/, '');
        const map = name.startsWith('*.') ? this.wildcard : this.exact;
        const key = name.startsWith('*.') ? name.slice(2) : name;
        if (!map.has(key)) map.set(key, route);
      }
    }
  }

  /** The route for a ClientHello's name (undefined: none sent), or undefined when nothing takes it. */
  select(serverName: string | undefined): R | undefined {
    if (serverName === undefined) return this.fallback;
    const exact = this.exact.get(serverName);
    if (exact !== undefined) return exact;
    // Longest suffix first: each '.' from the left drops one more label.
    for (let dot = serverName.indexOf('.'); dot > 0; dot = serverName.indexOf('.', dot + 1)) {
      const wild = this.wildcard.get(serverName.slice(dot + 1));
      if (wild !== undefined) return wild;
    }
    return this.fallback;
  }
}
