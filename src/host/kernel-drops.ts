/**
 * Whether csumtop has the kernel's drop verdicts (issue 18) and what it says when it does
 * not: on by default, off with --no-kernel-drops; the eBPF program needs CAP_BPF +
 * CAP_PERFMON (or root), BTF and a kernel whose kfree_skb carries a drop reason (5.17+).
 * Opened before --user drops privileges: the loaded program and its ring buffer stay.
 */
import * as fs from 'node:fs';

import type { NamespaceSpec } from '../capture/live-source.js';
import type { KernelDropNames } from '../correlate/kernel-drops.js';
import { openKernelDrops, type NativeKernelDrops } from '../native/kernel-drops.js';

const FALLBACK = 'findings weigh the per-namespace /proc/net/snmp checksum counters instead';

export interface KernelDropsStart {
  /** The running source, or null. */
  native: NativeKernelDrops | null;
  /** The one line csumtop says when it is not using the kernel's verdicts (null when it is). */
  note: string | null;
}

export function startKernelDrops(enabled: boolean): KernelDropsStart {
  if (!enabled) return { native: null, note: `kernel drop verdicts: off (--no-kernel-drops); ${FALLBACK}` };
  let k: NativeKernelDrops;
  try {
    k = openKernelDrops();
  } catch (err) {
    return { native: null, note: `kernel drop verdicts: unavailable (${(err as Error).message}); ${FALLBACK}` };
  }
  if (k.available) return { native: k, note: null };
  const what = k.unavailable === 'not-built-in' ? 'not built in' : k.unavailable === 'not-allowed' ? 'not allowed' : 'unavailable';
  return { native: null, note: `kernel drop verdicts: ${what} (${k.why}); ${FALLBACK}` };
}

/**
 * The nsfs inode of each namespace csumtop captures (fs/nsfs.c: the inode of
 * /run/netns/NAME or /proc/PID/ns/net is the namespace's ns.inum, the number the eBPF
 * program reads from the device), and device names from the links csumtop knows
 * (captured or not), read when the names are asked for: links come and go.
 */
export function kernelDropNames(specs: readonly NamespaceSpec[], links: () => Array<{ namespace: string; ifindex?: number; name: string }>): KernelDropNames {
  const byInode = new Map<number, string>();
  for (const s of specs) {
    try {
      byInode.set(fs.statSync(s.path ?? '/proc/self/ns/net').ino, s.label);
    } catch {
      // A namespace gone already: its drops are shown as netns:INODE.
    }
  }
  return {
    namespace: (inode) => byInode.get(inode) ?? null,
    device: (label, ifindex) => links().find((i) => i.namespace === label && i.ifindex === ifindex)?.name ?? null,
  };
}
