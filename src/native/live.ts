/**
 * Typed view of the live-capture part of the addon (native/napi/live_napi.cc): rings
 * on a capture thread, batches delivered on the JavaScript thread.
 */
import { loadAddon } from './addon.js';
import type { NativeDrain } from './analyzer.js';
import type { NativeBadFrameFile } from './bad-frame-file.js';

export interface LiveCaptureOptions {
  batchMs?: number;
  blockSize?: number;
  blockCount?: number;
  retireMs?: number;
  promisc?: boolean;
  /** Ask for virtio-net headers (csum_start/csum_offset); default true. */
  vnet?: boolean;
  maxFlows?: number;
  /** Bad-frame records per batch; more are counted in recordsDropped. */
  maxRecords?: number;
  vxlanPorts?: number[];
  genevePorts?: number[];
  /** -f: the programs compileFilter() made of a tcpdump-syntax filter, per link type. */
  filter?: FilterProgram;
  /** -w: the file this engine writes its bad frames to (shared by all engines). */
  writer?: NativeBadFrameFile;
  /** --context N (0..64): frames of the same flow written before and after each bad one. */
  context?: number;
  /** -c COUNT: one FrameBudget shared by every engine of the run; frames past it are not counted. */
  frameBudget?: NativeFrameBudget;
  /** Correlation events (default true); maxEvents per batch, more are counted. */
  events?: boolean;
  maxEvents?: number;
}

/** One batch from the capture thread; counters are cumulative per interface id. */
export interface NativeLiveBatch extends NativeDrain {
  seq: number;
  /** The capture thread's last batch (cut after stop()): its counters are the run's totals. */
  final: boolean;
  monoNs: bigint;
  ids: Uint32Array;
  /** ids.length * counterStride (see nativeLayout()). */
  counters: Float64Array;
  /** ids.length * 3: ring packets, drops, freezes (cumulative). */
  ring: Float64Array;
  gone: Array<{ id: number; reason: string }>;
  /** Interfaces closed whose counters here are their last: the engine has forgotten them. */
  released: Uint32Array;
  /** This engine's bad-flow table: flows kept (at most maxFlows), and bad frames of flows
   * not kept because it was full (cumulative). */
  badFlows: number;
  badFlowsEvicted: number;
}

export interface NativeStop {
  /** Bad-frame records lost because the queue to JavaScript was full. */
  lostRecords: number;
  queued: number;
  /** Batches of counters alone not queued while an older one waited: the next carried
   * their cumulative counters (native/napi/live_napi.cc counters_only). Not a loss. */
  superseded: number;
  final: NativeLiveBatch | null;
}

export interface InterfaceRequest {
  id: number;
  ifindex: number;
  arphrd: number;
  netns?: string;
  fanout?: 'new' | number;
  overlay?: boolean;
}

/** The fanout group joined (-1 without), or why the ring could not be opened: EPERM (no
 * CAP_NET_RAW, or a namespace that may not be opened or entered), ENODEV (the device is gone), ECAPTURE (anything else); from the errno,
 * native/napi/live_napi.cc ErrorCode. */
export type InterfaceResult = { group: number } | { error: string; code: 'EPERM' | 'ENODEV' | 'ECAPTURE' };

export interface NativeLiveCapture {
  /**
   * Opens the rings in parallel (each waits for an RCU grace period in the kernel), one
   * result per entry, in order; a failed entry does not stop the others. `fanout`: 'new'
   * starts a PACKET_FANOUT group (hash) and returns its id; a number joins that group
   * (another capture's ring on the same interface); group -1 without.
   */
  addInterfaces(list: InterfaceRequest[]): InterfaceResult[];
  removeInterface(id: number): void;
  start(): void;
  /**
   * Joins the capture thread. `queued` batches went through the queue to onBatch (those
   * not delivered yet arrive after this returns, in order); `final` is the thread's last
   * batch, never dropped, to apply after all of them (null when none was cut).
   */
  stop(): NativeStop;
  /** After stop(): the bad flows packed, most frequent first (decodeFlows() reads them); at most `limit` (0 or absent: all). */
  flowsPacked(limit?: number): Buffer;
  /** After stop(): interfaces whose counters the engine still holds (tests). */
  interfacesHeld(): number;
  /**
   * JavaScript's backlog holds `bytes` of batches now (src/capture/batch-backlog.ts): the
   * addon queues a batch only while its queue and that backlog together stay within
   * MAX_BACKLOG_BYTES (native/napi/live_napi.cc kMaxHeldBytes).
   */
  backlogBytes(bytes: number): void;
}

/** A compiled capture filter: the kernel's sock_filter arrays for Ethernet and raw-IP links. */
export interface FilterProgram {
  ether: Uint8Array;
  raw: Uint8Array;
}

/** native/capture/frame_budget.h: frames every capture thread together may still count. */
export interface NativeFrameBudget {
  /** Frames counted so far (at most the limit). */
  taken(): number;
}

interface LiveAddon {
  FrameBudget: new (limit: number) => NativeFrameBudget;
  LiveCapture: new (options: LiveCaptureOptions, onBatch: (b: NativeLiveBatch) => void) => NativeLiveCapture;
  compileFilter(expr: string, linktype: number): Uint8Array;
  dieWithParent(ppid: number): boolean;
  libpcapVersion(): { version: string } | { error: string };
}

/** pcap_lib_version() of the libpcap that -f filters are compiled with, or why it cannot be loaded. */
export function libpcapVersion(): { version: string } | { error: string } {
  return (loadAddon() as unknown as LiveAddon).libpcapVersion();
}

/**
 * Compiles a tcpdump-syntax filter with the run-time loaded libpcap (throws with its
 * message). Synchronous and, for large filters, minutes long: only the filter child
 * (src/capture/filter-child.ts) calls it, never csumtop's own JavaScript thread.
 */
export function compileFilterNow(expr: string, linktype: number): Uint8Array {
  return (loadAddon() as unknown as LiveAddon).compileFilter(expr, linktype);
}

/** This process is killed when its parent `ppid` ends; false if that already happened. */
export function dieWithParent(ppid: number): boolean {
  return (loadAddon() as unknown as LiveAddon).dieWithParent(ppid);
}

/** -c COUNT for live capture: pass it to every LiveCapture of the run. */
export function createFrameBudget(limit: number): NativeFrameBudget {
  return new (loadAddon() as unknown as LiveAddon).FrameBudget(limit);
}

export function createLiveCapture(options: LiveCaptureOptions, onBatch: (b: NativeLiveBatch) => void): NativeLiveCapture {
  const Ctor = (loadAddon() as unknown as LiveAddon).LiveCapture;
  return new Ctor(options, onBatch);
}
