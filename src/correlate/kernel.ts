/**
 * The kernel's checksum counters of every captured namespace, each second: per-second
 * rates and the increase since csumtop started (the referee the diagnosis compares the
 * capture against). A namespace that cannot be read right now keeps its last view.
 */
import { CHECKSUM_COUNTERS, type ChecksumCounterName, type ChecksumCounters } from '../model/host-facts.js';
import type { KernelCounterView } from '../model/correlation.js';

export interface KernelNamespace {
  label: string;
  read: () => ChecksumCounters;
}

interface State {
  base: ChecksumCounters | null;
  prev: { at: number; c: ChecksumCounters } | null;
  view: KernelCounterView;
}

export class KernelCounterTracker {
  private readonly states = new Map<string, State>();

  constructor(
    private readonly namespaces: KernelNamespace[],
    private readonly now: () => number = () => performance.now(),
  ) {}

  sample(): KernelCounterView[] {
    for (const ns of this.namespaces) {
      let st = this.states.get(ns.label);
      if (!st) {
        st = { base: null, prev: null, view: { namespace: ns.label, perSecond: {}, sinceStart: {} } };
        this.states.set(ns.label, st);
      }
      let c: ChecksumCounters;
      try {
        c = ns.read();
      } catch {
        continue;
      }
      const at = this.now();
      st.base ??= c;
      const perSecond: KernelCounterView['perSecond'] = {};
      const sinceStart: KernelCounterView['sinceStart'] = {};
      for (const k of CHECKSUM_COUNTERS as readonly ChecksumCounterName[]) {
        const b = st.base[k];
        const v = c[k];
        sinceStart[k] = b === null || v === null || v < b ? null : v - b;
        const p = st.prev?.c[k] ?? null;
        const dt = st.prev ? (at - st.prev.at) / 1000 : 0;
        perSecond[k] = p === null || v === null || v < p || dt <= 0 ? null : Math.round(((v - p) / dt) * 10) / 10;
      }
      st.prev = { at, c };
      st.view = { namespace: ns.label, perSecond, sinceStart };
    }
    return [...this.states.values()].map((s) => s.view);
  }
}
