/**
 * Live capture source: attaches AF_PACKET rings to the interfaces the user selected, in
 * the host's and/or other network namespaces, follows interfaces as they appear and
 * vanish (pod veths come and go; rtnetlink link notifications per namespace, see
 * src/host/link-watch.ts), and publishes the native batches as an Observable.
 *
 * Interface ids are allocated here, once per (namespace, ifindex, name) and never
 * reused, so the totals of a vanished interface stay attributable to it. At most
 * MAX_VANISHED vanished interfaces are kept one by one; older ones are folded into one
 * row (src/capture/vanished.ts), with the batch that says so (SourceBatch.folded).
 */
import * as fs from 'node:fs';

import { ReplaySubject, Subject, type Observable } from 'rxjs';

import type { UncapturedLink } from '../diagnose/input.js';
import type { LinkTableStats } from '../host/link-watch.js';
import { netnsIdentity, selectInterfaces, type Link } from '../host/links.js';
import type { NativeFlow } from '../native/analyzer.js';
import { decodeFlows, nativeLayout } from '../native/analyzer.js';
import { eventsOf, recordsOf } from '../native/drain.js';
import type { BadFrameFileStats } from '../native/bad-frame-file.js';
import { namespaceRefused } from '../native/host.js';
import { createLiveCapture, type LiveCaptureOptions, type NativeLiveBatch, type NativeLiveCapture } from '../native/live.js';
import { BatchBacklog } from './batch-backlog.js';
import { attachAll, overRingCap } from './live-attach.js';
import { LinkTables } from './link-tables.js';
import { LiveWriter, type LiveWriteOptions } from './live-writer.js';
import { foldedInterface, foldedName, MAX_VANISHED, VanishedFolder } from './vanished.js';
import {
  CaptureError,
  capturedInterfaceOf,
  type CaptureSource,
  type CapturedInterface,
  type NamespaceSpec,
  type SourceBatch,
  type SourceCapabilities,
} from './source.js';

export { CaptureError, type CapturedInterface, type NamespaceSpec, type SourceBatch } from './source.js';
export { type LiveWriteOptions } from './live-writer.js';

export interface LiveSourceOptions {
  patterns: string[] | null;
  namespaces: NamespaceSpec[];
  capture: LiveCaptureOptions;
  /** How often link notifications are read (ms); new interfaces attach within this. */
  rescanMs: number;
  /** Full re-listing of every namespace's links at least this often (ms), in case a
   * notification was missed; lost notifications (ENOBUFS) re-list at once. Default 60 s. */
  resyncMs?: number;
  /** Notification socket buffer in bytes (default 4 MiB); tests make it tiny. */
  linkRcvbuf?: number;
  /** Capture threads; > 1 spreads each interface over them with PACKET_FANOUT (hash). */
  threads?: number;
  /** -w: bad frames (and --context frames) to a pcap file, written by the capture threads. */
  write?: LiveWriteOptions;
  /** Most ring memory of all interfaces together, in bytes (ringMemoryCap()); absent: no cap. */
  ringMemoryCap?: number;
  /** Vanished interfaces kept one by one (--max-vanished; default MAX_VANISHED). */
  maxVanished?: number;
}

/**
 * The ring memory all interfaces together may take: half of this host's memory. Ring
 * pages are allocated by the kernel for the socket's life and cannot be swapped or
 * reclaimed (net/packet/af_packet.c alloc_pg_vec), so more would be taken from every other
 * process on the node; `--ring-mb 4096` on 3 interfaces took 12.6 GB and 30 s to stop
 * (issue 17). Null when /proc/meminfo cannot be read.
 */
export function ringMemoryCap(meminfo = '/proc/meminfo'): number | null {
  try {
    const kb = /^MemTotal:\s+(\d+) kB/m.exec(fs.readFileSync(meminfo, 'utf8'))?.[1];
    return kb === undefined ? null : Math.floor((Number(kb) * 1024) / 2);
  } catch {
    return null;
  }
}

/** Longest run of batch processing in one event-loop turn (ms): timers and output run between. */
const DRAIN_SLICE_MS = 20;

export class LiveSource implements CaptureSource {
  readonly capabilities: SourceCapabilities = { backend: 'afpacket', kernelChecksumStatus: true, guessesOffload: false };
  private readonly subject = new Subject<SourceBatch>();
  readonly batches$: Observable<SourceBatch> = this.subject.asObservable();
  // Replayed: warnings of start() happen before anyone subscribes.
  private readonly warnings = new ReplaySubject<string>(100);
  readonly warnings$: Observable<string> = this.warnings.asObservable();
  /** One capture engine (native thread) per --threads; rings joined by PACKET_FANOUT. */
  private natives: NativeLiveCapture[] = [];
  private readonly byKey = new Map<string, CapturedInterface>();
  private readonly byId = new Map<number, CapturedInterface>();
  private nextId = 0;
  private timer: NodeJS.Timeout | null = null;
  /** The links of every captured namespace, kept current by notifications. */
  private readonly tables: LinkTables;
  /** When an attach failed: scan again then even without a link change (ms). */
  private retryAt: number | null = null;
  private stopping = false;
  /** Rescan problems already reported: each is said once, not every second. */
  private readonly reported = new Set<string>();
  /** -w: the file every engine writes to. */
  private writer: LiveWriter | null = null;
  /** Batches delivered by the capture threads, processed in event-loop turns of at most
   * DRAIN_SLICE_MS (setImmediate); bounded by what they hold (src/capture/batch-backlog.ts). */
  private readonly backlog = new BatchBacklog();
  private draining = false;
  /** Per engine: batches received through the queue (stop() waits for every queued one). */
  private readonly received = new Map<number, number>();
  /** Set by stop(): called whenever the backlog may have emptied. */
  private settled: (() => void) | null = null;
  /** Which vanished interfaces to fold, and the row they are folded into (once there is one). */
  private readonly vanished: VanishedFolder;
  private foldedRow: CapturedInterface | null = null;

  constructor(private readonly opts: LiveSourceOptions) {
    this.vanished = new VanishedFolder(opts.maxVanished ?? MAX_VANISHED, Math.max(1, opts.threads ?? 1));
    this.tables = new LinkTables({ resyncMs: opts.resyncMs ?? 60_000, retryMs: Math.max(opts.rescanMs, 1000), rcvbuf: opts.linkRcvbuf });
  }

  interfaces(): CapturedInterface[] {
    return [...this.byId.values()];
  }

  interface(id: number): CapturedInterface | undefined {
    return this.byId.get(id);
  }

  /** Attaches the initial interfaces; throws CaptureError when none can be captured. */
  start(): void {
    const threads = Math.max(1, this.opts.threads ?? 1);
    // -w: the file exists, header written, before any ring is opened (and before --user
    // drops root, like tcpdump -Z); an error here ends the run before capture starts.
    const capture = this.opts.write ? { ...this.opts.capture, ...this.openWriter(this.opts.write) } : this.opts.capture;
    try {
      for (let k = 0; k < threads; k++) {
        this.natives.push(createLiveCapture(capture, (b) => this.onBatch(k, b)));
      }
    } catch (err) {
      this.writer?.close();
      // The addon throws TypeError/RangeError for capture options it refuses (ring size,
      // batch interval); -f was compiled before (src/capture/filter-compile.ts).
      throw new CaptureError(`capture options refused: ${(err as Error).message} (see --ring-mb, --interval)`, 'ECAPTURE');
    }
    for (const n of this.natives) n.start();
    const errors = this.scan(true);
    const attached = this.interfaces().filter((i) => i.attached);
    if (attached.length === 0) {
      for (const n of this.natives) n.stop();
      this.natives = [];
      this.writer?.close();
      const perm = errors.find((e) => e.code === 'EPERM');
      if (perm) throw perm;
      throw errors[0] ?? new CaptureError('no interface to capture on (none is up, or none matches -i)', 'ENOIFACE');
    }
    for (const e of errors) this.warnings.next(e.message);
    this.timer = setInterval(() => {
      for (const e of this.scan(false)) this.warnings.next(e.message);
    }, this.opts.rescanMs);
    this.timer.unref();
  }

  /** Opens the -w file with the interfaces selected now (LiveWriter.open). */
  private openWriter(w: LiveWriteOptions): { writer: LiveWriter['file']; context: number } {
    const selected: Link[] = [];
    for (const ns of this.opts.namespaces) {
      try {
        this.tables.of(ns).update();
        selected.push(...selectInterfaces(this.tables.of(ns).links(), this.opts.patterns).selected);
      } catch {
        continue; // scan() reports it
      }
    }
    this.writer = LiveWriter.open(w, selected);
    return { writer: this.writer.file, context: w.context };
  }

  /** -w statistics (null without -w); final once stop() has resolved. */
  writerStats(): BadFrameFileStats | null {
    return this.writer ? this.writer.stats() : null;
  }

  /** A write error since the last look becomes a warning (the first of each run of them). */
  private checkWriter(): void {
    const msg = this.writer?.check(this.reported) ?? null;
    if (msg !== null) this.warnings.next(msg);
  }

  /**
   * Stops capturing; resolves once every batch in flight has been processed: those still
   * queued to JavaScript, then each engine's final batch (the run's totals). Only then
   * is the report made, so its totals are the native counters' (issue 17 item 3: the
   * stop used to resolve on the first batch processed after it, often an old one).
   */
  async stop(): Promise<SourceBatch | null> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.closeTables();
    if (this.natives.length === 0 || this.stopping) return null;
    this.stopping = true;
    const stops = this.natives.map((n) => n.stop());
    await new Promise<void>((resolve) => {
      const check = (): void => {
        const delivered = stops.every((st, k) => (this.received.get(k) ?? 0) >= st.queued);
        if (delivered && this.backlog.length === 0 && !this.draining) {
          this.settled = null;
          resolve();
        }
      };
      this.settled = check;
      check();
    });
    let last: SourceBatch | null = null;
    for (const [k, st] of stops.entries()) if (st.final) last = this.process(k, st.final);
    this.checkWriter();
    this.writer?.close(); // every engine has stopped: nothing writes to it any more
    return last;
  }

  /** Per engine, the interfaces whose counters it still holds; only after stop() (tests). */
  nativeInterfacesHeld(): number[] {
    return this.natives.map((n) => n.interfacesHeld());
  }

  /** The bad-flow table (merged over engines); only after stop() has resolved. */
  flows(limit = 0): NativeFlow[] {
    // Each capture thread's most frequent `limit`: PACKET_FANOUT_HASH keeps a flow on one
    // thread, so the merged top `limit` is the top of the whole.
    const L = nativeLayout();
    return topFlows(mergeFlows(this.natives.flatMap((n) => decodeFlows(n.flowsPacked(limit), L))), limit);
  }

  complete(): void {
    this.subject.complete();
    this.warnings.complete();
  }

  private onBatch(engine: number, b: NativeLiveBatch): void {
    this.received.set(engine, (this.received.get(engine) ?? 0) + 1);
    this.backlog.push(engine, b, this.stopping);
    this.sayBacklog();
    if (!this.draining) {
      this.draining = true;
      setImmediate(() => this.drain());
    }
  }

  /** Tells the engines what the backlog holds: their queues and it share one bound (MAX_BACKLOG_BYTES). */
  private sayBacklog(): void {
    for (const n of this.natives) n.backlogBytes(this.backlog.bytes);
  }

  /** Processes waiting batches for up to DRAIN_SLICE_MS, then yields the turn. */
  private drain(): void {
    const until = performance.now() + DRAIN_SLICE_MS;
    do {
      const next = this.backlog.shift();
      if (!next) break;
      this.process(next.engine, next.b);
    } while (performance.now() < until);
    this.sayBacklog();
    if (this.backlog.length > 0) setImmediate(() => this.drain());
    else this.draining = false;
    this.settled?.();
  }

  private process(engine: number, raw: NativeLiveBatch): SourceBatch {
    // Counts dropped here are cumulative like the engine's own.
    const thinned = this.backlog.thinned(engine);
    const b = {
      ...raw,
      eventsDropped: raw.eventsDropped + thinned.events,
      recordsDropped: raw.recordsDropped + thinned.records,
    };
    this.checkWriter();
    for (const g of b.gone) {
      const i = this.byId.get(g.id);
      if (i && i.attached) {
        i.attached = false;
        i.detachReason = `device gone (${g.reason})`;
        this.vanished.detached(i.id);
        // Every engine closes it (one whose socket has not said so yet, too): each then
        // releases it, and only then can it be folded.
        for (const n of this.natives) n.removeInterface(i.id);
      }
    }
    this.vanished.releasedBy(b, (id) => this.byId.has(id));
    const folded = this.fold();
    const batch: SourceBatch = {
      engine,
      seq: b.seq,
      monoNs: b.monoNs,
      ids: b.ids,
      counters: b.counters,
      ring: b.ring,
      records: recordsOf(b),
      recordsDropped: b.recordsDropped,
      events: eventsOf(b),
      wallNs: Date.now() * 1e6,
      badFlowTable: { kept: b.badFlows, evicted: b.badFlowsEvicted },
      ...(folded ? { folded } : {}),
    };
    this.subject.next(batch);
    return batch;
  }

  /**
   * Folds the oldest vanished interfaces beyond the cap into one row, once every engine
   * has sent their last counters: they leave the interface list (their counters move with
   * SourceBatch.folded). Null when none is folded now.
   */
  private fold(): { ids: number[]; interfaces: CapturedInterface[]; into: number } | null {
    const ids = this.vanished.take();
    if (ids.length === 0) return null;
    if (this.foldedRow === null) {
      this.foldedRow = foldedInterface(this.nextId++, 0);
      this.byId.set(this.foldedRow.id, this.foldedRow);
    }
    const interfaces: CapturedInterface[] = [];
    for (const id of ids) {
      const i = this.byId.get(id);
      if (!i) continue;
      interfaces.push(i);
      this.byId.delete(id);
      if (this.byKey.get(this.keyOf(i)) === i) this.byKey.delete(this.keyOf(i));
    }
    this.foldedRow.folded = this.vanished.folded;
    this.foldedRow.name = this.foldedRow.label = foldedName(this.vanished.folded);
    return { ids, interfaces, into: this.foldedRow.id };
  }

  private keyOf(i: CapturedInterface): string {
    return linkKey(i.namespace, i);
  }

  /**
   * Stops looking for new interfaces (after privileges are dropped, like tcpdump -Z:
   * new sockets could not be opened). Attached interfaces keep capturing, and one that
   * vanishes is still noticed through its socket.
   */
  freeze(reason: string): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.closeTables();
    this.warnings.next(`interfaces that appear from now on are not attached: ${reason}`);
  }

  private closeTables(): void {
    this.tables.close();
  }

  /** Links up and not captured (loopback aside), from the link tables as of the last scan. */
  uncaptured(): UncapturedLink[] {
    return this.tables.uncaptured(this.opts.namespaces, (namespace, l) => this.byKey.get(linkKey(namespace, l))?.attached === true);
  }

  /** Statistics of the link notifications, summed over namespaces (tests, benchmarks). */
  linkWatchStats(): LinkTableStats {
    return this.tables.stats();
  }

  /**
   * Brings every namespace's links up to date from their notifications, then attaches
   * new matches and detaches vanished ones. The attach/detach pass runs only when some
   * namespace's links changed (or a failed attach is due for a retry): with 1000 idle
   * interfaces a rescan is a non-blocking read per namespace.
   */
  private scan(initial: boolean): CaptureError[] {
    const errors: CaptureError[] = [];
    const seen = new Set<string>();
    const requested = this.opts.patterns;
    const unmatchedEverywhere = new Map<string, number>();
    const failed = new Map<string, Error>();
    let changed = initial;
    for (const ns of this.opts.namespaces) {
      try {
        if (this.tables.of(ns).update()) changed = true;
      } catch (err) {
        failed.set(ns.label, err as Error);
      }
    }
    if (this.retryAt !== null && Date.now() >= this.retryAt) changed = true;
    if (!changed) {
      for (const err of failed.values()) {
        const msg = err.message;
        if (this.reported.has(msg)) continue;
        this.reported.add(msg);
        errors.push(new CaptureError(`${msg}; interfaces appearing there are not attached`, namespaceCode(err)));
      }
      return errors;
    }
    this.retryAt = null;
    const todo: Array<{ iface: CapturedInterface; link: Link; netns: string | undefined; key: string }> = [];
    for (const ns of this.opts.namespaces) {
      let links: Link[];
      try {
        const err = failed.get(ns.label);
        if (err) throw err;
        links = this.tables.of(ns).links();
      } catch (err) {
        // A namespace we cannot read now (gone, or privileges dropped) keeps its
        // interfaces: a vanished device is reported by its socket (EPOLLERR) anyway.
        for (const i of this.byKey.values()) if (i.namespace === ns.label) seen.add(this.keyOf(i));
        const msg = (err as Error).message; // names the namespace as the user did
        if (initial) errors.push(new CaptureError(msg, namespaceCode(err)));
        else if (!this.reported.has(msg)) {
          this.reported.add(msg);
          errors.push(new CaptureError(`${msg}; interfaces appearing there are not attached`, namespaceCode(err)));
        }
        continue;
      }
      const sel = selectInterfaces(links, requested);
      for (const name of sel.unmatched) unmatchedEverywhere.set(name, (unmatchedEverywhere.get(name) ?? 0) + 1);
      for (const link of sel.selected) {
        const key = linkKey(ns.label, link);
        seen.add(key);
        const known = this.byKey.get(key);
        if (known) {
          known.down = !link.up; // a ring survives down and up (live_capture.cc): only shown
          continue;
        }
        todo.push({ iface: capturedInterfaceOf(link, this.nextId++, ns.label), link, netns: ns.path ?? undefined, key });
      }
    }
    // Vanished ones first: their rings no longer count against the cap below, so an
    // interface refused for ring memory is attached once others have gone.
    for (const [key, iface] of this.byKey) {
      if (seen.has(key) || !iface.attached) continue;
      iface.attached = false;
      iface.detachReason = 'interface removed';
      this.vanished.detached(iface.id);
      for (const n of this.natives) n.removeInterface(iface.id);
    }
    const cap = this.opts.ringMemoryCap;
    // The addon's defaults (native/napi/live_napi.cc): 1 MiB blocks, 8 of them.
    const ringBytes = (this.opts.capture.blockSize ?? 1 << 20) * (this.opts.capture.blockCount ?? 8);
    const overCap =
      cap === undefined
        ? null
        : overRingCap(
            todo,
            { cap, ringBytes, threads: Math.max(1, this.opts.threads ?? 1), attached: this.interfaces().filter((i) => i.attached).length },
            initial,
          );
    if (overCap !== null) {
      if (initial) return [overCap]; // nothing attached: start() exits 2 with it
      if (!this.reported.has(overCap.message)) {
        this.reported.add(overCap.message);
        errors.push(overCap);
      }
    }
    // Every new interface of every namespace at once: the rings open in parallel.
    const failures = attachAll(this.natives, todo);
    todo.forEach(({ iface, link, key }, k) => {
      const e = failures[k];
      if (e === null) {
        iface.attached = true;
        this.byKey.set(key, iface);
        this.byId.set(iface.id, iface);
        return;
      }
      // An interface that vanished between listing and opening is not an error.
      if (!initial && e.code === 'ENODEV') return;
      const msg = `${iface.namespace}/${link.name}: ${e.message}`;
      this.retryAt = Date.now() + Math.max(this.opts.rescanMs, 1000);
      if (initial || !this.reported.has(msg)) {
        this.reported.add(msg);
        errors.push(new CaptureError(msg, e.code === 'EPERM' ? 'EPERM' : 'ECAPTURE'));
      }
    });
    if (initial && requested) {
      // An exact name must exist in at least one captured namespace.
      for (const [name, count] of unmatchedEverywhere) {
        if (count === this.opts.namespaces.length) {
          errors.push(new CaptureError(`no such interface: ${name}`, 'ENOIFACE'));
        }
      }
    }
    return errors;
  }
}

/** A namespace that cannot be read: EPERM when entering it was refused (the addon's errno), else ECAPTURE. */
function namespaceCode(err: unknown): 'EPERM' | 'ECAPTURE' {
  return namespaceRefused(err) ? 'EPERM' : 'ECAPTURE';
}

/** Resolves the namespaces to capture in, dropping duplicates of the same namespace. */
export function namespaceSpecs(
  netns: string[],
  pids: number[],
  includeHost: boolean,
  resolve: {
    netns: (s: string) => string;
    pid: (p: number) => string;
  },
): NamespaceSpec[] {
  const specs: NamespaceSpec[] = [];
  if (includeHost) specs.push({ label: 'host', path: null });
  for (const n of netns) specs.push({ label: n.includes('/') ? n : n, path: resolve.netns(n) });
  for (const p of pids) specs.push({ label: `pid:${p}`, path: resolve.pid(p) });
  const seen = new Set<string>();
  const hostId = (() => {
    try {
      return netnsIdentity('/proc/self/ns/net');
    } catch {
      return null;
    }
  })();
  return specs.filter((s) => {
    let id: string;
    try {
      id = s.path === null ? (hostId ?? 'host') : netnsIdentity(s.path);
    } catch {
      return true; // reported when its links are listed
    }
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/** Report order (most bad frames first, then first seen), at most `limit` (0: all). */
export function topFlows(flows: NativeFlow[], limit: number): NativeFlow[] {
  const sorted = [...flows].sort((a, b) => b.count - a.count || (a.firstNs < b.firstNs ? -1 : a.firstNs > b.firstNs ? 1 : 0));
  return limit > 0 ? sorted.slice(0, limit) : sorted;
}

/** Flows of several engines: the same flow key seen by two threads becomes one flow. */
export function mergeFlows(flows: NativeFlow[]): NativeFlow[] {
  const byKey = new Map<string, NativeFlow>();
  const ep = (e: NativeFlow['outer'] | undefined): string => (e ? `${e.family}/${e.proto}/${e.src}/${e.dst}/${e.sport ?? '-'}/${e.dport ?? '-'}` : '');
  for (const f of flows) {
    const key = `${f.iface}|${f.tunnel}|${f.vni}|${ep(f.outer)}|${ep(f.inner)}`;
    const m = byKey.get(key);
    if (!m) {
      byKey.set(key, { ...f });
      continue;
    }
    m.count += f.count;
    m.badMask |= f.badMask;
    if (f.firstNs < m.firstNs) {
      m.firstNs = f.firstNs;
      m.exampleFrame = f.exampleFrame;
      m.example = f.example;
    }
    if (f.lastNs > m.lastNs) m.lastNs = f.lastNs;
  }
  return [...byKey.values()];
}

/** An interface's identity across scans: a device renamed, or replaced under its name, is a new one. */
function linkKey(namespace: string, l: { ifindex: number; name: string }): string {
  return `${namespace}\0${l.ifindex}\0${l.name}`;
}
