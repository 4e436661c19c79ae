// Active-connection counts per endpoint address (`address:port`), kept outside the config so a
// reload that keeps an endpoint keeps its count (the lc/wlc/sed/nq schedulers read it): an apply
// that rebuilt the counts at zero would send a burst of new connections to busy endpoints.
// One instance per L4Server, shared by all its listeners: an endpoint behind two listeners is one
// machine with one load, as ipvs counts per real server of a virtual service (close enough here).
export class EndpointActivity {
  private readonly active = new Map<string, number>();

  activeOf(key: string): number {
    return this.active.get(key) ?? 0;
  }

  open(key: string): void {
    this.active.set(key, this.activeOf(key) + 1);
  }

  /** Forgets the entry at zero, so endpoints that came and went do not pile up. */
  close(key: string): void {
    const n = this.activeOf(key) - 1;
    if (n <= 0) this.active.delete(key);
    else this.active.set(key, n);
  }
}
