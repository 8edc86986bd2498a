/**
 * `csumtop` without -r: live capture on the selected interfaces and namespaces until
 * --duration elapses or a signal arrives, then the same report as -r. With --json the
 * JSON line stream (output/json-lines.ts) runs meanwhile.
 */
import type { Subscription } from 'rxjs';

import { formatTimeNs } from '../model/addr.js';
import type { CorrelationSnapshot } from '../model/correlation.js';
import type { Finding } from '../model/findings.js';
import { blindGrew, blindSentence, isBlind, NOT_BLIND, type Blindness } from '../model/blind.js';
import type { ReportDocument } from '../model/report.js';
import { MAX_REPORT_FLOWS_LIVE } from '../correlate/limits.js';
import type { CapturedInterface } from '../capture/source.js';
import { LiveState } from '../capture/live-state.js';
import { LiveSource } from '../capture/live-source.js';
import { nativeLayout } from '../native/analyzer.js';
import { newBadLines } from '../native/bad-lines.js';
import { statusTotal } from '../native/counters.js';
import { nativeReaderGone } from '../native/host.js';
import { buildReport, checksumRows, listedReports, type ReportInput, type ToolInfo } from '../output/report.js';
import { jsonLine, jsonText, JSON_LINES_VERSION } from '../output/json-lines.js';
import { LineQueue, MAX_QUEUED_OUTPUT } from '../output/line-queue.js';
import { printable } from '../output/printable.js';
import { textReportPieces } from '../output/text-report.js';
import { jsonReportPieces } from '../output/report-stream.js';
import { ListedFrames } from '../output/listed-frames.js';
import type { LiveMetrics } from '../output/metrics/live.js';
import type { Options } from './args.js';
import { EXIT_BAD, EXIT_OK, EXIT_USAGE } from './exit-status.js';
import { shutdown } from './shutdown.js';
import { LiveFeed } from './live-feed.js';
import { prepareLive, startLive, type LiveIo, type LivePrepared, type LiveSession } from './live-session.js';

/** How often a live capture checks that standard output and error still have a reader (ms). */
const READER_WATCH_MS = 100;

function nowIso(): string {
  return formatTimeNs(BigInt(Date.now()) * 1_000_000n);
}

export async function liveMode(opts: Options, tool: ToolInfo, io: LiveIo): Promise<number> {
  const prepared = await prepareLive(opts, io);
  if (typeof prepared === 'number') return prepared;
  const { specs, source, state } = prepared;
  // --metrics binds before capture starts: a port in use is a usage error, nothing captured.
  let metrics: LiveMetrics | null = null;
  if (opts.metrics !== null) {
    // Loaded only when asked for: prom-client is not needed (nor paid for at start-up) otherwise.
    const { LiveMetrics: Metrics } = await import('../output/metrics/live.js');
    const { MetricsListenError } = await import('../output/metrics/server.js');
    try {
      metrics = await Metrics.start({
        listen: opts.metrics,
        maxPeers: opts.metricsMaxPeers,
        batchMs: opts.batchMs,
        engines: opts.backend === 'libpcap' ? 1 : opts.threads,
        namespaces: opts.backend === 'libpcap' ? [{ label: 'host', path: null }] : specs,
        tool: { ...tool, backend: source.capabilities.backend },
        layout: nativeLayout(),
        interfaces: () => source.interfaces().map((i) => ({ ...i, counters: state.countersOf(i.id), captureDrops: state.ringOf(i.id).drops })),
        warn: (text) => void io.warn(`warning: ${text}`),
      });
    } catch (err) {
      if (err instanceof MetricsListenError) {
        await io.warn(err.message);
        return EXIT_USAGE;
      }
      throw err;
    }
    await io.warn(`serving metrics on ${metrics.server.url} (health: /healthz)`);
  }
  try {
    return await capture({ opts, tool, io, source, state, specs, metrics });
  } finally {
    // Every exit path (signal, --duration, a capture or privilege error) closes the port.
    await metrics?.close();
  }
}

/** What one live text or --json capture runs with, set up by liveMode(). */
interface LiveRun extends LivePrepared {
  opts: Options;
  tool: ToolInfo;
  io: LiveIo;
  /** --metrics: the exporter, already listening; null without. */
  metrics: LiveMetrics | null;
}

async function capture(run: LiveRun): Promise<number> {
  const live = await startLive(run, run.opts, run.io);
  if (typeof live === 'number') return live;
  try {
    return await captureWith({ ...run, ...live });
  } finally {
    live.close();
  }
}

async function captureWith(run: LiveRun & LiveSession): Promise<number> {
  const { opts, tool, io, source, state, metrics, kernelDrops, correlator } = run;
  // The batch handling and the tick cadence every live mode shares (src/cli/live-feed.ts);
  // what follows is this mode's own: lines per frame, per interval, and the report.
  const feed = new LiveFeed({
    source,
    state,
    correlator,
    framesSlot: nativeLayout().slots.frames,
    count: opts.count,
    intervalMs: opts.interval * 1000,
    metrics,
  });
  const shown = new Map<string, Finding>();
  /** --json: a finding line when a finding appears, changes severity, or clears. */
  const findingLines = (snap: CorrelationSnapshot): void => {
    const now = new Map(snap.findings.map((f) => [f.key, f]));
    for (const f of snap.findings) {
      const before = shown.get(f.key);
      // A state (fixed/quiet, src/diagnose/tracker.ts) is its own event; back to no state is raised again.
      const event = f.state?.kind ?? 'raised';
      if (!before || before.severity !== f.severity || before.state?.kind !== f.state?.kind)
        emit(jsonLine({ type: 'finding', version: JSON_LINES_VERSION, time: snap.time, event, ...f }));
    }
    for (const [key, f] of shown)
      if (!now.has(key)) emit(jsonLine({ type: 'finding', version: JSON_LINES_VERSION, time: snap.time, event: 'cleared', id: f.id, key }));
    shown.clear();
    for (const [k, f] of now) shown.set(k, f);
  };
  const listed = opts.list ? new ListedFrames(nativeLayout().record) : null;
  // Output in order; only per-frame `bad` lines may be dropped (counted) when the reader
  // falls behind, so memory stays bounded (src/output/line-queue.ts).
  const output = new LineQueue(io.out, MAX_QUEUED_OUTPUT);
  const emit = (text: string): void => output.line(text);
  const badLines = newBadLines();
  // Each interface's label as JSON text (escaped once, not per bad frame), by id.
  const labelJson = new Map<string, string>();
  const interfaceJson = (): string[] => {
    if (labelJson.size > 4096) labelJson.clear();
    const out: string[] = [];
    for (const i of source.interfaces()) {
      let j = labelJson.get(i.label);
      if (j === undefined) labelJson.set(i.label, (j = jsonText(i.label)));
      out[i.id] = j;
    }
    return out;
  };
  const announced = new Map<number, boolean>();
  const announce = (list: CapturedInterface[] = source.interfaces()): void => {
    if (!opts.json) return;
    for (const i of list) {
      if (announced.get(i.id) === i.attached) continue;
      if (!i.attached && !announced.has(i.id)) continue;
      announced.set(i.id, i.attached);
      emit(
        jsonLine({
          type: 'interface',
          version: JSON_LINES_VERSION,
          time: nowIso(),
          event: i.attached ? 'attached' : 'detached',
          interface: i.name,
          namespace: i.namespace,
          kind: i.kind,
          ...(i.detachReason ? { reason: i.detachReason } : {}),
        }),
      );
    }
  };
  announce();
  // Which source stands in for the kernel's verdicts, said once, when known (issue 18).
  const sayKernelDrops = (): void => {
    const note = kernelDrops.noteOnce();
    if (note === null) return;
    if (opts.json) emit(jsonLine({ type: 'warning', version: JSON_LINES_VERSION, time: nowIso(), message: note }));
    else void io.warn(`warning: ${note}`);
  };
  sayKernelDrops();

  const warnings: string[] = [];
  source.warnings$.subscribe((w) => {
    warnings.push(w);
    if (opts.json) emit(jsonLine({ type: 'warning', version: JSON_LINES_VERSION, time: nowIso(), message: w }));
    else void io.warn(`warning: ${printable(w)}`);
  });
  feed.batches$.subscribe((b) => {
    if (b.folded) {
      // Folded into the vanished-interfaces row (src/capture/vanished.ts): one that vanished
      // and was folded since the last look is still announced detached; then nothing is
      // kept by their ids.
      announce(b.folded.interfaces);
      for (const id of b.folded.ids) {
        announced.delete(id);
        finalStats.delete(id);
      }
    }
    announce();
    if (b.records.count === 0) return;
    listed?.addPacked(b.records.buf);
    if (!opts.json) return;
    // One `bad` line per frame, made by the addon from the packed records, as many as the
    // queue has room for (src/native/bad-lines.ts).
    const text = badLines.format(b.records.buf, interfaceJson(), output.room());
    output.samples(text, badLines.lines, b.records.count);
  });

  // Once per interval: stats lines (--json) and interface events.
  const L = nativeLayout();
  const finalStats = new Set<number>();
  // Never silently blind (issue 13 s.3): a warning each interval in which csumtop dropped
  // more (ring, events, records), saying everything dropped so far.
  let blindSaid: Blindness = NOT_BLIND;
  const sayBlind = (snap: CorrelationSnapshot): void => {
    if (!blindGrew(snap.blind, blindSaid)) return;
    blindSaid = snap.blind;
    const w = blindSentence(snap.blind)!;
    if (opts.json) emit(jsonLine({ type: 'warning', version: JSON_LINES_VERSION, time: snap.time, message: w }));
    else void io.warn(`warning: ${w}`);
  };
  // The same for the `bad` lines the queue dropped because standard output fell behind: its
  // reader learns it from the next warning line (never dropped), not only from the report.
  let linesDroppedSaid = 0;
  const sayLinesDropped = (time: string): void => {
    if (output.dropped <= linesDroppedSaid) return;
    linesDroppedSaid = output.dropped;
    emit(jsonLine({ type: 'warning', version: JSON_LINES_VERSION, time, message: linesNotPrinted(output.dropped, true) }));
  };
  // Where those interval lines go. With --metrics csumtop is an exporter and what it
  // watches is read at /metrics: standard output keeps the report alone (so `> report.txt`
  // is a report), instead of a line per interface per interval (issue 19; 1000 pod veths
  // would be 1000 lines a second in a log). The lines then go to standard error only
  // when it is a terminal, someone watching it; a redirected or logged standard error
  // gets none, as with the progress of -r (src/cli/progress.ts).
  const intervalLines: ((text: string) => void) | null =
    opts.metrics === null ? emit : process.stderr.isTTY === true ? (text) => void process.stderr.write(text) : null;
  let previous = state.snapshot();
  let previousAt = process.hrtime.bigint();
  feed.intervals$.subscribe(({ snapshot: snap }) => {
    announce();
    sayKernelDrops();
    io.snapshot?.(snap);
    // Peer carriers and findings for --metrics, once per interval.
    metrics?.exporter.update(snap);
    sayBlind(snap);
    if (opts.json) {
      sayLinesDropped(snap.time);
      findingLines(snap);
      emit(
        jsonLine({
          type: 'correlation',
          version: JSON_LINES_VERSION,
          time: snap.time,
          peers: snap.peers,
          dns: { ...snap.dns, unansweredList: snap.dns.unansweredList.slice(0, 10) },
          syn: { ...snap.syn, slowList: snap.syn.slowList.slice(0, 10) },
          kernel: snap.kernel,
          ...(snap.kernelDrops ? { kernelDrops: snap.kernelDrops } : {}),
          flowsEvicted: snap.flowsEvicted,
          eventsDropped: snap.eventsDropped,
          overlayUnattributed: snap.overlayUnattributed,
          tables: snap.tables,
        }),
      );
    }
    if (!opts.json) {
      // No dashboard here (standard output is not a terminal, or --report): without
      // --duration, one line per interface per interval (like iftop -t), so a running
      // capture is never silent.
      if (opts.duration === null && intervalLines !== null) intervalLines(progressLines(source.interfaces(), state, previous, previousAt, L));
      previous = state.snapshot();
      previousAt = process.hrtime.bigint();
      return;
    }
    const now = process.hrtime.bigint();
    const seconds = Number(now - previousAt) / 1e9;
    const time = nowIso();
    for (const i of source.interfaces()) {
      // A vanished interface gets one last stats line with its final totals, then none
      // (a node's pod veths come and go: the stream follows the ones that exist). The row
      // older ones are folded into has no stats line: each had its last one already.
      if (i.folded !== undefined) continue;
      if (!i.attached) {
        if (finalStats.has(i.id)) continue;
        finalStats.add(i.id);
      }
      const c = state.countersOf(i.id);
      const p = previous.get(i.id) ?? new Float64Array(L.counterStride);
      const rate = (slot: number): number => Math.round(((c[slot] - p[slot]) / seconds) * 10) / 10;
      const statusRate = (status: number): number => {
        const d = statusTotal(c, L, status) - statusTotal(p, L, status);
        return Math.round((d / seconds) * 10) / 10;
      };
      emit(
        jsonLine({
          type: 'stats',
          version: JSON_LINES_VERSION,
          time,
          interface: i.name,
          namespace: i.namespace,
          kind: i.kind,
          attached: i.attached,
          down: i.down,
          frames: c[L.slots.frames],
          outgoing: c[L.slots.outgoing],
          badFrames: c[L.slots.badFrames],
          malformed: c[L.slots.malformed],
          captureDrops: state.ringOf(i.id).drops,
          rates: {
            framesPerSecond: rate(L.slots.frames),
            badFramesPerSecond: rate(L.slots.badFrames),
            pendingPerSecond: statusRate(4),
            validatedPerSecond: statusRate(5),
          },
          checksums: checksumRows(c, 0, L),
        }),
      );
    }
    previous = state.snapshot();
    previousAt = now;
  });
  feed.start();

  // A reader that went away (`csumtop --json | head -1`) ends the capture at once, not at
  // the next line written (up to an interval later): poll(2) says so without writing.
  const readerWatch = setInterval(() => {
    for (const [fd, stream] of [
      [1, 'stdout'],
      [2, 'stderr'],
    ] as const) {
      if (nativeReaderGone(fd)) shutdown.outputLost(stream, Object.assign(new Error('EPIPE: broken pipe, write'), { code: 'EPIPE' }));
    }
  }, READER_WATCH_MS);
  readerWatch.unref();
  const started = process.hrtime.bigint();
  const startedWall = BigInt(Date.now()) * 1_000_000n;
  // Until --duration elapses or a stop signal (src/cli/shutdown.ts: a second one, or a
  // shutdown that outlasts its bound, exits at once).
  await new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | null = null;
    let unsubscribe = (): void => undefined;
    let counted: Subscription | null = null;
    const done = (): void => {
      unsubscribe();
      counted?.unsubscribe();
      if (timer) clearTimeout(timer);
      resolve();
    };
    timer = opts.duration !== null ? setTimeout(done, opts.duration * 1000) : null;
    unsubscribe = shutdown.onStop(done);
    // -c: the capture threads count at most COUNT frames (their shared budget); the capture
    // stops at the first batch whose counters reach it, as at the end of --duration.
    counted = feed.countReached$.subscribe(done);
  });
  feed.stopTicks();
  clearInterval(readerWatch);
  metrics?.stopped('capture stopped: csumtop is exiting');
  await source.stop();
  // Nobody can read a report (the pipe's reader left, the disk is full): the rings are
  // closed and the -w file complete; end now (shutdown.outputLost says why, status 2).
  if (shutdown.lost !== null) {
    source.complete();
    return EXIT_USAGE;
  }
  announce();
  const finalSnap = feed.final();
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;

  // The row older vanished interfaces are folded into comes last.
  const ifaces = source.interfaces().sort((a, b) => Number(a.folded !== undefined) - Number(b.folded !== undefined) || a.id - b.id);
  const ids = ifaces.map((i) => i.id);
  const indexOf = new Map(ids.map((id, k) => [id, k]));
  // A flow or listed frame of an interface no longer listed is one of the folded ones:
  // it belongs to their row (ids are never reused, so it cannot be a newer interface's).
  const foldedIndex = ifaces.findIndex((i) => i.folded !== undefined);
  const rowOf = (id: number): number => indexOf.get(id) ?? (foldedIndex >= 0 ? foldedIndex : id);
  const flows = source.flows(MAX_REPORT_FLOWS_LIVE).map((f) => ({ ...f, iface: rowOf(f.iface) }));
  const flowCount = state.badFlows().kept;
  if (source.capabilities.guessesOffload) {
    warnings.unshift(
      `backend ${source.capabilities.backend} has no kernel checksum status: "pending" here is a guess (the field held exactly the pseudo-header sum)`,
    );
  }
  if (state.totalDrops() > 0) {
    warnings.push(`the kernel dropped ${state.totalDrops()} frames because a capture ring was full: counts are a lower bound (raise --ring-mb)`);
  }
  const notListed = listed?.warning();
  if (notListed) warnings.push(notListed);
  if (output.dropped > 0) warnings.push(linesNotPrinted(output.dropped));
  if (state.recordsDropped > 0) warnings.push(`${state.recordsDropped} bad frames were counted but not reported one by one (csumtop fell behind)`);
  const frames = ids.reduce((s, id) => s + state.countersOf(id)[L.slots.frames], 0);
  const reportInput: ReportInput = {
    source: {
      kind: 'live',
      path: source.capabilities.backend,
      format: null,
      frames,
      first: formatTimeNs(startedWall),
      last: nowIso(),
      cutShort: false,
      warnings,
      durationSeconds: Math.round(elapsed * 1000) / 1000,
      captureDrops: state.totalDrops(),
      ...(opts.filter !== null ? { filter: { expression: opts.filter } } : {}),
      ...(opts.count !== null ? { count: { limit: opts.count, reached: frames >= opts.count } } : {}),
    },
    interfaces: ifaces.map((i) => ({ name: i.label, linktype: 1, live: { ...i, captureDrops: state.ringOf(i.id).drops } })),
    counters: state.flat(ids),
    flows,
    // Listed: the most frequent MAX_REPORT_FLOWS_LIVE of flowCount.
    flowCount: Math.max(flowCount, flows.length),
    // The native tables' (capture threads'): their flows are the report's flows.
    flowsEvicted: state.badFlows().evicted,
    badFrames: listed,
    badFrameRow: rowOf,
    live: true,
    correlation: finalSnap,
  };
  const doc: ReportDocument = buildReport(reportInput, tool);
  if (isBlind(finalSnap.blind)) doc.blind = finalSnap.blind;
  // -w: what went to the file. A write error (disk full, ...) was a warning while
  // capture went on; the exit status says so: 2, as for -r with an unwritable -w.
  const written = source instanceof LiveSource ? source.writerStats() : null;
  if (written !== null && opts.write !== null) {
    doc.written = {
      path: opts.write,
      frames: written.frames,
      ...(opts.context > 0 ? { contextFrames: written.contextFrames, contextSkipped: written.contextSkipped } : {}),
      ...(opts.rotateMb !== null ? { files: written.files } : {}),
      ...(written.notWritten > 0 ? { notWritten: written.notWritten } : {}),
    };
    if (written.errors > 0)
      doc.source.warnings.push(`-w: ${written.errors} write errors, ${written.notWritten} frames not written; first: ${written.firstError}`);
  }
  await output.drained();
  source.complete();
  // The --list frames are made into text as they are written (issue 17 item 10).
  const list = listedReports(reportInput);
  const outPieces = io.outPieces ?? ((pieces: Iterable<string>, suffix = ''): Promise<void> => io.out([...pieces].join('') + suffix));
  if (opts.json) await outPieces(jsonReportPieces({ type: 'report', ...doc } as ReportDocument, list, 0), '\n');
  else await outPieces(textReportPieces(doc, { maxFlows: opts.top }, list));
  if (written !== null && written.errors > 0) return EXIT_USAGE;
  return doc.totals.badFrames > 0 ? EXIT_BAD : EXIT_OK;
}

/** Text lines for one interval: rates per interface since the previous snapshot. */
function progressLines(
  ifaces: CapturedInterface[],
  state: LiveState,
  previous: Map<number, Float64Array>,
  previousAt: bigint,
  L: ReturnType<typeof nativeLayout>,
): string {
  const seconds = Number(process.hrtime.bigint() - previousAt) / 1e9;
  const statusDelta = (c: Float64Array, p: Float64Array, status: number): number => statusTotal(c, L, status) - statusTotal(p, L, status);
  const time = new Date().toISOString().slice(11, 19);
  const lines = ifaces
    .filter((i) => i.attached)
    .map((i) => {
      const c = state.countersOf(i.id);
      const p = previous.get(i.id) ?? new Float64Array(L.counterStride);
      const per = (n: number): string => (n / seconds).toFixed(0);
      return (
        `${time} ${printable(i.label).padEnd(24)} ${per(c[L.slots.frames] - p[L.slots.frames]).padStart(8)} pkt/s ` +
        `${per(c[L.slots.badFrames] - p[L.slots.badFrames]).padStart(6)} bad/s ` +
        `${per(statusDelta(c, p, 4)).padStart(7)} pending/s ${per(statusDelta(c, p, 5)).padStart(7)} validated/s ` +
        `bad total ${c[L.slots.badFrames]}, drops ${state.ringOf(i.id).drops}`
      );
    });
  return lines.length > 0 ? lines.join('\n') + '\n' : '';
}

/** What the `bad` lines the line queue dropped mean, in one place for the interval warning
 * (`soFar`: while capturing) and the report. */
function linesNotPrinted(n: number, soFar = false): string {
  return `${n} bad lines${soFar ? ' so far' : ''} were not printed because standard output took them slower than they came (its reader or its disk fell behind; their frames are counted)`;
}
