// A client that sends one GET after another to a route that must keep working, on one keep-alive
// connection, and records what a user would notice: failures, the slowest answer, and the longest
// time without any answer (a stall of the gateway's event loop shows up as both).
import http from 'node:http';
import { get } from '../e2e/cli-harness.js';

export interface TrafficReport {
  readonly requests: number;
  /** The first few failures (status, backend or error), and how many there were. */
  readonly failures: readonly string[];
  readonly failureCount: number;
  readonly maxLatencyMs: number;
  /** Longest time between two answers, or from the last answer to stop(). */
  readonly maxGapMs: number;
}

const KEPT_FAILURES = 10;

export class SteadyTraffic {
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  readonly #loop: Promise<void>;
  #running = true;
  #requests = 0;
  #failureCount = 0;
  readonly #failures: string[] = [];
  #maxLatencyMs = 0;
  #maxGapMs = 0;
  #lastAnswer = performance.now();

  /** Starts at once; every answer must be 200 from the echo backend named `backend`. */
  constructor(port: number, urlPath: string, host: string, backend: string) {
    this.#loop = this.#run(port, urlPath, host, backend);
  }

  /** The figures so far, while the traffic keeps running. */
  get report(): TrafficReport {
    return {
      requests: this.#requests,
      failures: [...this.#failures],
      failureCount: this.#failureCount,
      maxLatencyMs: this.#maxLatencyMs,
      maxGapMs: Math.max(this.#maxGapMs, performance.now() - this.#lastAnswer),
    };
  }

  async stop(): Promise<TrafficReport> {
    this.#running = false;
    await this.#loop;
    this.#agent.destroy();
    return this.report;
  }

  async #run(port: number, urlPath: string, host: string, backend: string): Promise<void> {
    while (this.#running) {
      const sent = performance.now();
      let failure: string | undefined;
      try {
        const res = await get(port, urlPath, host, this.#agent);
        if (res.status !== 200 || res.name !== backend) failure = `status ${res.status} from ${res.name ?? 'the gateway'}: ${res.body.slice(0, 200)}`;
      } catch (err) {
        failure = `error: ${err instanceof Error ? err.message : String(err)}`;
      }
      const now = performance.now();
      this.#requests++;
      this.#maxLatencyMs = Math.max(this.#maxLatencyMs, now - sent);
      this.#maxGapMs = Math.max(this.#maxGapMs, now - this.#lastAnswer);
      this.#lastAnswer = now;
      if (failure !== undefined) {
        this.#failureCount++;
        if (this.#failures.length < KEPT_FAILURES) this.#failures.push(failure);
      }
      // Yield a macrotask, so the test's own timers and reads are not starved by the loop.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
