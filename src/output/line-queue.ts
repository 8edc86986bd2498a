/**
 * Ordered output of the live JSON line stream, bounded (docs/design.md, principle 4:
 * "a slow consumer costs samples, never memory or capture").
 *
 * Lines are written in the order they were queued, everything waiting at once in one
 * write: waiting for each line's write callback before the next one let a burst of bad
 * frames queue faster than one line per event-loop turn went out (measured with
 * test/lab/million-flows.test.ts: nothing written for 20 s, 270 MB of lines waiting).
 * `sample()` lines (one per bad frame: their counts are in the stats lines and the
 * report anyway) are dropped and counted while more than `maxBytes` wait or are being
 * written (the write in flight counts: until 2026-12-07 it did not, and up to twice
 * `maxBytes` could be held); `line()`s
 * (stats, findings, interface events, warnings: a few per interval) always go out.
 * A batch's sample lines come as UTF-8 the addon made (`samples()`, src/native/bad-lines.ts):
 * no string per bad frame, and nothing to join or encode before they are written (the
 * batches waiting go out in one gathered write, src/output/write.ts).
 */
import type { Chunk, LineWrite } from './write.js';

export class LineQueue {
  private waiting: (string | Uint8Array)[] = [];
  /** Some of `waiting` are bytes: written as parts (partsOf), not joined as strings. */
  private binary = false;
  private bytes = 0;
  /** Of the write in flight (its chunk is held until the write completes). */
  private inFlight = 0;
  private writing: Promise<void> | null = null;
  /** Sample lines not written because the consumer fell behind. */
  dropped = 0;

  constructor(
    private readonly write: LineWrite,
    readonly maxBytes: number,
  ) {}

  /** Queues a line that is never dropped. */
  line(text: string): void {
    this.waiting.push(text);
    this.bytes += Buffer.byteLength(text);
    this.pump();
  }

  /** Queues a sample line unless maxBytes are already waiting; false when dropped. */
  sample(text: string): boolean {
    if (this.bytes + this.inFlight + Buffer.byteLength(text) > this.maxBytes) {
      this.dropped++;
      return false;
    }
    this.line(text);
    return true;
  }

  /** Bytes (UTF-8, as written; text lines counted so too) sample lines may still take before they are dropped. */
  room(): number {
    return Math.max(0, this.maxBytes - this.bytes - this.inFlight);
  }

  /**
   * Queues `lines` sample lines already made within room() (`text`, UTF-8) and counts the
   * rest of the `offered` as dropped.
   */
  samples(text: Uint8Array, lines: number, offered: number): void {
    this.dropped += offered - lines;
    if (lines === 0) return;
    this.waiting.push(text);
    this.binary = true;
    this.bytes += text.length;
    this.pump();
  }

  /** Resolves once everything queued so far is written. */
  async drained(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private pump(): void {
    if (this.writing) return;
    this.writing = (async () => {
      while (this.waiting.length > 0) {
        const chunk = this.binary ? partsOf(this.waiting) : (this.waiting as string[]).join('');
        this.waiting = [];
        this.binary = false;
        this.inFlight = this.bytes;
        this.bytes = 0;
        try {
          await this.write(chunk);
        } finally {
          this.inFlight = 0;
        }
      }
      this.writing = null;
    })();
  }
}

/** The waiting parts for one gathered write: each run of text lines joined, bytes as they are (not copied). */
function partsOf(parts: (string | Uint8Array)[]): Chunk[] {
  const out: Chunk[] = [];
  let text: string[] = [];
  for (const p of parts) {
    if (typeof p === 'string') {
      text.push(p);
      continue;
    }
    if (text.length > 0) out.push(text.join(''));
    text = [];
    out.push(p);
  }
  if (text.length > 0) out.push(text.join(''));
  return out;
}

/** Bad-frame lines may wait up to this much output (about 27,000 `bad` lines of ~620 bytes) before dropping. */
export const MAX_QUEUED_OUTPUT = 16 << 20;
