// Active health checks of `isthmus lb`'s nodes: every interval, a TCP connect to each node port
// (or an HTTP GET of kube-proxy's /healthz on a Local Service's health port). A node leaves the
// rotation after `fall` failures in a row and comes back after `rise` successes, so one lost
// packet does not flap it; a node never checked yet counts as healthy, so a new lb serves at once.
// Verdict changes are reported to `onChange`, which re-plans the listeners.
import { connect } from 'node:net';
import { request } from 'node:http';

export interface HealthTarget {
  readonly key: string;
  readonly address: string;
  readonly port: number;
  readonly check: { readonly kind: 'tcp' } | { readonly kind: 'http'; readonly path: string } | { readonly kind: 'none' };
}

export interface NodeHealthOptions {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Successes in a row that bring an unhealthy target back. */
  readonly rise: number;
  /** Failures in a row that take a healthy target out. */
  readonly fall: number;
  readonly onChange: (key: string, healthy: boolean, why: string) => void;
}

interface TargetState {
  target: HealthTarget;
  healthy: boolean;
  streak: number;
  inFlight: boolean;
}

export class NodeHealthChecker {
  readonly #states = new Map<string, TargetState>();
  readonly #timer: NodeJS.Timeout;

  constructor(private readonly options: NodeHealthOptions) {
    this.#timer = setInterval(() => this.#round(), options.intervalMs);
    this.#timer.unref();
  }

  /** The targets to check from now on; the verdicts of the ones that stay are kept. */
  setTargets(targets: readonly HealthTarget[]): void {
    const keep = new Set(targets.map((t) => t.key));
    for (const key of this.#states.keys()) if (!keep.has(key)) this.#states.delete(key);
    for (const t of targets) {
      const s = this.#states.get(t.key);
      if (s === undefined) this.#states.set(t.key, { target: t, healthy: true, streak: 0, inFlight: false });
      else s.target = t;
    }
  }

  /** undefined for a target this checker does not know. */
  healthy(key: string): boolean | undefined {
    return this.#states.get(key)?.healthy;
  }

  /** One round now (tests and start-up do not wait an interval). */
  async checkNow(): Promise<void> {
    await Promise.all([...this.#states.values()].map((s) => this.#check(s)));
  }

  close(): void {
    clearInterval(this.#timer);
  }

  #round(): void {
    for (const s of this.#states.values()) void this.#check(s);
  }

  async #check(s: TargetState): Promise<void> {
    if (s.inFlight || s.target.check.kind === 'none') return;
    s.inFlight = true;
    const why = await probe(s.target, this.options.timeoutMs);
    s.inFlight = false;
    if (this.#states.get(s.target.key) !== s) return;
    const ok = why === undefined;
    if (ok === s.healthy) {
      s.streak = 0;
      return;
    }
    s.streak++;
    if (s.streak < (ok ? this.options.rise : this.options.fall)) return;
    s.healthy = ok;
    s.streak = 0;
    this.options.onChange(s.target.key, ok, why ?? 'check passed');
  }
}

/** undefined when the target answered as a healthy one does; else why not. */
function probe(t: HealthTarget, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    if (t.check.kind === 'http') {
      const req = request({ host: t.address, port: t.port, path: t.check.path, method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        resolve(status >= 200 && status < 300 ? undefined : `GET ${t.check.kind === 'http' ? t.check.path : ''} answered ${status}`);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (err) => resolve(err.message));
      req.end();
      return;
    }
    const socket = connect({ host: t.address, port: t.port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(`connect timed out after ${timeoutMs} ms`);
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      resolve(err.message);
    });
  });
}
