/**
 * Live batches waiting for JavaScript, bounded by the memory they hold.
 *
 * The capture threads' batches reach JavaScript through a thread-safe function, whose
 * queue Node drains in one go (up to 1000 calls). LiveSource processes them in event-loop
 * turns of a few milliseconds instead: when processing took longer than the batch
 * interval, timers and output never ran (measured: no stats line for 21 s under a million
 * new flows). What waits meanwhile is this backlog.
 *
 * Past `maxBytes` of waiting events, records, their bytes and counters, the oldest
 * batches lose their events and bad-frame records (counted per engine: every output says
 * so), and a thinned batch leaves the queue when a newer one of its engine waits
 * (counters are cumulative: the newer one carries them, `carryClosed`). Before it left, a
 * thinned batch still cost a turn: on a busy machine the queue grew without end, every
 * batch was thinned before its turn and the counters shown fell further behind the
 * kernel's each second (issue 13 s.3).
 *
 * The bound is in bytes, not batches: a capture thread hands a batch over as soon as it
 * is full (native/capture/live_capture.cc take_frame), so at a high rate of new flows
 * many small batches arrive within one turn. Counted in batches (it was 4), they were
 * thinned while JavaScript was mostly idle (bench/RESULTS-live.md, 2026-12-07).
 *
 * The bound, MAX_BACKLOG_BYTES (32 MiB, ~190,000 events of 176 bytes), is shared with the
 * addon's queue (native/napi/live_napi.cc kMaxHeldBytes; that queue alone holds at most
 * 16 MiB): LiveSource tells each engine what waits here (backlogBytes), and an engine
 * queues a batch only while both together stay within it. The queue hands its batches
 * over whenever JavaScript's thread turns, so it was nearly always empty: with 16 MiB
 * here and 16 MiB there, a burst was thinned here after 16 MiB while the queue's room went
 * unused (every frame bad at trafgen's bursts: 14-24% of the records, bench/RESULTS-live.md
 * "every frame bad"). In all it is the 32 MiB of before. With 64 MiB each, JavaScript
 * behind on a loaded machine held that much more and the million-flows lab test's peak
 * passed the memory bound of src/correlate/limits.ts (665 MiB against 527); 4 batches at
 * their old caps could hold ~17 MiB each, but at the rates that filled them they were
 * thinned first.
 */
import { nativeLayout } from '../native/analyzer.js';
import type { NativeLiveBatch } from '../native/live.js';

export const MAX_BACKLOG_BYTES = 32 << 20;

const EMPTY = Buffer.alloc(0);

/** The bytes a waiting batch holds (its buffers and arrays). */
export function batchBytes(b: NativeLiveBatch): number {
  return b.events.length + b.eventNames.length + b.records.length + b.recordBytes.length + b.counters.byteLength + b.ring.byteLength + b.ids.byteLength;
}

interface Waiting {
  engine: number;
  b: NativeLiveBatch;
  bytes: number;
}

export class BatchBacklog {
  private readonly waiting: Waiting[] = [];
  private held = 0;
  /** Per engine: events and records dropped here (cumulative), added to the engine's own counts. */
  private readonly thinnedEvents = new Map<number, number>();
  private readonly thinnedRecords = new Map<number, number>();
  /** Waiting batches left out because a newer one of their engine carried all they held. */
  superseded = 0;

  constructor(readonly maxBytes = MAX_BACKLOG_BYTES) {}

  get length(): number {
    return this.waiting.length;
  }

  /** Bytes the waiting batches hold now. */
  get bytes(): number {
    return this.held;
  }

  /**
   * Queues a batch; then, unless `whole` (while stopping every batch is processed whole:
   * at most the native queue's 8 per engine), thins the oldest ones while more than
   * maxBytes wait. The newest batch is never thinned.
   */
  push(engine: number, b: NativeLiveBatch, whole: boolean): void {
    // A waiting batch of this engine holding nothing but counters is superseded: this one
    // carries them, cumulative (the addon does the same before queueing:
    // native/napi/live_napi.cc counters_only). Processing each made JavaScript on a loaded
    // machine show counts seconds old.
    for (let k = this.waiting.length - 1; k >= 0; k--) {
      const w = this.waiting[k];
      if (w.engine !== engine || !countersOnly(w.b)) continue;
      this.waiting.splice(k, 1);
      this.held -= w.bytes;
      this.superseded++;
    }
    const bytes = batchBytes(b);
    this.waiting.push({ engine, b, bytes });
    this.held += bytes;
    if (whole) return;
    for (let k = 0; this.held > this.maxBytes && k < this.waiting.length - 1;) {
      const old = this.waiting[k];
      this.thin(old);
      const newer = this.waiting.find((x, j) => j > k && x.engine === old.engine);
      if (newer) {
        // Its counters are superseded, except those of interfaces it closed (in no later
        // batch), which go on with its notices of vanished ones.
        carryClosed(old.b, newer.b);
        this.held += batchBytes(newer.b) - newer.bytes;
        newer.bytes = batchBytes(newer.b);
        this.held -= old.bytes;
        this.waiting.splice(k, 1);
      } else {
        k++;
      }
    }
  }

  /** The oldest waiting batch, out of the queue. */
  shift(): { engine: number; b: NativeLiveBatch } | undefined {
    const w = this.waiting.shift();
    if (w === undefined) return undefined;
    this.held -= w.bytes;
    return { engine: w.engine, b: w.b };
  }

  /** Events and records of `engine` dropped here so far. */
  thinned(engine: number): { events: number; records: number } {
    return { events: this.thinnedEvents.get(engine) ?? 0, records: this.thinnedRecords.get(engine) ?? 0 };
  }

  /** Drops a waiting batch's events and records, counting them (its counters stay). */
  private thin(w: Waiting): void {
    const L = nativeLayout();
    const events = Math.floor(w.b.events.length / L.event.size);
    const records = Math.floor(w.b.records.length / L.record.size);
    if (events === 0 && records === 0) return;
    this.thinnedEvents.set(w.engine, (this.thinnedEvents.get(w.engine) ?? 0) + events);
    this.thinnedRecords.set(w.engine, (this.thinnedRecords.get(w.engine) ?? 0) + records);
    w.b.events = EMPTY;
    w.b.eventNames = EMPTY;
    w.b.records = EMPTY;
    w.b.recordBytes = EMPTY;
    const bytes = batchBytes(w.b);
    this.held -= w.bytes - bytes;
    w.bytes = bytes;
  }
}

/** A batch with nothing but cumulative counters: no records, events, released or vanished interfaces. */
export function countersOnly(b: NativeLiveBatch): boolean {
  return b.events.length === 0 && b.records.length === 0 && b.released.length === 0 && b.gone.length === 0;
}

/**
 * Moves what only `old` holds into `newer` (a later batch of the same engine), when `old`
 * is dropped unprocessed: the last counters of the interfaces it released (no later batch
 * has them) and its notices of vanished devices. Native does the same for a batch it
 * could not deliver (native/capture/live_capture.h carry_closed).
 */
export function carryClosed(old: NativeLiveBatch, newer: NativeLiveBatch): void {
  newer.gone = [...old.gone, ...newer.gone];
  if (old.released.length === 0) return;
  const stride = nativeLayout().counterStride;
  const ids = [...newer.ids];
  const counters = [...newer.counters];
  const ring = [...newer.ring];
  for (const id of old.released) {
    const k = old.ids.indexOf(id);
    if (k < 0 || ids.includes(id)) continue;
    ids.push(id);
    counters.push(...old.counters.subarray(k * stride, (k + 1) * stride));
    ring.push(...old.ring.subarray(k * 3, (k + 1) * 3));
  }
  newer.ids = Uint32Array.from(ids);
  newer.counters = Float64Array.from(counters);
  newer.ring = Float64Array.from(ring);
  newer.released = Uint32Array.from([...old.released, ...newer.released]);
}
