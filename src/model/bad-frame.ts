/**
 * A frame with at least one bad checksum, as the addon records it (native/flow/analyzer.h
 * BadFrameRecord) once decoded at the native boundary (src/native/records.ts). Sources,
 * correlation, the report and the dashboard all take this one shape.
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

export interface DecodedRecord {
  frame: number;
  tsNs: bigint;
  iface: number;
  caplen: number;
  wirelen: number;
  outer: Endpoint | null;
  tunnel: TunnelName;
  vni: number | null;
  inner: Endpoint | null;
  checksums: BadChecksum[];
  direction: Direction | null;
  /** The captured bytes (at most the first 4096) when the source kept them. */
  bytes: Uint8Array | null;
}
