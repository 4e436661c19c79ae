// A deadline that moves on every request, kept by one timer per connection instead of a Timeout
// per request. A busy keep-alive connection used to arm and clear two or three Timeouts for each
// exchange (headers, body gap, idle): an allocation, a timer-list insert and an unenroll each, a
// few percent of a proxied request's CPU. Here moving the deadline later is a field write; the
// armed timer, when it fires before the deadline, re-arms for what is left (undici's fast timers
// do the same, but round to a 500 ms tick; this one stays exact). Only a deadline earlier than the
// armed one re-arms at once. The timer never holds the event loop open: while a deadline matters
// a request is running, and its socket does that.

export class DeadlineTimer {
  /** performance.now() ms at which onExpire runs; 0: no deadline. */
  private deadline = 0;
  private timer: NodeJS.Timeout | undefined;
  /** performance.now() ms the armed timer fires at (at the earliest). */
  private firesAt = 0;

  constructor(private readonly onExpire: () => void) {}

  get isSet(): boolean {
    return this.deadline !== 0;
  }

  /** onExpire runs `ms` from now, unless set again or cleared first. */
  set(ms: number): void {
    const now = performance.now();
    const deadline = now + ms;
    this.deadline = deadline;
    const timer = this.timer;
    if (timer !== undefined && this.firesAt <= deadline) return;
    if (timer !== undefined) clearTimeout(timer);
    this.arm(ms, now);
  }

  /** No deadline: the armed timer, if any, finds none and stops. */
  clear(): void {
    this.deadline = 0;
  }

  /** The connection is gone: drop the timer too. */
  stop(): void {
    this.deadline = 0;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(ms: number, now: number): void {
    this.firesAt = now + ms;
    this.timer = setTimeout(this.fire, ms).unref();
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    const deadline = this.deadline;
    if (deadline === 0) return;
    const now = performance.now();
    // Timers run on the loop's cached clock, which may read a little behind performance.now().
    if (deadline > now) return this.arm(deadline - now, now);
    this.deadline = 0;
    this.onExpire();
  };
}
