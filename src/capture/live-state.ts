/**
 * Folds the batches of a live source into per-interface totals: the latest cumulative
 * counters and ring statistics of every interface seen (vanished ones keep their totals,
 * older vanished ones in the one row they are folded into: src/capture/vanished.ts), and
 * per-second rates from the difference between snapshots.
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
  /** Summed over engines (capture threads); per engine the latest cumulative values. */
  private readonly counters = new Map<number, Float64Array>();
  private readonly rings = new Map<number, RingTotals>();
  private readonly perEngine = new Map<number, { counters: Map<number, Float64Array>; rings: Map<number, RingTotals> }>();
  private readonly dropsPerEngine = new Map<number, number>();
  /** Per engine, its native bad-flow table as of its latest batch. */
  private readonly badFlowTables = new Map<number, { kept: number; evicted: number }>();
  batches = 0;
  recordsDropped = 0;

  apply(b: SourceBatch): void {
    this.batches++;
    this.dropsPerEngine.set(b.engine, b.recordsDropped);
    this.recordsDropped = [...this.dropsPerEngine.values()].reduce((a, c) => a + c, 0);
    if (b.badFlowTable) this.badFlowTables.set(b.engine, b.badFlowTable);
    let e = this.perEngine.get(b.engine);
    if (!e) {
      e = { counters: new Map(), rings: new Map() };
      this.perEngine.set(b.engine, e);
    }
    // Every batch carries every attached interface; most have not changed since the last
    // one (a node's idle pod veths): those cost a comparison, not two arrays and a sum.
    for (let k = 0; k < b.ids.length; k++) {
      const id = b.ids[k];
      const from = k * this.stride;
      const packets = b.ring[k * 3];
      const drops = b.ring[k * 3 + 1];
      const freezes = b.ring[k * 3 + 2];
      const c = e.counters.get(id);
      const r = e.rings.get(id);
      if (c !== undefined && r !== undefined && this.counters.has(id) && r.packets === packets && r.drops === drops && r.freezes === freezes) {
        let same = true;
        for (let j = 0; j < this.stride && same; j++) same = c[j] === b.counters[from + j];
        if (same) continue;
      }
      e.counters.set(id, b.counters.slice(from, from + this.stride));
      e.rings.set(id, { packets, drops, freezes });
      this.sum(id);
    }
    if (b.folded) this.fold(b.folded.ids, b.folded.into);
  }

  /**
   * Adds the totals of `ids` to the row `into` and forgets them (every engine has sent
   * their last counters: src/capture/vanished.ts). The sum over all rows is unchanged.
   */
  fold(ids: number[], into: number): void {
    const total = this.counters.get(into) ?? new Float64Array(this.stride);
    const ring = this.rings.get(into) ?? { packets: 0, drops: 0, freezes: 0 };
    for (const id of ids) {
      const c = this.counters.get(id);
      if (c) for (let j = 0; j < this.stride; j++) total[j] += c[j];
      const r = this.rings.get(id);
      if (r) {
        ring.packets += r.packets;
        ring.drops += r.drops;
        ring.freezes += r.freezes;
      }
      this.counters.delete(id);
      this.rings.delete(id);
      for (const e of this.perEngine.values()) {
        e.counters.delete(id);
        e.rings.delete(id);
      }
    }
    this.counters.set(into, total);
    this.rings.set(into, ring);
  }

  /** Interfaces whose totals are held (tests: folded ones are not). */
  held(): number {
    const ids = new Set(this.counters.keys());
    for (const e of this.perEngine.values()) for (const id of e.counters.keys()) ids.add(id);
    return ids.size;
  }

  private sum(id: number): void {
    const total = new Float64Array(this.stride);
    const ring: RingTotals = { packets: 0, drops: 0, freezes: 0 };
    for (const e of this.perEngine.values()) {
      const c = e.counters.get(id);
      if (c) for (let j = 0; j < this.stride; j++) total[j] += c[j];
      const r = e.rings.get(id);
      if (r) {
        ring.packets += r.packets;
        ring.drops += r.drops;
        ring.freezes += r.freezes;
      }
    }
    this.counters.set(id, total);
    this.rings.set(id, ring);
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

  /** The native bad-flow tables summed over engines (flows kept, frames of flows not kept). */
  badFlows(): { kept: number; evicted: number } {
    let kept = 0;
    let evicted = 0;
    for (const t of this.badFlowTables.values()) {
      kept += t.kept;
      evicted += t.evicted;
    }
    return { kept, evicted };
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
