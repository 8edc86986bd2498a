/**
 * Where a checksum count lives in an interface's counters (native/flow/counters.h,
 * InterfaceCounters): one slot per (layer, kind, status) from `csumBase`, in the order of
 * LAYERS, KINDS and STATUSES (src/model/verdict.ts). The one place that formula is
 * written (issue 15): the report, the rates, the metrics, the live lines and the
 * diagnosis all read counters through it.
 */
import type { NativeLayout } from './analyzer.js';

/** The part of the layout the checksum slots need. */
export type ChecksumSlotLayout = Pick<NativeLayout, 'csumBase' | 'numLayers' | 'numKinds' | 'numStatus'>;

/** The slot of (layer, kind, status) checksums, relative to the interface's counters. */
export function csumSlot(L: ChecksumSlotLayout, layer: number, kind: number, status: number): number {
  return L.csumBase + (layer * L.numKinds + kind) * L.numStatus + status;
}

/** Checksums of one status over every layer and kind; `base`: where the interface's counters start in `c`. */
export function statusTotal(c: Float64Array, L: ChecksumSlotLayout, status: number, base = 0): number {
  let s = 0;
  for (let layer = 0; layer < L.numLayers; layer++) for (let kind = 0; kind < L.numKinds; kind++) s += c[base + csumSlot(L, layer, kind, status)];
  return s;
}
