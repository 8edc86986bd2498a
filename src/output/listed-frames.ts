/**
 * The bad frames `--list` keeps for the report, held in the addon's packed record form
 * (176 bytes each, without the frame's bytes, which the list does not print) and turned
 * into report objects only while the report is written, a few at a time.
 *
 * Issue 17 item 10: holding the list as objects (each with up to 4 KiB of captured bytes)
 * took 750 MB of memory for 100,000 frames of a 300k-bad-frame capture, and the report was
 * one string of 107 MB; now the list costs MAX_LISTED x the record size (17.6 MB) and is
 * written in pieces as the reader takes them (src/output/report-stream.ts).
 */
import type { RecordLayout } from '../native/analyzer.js';
import type { DecodedRecord } from '../model/bad-frame.js';
import { decodeRecords } from '../native/records.js';
import { MAX_LISTED, notListedWarning } from './records.js';

/** How many records are decoded at a time while the report is written. */
const DECODE_CHUNK = 1024;

export class ListedFrames {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  /** Frames past the cap: counted, not kept. */
  notListed = 0;

  constructor(
    private readonly layout: RecordLayout,
    readonly cap = MAX_LISTED,
  ) {}

  /** Frames kept. */
  get length(): number {
    return this.kept;
  }

  /** The warning for the frames past the cap; null when none were. */
  warning(): string | null {
    return this.notListed > 0 ? notListedWarning(this.notListed) : null;
  }

  /**
   * Packed records (a drain's `records`): the first ones up to the cap are copied (the
   * addon reuses its buffer), the rest counted.
   */
  addPacked(records: Buffer): void {
    const size = this.layout.size;
    const n = Math.floor(records.length / size);
    const take = Math.min(n, this.cap - this.kept);
    if (take > 0) {
      this.chunks.push(Buffer.from(records.subarray(0, take * size)));
      this.kept += take;
    }
    this.notListed += n - Math.max(0, take);
  }

  /**
   * The kept frames in the order they came, decoded DECODE_CHUNK at a time; `iface` maps a
   * record's interface id to the report's row (live: a vanished interface's folded row).
   */
  *records(iface: (id: number) => number = (id) => id): Generator<DecodedRecord> {
    const size = this.layout.size;
    for (const chunk of this.chunks) {
      for (let at = 0; at < chunk.length; at += DECODE_CHUNK * size) {
        for (const r of decodeRecords(chunk.subarray(at, at + DECODE_CHUNK * size), this.layout)) {
          r.iface = iface(r.iface);
          yield r;
        }
      }
    }
  }
}
