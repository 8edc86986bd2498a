/**
 * Per-interface rates over 1 s, 10 s and 60 s windows, from the cumulative counters each
 * tick carries (the native counter layout, never repeated here).
 */

import { KINDS, LAYERS, STATUS } from '../model/verdict.js';
import type { InterfaceRates } from '../model/correlation.js';
import type { InterfaceFacts } from '../model/interface.js';
import type { NativeLayout } from '../native/analyzer.js';
import { csumSlot, statusTotal } from '../native/counters.js';
import { SecondBuckets } from './windows.js';

/** An interface (src/model/interface.ts) and its cumulative counters at a tick. */
export interface CounterSample extends Pick<InterfaceFacts, 'id' | 'label' | 'namespace'> {
  counters: Float64Array;
}

export interface CounterTick {
  /** Whole second of the time base this tick closes. */
  second: number;
  samples: CounterSample[];
}

interface Track {
  prev: Float64Array | null;
  packets: SecondBuckets;
  bad: SecondBuckets;
  artefacts: SecondBuckets;
  pending: SecondBuckets;
  validated: SecondBuckets;
  byChecksum: Map<string, SecondBuckets>;
}

export class RateTracker {
  private readonly tracks = new Map<number, Track>();
  /**
   * `partialIsOffload`: the source has no kernel checksum status (a file, libpcap), so a
   * checksum holding only the pseudo-header sum is taken for an offload artefact, as the
   * correlation events take it (native/flow/events.cc, partial_is_offload). Live on
   * AF_PACKET the kernel flags those itself (pending); one it did not flag stays an error.
   */
  constructor(
    private readonly L: NativeLayout,
    private readonly partialIsOffload = false,
  ) {}

  private statusSum(c: Float64Array, status: number): number {
    return statusTotal(c, this.L, status);
  }

  update(tick: CounterTick): InterfaceRates[] {
    const L = this.L;
    const out: InterfaceRates[] = [];
    // An interface no longer sampled (vanished long enough ago) loses its windows.
    if (this.tracks.size > tick.samples.length) {
      const live = new Set(tick.samples.map((s) => s.id));
      for (const id of this.tracks.keys()) if (!live.has(id)) this.tracks.delete(id);
    }
    for (const s of tick.samples) {
      let t = this.tracks.get(s.id);
      if (!t) {
        t = {
          prev: null,
          packets: new SecondBuckets(),
          bad: new SecondBuckets(),
          artefacts: new SecondBuckets(),
          pending: new SecondBuckets(),
          validated: new SecondBuckets(),
          byChecksum: new Map(),
        };
        this.tracks.set(s.id, t);
      }
      const c = s.counters;
      const p = t.prev ?? new Float64Array(c.length);
      const d = (slot: number): number => Math.max(0, c[slot] - p[slot]);
      const dp = (slot: number): number => (this.partialIsOffload ? d(slot) : 0);
      t.packets.add(tick.second, d(L.slots.frames));
      // Offload artefacts (every bad checksum of the frame holds only the pseudo-header
      // sum) are counted apart: they are not errors on the wire (issue 19).
      t.bad.add(tick.second, Math.max(0, d(L.slots.badFrames) - dp(L.slots.partialOnlyFrames)));
      let artefacts = 0;
      t.pending.add(tick.second, Math.max(0, this.statusSum(c, STATUS.pending) - this.statusSum(p, STATUS.pending)));
      t.validated.add(tick.second, Math.max(0, this.statusSum(c, STATUS.validated) - this.statusSum(p, STATUS.validated)));
      for (let layer = 0; layer < L.numLayers; layer++)
        for (let kind = 0; kind < L.numKinds; kind++) {
          const slot = csumSlot(L, layer, kind, STATUS.bad);
          const partial = L.partialBase + layer * L.numKinds + kind;
          artefacts += dp(partial);
          const key = `${LAYERS[layer]}/${KINDS[kind]}`;
          let b = t.byChecksum.get(key);
          if (!b && c[slot] - (this.partialIsOffload ? c[partial] : 0) > 0) {
            b = new SecondBuckets();
            t.byChecksum.set(key, b);
          }
          b?.add(tick.second, Math.max(0, d(slot) - dp(partial)));
        }
      t.artefacts.add(tick.second, artefacts);
      t.prev = c.slice();
      const badByChecksum: Record<string, ReturnType<SecondBuckets['windows']>> = {};
      for (const [k, b] of t.byChecksum) badByChecksum[k] = b.windows();
      out.push({
        interface: s.label,
        namespace: s.namespace,
        packets: t.packets.windows(),
        badFrames: t.bad.windows(),
        badByChecksum,
        artefacts: t.artefacts.windows(),
        pending: t.pending.windows(),
        validated: t.validated.windows(),
        badHistory: t.bad.history(),
      });
    }
    return out;
  }
}
