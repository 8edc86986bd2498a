/**
 * Runs the native offline analysis of one capture file to the end, in bounded steps,
 * and gathers what the report needs. Per-frame work stays in C++; only bad-frame
 * records (with --list) and the final counters cross to JavaScript.
 */
import {
  decodeFlows,
  nativeLayout,
  openFileAnalysis,
  type FileAnalysisOptions,
  type FileInterface,
  type FileStats,
  type NativeFlow,
} from '../native/analyzer.js';
import { decodeRecords, type DecodedRecord } from '../output/records.js';

export interface FileRun {
  path: string;
  interfaces: FileInterface[];
  counters: Float64Array;
  /** The flows in report order: all of them, or the first `topFlows` when asked. */
  flows: NativeFlow[];
  /** How many flows there are (flows may hold fewer). */
  flowCount: number;
  badFrames: DecodedRecord[] | null;
  stats: FileStats;
  /** The file ended mid-record: what was read is reported, with this warning. */
  cutShort: string | null;
  /** Corrupt content after some frames, or a -w failure: reported, then exit 2. */
  error: string | null;
  warnings: string[];
}

/** Frames per native step: large enough to amortise the call, small enough to stay responsive. */
const STEP_FRAMES = 1 << 16;

export class InputError extends Error {}

/** topFlows: only the most frequent flows are wanted (a text report); 0 or absent: all. */
export function analyzeFile(path: string, options: FileAnalysisOptions & { topFlows?: number }): FileRun {
  let fa;
  try {
    fa = openFileAnalysis(path, options);
  } catch (err) {
    throw new InputError(`${path}: ${(err as Error).message}`);
  }
  const layout = nativeLayout();
  const badFrames: DecodedRecord[] | null = options.listBad ? [] : null;
  let cutShort: string | null = null;
  let error: string | null = null;
  for (;;) {
    const r = fa.step(STEP_FRAMES);
    if (badFrames) for (const rec of decodeRecords(fa.takeRecords(), layout.record)) badFrames.push(rec);
    if (r.status === 'more') continue;
    if (r.status === 'truncated') cutShort = r.message;
    if (r.status === 'error') error = r.message;
    break;
  }
  const finishError = fa.finish();
  if (finishError && !error) error = finishError;
  const stats = fa.stats();
  const warnings: string[] = [];
  if (cutShort) warnings.push(cutShort);
  if (stats.flowsEvicted > 0) {
    warnings.push(
      `the bad-flow table was full: ${stats.flowsEvicted} flows were not kept (their frames are counted); raise --max-flows`,
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
  };
}
