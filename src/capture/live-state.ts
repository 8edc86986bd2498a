/**
 * Folds the batches of a live source into per-interface totals: the latest cumulative
 * counters and ring statistics of every interface ever seen (vanished ones keep their
 * totals), and per-second rates from the difference between snapshots.
 */
import { nativeLayout } from '../native/analyzer.js';
import type { SourceBatch } from './live-source.js';

export interface RingTotals {
  packets: number;
  drops: number;
  freezes: number;
}

export class LiveState {
  private readonly stride = nativeLayout().counterStride;
  private readonly counters = new Map<number, Float64Array>();
  private readonly rings = new Map<number, RingTotals>();
  batches = 0;
  recordsDropped = 0;

  apply(b: SourceBatch): void {
    this.batches++;
    this.recordsDropped = b.recordsDropped;
    for (let k = 0; k < b.ids.length; k++) {
      const id = b.ids[k];
      this.counters.set(id, b.counters.slice(k * this.stride, (k + 1) * this.stride));
      const ring = { packets: b.ring[k * 3], drops: b.ring[k * 3 + 1], freezes: b.ring[k * 3 + 2] };
      // A closed ring reports zeros once more; keep the last real statistics.
      const prev = this.rings.get(id);
      if (!prev || ring.packets >= prev.packets) this.rings.set(id, ring);
    }
  }

  ids(): number[] {
    return [...this.counters.keys()].sort((a, b) => a - b);
  }

  countersOf(id: number): Float64Array {
    return this.counters.get(id) ?? new Float64Array(this.stride);
  }

  ringOf(id: number): RingTotals {
    return this.rings.get(id) ?? { packets: 0, drops: 0, freezes: 0 };
  }

  /** Counters of the given ids laid out one stride each, in that order. */
  flat(ids: number[]): Float64Array {
    const out = new Float64Array(ids.length * this.stride);
    ids.forEach((id, i) => out.set(this.countersOf(id), i * this.stride));
    return out;
  }

  totalDrops(): number {
    let d = 0;
    for (const r of this.rings.values()) d += r.drops;
    return d;
  }

  /** A copy of every interface's counters, for computing rates later. */
  snapshot(): Map<number, Float64Array> {
    return new Map([...this.counters].map(([id, c]) => [id, c.slice()]));
  }
}
