/**
 * The addon's carrier-flow table (native/flow/carrier_flows.h) as a typed class: one
 * add() per batch of events, one top() per snapshot as a packed buffer whose offsets
 * `carrierFlowLayout()` gives (issue 14: the per-flow state out of the JavaScript heap).
 */
import { fastLayout, loadAddon } from './addon.js';

/** Offsets of top()'s buffer: a header with the row count, the rows, then their names. */
export interface CarrierFlowLayout {
  /** Bytes per flow of the cap, at most (slot + index: native/flow/carrier_flows.h). */
  bytesPerEntry: number;
  /** Offset of the row count (u32) in the header. */
  count: number;
  /** Offset of the first row. */
  rows: number;
  /** Bytes per row; the rest are offsets within a row. */
  size: number;
  packets: number;
  bytes: number;
  firstNs: number;
  lastNs: number;
  badOuter: number;
  badInner: number;
  place: number;
  vni: number;
  /** Offset of the row's name from the start of the buffer (u32). */
  nameOff: number;
  nameLen: number;
  tunnel: number;
  hasName: number;
  outer: number;
  inner: number;
}

export interface NativeCarrierFlows {
  /** Folds the carrier events of a batch; placePairs: Places.pairs() of its interfaces. */
  add(events: Uint8Array, names: Uint8Array, placePairs: Uint32Array): void;
  top(limit: number): Buffer;
  readonly size: number;
  readonly evicted: number;
  /** Bytes the table allocated (slots and index). */
  readonly tableBytes: number;
}

interface CarrierFlowsAddon {
  CarrierFlows: { new (cap: number, resident: boolean): NativeCarrierFlows; layout(): CarrierFlowLayout };
}

function addon(): CarrierFlowsAddon {
  return loadAddon() as unknown as CarrierFlowsAddon;
}

/** `resident`: as createDnsTxns's (src/native/txns.ts). */
export function newCarrierFlows(cap: number, resident = true): NativeCarrierFlows {
  return new (addon().CarrierFlows)(cap, resident);
}

let layoutCache: CarrierFlowLayout | undefined;
export function carrierFlowLayout(): CarrierFlowLayout {
  layoutCache ??= fastLayout(addon().CarrierFlows.layout());
  return layoutCache;
}
