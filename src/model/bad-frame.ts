/**
 * A frame with at least one bad checksum, as the addon records it (native/flow/analyzer.h
 * BadFrameRecord) once decoded at the native boundary (src/native/records.ts). Sources,
 * correlation, the report and the dashboard all take this one shape; where they show a
 * frame differently (its interface by label, its time as text) their types take the rest
 * from DecodedRecord (BadFrameReport, BadFlowView and its samples, the dashboard's
 * RecentFrame), so a field has one definition.
 */
import type { Endpoint } from './endpoint.js';
import type { KindName, LayerName, TunnelName } from './verdict.js';

/** One bad checksum inside a frame. */
export interface BadChecksum {
  layer: LayerName;
  depth: number;
  protocol: KindName;
  found: number;
  expected: number;
  /** The field holds exactly the pseudo-header sum: what transmit offload leaves behind. */
  looksLikeOffload: boolean;
  /** Byte offset of the checksum field in the captured frame (hex dumps mark it). */
  offset?: number;
}

/** sll_pkttype (linux/if_packet.h) as words; null when unknown (capture files). */
export type Direction = 'received' | 'broadcast' | 'multicast' | 'other-host' | 'sent';

/**
 * Which flow a bad frame belongs to (with its interface): the outer endpoint, the tunnel
 * it rides and its VNI (VXLAN, Geneve; null otherwise), the endpoint inside the tunnel.
 */
export interface BadFrameFlow {
  outer: Endpoint | null;
  tunnel: TunnelName;
  vni: number | null;
  inner: Endpoint | null;
}

export interface DecodedRecord extends BadFrameFlow {
  frame: number;
  tsNs: bigint;
  /** The interface's id (src/model/interface.ts). */
  iface: number;
  caplen: number;
  wirelen: number;
  checksums: BadChecksum[];
  direction: Direction | null;
  /**
   * The captured bytes (at most the first 4096) when the source kept them: a view of its
   * batch's buffer, valid while the batch is handled. Whatever keeps them longer copies
   * them (src/native/records.ts says why), so a kept sample never holds a whole batch.
   */
  bytes: Uint8Array | null;
}
