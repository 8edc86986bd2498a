/**
 * Vanished interfaces, bounded (issue 14; issue 17 item 12). On a Kubernetes node pods come
 * and go for weeks, and each pod veth csumtop captured keeps its totals after it vanished
 * (the report's rows must still add up to its totals). Kept one by one, that state grows
 * without end: 8-27 KB of JavaScript per interface (measured with different outputs on)
 * and 864 bytes of native counters per capture thread (docs/line-rate.md, "Memory
 * bounds"). So at most MAX_VANISHED of them are kept one by one; when one more vanishes,
 * the oldest is folded into a single row, "(N older vanished interfaces)", its counters
 * added to that row's and its state released in JavaScript. The capture engines release
 * an interface's counters as soon as its last ones went out (LiveBatch.released); the
 * fold waits for that, from every engine, so nothing it counted is lost.
 *
 * Interface ids are not reused: a folded interface's id is simply never seen again (the
 * engines forgot it, src/capture/live-state.ts dropped it), so nothing that still names it
 * (a bad flow in a native table, a record in flight, a rate window) can land on a new
 * interface; ids only grow, and 2^32 of them at one new pod a second is 136 years. Reusing
 * ids would have saved nothing (the native counters are a hash map by id) and made every
 * table keyed by id a place where a new pod could inherit a folded one's counts.
 */
import type { CapturedInterface } from './source.js';

/**
 * Vanished interfaces kept one by one by default (--max-vanished). 256: more than the pods
 * a node runs at once (Kubernetes' default limit is 110 per node), so the interfaces of the
 * last full turnover of a node's pods stay individually visible, while what they cost
 * stays small: 256 x 8-27 KB = 2-7 MB of the DaemonSet's memory limit (docs/line-rate.md).
 * A node that runs more pods, or churns them faster, may want more.
 */
export const MAX_VANISHED = 256;

/** The folded row's name: what the report, JSON and the dashboard show. */
export function foldedName(count: number): string {
  return `(${count} older vanished interface${count === 1 ? '' : 's'})`;
}

/** Which interfaces to fold into the row, and when: bookkeeping only, no counters. */
export class VanishedFolder {
  /** Detached interfaces not folded yet, oldest first. */
  private readonly queue: number[] = [];
  private head = 0;
  /** Per detached (or about to be) id: engines that released it (sent its last counters). */
  private readonly releases = new Map<number, number>();
  /** Interfaces folded so far. */
  folded = 0;

  /**
   * @param cap detached interfaces kept one by one
   * @param engines capture engines (threads): an interface can be folded once every one
   *   of them has sent its last counters and forgotten it, not before (they would be lost).
   */
  constructor(
    readonly cap: number,
    private readonly engines: number,
  ) {}

  /** An interface was detached (removed, or its socket said the device is gone). */
  detached(id: number): void {
    this.queue.push(id);
    if (!this.releases.has(id)) this.releases.set(id, 0);
  }

  /** One engine forgot `id` (LiveBatch.released): its last counters were in that batch. */
  released(id: number): void {
    this.releases.set(id, (this.releases.get(id) ?? 0) + 1);
  }

  /**
   * The interfaces one engine's batch released, for those `known` (not folded yet). Its
   * final batch releases every interface it carries: nothing comes from that engine after
   * it. A removal asked just before the stop may not have been applied by then (the capture
   * thread stops at its next wake-up, native/capture/live_capture.cc run), and without
   * this the interface stayed a row of its own in the report although it had vanished
   * (CI, 2026-12-07: 5 of 20 with --max-vanished 0).
   */
  releasedBy(b: { ids: Uint32Array; released: Uint32Array; final: boolean }, known: (id: number) => boolean): void {
    for (const id of b.final ? b.ids : b.released) if (known(id)) this.released(id);
  }

  /** Detached interfaces kept one by one now. */
  get kept(): number {
    return this.queue.length - this.head;
  }

  /**
   * The ids to fold now: the oldest detached ones beyond the cap, in order, each once every
   * engine has released it (until then it waits, and so do the younger ones behind it).
   */
  take(): number[] {
    const out: number[] = [];
    while (this.kept > this.cap) {
      const id = this.queue[this.head];
      if ((this.releases.get(id) ?? 0) < this.engines) break;
      this.head++;
      this.releases.delete(id);
      out.push(id);
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    this.folded += out.length;
    return out;
  }
}

/** The folded row as a captured interface: detached, in no one namespace (its label is
 * its name, which says what it is). */
export function foldedInterface(id: number, count: number): CapturedInterface {
  return {
    id,
    name: foldedName(count),
    namespace: '*',
    label: foldedName(count),
    linktype: null,
    ifindex: 0,
    kind: null,
    role: 'other',
    driver: null,
    txChecksumOffload: null,
    vxlan: null,
    attached: false,
    detachReason: 'vanished interfaces folded together',
    down: false,
    folded: count,
  };
}
