/**
 * The portable fallback: libpcap through the optional `cap` package, one handle per
 * interface, frames fed one at a time to the same native analyzer (FrameSink), batches
 * cut on a timer. libpcap drops the kernel's checksum status (it enables PACKET_AUXDATA
 * only for VLAN tags), so offload is guessed: a bad transport checksum whose field holds
 * exactly the pseudo-header sum is taken for pending. Every output says this backend
 * guesses (capabilities.guessesOffload).
 *
 * Interfaces are followed like AF_PACKET capture's: from rtnetlink notifications
 * (src/host/link-watch.ts), so a rescan with nothing changed costs one recvmsg(2), not a
 * listing of every link.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ReplaySubject, Subject, type Observable } from 'rxjs';

import type { UncapturedLink } from '../diagnose/input.js';
import { LinkTable } from '../host/link-watch.js';
import { listLinks, selectInterfaces, type Link } from '../host/links.js';
import { decodeFlows, nativeLayout, type NativeFlow } from '../native/analyzer.js';
import { isOverlayRole } from '../model/interface.js';
import { ROOT } from '../native/addon.js';
import { eventsOf, recordsOf } from '../native/drain.js';
import { topFlows } from './live-source.js';
import { createFrameSink, type FrameSink, type FrameSinkOptions } from '../native/frame-sink.js';
import { CaptureError, capturedInterfaceOf, type CaptureSource, type CapturedInterface, type SourceBatch, type SourceCapabilities } from './source.js';

/** The part of `cap`'s API we use (cap/lib/Cap.js). */
interface CapHandle {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  setMinBytes?(n: number): void;
  on(event: 'packet', fn: (nbytes: number, truncated: boolean) => void): void;
  close(): void;
}
interface CapModule {
  Cap: new () => CapHandle;
}

/** cap's link-type names to LINKTYPE_* numbers (https://www.tcpdump.org/linktypes.html). */
const LINKTYPES: Record<string, number> = {
  ETHERNET: 1,
  NULL: 0,
  RAW: 101,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL: 113,
  LINUX_SLL2: 276,
};

const SNAPLEN = 262144;

/**
 * The vendored `cap` (native/vendor/cap), compiled by the install step when a compiler and
 * libpcap's headers exist (scripts/install.js); when it was not, that step left the reason
 * in build/not-built.txt, and the error says it.
 */
export function loadCap(): CapModule {
  const dir = path.join(ROOT, 'native', 'vendor', 'cap');
  try {
    return createRequire(__filename)(dir) as CapModule;
  } catch (err) {
    let why: string;
    try {
      why = readFileSync(path.join(dir, 'build', 'not-built.txt'), 'utf8').trim();
    } catch {
      why = `it did not load: ${(err as Error).message.split('\n')[0]}`;
    }
    throw new CaptureError(
      `the libpcap backend (the vendored cap in ${dir}) is unavailable: ${why}. ` +
        'To build it: install g++, make, python3 and libpcap-dev, then run `npm rebuild csumtop` ' +
        "(in a checkout: npm ci); csumtop's own capture (the default backend) does not need it",
      'EBACKEND',
    );
  }
}

export interface LibpcapSourceOptions {
  patterns: string[] | null;
  filter: string | null;
  /** -c COUNT: frames past it are not counted (the capture stops on the counters). */
  count?: number;
  promisc: boolean;
  batchMs: number;
  rescanMs: number;
  sink: FrameSinkOptions;
}

export class LibpcapSource implements CaptureSource {
  readonly capabilities: SourceCapabilities = { backend: 'libpcap', kernelChecksumStatus: false, guessesOffload: true };
  private readonly subject = new Subject<SourceBatch>();
  readonly batches$: Observable<SourceBatch> = this.subject.asObservable();
  private readonly warnings = new ReplaySubject<string>(100);
  readonly warnings$: Observable<string> = this.warnings.asObservable();
  private readonly handles = new Map<number, CapHandle>();
  private readonly byName = new Map<string, CapturedInterface>();
  private readonly byId = new Map<number, CapturedInterface>();
  private sink: FrameSink | null = null;
  private cap: CapModule | null = null;
  private nextId = 0;
  private seq = 0;
  /** -c: frames that may still be counted. */
  private budget = Infinity;
  private batchTimer: NodeJS.Timeout | null = null;
  private rescanTimer: NodeJS.Timeout | null = null;
  /** libpcap opens devices in csumtop's own namespace: one table, the current namespace's. */
  private readonly table: LinkTable;
  private tableFailed = false;

  constructor(private readonly opts: LibpcapSourceOptions) {
    this.table = new LinkTable(null, 'host', { resyncMs: 60_000, retryMs: Math.max(opts.rescanMs, 1000) });
  }

  interfaces(): CapturedInterface[] {
    return [...this.byId.values()];
  }

  start(): void {
    this.cap = loadCap();
    this.sink = createFrameSink({ ...this.opts.sink, guessOffload: true });
    this.budget = this.opts.count ?? Infinity;
    const errors = this.scan(true);
    if (this.handles.size === 0) {
      throw errors.find((e) => e.code === 'EPERM') ?? errors[0] ?? new CaptureError('no interface to capture on (none is up, or none matches -i)', 'ENOIFACE');
    }
    for (const e of errors) this.warnings.next(e.message);
    this.warnings.next("the libpcap backend cannot see the kernel's checksum status: offload artifacts are guessed from checksum values");
    this.batchTimer = setInterval(() => this.emit(), this.opts.batchMs);
    this.rescanTimer = setInterval(() => {
      for (const e of this.scan(false)) this.warnings.next(e.message);
    }, this.opts.rescanMs);
    this.batchTimer.unref();
    this.rescanTimer.unref();
  }

  stop(): Promise<SourceBatch | null> {
    if (this.batchTimer) clearInterval(this.batchTimer);
    if (this.rescanTimer) clearInterval(this.rescanTimer);
    this.batchTimer = this.rescanTimer = null;
    this.table.close();
    for (const h of this.handles.values()) h.close();
    this.handles.clear();
    return Promise.resolve(this.sink ? this.emit() : null);
  }

  freeze(reason: string): void {
    if (this.rescanTimer) clearInterval(this.rescanTimer);
    this.rescanTimer = null;
    this.warnings.next(`interfaces that appear from now on are not attached: ${reason}`);
  }

  flows(limit = 0): NativeFlow[] {
    return this.sink ? topFlows(decodeFlows(this.sink.flowsPacked(), nativeLayout()), limit) : [];
  }

  complete(): void {
    this.subject.complete();
    this.warnings.complete();
  }

  private emit(): SourceBatch | null {
    if (!this.sink) return null;
    const b = this.sink.takeBatch();
    const batch: SourceBatch = {
      engine: 0,
      seq: ++this.seq,
      monoNs: process.hrtime.bigint(),
      ids: b.ids,
      counters: b.counters,
      ring: new Float64Array(b.ids.length * 3),
      records: recordsOf(b),
      recordsDropped: b.recordsDropped,
      events: eventsOf(b),
      wallNs: Date.now() * 1e6,
    };
    this.subject.next(batch);
    return batch;
  }

  private open(iface: CapturedInterface): void {
    const h = new this.cap!.Cap();
    const buf = Buffer.alloc(SNAPLEN);
    let linktype: number;
    try {
      const lt = h.open(iface.name, this.opts.filter ?? '', 10 * 1024 * 1024, buf);
      linktype = LINKTYPES[lt] ?? 0xffff;
    } catch (err) {
      // PCAP_ERROR_PERM_DENIED, as the vendored cap's Error code (native/vendor/cap/README.md).
      const refused = (err as Error & { code?: string }).code === 'EPERM';
      const m = (err as Error).message + (refused ? ' (capturing needs CAP_NET_RAW: run as root or grant it)' : '');
      throw new CaptureError(`${iface.name}: ${m}`, refused ? 'EPERM' : 'ECAPTURE');
    }
    h.setMinBytes?.(0);
    const sink = this.sink!;
    // Overlay devices' plain packets are matched against the carriers (as AF_PACKET does).
    sink.setOverlay(iface.id, isOverlayRole(iface.role));
    h.on('packet', (nbytes, truncated) => {
      if (this.budget <= 0) return;
      this.budget--;
      // cap reports no timestamp and no original length: take the arrival time, and
      // mark a truncated frame as one byte longer on the wire.
      sink.process(iface.id, buf.subarray(0, nbytes), truncated ? nbytes + 1 : nbytes, BigInt(Date.now()) * 1_000_000n, linktype);
    });
    this.handles.set(iface.id, h);
  }

  /** Links up and not captured (loopback aside), as of the last scan. */
  uncaptured(): UncapturedLink[] {
    const links = this.tableFailed ? [] : this.table.links();
    return links
      .filter((l) => l.up && !l.loopback && !this.byName.get(l.name)?.attached)
      .map((l) => ({ namespace: 'host', name: l.name, kind: l.kind, ifindex: l.ifindex }));
  }

  /** The current links, or null when nothing changed since the last scan. */
  private currentLinks(initial: boolean): Link[] | null {
    try {
      const changed = this.table.update();
      this.tableFailed = false;
      return initial || changed ? this.table.links() : null;
    } catch {
      // No notifications (the watch could not be opened): list every time, as before.
      this.tableFailed = true;
      return listLinks();
    }
  }

  private scan(initial: boolean): CaptureError[] {
    const errors: CaptureError[] = [];
    const links = this.currentLinks(initial);
    if (links === null) return errors;
    const sel = selectInterfaces(links, this.opts.patterns);
    if (initial) for (const n of sel.unmatched) errors.push(new CaptureError(`no such interface: ${n}`, 'ENOIFACE'));
    // A pcap handle does not outlive its device going down: the socket gets POLLERR
    // (af_packet.c packet_notifier, NETDEV_DOWN) and libuv stops polling it
    // (native/vendor/cap/README.md). So a link that is down is not captured, and one that
    // went down, away, or was replaced under the same name gets a new handle once up.
    const up = new Map(sel.selected.filter((l) => l.up).map((l) => [l.name, l]));
    const selected = new Set(sel.selected.map((l) => l.name));
    for (const [name, iface] of this.byName) {
      if (!iface.attached) continue;
      const now = up.get(name);
      if (now && now.ifindex === iface.ifindex) continue;
      iface.attached = false;
      iface.detachReason = !selected.has(name) ? 'interface removed' : now ? 'interface replaced' : 'interface down';
      this.handles.get(iface.id)?.close();
      this.handles.delete(iface.id);
    }
    if (initial) {
      for (const l of sel.selected) if (!l.up) errors.push(new CaptureError(`${l.name}: the interface is down; it is attached when it comes up`, 'ECAPTURE'));
    }
    for (const link of up.values()) {
      if (this.byName.get(link.name)?.attached) continue;
      const iface = capturedInterfaceOf(link, this.nextId++, 'host');
      try {
        this.open(iface);
        iface.attached = true;
      } catch (err) {
        errors.push(err as CaptureError);
        continue;
      }
      this.byName.set(link.name, iface);
      this.byId.set(iface.id, iface);
    }
    return errors;
  }
}
