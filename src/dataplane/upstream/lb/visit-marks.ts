// Remembers which endpoints one pick already rejected, without allocating a Set per pick: a stamp
// array with a generation counter. Used on the slow path of policies that walk a table (round-robin
// schedule, hash ring) in which one endpoint appears many times, so that a pick over a cluster
// whose endpoints are all ejected stops after checking each endpoint once instead of walking the
// whole table.
export class VisitMarks {
  private readonly stamps: Uint32Array;
  private epoch = 0;

  constructor(size: number) {
    this.stamps = new Uint32Array(size);
  }

  /** Starts a new pick: forgets every mark in O(1). */
  begin(): void {
    if (++this.epoch === 0xffffffff) {
      this.stamps.fill(0);
      this.epoch = 1;
    }
  }

  /** Marks `index`; true when it was not marked yet in this pick. */
  mark(index: number): boolean {
    if (this.stamps[index] === this.epoch) return false;
    this.stamps[index] = this.epoch;
    return true;
  }
}
