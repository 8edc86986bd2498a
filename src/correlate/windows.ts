/**
 * Per-second buckets of a count over the last 60 seconds: the 1 s / 10 s / 60 s rates
 * and the sparkline history of issue 4. Seconds are whole seconds of the time base the
 * caller uses (wall clock live, capture time for files); a gap zeroes the skipped ones.
 */
import type { RateWindows } from '../model/correlation.js';

export const HISTORY_SECONDS = 60;

export class SecondBuckets {
  private readonly buckets = new Float64Array(HISTORY_SECONDS);
  /** The second the newest bucket belongs to; -1 before the first add. */
  private head = -1;
  /** Seconds seen since the first one (the warm-up divisor). */
  private span = 0;
  /** Everything added since the start, however old. */
  private sum = 0;

  /** Moves the newest bucket to `second`, zeroing the seconds in between. */
  advance(second: number): void {
    if (this.head < 0) {
      this.head = second;
      this.span = 1;
      return;
    }
    if (second <= this.head) return;
    const steps = Math.min(second - this.head, HISTORY_SECONDS);
    for (let s = 1; s <= steps; s++) this.buckets[(this.head + s) % HISTORY_SECONDS] = 0;
    this.span = Math.min(HISTORY_SECONDS, this.span + (second - this.head));
    this.head = second;
  }

  /** Adds `v` to `second` (older than the window: dropped; newer: advances). */
  add(second: number, v: number): void {
    this.sum += v;
    this.advance(second);
    if (second <= this.head - HISTORY_SECONDS) return;
    this.buckets[((second % HISTORY_SECONDS) + HISTORY_SECONDS) % HISTORY_SECONDS] += v;
  }

  private sumLast(n: number): number {
    let s = 0;
    for (let k = 0; k < n; k++) s += this.buckets[(((this.head - k) % HISTORY_SECONDS) + HISTORY_SECONDS) % HISTORY_SECONDS];
    return s;
  }

  /** Rates per second; while warming up a window averages over the seconds seen. */
  windows(): RateWindows {
    if (this.head < 0) return { s1: 0, s10: 0, s60: 0, total: this.sum };
    const w = (n: number): number => {
      const m = Math.min(n, this.span);
      return Math.round((this.sumLast(m) / m) * 10) / 10;
    };
    return { s1: w(1), s10: w(10), s60: w(60), total: this.sum };
  }

  /** The last 60 seconds, oldest first. */
  history(): number[] {
    const out: number[] = [];
    for (let k = HISTORY_SECONDS - 1; k >= 0; k--) {
      out.push(this.head < 0 || k >= this.span ? 0 : this.buckets[(((this.head - k) % HISTORY_SECONDS) + HISTORY_SECONDS) % HISTORY_SECONDS]);
    }
    return out;
  }

  /** Sum over the last n seconds. */
  last(n: number): number {
    return this.head < 0 ? 0 : this.sumLast(Math.min(n, this.span));
  }
}
