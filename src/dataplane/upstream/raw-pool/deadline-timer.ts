// A deadline that moves on every request, kept by one timer per connection instead of a Timeout
// per request. A busy keep-alive connection used to arm and clear two or three Timeouts for each
// exchange (headers, body gap, idle): an allocation, a timer-list insert and an unenroll each, a
// few percent of a proxied request's CPU. Here moving the deadline later is a field write; the
// armed timer, when it fires before the deadline, re-arms for what is left (undici's fast timers
// do the same, but round to a 500 ms tick; this one stays exact). Only a deadline earlier than the
// armed one re-arms at once.

export class DeadlineTimer {
  /** performance.now() ms at which onExpire runs; 0: no deadline. */
  private deadline = 0;
  private timer: NodeJS.Timeout | undefined;
  /** performance.now() ms the armed timer fires at (at the earliest). */
  private firesAt = 0;

  /**
   * `keepsAlive`: while a deadline is set, the timer holds the event loop open (a request waits on
   * it); without one, it never does, so a connection that stays armed cannot delay an exit.
   */
  constructor(
    private readonly onExpire: () => void,
    private readonly keepsAlive: boolean,
  ) {}

  get isSet(): boolean {
    return this.deadline !== 0;
  }

  /** onExpire runs `ms` from now, unless set again or cleared first. */
  set(ms: number): void {
    const now = performance.now();
    const deadline = now + ms;
    this.deadline = deadline;
    const timer = this.timer;
    if (timer !== undefined && this.firesAt <= deadline) {
      if (this.keepsAlive) timer.ref();
      return;
    }
    if (timer !== undefined) clearTimeout(timer);
    this.arm(ms, now);
  }

  /** No deadline: the armed timer, if any, finds none and stops. */
  clear(): void {
    if (this.deadline === 0) return;
    this.deadline = 0;
    if (this.keepsAlive) this.timer?.unref();
  }

  /** The connection is gone: drop the timer too. */
  stop(): void {
    this.deadline = 0;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(ms: number, now: number): void {
    this.firesAt = now + ms;
    const timer = setTimeout(this.fire, ms);
    if (!this.keepsAlive) timer.unref();
    this.timer = timer;
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
