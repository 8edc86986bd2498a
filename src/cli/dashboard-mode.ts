/**
 * The dashboard's data: a live capture (`sudo csumtop` on a terminal, `--demo`) or a
 * capture file replayed (`csumtop -r FILE` on a terminal) fed through the correlation
 * pipeline, one update per interval, into src/ui/dashboard.ts.
 */
import * as os from 'node:os';
import { Subject, type Observable } from 'rxjs';

import { fileInterfaces, InputError } from '../capture/file-run.js';
import type { NamespaceSpec } from '../capture/live-source.js';
import { isoOf } from '../correlate/context.js';
import { Correlator, type PipelineInterface } from '../correlate/pipeline.js';
import { readKernelFacts } from '../host/facts.js';
import { nativeLayout, openFileAnalysis } from '../native/analyzer.js';
import { eventsOf, recordsOf } from '../native/drain.js';
import { LINKTYPE_ETHERNET } from '../output/pcap-frames.js';
import { closingSummary } from '../output/answer.js';
import type { PackedRecords } from '../native/records.js';
import type { DashboardUpdate, InterfaceMeta } from '../ui/dashboard-state.js';
import { dashboardCpu } from '../ui/cpu-meter.js';
import { RecentFrames, runDashboard, type DashboardFeed } from '../ui/dashboard.js';
import { PeerNames } from '../host/peer-names.js';
import type { DashboardFix } from '../ui/screen.js';
import type { Options } from './args.js';
import { EXIT_BAD, EXIT_OK, EXIT_USAGE } from './exit-status.js';
import { LiveFeed } from './live-feed.js';
import { prepareLive, startLive, type LiveIo } from './live-session.js';
import { shutdown } from './shutdown.js';

/** Which interfaces' bad frames `w` keeps, and how many. */
const RECENT_FRAMES = 2000;

/**
 * A replay closes at most this many empty intervals one by one; a longer gap in the
 * capture's clock is skipped in one step. The rate windows and the sparkline hold 60 s
 * (src/correlate/windows.ts), and they zero the seconds a tick skips themselves, so
 * closing each empty interval of a longer gap shows nothing more: issue 17 found a file
 * with one frame at t = 1 s and the next at t = 1.7e9 s tying the replay up closing
 * 1.7e9 intervals, deaf to q and to signals.
 */
const MAX_EMPTY_INTERVALS = 60;

/** "3 days", "5.0 h", "12 min", "45 s": a jump in the capture clock for a warning. */
function span(ns: number): string {
  const s = ns / 1e9;
  if (s >= 2 * 86400) return `${Math.round(s / 86400)} days`;
  if (s >= 2 * 3600) return `${(s / 3600).toFixed(1)} h`;
  if (s >= 120) return `${Math.round(s / 60)} min`;
  return `${Math.round(s)} s`;
}

function kernelRelease(): string {
  try {
    return readKernelFacts().release;
  } catch {
    return os.release();
  }
}

export function keepRecent(recent: RecentFrames, records: PackedRecords, labelOf: (iface: number) => string, linktypeOf: (iface: number) => number): void {
  // Only the last `cap` with bytes can stay: only those are decoded, and their bytes copied
  // (a record's are a view of its batch); the others are counted as passed over.
  let first = records.count;
  for (let kept = 0; first > 0 && kept < recent.cap;) if (records.hasBytes(--first)) kept++;
  let passed = 0;
  for (let k = 0; k < first; k++) if (records.hasBytes(k)) passed++;
  recent.passedOver(passed);
  for (const r of records.decode(first)) {
    if (!r.bytes) continue;
    recent.add({
      interface: labelOf(r.iface),
      outer: r.outer,
      vni: r.vni,
      inner: r.inner,
      tsNs: r.tsNs,
      bytes: new Uint8Array(r.bytes), // a copy (a Buffer's slice() would be another view)
      wirelen: r.wirelen,
      linktype: linktypeOf(r.iface),
    });
  }
}

export interface LiveDashboardOptions {
  /** Header mode word: "live" or "demo". */
  mode: string;
  /** Namespaces to capture in (the demo's); default from --netns/--pid/--host. */
  specs?: NamespaceSpec[];
  /** Called once capture runs and before the screen takes the terminal. */
  started?: () => void;
  /** More warnings for the pane (the demo's traffic). */
  warnings$?: Observable<string>;
  /** A remedy the `F` key applies (the demo's, inside its lab). */
  fix?: DashboardFix;
  /**
   * Called once the screen is gone (the terminal restored) and before capture stops: says
   * what the wait until the summary and the prompt is for (the demo removes its lab).
   */
  closing?: () => void;
}

/**
 * Live capture shown on the dashboard until the user quits. Errors before the screen is
 * up (no privilege, no interface) are reported like the text mode does.
 */
export async function liveDashboard(opts: Options, io: LiveIo, extra: LiveDashboardOptions): Promise<number> {
  const prepared = await prepareLive(opts, io, extra.specs);
  if (typeof prepared === 'number') return prepared;
  // The same start and correlation as the text and JSON modes (src/cli/live-session.ts).
  const live = await startLive(prepared, opts, io);
  if (typeof live === 'number') return live;
  const { source, state, kernelDrops, correlator } = live;
  const layout = nativeLayout();
  const startedMs = Date.now();
  const recent = new RecentFrames(RECENT_FRAMES);
  const updates = new Subject<DashboardUpdate>();
  const warnings = new Subject<string>();
  const labels = new Map<number, string>();
  const labelOf = (id: number): string => {
    let l = labels.get(id);
    if (l === undefined) {
      for (const i of source.interfaces()) labels.set(i.id, i.label);
      l = labels.get(id) ?? `#${id}`;
    }
    return l;
  };
  const pending: string[] = [];
  const warnSub = source.warnings$.subscribe((w) => pending.push(w));
  const extraSub = extra.warnings$?.subscribe((w) => pending.push(w));
  // Link type per interface id (ids are never reused, a kind never changes): looked up
  // once, not by walking every interface for each bad frame (1000 interfaces, up to
  // thousands of records a batch).
  const linktypes = new Map<number, number>();
  const linktypeOf = (id: number): number => {
    let t = linktypes.get(id);
    if (t === undefined) {
      for (const i of source.interfaces()) linktypes.set(i.id, i.linktype ?? LINKTYPE_ETHERNET);
      t = linktypes.get(id) ?? LINKTYPE_ETHERNET;
    }
    return t;
  };
  // The batch handling and the tick cadence every live mode shares (src/cli/live-feed.ts);
  // the first paint comes at once (the first interval is then a partial one).
  const liveFeed = new LiveFeed({
    source,
    state,
    correlator,
    framesSlot: layout.slots.frames,
    count: null,
    intervalMs: opts.interval * 1000,
    tickAtStart: true,
  });
  liveFeed.batches$.subscribe((b) => {
    // Folded into the vanished-interfaces row (src/capture/vanished.ts): nothing by their ids.
    for (const id of b.folded?.ids ?? []) {
      labels.delete(id);
      linktypes.delete(id);
    }
    // Keeping the recent bad frames for `w` is the dashboard's own work too.
    if (b.records.count > 0) dashboardCpu.measure(() => keepRecent(recent, b.records, labelOf, linktypeOf));
  });
  if (source.capabilities.guessesOffload) {
    pending.push(`backend ${source.capabilities.backend} has no kernel checksum status: "pending" is a guess (the field held exactly the pseudo-header sum)`);
  }
  const metas = (): InterfaceMeta[] => source.interfaces().map((i) => ({ ...i, ringDrops: state.ringOf(i.id).drops }));
  liveFeed.intervals$.subscribe(({ snapshot, nowMs }) => {
    const note = kernelDrops.noteOnce();
    if (note !== null) pending.push(note);
    for (const w of pending.splice(0)) warnings.next(w);
    // The correlation tick runs in every mode (text, JSON, metrics); what follows is the
    // dashboard's own work, with the reducer and the paint it triggers.
    dashboardCpu.measure(() => updates.next({ snapshot, interfaces: metas(), captureDrops: state.totalDrops(), nowMs }));
  });
  liveFeed.start();
  extra.started?.();
  const feed: DashboardFeed = { updates$: updates, warnings$: warnings, finished$: new Subject<void>(), recent, peerName: peerNamer(opts) };
  try {
    // A signal during start-up (the demo's lab takes seconds to build) came before the
    // screen listened for one: stop now. Nothing is awaited from here until the screen
    // takes over the signals, so none can slip in between.
    if (shutdown.signal === null) {
      await runDashboard(feed, {
        run: { host: os.hostname(), kernel: kernelRelease(), backend: source.capabilities.backend, mode: extra.mode, startedMs },
        intervalMs: opts.interval * 1000,
        fix: extra.fix,
      });
    }
  } finally {
    extra.closing?.();
    liveFeed.stopTicks();
    warnSub.unsubscribe();
    extraSub?.unsubscribe();
    await source.stop(); // every batch in flight is applied before the totals are read
    kernelDrops.close();
    liveFeed.close();
    source.complete();
  }
  let bad = 0;
  let frames = 0;
  for (const id of state.ids()) {
    bad += state.countersOf(id)[layout.slots.badFrames];
    frames += state.countersOf(id)[layout.slots.frames];
  }
  // The screen is gone: the terminal keeps the answer (issue 13 s.5), every finding that
  // held during the run, as the report would list them.
  const last = liveFeed.final();
  if (shutdown.lost === null) await io.out(closingSummary(last.findings, last.blind, { frames, badFrames: bad }));
  return bad > 0 ? EXIT_BAD : EXIT_OK;
}

/**
 * A capture file replayed through the same pipeline: capture time paced against the wall
 * clock (or as fast as possible with --fast), one update per capture-second interval,
 * then the final view frozen until the user quits.
 */
export async function replayDashboard(opts: Options & { read: string }, fast: boolean): Promise<number> {
  let fa;
  try {
    fa = openFileAnalysis(opts.read, { vxlanPorts: opts.vxlanPorts, genevePorts: opts.genevePorts, maxFlows: opts.maxFlows, events: true });
  } catch (err) {
    throw new InputError(`${opts.read}: ${(err as Error).message}`);
  }
  const analysis = fa;
  const layout = nativeLayout();
  let counters: Float64Array = new Float64Array(0);
  const interfaces = (): PipelineInterface[] => fileInterfaces(opts.read, analysis.interfaces(), Math.floor(counters.length / layout.counterStride));
  const correlator = new Correlator({
    layout,
    interfaces,
    counters: (id) => counters.subarray(id * layout.counterStride, (id + 1) * layout.counterStride),
    kernel: null,
    facts: { kernel: null, hypervisor: null, nat: {} },
    live: false,
    guessesOffload: true,
    maxFlows: opts.maxFlows,
  });
  const recent = new RecentFrames(RECENT_FRAMES);
  const updates = new Subject<DashboardUpdate>();
  const warnings = new Subject<string>();
  const finished = new Subject<void>();
  const startedMs = Date.now();
  const intervalNs = opts.interval * 1e9;
  let bad = 0;
  let errorSeen = false;
  let stopped = false;
  const metas = (): InterfaceMeta[] => interfaces().map((i) => ({ ...i, attached: true, ringDrops: 0 }));
  const emit = (nowNs: number, final: boolean): void => {
    const snapshot = correlator.tick(nowNs, final);
    // The header's clock is capture time: uptime reads as "into the capture".
    const firstMs = Number(analysis.stats().firstNs / 1_000_000n);
    updates.next({ snapshot, interfaces: metas(), captureDrops: 0, nowMs: startedMs + (nowNs / 1e6 - firstMs) });
  };
  const run = async (): Promise<void> => {
    const wallStart = process.hrtime.bigint();
    let nextTickNs = 0;
    const wallNs = (): number => Number(process.hrtime.bigint() - wallStart);
    // The capture time shown at the wall clock's start: the first frame's, moved on by
    // every gap skipped, so a paced replay does not wait through a skipped gap either.
    let paceBase: number | null = null;
    let earliest = 0;
    let latest = 0;
    let wentBack = false;
    for (;;) {
      if (stopped) return;
      // --fast: large steps. Paced: one frame at a time until the capture clock passes the
      // wall clock (a rate estimate from the first frames released whole files at once),
      // at most 4096 frames a turn so the screen keeps being served.
      // `before`: the latest frame time before the last frame read (paced: one at a time).
      let before = Number(analysis.stats().lastNs);
      let r = analysis.step(fast ? 1 << 14 : 1);
      if (!fast) {
        const start = paceBase ?? Number(analysis.stats().firstNs);
        for (let n = 1; r.status === 'more' && n < 4096; n++) {
          const upTo = Number(analysis.stats().lastNs);
          if (upTo - start > wallNs()) break;
          before = upTo;
          r = analysis.step(1);
        }
      }
      const d = analysis.takeDrain();
      const recs = recordsOf(d);
      counters = analysis.counters();
      correlator.add(eventsOf(d), recs);
      keepRecent(
        recent,
        recs,
        (id) => interfaces()[id]?.label ?? `#${id}`,
        (id) => analysis.interfaces()[id]?.linktype ?? LINKTYPE_ETHERNET,
      );
      const stats = analysis.stats();
      // The native reader keeps the earliest and the latest frame time seen.
      const first = Number(stats.firstNs);
      const last = Number(stats.lastNs);
      if (stats.frames > 0) {
        if (paceBase === null) paceBase = first;
        else if (first < earliest && !wentBack) {
          // Shown at the latest time seen: the ticks never go back.
          wentBack = true;
          warnings.next(
            `capture time goes back: a frame at ${isoOf(first)} comes after frames up to ${isoOf(latest)} (its counts are shown at the latest time)`,
          );
        }
        earliest = first;
      }
      if (nextTickNs === 0 && first > 0) nextTickNs = first + intervalNs;
      if (nextTickNs > 0 && last - nextTickNs >= MAX_EMPTY_INTERVALS * intervalNs) {
        // More intervals owed than the windows hold: close the first, skip the rest.
        const from = nextTickNs - intervalNs;
        emit(nextTickNs, false);
        const skipped = Math.floor((last - nextTickNs) / intervalNs) * intervalNs;
        warnings.next(
          fast
            ? `--fast read ${span(last - from)} of capture time in one step (to ${isoOf(last)}): shown as one interval`
            : // Paced, the last frame was read alone: nothing lies between `before` and it.
              `capture time jumps ${span(last - before)} forward, from ${isoOf(before)} to ${isoOf(last)}: the empty intervals in between are skipped`,
        );
        nextTickNs += skipped;
        if (paceBase !== null) paceBase += skipped;
      }
      latest = last;
      // Fewer than MAX_EMPTY_INTERVALS + 1 ticks here.
      while (nextTickNs > 0 && last >= nextTickNs) {
        emit(nextTickNs, false);
        nextTickNs += intervalNs;
      }
      if (!fast && paceBase !== null) {
        // Recorded speed: wait until the wall clock has caught up with the capture clock.
        const ahead = (last - paceBase - wallNs()) / 1e6;
        if (ahead > 0) await new Promise((res) => setTimeout(res, Math.min(ahead, 1000)));
      } else await new Promise((res) => setImmediate(res));
      if (r.status === 'more') continue;
      if (r.status === 'truncated') warnings.next(r.message);
      if (r.status === 'error') {
        warnings.next(r.message);
        errorSeen = true;
      }
      break;
    }
    const err = analysis.finish();
    if (err) {
      warnings.next(err);
      errorSeen = true;
    }
    counters = analysis.counters();
    const end = Number(analysis.stats().lastNs);
    emit(Math.max(end, nextTickNs - intervalNs), true);
    for (let i = 0; i * layout.counterStride < counters.length; i++) bad += counters[i * layout.counterStride + layout.slots.badFrames];
    finished.next();
  };
  const feed: DashboardFeed = { updates$: updates as Observable<DashboardUpdate>, warnings$: warnings, finished$: finished, recent, peerName: peerNamer(opts) };
  const replay = new Promise<void>((resolve) =>
    setImmediate(() =>
      run().then(resolve, (e: Error) => {
        warnings.next(`replay stopped: ${e.message}`);
        errorSeen = true;
        resolve();
      }),
    ),
  );
  // As in liveDashboard: a signal before the screen listens ends the replay at once.
  if (shutdown.signal === null)
    await runDashboard(feed, {
      run: { host: os.hostname(), kernel: kernelRelease(), backend: 'file', mode: `replay ${opts.read}${fast ? ' (fast)' : ''}`, startedMs },
      intervalMs: opts.interval * 1000,
    });
  stopped = true;
  await replay;
  if (errorSeen) return EXIT_USAGE;
  // Quit before the end: what was replayed decides (as a cut-short capture would).
  if (bad === 0) for (let i = 0; (i + 1) * layout.counterStride <= counters.length; i++) bad += counters[i * layout.counterStride + layout.slots.badFrames];
  return bad > 0 ? EXIT_BAD : EXIT_OK;
}

/** The dashboard's peer names as the flags ask (-n: none; --dns-names: the resolver too). */
function peerNamer(opts: Options): ((addr: string) => string | null) | undefined {
  if (opts.peerNames === 'off') return undefined;
  const names = new PeerNames({ dns: opts.peerNames === 'dns' });
  return (addr) => names.name(addr);
}
