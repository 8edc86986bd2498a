/**
 * Ordered output of the live JSON line stream, bounded (docs/design.md, principle 4:
 * "a slow consumer costs samples, never memory or capture").
 *
 * Lines are written in the order they were queued, everything waiting at once in one
 * write: waiting for each line's write callback before the next one let a burst of bad
 * frames queue faster than one line per event-loop turn went out (measured with
 * test/lab/million-flows.test.ts: nothing written for 20 s, 270 MB of lines waiting).
 * `sample()` lines (one per bad frame: their counts are in the stats lines and the
 * report anyway) are dropped and counted while more than `maxBytes` wait; `line()`s
 * (stats, findings, interface events, warnings: a few per interval) always go out.
 */
export class LineQueue {
  private waiting: string[] = [];
  private bytes = 0;
  private writing: Promise<void> | null = null;
  /** Sample lines not written because the consumer fell behind. */
  dropped = 0;

  constructor(
    private readonly write: (text: string) => Promise<void>,
    readonly maxBytes: number,
  ) {}

  /** Queues a line that is never dropped. */
  line(text: string): void {
    this.waiting.push(text);
    this.bytes += text.length;
    this.pump();
  }

  /** Queues a sample line unless maxBytes are already waiting; false when dropped. */
  sample(text: string): boolean {
    if (this.bytes + text.length > this.maxBytes) {
      this.dropped++;
      return false;
    }
    this.line(text);
    return true;
  }

  /** Resolves once everything queued so far is written. */
  async drained(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private pump(): void {
    if (this.writing) return;
    this.writing = (async () => {
      while (this.waiting.length > 0) {
        const chunk = this.waiting.join('');
        this.waiting = [];
        this.bytes = 0;
        await this.write(chunk);
      }
      this.writing = null;
    })();
  }
}

/** Bad-frame lines may wait up to this much output (about 20,000 lines) before dropping. */
export const MAX_QUEUED_OUTPUT = 16 << 20;
