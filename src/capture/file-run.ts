/**
 * Runs the native offline analysis of one capture file to the end, in bounded steps,
 * and gathers what the report needs. Per-frame work stays in C++; only bad-frame
 * records (with --list) and the final counters cross to JavaScript.
 */
import { fstatSync, statSync } from 'node:fs';
import * as path from 'node:path';

import {
  decodeFlows,
  fileThreads,
  nativeLayout,
  openFileAnalysis,
  type FileAnalysis,
  type FileAnalysisOptions,
  type FileStats,
  type FileStep,
  type NativeFlow,
  type StepStatus,
} from '../native/analyzer.js';
import { Correlator, type PipelineInterface } from '../correlate/pipeline.js';
import { roleFromName } from '../host/links.js';
import type { FileInterface } from '../model/interface.js';
import type { CorrelationSnapshot } from '../model/correlation.js';
import { eventsOf, recordsOf } from '../native/drain.js';
import { ListedFrames } from '../output/listed-frames.js';
import { compileFilterFor, FilterError, FILTER_TIME_LIMIT_MS } from './filter-compile.js';
import { LINKTYPE_ETHERNET } from '../output/pcap-frames.js';
import { DEFAULT_MAX_FLOWS } from '../correlate/limits.js';

export interface FileRun {
  path: string;
  interfaces: FileInterface[];
  counters: Float64Array;
  /** The flows in report order: all of them, or the first `topFlows` when asked. */
  flows: NativeFlow[];
  /** How many flows there are (flows may hold fewer). */
  flowCount: number;
  badFrames: ListedFrames | null;
  stats: FileStats;
  /** The file ended mid-record: what was read is reported, with this warning. */
  cutShort: string | null;
  /** Correlation over the whole file (null when not asked for). */
  correlation: CorrelationSnapshot | null;
  /** Corrupt content after some frames, or a -w failure: reported, then exit 2. */
  error: string | null;
  /** Reading was stopped before the end (a signal): why; the run covers what was read. */
  interrupted: string | null;
  warnings: string[];
  /** -f: the expression and how many frames it rejected (skipped, in no other count). */
  filter: { expression: string; skipped: number } | null;
  /** -c: the limit, and whether reading stopped there (false: the file had fewer frames). */
  count: { limit: number; reached: boolean } | null;
}

/** What a run is asked for: the native options plus the text report's flows, -f and -c. */
export type FileRunOptions = Omit<FileAnalysisOptions, 'filter'> & {
  /** Only the most frequent flows are wanted (a text report); 0 or absent: all. */
  topFlows?: number;
  /** -f / trailing words: a tcpdump filter, applied as `tcpdump -r FILE EXPR` does. */
  filter?: string;
};

/** Frames per native step: large enough to amortise the call, small enough to stay responsive. */
const STEP_FRAMES = 1 << 16;
/**
 * With correlation each step's events (168 bytes a frame) are copied out in one Buffer:
 * smaller steps keep those buffers small enough to be collected cheaply (64 Ki frames
 * made 11 MB a step and measurably more garbage-collection time).
 */
const EVENT_STEP_FRAMES = 1 << 13;

/** How long exit waits for a step decoding ahead (it takes milliseconds on a file). */
const SETTLE_AT_EXIT_MS = 1000;

export class InputError extends Error {}

/** Interfaces read per capture file (native/capture/capture_file.h kMaxInterfaces says why). */
export const MAX_FILE_INTERFACES = 4096;

/**
 * Reads the whole file, yielding to the event loop between native steps so a signal can be handled:
 * when `stopRequested()` returns a reason, reading stops there and the run covers the
 * frames read so far, with `interrupted` set (src/cli/shutdown.ts).
 */
export async function analyzeFileInterruptible(
  path: string,
  options: FileRunOptions,
  stopRequested: () => string | null,
  onStep?: (done: { frames: number; bytesRead: number }) => void,
): Promise<FileRun> {
  const a = startFileAnalysis(path, options);
  try {
    for (;;) {
      const state = await a.step();
      const more = state !== 'done';
      if (onStep && more) onStep(a.progress());
      if (typeof state === 'object') {
        // The first frame of a link type with -f: libpcap compiles the filter for it in a
        // bounded child process (filter-compile.ts), as tcpdump compiles for the file's
        // link type; a stop signal ends the wait.
        const error = await a.loadFilter(state.linktype, stopRequested);
        if (error === 'stopped') return await a.finish(stopRequested() ?? 'a signal');
        if (error !== null) {
          // Nothing read yet: the filter is the whole problem, as tcpdump says it (exit 2).
          if (a.progress().frames === 0 && a.filteredOut() === 0) throw new InputError(error);
          // A later interface of another link type (pcapng): what was read is reported.
          return await a.finish(
            undefined,
            `${error} (link type ${state.linktype}, first seen after ${a.progress().frames + a.filteredOut()} frames: the report covers those)`,
          );
        }
        continue;
      }
      if (!more && options.filter !== undefined && a.progress().frames === 0 && a.filteredOut() === 0) {
        // No frame asked for a program (an empty file): the filter is still checked, as
        // tcpdump checks it before reading, for the link types the file declared.
        const error = await a.checkFilter(stopRequested);
        if (error !== null && error !== 'stopped') throw new InputError(error);
      }
      // setImmediate runs after the poll phase, where libuv delivers signals.
      await new Promise((resolve) => setImmediate(resolve));
      const reason = stopRequested();
      if (reason !== null && more) return await a.finish(reason);
      if (!more) return await a.finish();
    }
  } finally {
    // After an exception above, the step decoding ahead (if any) ends before the analysis may go.
    await a.abandon();
  }
}

/**
 * An analysis driven step by step: step() until it returns 'done' (loading filters it asks for), then finish().
 *
 * With correlation and more than one thread (CSUMTOP_THREADS, default the CPUs), the
 * next step decodes on a thread of libuv's pool while this one is correlated
 * (docs/line-rate.md, "-r on every core"). Every step hands over the counters,
 * interfaces and progress as of its own end (native/flow/file_step.h), and nothing is
 * read from the analysis itself while a step runs, so the Correlator sees exactly what
 * it sees with CSUMTOP_THREADS=1, where each step runs on this thread after the one
 * before was correlated (test/unit/file-run-ahead.test.ts).
 */
function startFileAnalysis(
  path: string,
  options: FileRunOptions,
): {
  /** 'more', 'done', or the link type whose filter program must be loaded first. */
  step(): Promise<'more' | 'done' | { linktype: number }>;
  /** Compiles and sets the filter for `linktype`: null, 'stopped' (a signal), or libpcap's message. */
  loadFilter(linktype: number, stopRequested: () => string | null): Promise<null | 'stopped' | string>;
  /** Compiles the filter for the file's link types (Ethernet when it declared none), setting nothing. */
  checkFilter(stopRequested: () => string | null): Promise<null | 'stopped' | string>;
  filteredOut(): number;
  progress(): { frames: number; bytesRead: number };
  /** The step decoding ahead, if any, is correlated first: the report covers every frame counted. */
  finish(interrupted?: string, error?: string): Promise<FileRun>;
  /** Waits for the step decoding ahead, if any, and drops it (after an exception). */
  abandon(): Promise<void>;
} {
  const correlateOn = options.events === true;
  const expr = options.filter ?? null;
  let fa: FileAnalysis;
  try {
    fa = openFileAnalysis(path, { ...options, filter: expr !== null });
  } catch (err) {
    throw new InputError(`${path}: ${(err as Error).message}`);
  }
  const layout = nativeLayout();
  // --list: at most MAX_LISTED frames are kept (packed), as live; the rest are counted.
  const badFrames = options.listBad ? new ListedFrames(layout.record) : null;
  let cutShort: string | null = null;
  let error: string | null = null;
  // With correlation, what the last step correlated handed over (FileStep): the analysis
  // itself may be a step further already.
  let counters: Float64Array = new Float64Array(0);
  let ifaces: FileInterface[] = [];
  let seen = { frames: 0, bytesRead: 0, filteredOut: 0 };
  // Correlation over capture time: roles come from pcapng interface names (a file carries
  // no link kinds), and no host facts apply (the capture may come from another node).
  // Made when the first step has started: its tables (tens of MB at the default --max-flows,
  // written once) are allocated while that step decodes on the pool's thread, not before it.
  let made: Correlator | null = null;
  const correlator = (): Correlator =>
    (made ??= new Correlator({
      layout,
      interfaces: () => fileInterfaces(path, ifaces, Math.floor(counters.length / layout.counterStride)),
      counters: (id) => counters.subarray(id * layout.counterStride, (id + 1) * layout.counterStride),
      kernel: null,
      facts: { kernel: null, hypervisor: null, nat: {} },
      live: false,
      guessesOffload: true,
      maxFlows: options.maxFlows ?? DEFAULT_MAX_FLOWS,
    }));
  // Not from a pipe: a step there may block for ever on a writer that stalls, and Node
  // joins the pool's threads at exit; on this thread a signal still ends csumtop at once
  // (src/cli/main.ts leaves signals their default action there).
  const ahead = correlateOn && fileThreads() > 1 && isRegularFile(path);
  // The step decoding while the one before is correlated (ahead only).
  let next: Promise<FileStep> | null = null;
  // process.exit() (a second signal) while a step runs: the step ends first, so a -w
  // file keeps whole records (src/cli/shutdown.ts). A step takes milliseconds on a file;
  // on a pipe whose writer stalls it may never end, and exit must not wait for that.
  const settleAtExit = (): void => void fa.settle(SETTLE_AT_EXIT_MS);
  const startNext = (): void => {
    process.once('exit', settleAtExit);
    next = fa.stepDrainAhead(EVENT_STEP_FRAMES);
    // Awaited once this step is correlated: a rejection meanwhile is not unhandled.
    next.catch(() => undefined);
  };
  const takeNext = async (): Promise<FileStep | null> => {
    if (next === null) return null;
    try {
      return await next;
    } finally {
      next = null;
      process.removeListener('exit', settleAtExit);
    }
  };
  let lastTickSecond = -1;
  const correlate = (s: FileStep, c: Correlator): void => {
    if (s.interfaces) ifaces = s.interfaces;
    seen = { frames: s.frames, bytesRead: s.bytesRead, filteredOut: s.filteredOut };
    const recs = recordsOf(s.drain);
    badFrames?.addPacked(s.drain.records);
    counters = s.counters;
    c.add(eventsOf(s.drain), recs);
    // Rules are evaluated once per second of capture time, as live capture does at 1 Hz
    // (the finding tracker's "appears within a 1 s evaluation" holds for files too).
    const second = Math.floor(c.newestNs / 1e9);
    if (c.newestNs > 0 && second !== lastTickSecond) {
      lastTickSecond = second;
      // Only the last tick's snapshot is reported (finish()).
      c.advance(c.newestNs);
    }
  };
  const outcome = (r: StepStatus): 'more' | 'done' | { linktype: number } => {
    if (r.status === 'more') return 'more';
    if (r.status === 'filter') return { linktype: r.linktype };
    if (r.status === 'truncated') cutShort = r.message;
    if (r.status === 'error') error = r.message;
    return 'done';
  };
  const step = async (): Promise<'more' | 'done' | { linktype: number }> => {
    if (correlateOn) {
      // The first step, and the one after a filter program was loaded, start here.
      if (ahead && next === null) startNext();
      const c = correlator();
      const s = (await takeNext()) ?? fa.stepDrain(EVENT_STEP_FRAMES);
      // The next step decodes while this one is correlated; after 'filter' it waits for
      // the program, after the end there is none.
      if (ahead && s.status === 'more') startNext();
      correlate(s, c);
      return outcome(s);
    }
    const r = fa.step(STEP_FRAMES);
    // The native buffer is drained each step; past the cap records are only counted.
    if (badFrames) badFrames.addPacked(fa.takeRecords());
    return outcome(r);
  };
  const compile = async (
    linktypes: number[],
    stopRequested: () => string | null,
    use: (programs: Map<number, Uint8Array>) => void,
  ): Promise<null | 'stopped' | string> => {
    const stop = new AbortController();
    // stopRequested() is polled: a signal handler only sets a flag (src/cli/shutdown.ts).
    const poll = setInterval(() => {
      if (stopRequested() !== null) stop.abort();
    }, 50);
    try {
      use(await compileFilterFor(expr!, linktypes, { limitMs: FILTER_TIME_LIMIT_MS, signal: stop.signal }));
      return null;
    } catch (err) {
      if (stop.signal.aborted) return 'stopped';
      if (err instanceof FilterError) return err.message;
      return `-f: ${(err as Error).message}`; // pcap_offline_filter missing from the loaded libpcap
    } finally {
      clearInterval(poll);
    }
  };
  const loadFilter = (linktype: number, stopRequested: () => string | null): Promise<null | 'stopped' | string> =>
    compile([linktype], stopRequested, (p) => fa.setFilter(linktype, p.get(linktype)!));
  const checkFilter = (stopRequested: () => string | null): Promise<null | 'stopped' | string> => {
    const declared = [...new Set(fa.interfaces().map((i) => i.linktype))];
    return compile(declared.length > 0 ? declared : [LINKTYPE_ETHERNET], stopRequested, () => undefined);
  };
  const finish = async (interrupted?: string, failed?: string): Promise<FileRun> => {
    // Stopped while the next step decoded: its frames are counted natively (counters,
    // flows, -w), so it is correlated too and the report covers it.
    const last = await takeNext();
    if (last !== null && correlateOn) {
      correlate(last, correlator());
      outcome(last);
    }
    const finishError = fa.finish();
    if (failed && !error) error = failed;
    if (finishError && !error) error = finishError;
    counters = fa.counters();
    ifaces = fa.interfaces();
    const correlation = correlateOn ? correlator().tick(correlator().newestNs, true) : null;
    const stats = fa.stats();
    const warnings: string[] = [];
    if (interrupted !== undefined) {
      // First, so a reader of the report cannot miss that the file was not read to its end.
      warnings.push(`interrupted by ${interrupted}: this report covers only the first ${stats.frames} frames (${stats.bytesRead} bytes) of the file`);
    }
    if (cutShort) warnings.push(cutShort);
    if (stats.flowsEvicted > 0) {
      warnings.push(`the bad-flow table was full: ${stats.flowsEvicted} flows were not kept (their frames are counted); raise --max-flows`);
    }
    const notListed = badFrames?.warning();
    if (notListed) warnings.push(notListed);
    if (stats.interfacesIgnored > 0) {
      warnings.push(
        `${stats.interfacesIgnored} interfaces past the first ${MAX_FILE_INTERFACES} of the file are unsupported and were not read` +
          ` (${stats.framesIgnored} frames on them not counted)`,
      );
    }
    if (stats.recordsDropped > 0) {
      warnings.push(`${stats.recordsDropped} bad frames were not listed (record buffer full)`);
    }
    return {
      path,
      interfaces: fa.interfaces(),
      counters: fa.counters(),
      flows: decodeFlows(fa.flowsPacked(options.topFlows ?? 0), layout),
      flowCount: stats.flows,
      badFrames,
      stats,
      cutShort,
      error,
      warnings,
      correlation,
      interrupted: interrupted ?? null,
      filter: expr !== null ? { expression: expr, skipped: stats.filteredOut } : null,
      count: options.count !== undefined ? { limit: options.count, reached: stats.countReached } : null,
    };
  };
  const abandon = async (): Promise<void> => {
    await takeNext().catch(() => undefined);
  };
  const progress = (): { frames: number; bytesRead: number } => {
    if (correlateOn) return { frames: seen.frames, bytesRead: seen.bytesRead };
    const st = fa.stats();
    return { frames: st.frames, bytesRead: st.bytesRead };
  };
  const filteredOut = (): number => (correlateOn ? seen.filteredOut : fa.stats().filteredOut);
  return { step, loadFilter, checkFilter, filteredOut, progress, finish, abandon };
}

function isRegularFile(file: string): boolean {
  try {
    return (file === '-' ? fstatSync(0) : statSync(file)).isFile();
  } catch {
    return false;
  }
}

/** pcapng if_name; else the file's name, with #N when the file has several interfaces. */
export function interfaceNames(filePath: string, ifaces: FileInterface[], count: number): string[] {
  const base = path.basename(filePath);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = ifaces[i]?.name;
    names.push(name ? name : count > 1 ? `${base}#${i}` : base);
  }
  return names;
}

/**
 * The interfaces of a capture file (src/model/interface.ts) for correlation: named by
 * interfaceNames, roles from their names (docs/domain.md); a file says nothing of the
 * rest, and nothing was dropped by a ring.
 */
export function fileInterfaces(path: string, ifaces: FileInterface[], count: number): PipelineInterface[] {
  const names = interfaceNames(path, ifaces, Math.max(count, ifaces.length));
  return names.map((name, id) => ({
    id,
    label: name,
    name,
    namespace: 'file',
    role: roleFromName(ifaces[id]?.name ?? '') ?? 'other',
    kind: null,
    driver: null,
    txChecksumOffload: null,
    vxlan: null,
    captureDrops: 0,
  }));
}
