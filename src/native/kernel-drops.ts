/**
 * Typed view of the kernel drop verdicts (native/napi/kernel_drops_napi.cc, issue 18):
 * the eBPF program on skb:kfree_skb, loaded from the object compiled into the addon, and
 * its record parser (for tests).
 */
import { loadAddon } from './addon.js';
import type { KernelDropOutcomes, KernelDropReason } from '../model/correlation.js';

/** Drops counted natively since the previous take() for one (namespace, device, reason, peer). */
export interface KernelDropRow {
  /** Inode of the network namespace of the device the packet was on (0: none). */
  netns: number;
  ifindex: number;
  reason: KernelDropReason;
  /** Outer source address; null when the packet's network header was not readable. */
  peer: string | null;
  count: number;
  /** Drops under this key resolved since the previous take() (counted now or before). */
  outcomes: KernelDropOutcomes;
  /** The number of the last captured frame a drop was matched to; null when none. */
  frame: number | null;
}

export interface KernelDropTake {
  rows: KernelDropRow[];
  /** Drops since the previous take() whose key found the native table full (4096 keys). */
  overflow: number;
  /** What became of drops whose key found the native table full, since the previous take(). */
  overflowOutcomes: KernelDropOutcomes;
  /** Drops waiting for their frame now (the native queue holds at most 8192). */
  pending: number;
  /** Cumulative: drops the eBPF ring buffer had no room for (csumtop fell behind). */
  ringFull: number;
  /** Cumulative: records that did not parse (never expected). */
  unparsed: number;
}

/** Why the source is not running: the addon has no eBPF object, libbpf.so.1 is missing,
 * rights are missing, or the kernel cannot (no BTF, no drop reasons, verifier). */
export type KernelDropsUnavailable = 'not-built-in' | 'no-libbpf' | 'not-allowed' | 'unsupported';

export interface KernelDropsState {
  /** loading: the program is being loaded (up to a second, on a thread of its own). */
  state: 'loading' | 'on' | 'unavailable' | 'closed';
  unavailable: KernelDropsUnavailable | null;
  why: string | null;
}

export interface NativeKernelDrops {
  state(): KernelDropsState;
  /** Blocks until loading is done (before --user drops the rights loading needs). */
  wait(): void;
  /** The counts since the previous take(); null while the program is not running. */
  take(): KernelDropTake | null;
  /** Detaches the program; take() then returns null. */
  close(): void;
}

/** One record as the parser reads it (native/kdrops/event.h). */
export interface ParsedKernelDrop {
  netns: number;
  ifindex: number;
  reason: KernelDropReason;
  family: number;
  proto: number;
  src: string | null;
  dst: string | null;
  sport: number | null;
  dport: number | null;
  vni: number | null;
  inner: { proto: number; src: string; dst: string; sport: number; dport: number } | null;
}

interface Addon {
  KernelDrops: new () => NativeKernelDrops;
  parseKernelDropEvent(bytes: Uint8Array): ParsedKernelDrop | null;
  kernelDropsBuiltIn: boolean;
  kernelDropMatchWindowMs: number;
  kernelDropEventLayout: { size: number; dataBytes: number };
}

function addon(): Addon {
  return loadAddon() as unknown as Addon;
}

/** Starts loading and attaching the program (state() says when it runs, or why not). */
export function openKernelDrops(): NativeKernelDrops {
  return new (addon().KernelDrops)();
}

export function parseKernelDropEvent(bytes: Uint8Array): ParsedKernelDrop | null {
  return addon().parseKernelDropEvent(bytes);
}

/** struct kdrop_event (native/bpf/kernel_drops_event.h): its size and the header bytes it holds. */
export function kernelDropEventLayout(): { size: number; dataBytes: number } {
  return addon().kernelDropEventLayout;
}

/** How far before a drop the native matcher looks for its captured frame (frame_match.h kWindowNs). */
export function kernelDropMatchWindowMs(): number {
  return addon().kernelDropMatchWindowMs;
}
