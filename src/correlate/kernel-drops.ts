/**
 * The kernel's drop verdicts (issue 18) per interval: the native table's counts since the
 * last tick (one row per namespace, device, reason and peer, never one object per packet)
 * folded into totals since start, with the namespace inode and ifindex turned into the
 * names csumtop shows. Bounded: at most `cap` keys are kept; a drop under any other key
 * is counted in `other`, and so are the drops the native table could not keep.
 */
import { KERNEL_DROP_OUTCOMES, type KernelDropCount, type KernelDropOutcomes, type KernelDropView } from '../model/correlation.js';
import { noOutcomes, resolvedOf } from '../model/kernel-match.js';
import type { KernelDropTake } from '../native/kernel-drops.js';

function addOutcomes(to: KernelDropOutcomes, from: KernelDropOutcomes): void {
  for (const k of KERNEL_DROP_OUTCOMES) to[k] += from[k] ?? 0;
}

/** Default cap on (namespace, device, reason, peer) keys. */
export const KERNEL_DROP_KEYS = 512;

/** Names for the kernel's numbers, as csumtop knows them when the tick runs. */
export interface KernelDropNames {
  /** The label of the captured namespace with this nsfs inode, or null. */
  namespace(inode: number): string | null;
  /** The device name of `ifindex` in namespace `label` (captured or merely known), or null. */
  device(label: string, ifindex: number): string | null;
}

interface Entry {
  netns: number;
  ifindex: number;
  reason: KernelDropCount['reason'];
  peer: string | null;
  total: number;
  interval: number;
  outcomes: KernelDropOutcomes;
  frame: number | null;
}

export class KernelDropTracker {
  private readonly entries = new Map<string, Entry>();
  private other = 0;
  private readonly otherOutcomes = noOutcomes();
  private ringFull = 0;

  constructor(
    private readonly source: { take(): KernelDropTake | null },
    private readonly names: KernelDropNames,
    private readonly cap = KERNEL_DROP_KEYS,
    /** The native matcher's window (FrameMatcher::kWindowNs), shown with the outcomes. */
    private readonly matchWindowMs = 0,
    /** The capture hands its frames to the matcher (AF_PACKET engines; not libpcap). */
    private readonly matching = true,
  ) {}

  /** null while the source is not running (loading, or unavailable). */
  sample(): KernelDropView | null {
    const t = this.source.take();
    if (t === null) return null;
    for (const e of this.entries.values()) e.interval = 0;
    for (const r of t.rows) {
      const key = `${r.netns}\u0000${r.ifindex}\u0000${r.reason}\u0000${r.peer ?? ''}`;
      let e = this.entries.get(key);
      if (!e) {
        // A key's first row carries its first drop (native drops are counted before they
        // resolve), so a key past the cap has its outcomes in otherOutcomes with its drops.
        if (this.entries.size >= this.cap) {
          this.other += r.count;
          addOutcomes(this.otherOutcomes, r.outcomes);
          continue;
        }
        e = { netns: r.netns, ifindex: r.ifindex, reason: r.reason, peer: r.peer, total: 0, interval: 0, outcomes: noOutcomes(), frame: null };
        this.entries.set(key, e);
      }
      e.total += r.count;
      e.interval += r.count;
      addOutcomes(e.outcomes, r.outcomes);
      if (r.frame !== null) e.frame = r.frame;
    }
    this.other += t.overflow;
    addOutcomes(this.otherOutcomes, t.overflowOutcomes);
    this.ringFull = t.ringFull;
    const drops: KernelDropCount[] = [];
    for (const e of this.entries.values()) {
      const namespace = e.netns === 0 ? 'unknown' : (this.names.namespace(e.netns) ?? `netns:${e.netns}`);
      drops.push({
        namespace,
        device: this.names.device(namespace, e.ifindex) ?? `ifindex ${e.ifindex}`,
        reason: e.reason,
        peer: e.peer,
        total: e.total,
        interval: e.interval,
        // Without matching the native side still resolves every drop, to "not captured"
        // (no capture thread told it of a device): not true, so not shown.
        outcomes: this.matching ? { ...e.outcomes } : noOutcomes(),
        pending: this.matching ? e.total - resolvedOf(e.outcomes) : 0,
        frame: e.frame,
      });
    }
    drops.sort((a, b) => b.total - a.total);
    return {
      drops,
      other: this.other,
      otherOutcomes: this.matching ? { ...this.otherOutcomes } : noOutcomes(),
      matchWindowMs: this.matchWindowMs,
      matching: this.matching,
      keys: { size: this.entries.size, cap: this.cap, evicted: this.other },
      ringFull: this.ringFull,
    };
  }
}
