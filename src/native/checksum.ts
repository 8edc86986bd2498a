// \summary: Typed view of the native checksum engine (RFC 1071 partial sums, kernel paths).
/**
 * The addon's checksum functions with TypeScript types. Nothing here computes a checksum
 * itself; the binding checks every argument (TypeError for a wrong type, RangeError for a
 * value out of range) and never reads outside `buf`.
 *
 * A *partial sum* is the 32-bit value RFC 1071 section 4.1 accumulates before folding:
 * partial sums of pieces can be added (ones-complement) and folded once; a piece that
 * starts at an odd byte offset of the message must be byte-swapped first (RFC 1071
 * section 2(B)). The checksum field value is `~fold(sum) & 0xffff`.
 */
import { loadAddon } from './addon.js';

/** Kernel names, as used by CSUMTOP_CSUM_PATH and the benchmarks. */
export const CHECKSUM_PATHS = ['scalar', 'adc64', 'sse2', 'avx2', 'neon'] as const;
export type ChecksumPathName = (typeof CHECKSUM_PATHS)[number];

export interface ChecksumPathInfo {
  name: ChecksumPathName;
  /** Compiled in and runnable on this CPU. */
  available: boolean;
  /** The kernel checksumPartial() uses when no path is given. */
  active: boolean;
}

/** How the kernel was chosen when the addon loaded. */
export interface ChecksumPathSelection {
  /** Active now (setChecksumPath() may have changed it since start-up). */
  active: ChecksumPathName;
  /** Chosen at start-up. */
  startup: ChecksumPathName;
  /** The best kernel this CPU can run. */
  best: ChecksumPathName;
  /** CSUMTOP_CSUM_PATH was set (non-empty). */
  forced: boolean;
  /** Its value, or null when unset. */
  requested: string | null;
  /** It named an unknown or unavailable path, so `startup` is `best` instead. */
  fellBack: boolean;
}

interface ChecksumBinding {
  checksumPaths(): ChecksumPathInfo[];
  checksumPathSelection(): ChecksumPathSelection;
  checksumPartial(buf: Uint8Array, offset: number, length: number, path?: string, initial?: number): number;
  checksumFold(partial: number): number;
  setChecksumPath(name: string): boolean;
}

const FUNCTIONS: readonly (keyof ChecksumBinding)[] = [
  'checksumPaths',
  'checksumPathSelection',
  'checksumPartial',
  'checksumFold',
  'setChecksumPath',
];

let binding: ChecksumBinding | undefined;

function native(): ChecksumBinding {
  if (binding) return binding;
  const addon = loadAddon();
  for (const name of FUNCTIONS) {
    if (typeof addon[name] !== 'function') {
      throw new Error(`the native addon has no ${name}(); rebuild it (npm run build:native)`);
    }
  }
  binding = addon as unknown as ChecksumBinding;
  return binding;
}

/** Every kernel path, in CHECKSUM_PATHS order, with availability and which is active. */
export function checksumPaths(): ChecksumPathInfo[] {
  return native().checksumPaths();
}

export function checksumPathSelection(): ChecksumPathSelection {
  return native().checksumPathSelection();
}

/** The kernel checksumPartial() uses by default. */
export function activeChecksumPath(): ChecksumPathName {
  return native().checksumPathSelection().active;
}

/**
 * The 32-bit partial sum of `buf[offset, offset + length)` as big-endian 16-bit words
 * (an odd last byte padded with zero), added to `initial`. `path` forces a kernel
 * (RangeError when unknown or unavailable on this CPU); by default the active one.
 */
export function checksumPartial(
  buf: Uint8Array,
  offset: number,
  length: number,
  path?: ChecksumPathName,
  initial?: number,
): number {
  return native().checksumPartial(buf, offset, length, path, initial);
}

/** Folds a partial sum (any safe integer) to 16 bits with end-around carry; no complement. */
export function checksumFold(partial: number): number {
  return native().checksumFold(partial);
}

/** The checksum field value for `buf[offset, offset + length)`: ~fold(sum) & 0xffff. */
export function internetChecksum(buf: Uint8Array, offset = 0, length = buf.length - offset, initial = 0): number {
  return ~checksumFold(checksumPartial(buf, offset, length, undefined, initial)) & 0xffff;
}

/** Makes `name` the active kernel; false (nothing changed) when it is unknown or unavailable. */
export function setChecksumPath(name: ChecksumPathName): boolean {
  return native().setChecksumPath(name);
}
