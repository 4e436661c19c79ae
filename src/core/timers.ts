// Timers are a dependency like Clock: the data plane schedules retry backoffs and per-try
// deadlines through this, so tests fire them by hand instead of sleeping.
export interface Timers {
  /** Runs `fn` once after `ms`; the returned function cancels it (a no-op once it ran). */
  after(ms: number, fn: () => void): () => void;
}

export const systemTimers: Timers = {
  after(ms, fn) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

export interface PendingTimer {
  readonly ms: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/** Keeps every timer until the test fires it; `pending` lists those neither fired nor cancelled. */
export class ManualTimers implements Timers {
  private readonly timers: PendingTimer[] = [];

  after(ms: number, fn: () => void): () => void {
    const timer: PendingTimer = { ms, fn, cancelled: false };
    this.timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  }

  get pending(): readonly PendingTimer[] {
    return this.timers.filter((t) => !t.cancelled);
  }

  /** Runs (and removes) the first pending timer that `which` selects; false when there is none. */
  fire(which: (t: PendingTimer) => boolean = () => true): boolean {
    const timer = this.timers.find((t) => !t.cancelled && which(t));
    if (timer === undefined) return false;
    timer.cancelled = true;
    timer.fn();
    return true;
  }
}
