/**
 * Typed view of the per-frame analyzer (native/napi/frame_sink_napi.cc), for sources
 * that hand frames over one at a time from JavaScript (the libpcap fallback).
 */
import { loadAddon } from './addon.js';
import type { FlowTableBytes, NativeDrain } from './analyzer.js';

export interface FrameSinkOptions {
  vxlanPorts?: number[];
  genevePorts?: number[];
  maxFlows?: number;
  maxRecords?: number;
  /** Take a bad checksum holding exactly the pseudo-header sum for pending offload. */
  guessOffload?: boolean;
}

export interface FrameSinkBatch extends NativeDrain {
  ids: Uint32Array;
  counters: Float64Array;
}

export interface FrameSink {
  process(id: number, data: Uint8Array, wirelen: number, tsNs: bigint, linktype: number): void;
  takeBatch(): FrameSinkBatch;
  /** The bad-flow table, packed in report order (decodeFlows() reads it). */
  flowsPacked(): Buffer;
  /** Resident from the start, as in live capture (native/flow/bad_flows.h). */
  flowTableBytes(): FlowTableBytes;
  /** Marks an overlay device: its plain packets become events matched against carriers. */
  setOverlay(id: number, on: boolean): void;
}

export function createFrameSink(options: FrameSinkOptions): FrameSink {
  const Ctor = (loadAddon() as unknown as { FrameSink: new (o: FrameSinkOptions) => FrameSink }).FrameSink;
  return new Ctor(options);
}
