/**
 * Runs the dashboard over a feed of updates (live capture, file replay, demo): owns the
 * screen for the duration and gives the terminal back on every path. The feed decides
 * where numbers come from; this module only knows DashboardUpdate.
 */
import type { Observable, Subscription } from 'rxjs';

import type { DecodedRecord } from '../model/bad-frame.js';
import { defaultPcapName, LINKTYPE_ETHERNET, writeFramesPcap } from '../output/pcap-frames.js';
import { flowKey, type DashboardState, type DashboardUpdate, type Effect, type RunInfo } from './dashboard-state.js';
import { DashboardScreen, terminalPolicy, type DashboardFix } from './screen.js';

/** A bad frame (src/model/bad-frame.ts) kept for `w` (so with its bytes), labelled like
 * the flows it belongs to. */
export interface RecentFrame extends Pick<DecodedRecord, 'outer' | 'vni' | 'inner' | 'tsNs' | 'wirelen'> {
  interface: string;
  bytes: Uint8Array;
  /** pcap link type of the interface (Ethernet, or raw IP for tunnel devices). */
  linktype: number;
}

/** The last `cap` bad frames with bytes (a ring: memory stays bounded whatever the rate). */
export class RecentFrames {
  private readonly ring: RecentFrame[] = [];
  private next = 0;
  evicted = 0;

  constructor(readonly cap = 2000) {}

  /** `n` frames that came before the ones added next and would have been pushed out by them. */
  passedOver(n: number): void {
    this.evicted += n;
  }

  add(f: RecentFrame): void {
    if (this.ring.length < this.cap) this.ring.push(f);
    else {
      this.ring[this.next] = f;
      this.next = (this.next + 1) % this.cap;
      this.evicted++;
    }
  }

  /** Oldest first. */
  list(): RecentFrame[] {
    return [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
  }
}

export interface DashboardFeed {
  updates$: Observable<DashboardUpdate>;
  warnings$: Observable<string>;
  /** Emits once when the source has nothing more (replay at end of file). */
  finished$: Observable<void>;
  recent: RecentFrames;
  /** Link type of an interface by label, for flow samples written without a recent frame. */
  linktypeOf?: (label: string) => number;
  /** A peer address's name when one is known (src/host/peer-names.ts); absent with -n. */
  peerName?: (addr: string) => string | null;
}

/** The update with the names of the peers it shows (only those: a name lookup is per peer, not per flow). */
export function withPeerNames(u: DashboardUpdate, peerName: ((addr: string) => string | null) | undefined): DashboardUpdate {
  if (!peerName) return u;
  const names = new Map<string, string>();
  const add = (addr: string | null): void => {
    if (addr === null || names.has(addr)) return;
    const n = peerName(addr);
    if (n !== null) names.set(addr, n);
  };
  for (const f of u.snapshot.badFlows) add(f.peer);
  for (const p of u.snapshot.peers) add(p.peer);
  for (const f of u.snapshot.findings) add(f.subject.peer ?? null);
  return { ...u, peerNames: names };
}

export interface DashboardOptions {
  run: RunInfo;
  intervalMs: number;
  env?: NodeJS.ProcessEnv;
  /** Directory for `w` files (default: the working directory). */
  pcapDir?: string;
  /** A remedy `F` applies (only the demo has one). */
  fix?: DashboardFix;
}

/** The frames `w` writes: recent frames of the shown flows, or their samples when none was kept. */
export function framesForFlows(
  e: Extract<Effect, { type: 'write-pcap' }>,
  recent: RecentFrames,
  linktypeOf: (label: string) => number = () => LINKTYPE_ETHERNET,
): RecentFrame[] {
  const keys = new Set(e.flows.map(flowKey));
  const frames = recent.list().filter((f) => keys.has(flowKey(f)));
  if (frames.length > 0) return frames;
  return e.flows.flatMap((f) =>
    f.sample?.bytes
      ? [
          {
            interface: f.interface,
            outer: f.outer,
            vni: f.vni,
            inner: f.inner,
            tsNs: tsOf(f.sample.time),
            bytes: f.sample.bytes,
            wirelen: f.sample.wirelen,
            linktype: linktypeOf(f.interface),
          },
        ]
      : [],
  );
}

function tsOf(iso: string): bigint {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(iso);
  if (!m) return BigInt(Date.parse(iso)) * 1_000_000n;
  return BigInt(Date.parse(`${m[1]}Z`)) * 1_000_000n + BigInt((m[2] ?? '0').padEnd(9, '0').slice(0, 9));
}

/** Shows the dashboard until the user quits (or a signal); resolves with the final state. */
export async function runDashboard(feed: DashboardFeed, opts: DashboardOptions): Promise<DashboardState> {
  const policy = terminalPolicy(opts.env ?? process.env);
  let written = 0;
  const screen = new DashboardScreen({
    run: opts.run,
    intervalMs: opts.intervalMs,
    colour: policy.colour,
    ascii: policy.ascii,
    dumb: policy.dumb,
    fix: opts.fix,
    writePcap: (e) => {
      const all = framesForFlows(e, feed.recent, feed.linktypeOf);
      if (all.length === 0) return 'w: no bad frame with bytes to write';
      // A classic pcap has one link type: the most common one is written, the rest counted.
      const byType = new Map<number, RecentFrame[]>();
      for (const f of all) byType.set(f.linktype, [...(byType.get(f.linktype) ?? []), f]);
      const [linktype, frames] = [...byType].sort((a, b) => b[1].length - a[1].length)[0];
      const left = all.length - frames.length;
      const name = defaultPcapName(Date.now() + written++ * 1000, opts.pcapDir);
      try {
        return `wrote ${frames.length} bad frames to ${writeFramesPcap(name, frames, linktype)}${left > 0 ? ` (${left} of another link type left out)` : ''}`;
      } catch (err) {
        return `w: could not write ${name}: ${(err as Error).message}`;
      }
    },
  });
  const subs: Subscription[] = [];
  try {
    screen.start();
    subs.push(
      feed.updates$.subscribe({
        next: (u) => {
          screen.push(withPeerNames(u, feed.peerName));
          // A new interval is the timer's beat: paint it now rather than up to one interval late.
          screen.draw();
        },
        error: (err: Error) => screen.warn(`capture stopped: ${err.message}`),
      }),
      feed.warnings$.subscribe((w) => screen.warn(w)),
      feed.finished$.subscribe(() => screen.finished()),
    );
    await screen.quit;
    return screen.current;
  } finally {
    for (const s of subs) s.unsubscribe();
    screen.destroy();
  }
}
