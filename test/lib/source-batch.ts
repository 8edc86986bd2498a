/**
 * A capture source's batch (src/capture/source.ts SourceBatch) built by hand, for the
 * tests of what consumes batches (LiveState, LiveFeed, the vanished-interface folder)
 * without a capture: one row of counters per interface, no records, no events.
 */
import type { SourceBatch } from '../../src/capture/source.js';
import { nativeLayout } from '../../src/native/analyzer.js';
import { EventBatch } from '../../src/native/events.js';
import { PackedRecords } from '../../src/native/records.js';

/** One interface of a batch: its cumulative counters (counterStride long) and ring counts. */
export interface BatchRow {
  id: number;
  counters: Float64Array;
  /** Ring packets, drops, freezes; zeros when absent. */
  ring?: [number, number, number];
}

/** The batch `seq` of `engine` with `rows`; `extra` sets or overrides any other field. */
export function sourceBatch(engine: number, seq: number, rows: BatchRow[], extra: Partial<SourceBatch> = {}): SourceBatch {
  const L = nativeLayout();
  const S = L.counterStride;
  const counters = new Float64Array(rows.length * S);
  const ring = new Float64Array(rows.length * 3);
  rows.forEach((r, k) => {
    counters.set(r.counters, k * S);
    if (r.ring) ring.set(r.ring, k * 3);
  });
  return {
    engine,
    seq,
    monoNs: 0n,
    ids: Uint32Array.from(rows.map((r) => r.id)),
    counters,
    ring,
    records: new PackedRecords(Buffer.alloc(0), Buffer.alloc(0), L.record),
    recordsDropped: 0,
    events: new EventBatch(Buffer.alloc(0), Buffer.alloc(0), L.event, L.record, 0),
    wallNs: 0,
    ...extra,
  };
}
