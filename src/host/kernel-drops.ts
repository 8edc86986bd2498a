/**
 * Whether csumtop has the kernel's drop verdicts (issue 18) and what it says when it does
 * not: on by default, off with --no-kernel-drops; the eBPF program needs CAP_BPF +
 * CAP_PERFMON (or root), BTF and a kernel whose kfree_skb carries a drop reason (5.17+).
 * Opened before --user drops privileges: the loaded program and its ring buffer stay.
 */
import * as fs from 'node:fs';

import type { NamespaceSpec } from '../capture/live-source.js';
import type { KernelDropNames } from '../correlate/kernel-drops.js';
import { openKernelDrops, type KernelDropTake, type NativeKernelDrops } from '../native/kernel-drops.js';

const FALLBACK = 'findings weigh the per-namespace /proc/net/snmp checksum counters instead';

/**
 * The kernel drop source as live capture uses it: loading runs on a native thread while
 * capture starts; the one line saying the counters stand in is given once, as soon as
 * it is known (at once for --no-kernel-drops, missing rights or libbpf; after the load
 * for a kernel that refuses the program).
 */
export class KernelDropsSource {
  private said = false;

  private constructor(
    private readonly native: NativeKernelDrops | null,
    private readonly offNote: string | null,
  ) {}

  static start(enabled: boolean): KernelDropsSource {
    if (!enabled) return new KernelDropsSource(null, `kernel drop verdicts: off (--no-kernel-drops); ${FALLBACK}`);
    try {
      return new KernelDropsSource(openKernelDrops(), null);
    } catch (err) {
      return new KernelDropsSource(null, `kernel drop verdicts: unavailable (${(err as Error).message}); ${FALLBACK}`);
    }
  }

  /** --user: loading needs the rights that are about to go. */
  waitLoaded(): void {
    this.native?.wait();
  }

  /** The counts since the previous take(); null while not running. */
  take(): KernelDropTake | null {
    return this.native?.take() ?? null;
  }

  /** The fallback line, once, when known; null otherwise (on, still loading, or said). */
  noteOnce(): string | null {
    if (this.said) return null;
    const note = this.note();
    if (note !== null) this.said = true;
    return note;
  }

  private note(): string | null {
    if (this.offNote !== null) return this.offNote;
    const s = this.native!.state();
    if (s.state !== 'unavailable') return null;
    const what = s.unavailable === 'not-built-in' ? 'not built in' : s.unavailable === 'not-allowed' ? 'not allowed' : 'unavailable';
    return `kernel drop verdicts: ${what} (${s.why}); ${FALLBACK}`;
  }

  close(): void {
    this.native?.close();
  }
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
