/**
 * Typed view of the decoder and offline-analysis part of the addon
 * (native/napi/analyzer_napi.cc).
 */
import { endpointAt, type EventLayout } from './events.js';
import { fastLayout, loadAddon } from './addon.js';
import type { Endpoint } from '../model/endpoint.js';
import type { FileInterface } from '../model/interface.js';

export interface DecodeOptions {
  vxlanPorts?: number[];
  genevePorts?: number[];
}

export interface NativeEndpoint {
  family: number;
  proto: number;
  hasPorts: boolean;
  sport: number;
  dport: number;
  src: Buffer;
  dst: Buffer;
}

export interface DecodedLayer extends NativeEndpoint {
  tunnel: number;
  fragment: number;
  ipId: number;
  ipLen: number;
  vni: number;
  l3Offset: number;
  l4Offset: number;
  tcpFlags: number;
}

export interface DecodedChecksum {
  depth: number;
  kind: string;
  status: string;
  why: number;
  found: number;
  expected: number;
  fieldOffset: number;
  looksPartial: boolean;
}

export interface DecodedFrame {
  layers: DecodedLayer[];
  checksums: DecodedChecksum[];
  malformed: string | null;
  malformedOffset: number;
  truncated: boolean;
  /** Part of the frame was not decoded (`undecoded` says why). */
  unsupported: boolean;
  undecoded: string | null;
  vlanCount: number;
  vlanId: number;
  direction: number;
}

export interface RecordLayout {
  size: number;
  frameNumber: number;
  tsNs: number;
  iface: number;
  caplen: number;
  wirelen: number;
  vni: number;
  tunnel: number;
  hasInner: number;
  nBad: number;
  nLayers: number;
  outer: number;
  inner: number;
  bad: number;
  direction: number;
  badSize: number;
  maxBad: number;
  epFamily: number;
  epProto: number;
  epHasPorts: number;
  epSport: number;
  epDport: number;
  epSrc: number;
  epDst: number;
  /** sizeof(FlowEndpoint). */
  epSize: number;
  bDepth: number;
  bKind: number;
  bLooksPartial: number;
  bFound: number;
  bExpected: number;
  bOffset: number;
  bytesOff: number;
  bytesLen: number;
}

/** Offsets within one entry of FileAnalysis.flowsPacked() (native BadFlow). */
export interface FlowLayout {
  size: number;
  iface: number;
  tunnel: number;
  hasInner: number;
  vni: number;
  outer: number;
  inner: number;
  count: number;
  firstNs: number;
  lastNs: number;
  exampleFrame: number;
  badMask: number;
  nExample: number;
  example: number;
}

export interface NativeLayout {
  counterStride: number;
  slots: {
    frames: number;
    bytes: number;
    badFrames: number;
    malformed: number;
    truncated: number;
    unsupported: number;
    badChecksums: number;
    looksPartial: number;
    outgoing: number;
    /** Bad transport checksums in frames not sent by this host (what InCsumErrors compares with). */
    badReceivedL4: number;
    /** Bad frames whose every bad checksum holds only the pseudo-header sum (offload artefacts). */
    partialOnlyFrames: number;
  };
  malformedBase: number;
  csumBase: number;
  /** Bad checksums holding only the pseudo-header sum, at partialBase + layer * numKinds + kind. */
  partialBase: number;
  numLayers: number;
  numKinds: number;
  numStatus: number;
  numMalformed: number;
  malformedNames: string[];
  undecodedBase: number;
  numUndecoded: number;
  undecodedNames: string[];
  kindNames: string[];
  /** CsumStatus names in enum order (STATUSES). */
  statusNames: string[];
  /** Values of the native Tunnel enum (TUNNELS has one name per value). */
  numTunnels: number;
  record: RecordLayout;
  flow: FlowLayout;
  event: EventLayout;
}

/**
 * What every native analyzer hands over per batch or step besides counters: bad-frame
 * records with their bytes, and correlation events (native/napi/convert.cc set_drained);
 * src/native/drain.ts decodes them.
 */
export interface NativeDrain {
  /** Packed BadFrameRecords. */
  records: Buffer;
  /** Their captured bytes (at most 4096 each). */
  recordBytes: Buffer;
  /** Cumulative: bad frames counted but not recorded (drain full, or a live batch JavaScript could not take). */
  recordsDropped: number;
  /** Packed FrameEvents. */
  events: Buffer;
  eventNames: Buffer;
  /** Cumulative: events not kept (the same causes). */
  eventsDropped: number;
}

export interface NativeBadChecksum {
  depth: number;
  kind: number;
  looksPartial: boolean;
  found: number;
  expected: number;
}

export interface NativeFlow {
  iface: number;
  tunnel: number;
  vni: number;
  hasInner: boolean;
  outer: Endpoint;
  inner?: Endpoint;
  count: number;
  firstNs: bigint;
  lastNs: bigint;
  exampleFrame: number;
  badMask: number;
  example: NativeBadChecksum[];
}

export type StepStatus =
  | { status: 'more' | 'done' }
  | { status: 'truncated' | 'error'; message: string }
  /** With `filter`: a frame of this link type waits for its program (setFilter()). */
  | { status: 'filter'; linktype: number };

/**
 * One step with everything read between steps, as of its end (native/flow/file_step.h):
 * what one thread would read right after the step, even while the next one runs.
 */
export type FileStep = StepStatus & {
  drain: NativeDrain;
  /** counters() as of the step's end. */
  counters: Float64Array;
  /** interfaces(), when there are more than the step before handed over. */
  interfaces?: FileInterface[];
  frames: number;
  bytesRead: number;
  filteredOut: number;
};

/** The native bad-flow table's bytes: mapped (its bound) and resident now (mincore(2)). */
export interface FlowTableBytes {
  mapped: number;
  resident: number;
}

export interface FileStats {
  frames: number;
  firstNs: bigint;
  lastNs: bigint;
  written: number;
  format: 'pcap' | 'pcapng';
  bytesRead: number;
  blocksSkipped: number;
  /** pcapng interfaces past the per-file cap (native/capture/capture_file.h kMaxInterfaces), not read. */
  interfacesIgnored: number;
  /** Packets of those interfaces, skipped. */
  framesIgnored: number;
  flowsEvicted: number;
  /** Flows in the bad-flow table. */
  flows: number;
  recordsDropped: number;
  /** With `filter`: frames the filter rejected (skipped, counted nowhere else). */
  filteredOut: number;
  /** With `count`: that many frames were counted and reading stopped there. */
  countReached: boolean;
}

export interface FileAnalysisOptions extends DecodeOptions {
  maxFlows?: number;
  listBad?: boolean;
  write?: string;
  /** Correlation events and bad-frame bytes (takeDrain()); decodes on one thread. */
  events?: boolean;
  overwrite?: boolean;
  /**
   * -f: every frame is run through its link type's filter program (libpcap's
   * pcap_offline_filter) and skipped when rejected; step() asks for each program.
   */
  filter?: boolean;
  /** -c: stop after this many frames (after the filter). */
  count?: number;
}

export interface FileAnalysis {
  step(maxFrames?: number): StepStatus;
  /** step() with its drain, counters and progress, on this thread. */
  stepDrain(maxFrames?: number): FileStep;
  /**
   * stepDrain() on a thread of libuv's pool. Until the Promise settles every other
   * method throws (the step owns the analysis).
   */
  stepDrainAhead(maxFrames?: number): Promise<FileStep>;
  /** Blocks up to `ms` until no step runs; false if one still does (a pipe that stalls). */
  settle(ms: number): boolean;
  /** Closes the -w file; returns an error message or null. */
  finish(): string | null;
  interfaces(): FileInterface[];
  counters(): Float64Array;
  /**
   * The flow table as packed entries (layout().flow), most frequent first, then first
   * seen first (the report's order); only the first `limit` when given and not 0.
   * decodeFlows() reads them.
   */
  flowsPacked(limit?: number): Buffer;
  takeRecords(): Buffer;
  /** Records with their bytes and the correlation events since the last call. */
  takeDrain(): NativeDrain;
  stats(): FileStats;
  /** Frames decoded by helper threads and applied (0 on one thread); tests check the parallel paths ran. */
  helperFrames(): number;
  /** A file's table grows with its bad flows (native/flow/bad_flows.h). */
  flowTableBytes(): FlowTableBytes;
  /** The filter program (compileFilterFor()) for frames of `linktype`, after a 'filter' step. */
  setFilter(linktype: number, program: Uint8Array): void;
}

interface AnalyzerAddon {
  decodeFrame(data: Uint8Array, linktype: number, options?: DecodeOptions & { wirelen?: number }): DecodedFrame;
  layout(): NativeLayout;
  FileAnalysis: (new (path: string, options?: FileAnalysisOptions) => FileAnalysis) & { threads(): number };
}

function addon(): AnalyzerAddon {
  return loadAddon() as unknown as AnalyzerAddon;
}

export function decodeFrame(
  data: Uint8Array,
  linktype: number,
  options?: DecodeOptions & { wirelen?: number },
): DecodedFrame {
  return addon().decodeFrame(data, linktype, options);
}

let layoutCache: NativeLayout | undefined;
export function nativeLayout(): NativeLayout {
  layoutCache ??= fastLayout(addon().layout());
  return layoutCache;
}

/** Threads `-r` may use: CSUMTOP_THREADS, else the CPUs this process may run on (at most 8). */
export function fileThreads(): number {
  return addon().FileAnalysis.threads();
}

/** Opens a capture file for analysis; throws with the reader's message (naming the offset). */
export function openFileAnalysis(path: string, options: FileAnalysisOptions): FileAnalysis {
  const Ctor = addon().FileAnalysis;
  return new Ctor(path, options);
}

/**
 * The entries of a flowsPacked() (file, live or libpcap: native/napi/convert.h
 * flows_packed) as NativeFlow objects. A flow's endpoints are FlowEndpoints like those of
 * records and events, read by the one decoder of them (endpointAt, src/native/events.ts).
 */
export function decodeFlows(buf: Buffer, L: NativeLayout): NativeFlow[] {
  const F = L.flow;
  const R = L.record;
  const out: NativeFlow[] = [];
  for (let off = 0; off + F.size <= buf.length; off += F.size) {
    const hasInner = buf[off + F.hasInner] !== 0;
    const example: NativeBadChecksum[] = [];
    const n = Math.min(buf[off + F.nExample], R.maxBad);
    for (let i = 0; i < n; i++) {
      const b = off + F.example + i * R.badSize;
      example.push({
        depth: buf[b + R.bDepth],
        kind: buf[b + R.bKind],
        looksPartial: buf[b + R.bLooksPartial] !== 0,
        found: buf.readUInt16LE(b + R.bFound),
        expected: buf.readUInt16LE(b + R.bExpected),
      });
    }
    const flow: NativeFlow = {
      iface: buf.readUInt32LE(off + F.iface),
      tunnel: buf[off + F.tunnel],
      vni: buf.readUInt32LE(off + F.vni),
      hasInner,
      outer: endpointAt(buf, off + F.outer, R),
      count: Number(buf.readBigUInt64LE(off + F.count)),
      firstNs: buf.readBigUInt64LE(off + F.firstNs),
      lastNs: buf.readBigUInt64LE(off + F.lastNs),
      exampleFrame: Number(buf.readBigUInt64LE(off + F.exampleFrame)),
      badMask: buf.readUInt32LE(off + F.badMask),
      example,
    };
    if (hasInner) flow.inner = endpointAt(buf, off + F.inner, R);
    out.push(flow);
  }
  return out;
}
