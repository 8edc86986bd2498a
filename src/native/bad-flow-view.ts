/**
 * The addon's bad-flow view (native/flow/bad_flow_view.h) as a typed class: one add() per
 * batch of packed records, one top() per snapshot as packed rows whose offsets
 * `badFlowViewLayout()` gives, each followed by its recent frames as packed records.
 */
import { fastLayout, loadAddon } from './addon.js';

/** Offsets within a row of top().rows. */
export interface BadFlowViewLayout {
  size: number;
  count: number;
  artefacts: number;
  firstNs: number;
  iface: number;
  dnsOff: number;
  dnsLen: number;
  hasDns: number;
  /** 0 no peer, 1 the outer source, 2 the outer destination. */
  peer: number;
  nNames: number;
  nRecent: number;
  /** nNames bytes: each bad checksum's layer << 4 | kind, in the order first seen. */
  names: number;
}

export interface BadFlowViewTop {
  rows: Buffer;
  /** Each row's recent frames, oldest first, as BadFrameRecords (nativeLayout().record). */
  records: Buffer;
  /** The samples' bytes the last record of a row points into. */
  bytes: Buffer;
  /** DNS names (latin1) the rows point into. */
  names: Buffer;
}

export interface NativeBadFlowView {
  add(records: Uint8Array, recordBytes: Uint8Array, events: Uint8Array, eventNames: Uint8Array): void;
  top(limit: number): BadFlowViewTop;
  /** The interface ids of the flows kept, each once. */
  interfaces(): Uint32Array;
  readonly size: number;
  readonly evicted: number;
  /** Bytes allocated at construction (flows, recent frames, index): native/flow/bad_flow_view.h. */
  readonly tableBytes: number;
}

interface BadFlowViewAddon {
  BadFlowView: {
    new (cap: number, recent: number, sampledBytesFlows: number, partialIsOffload: boolean, resident: boolean): NativeBadFlowView;
    layout(): BadFlowViewLayout;
  };
}

function addon(): BadFlowViewAddon {
  return loadAddon() as unknown as BadFlowViewAddon;
}

/** `resident`: as createDnsTxns's (src/native/txns.ts). */
export function newBadFlowView(cap: number, recent: number, sampledBytesFlows: number, partialIsOffload: boolean, resident = true): NativeBadFlowView {
  return new (addon().BadFlowView)(cap, recent, sampledBytesFlows, partialIsOffload, resident);
}

let layoutCache: BadFlowViewLayout | undefined;
export function badFlowViewLayout(): BadFlowViewLayout {
  layoutCache ??= fastLayout(addon().BadFlowView.layout());
  return layoutCache;
}
