// Time is a dependency, never ambient: tests inject a manual clock instead of sleeping.
export interface Clock {
  /** Milliseconds since the epoch (wall clock, for logs and timestamps). */
  now(): number;
  /** Monotonic milliseconds, for durations and back-offs. */
  monotonicMs(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonicMs: () => performance.now(),
};

export class ManualClock implements Clock {
  constructor(private wallMs = 0, private monoMs = 0) {}
  now(): number {
    return this.wallMs;
  }
  monotonicMs(): number {
    return this.monoMs;
  }
  advance(ms: number): void {
    this.wallMs += ms;
    this.monoMs += ms;
  }
}
