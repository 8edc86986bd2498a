/**
 * `-f FILTER` compiled in a child process, bounded in size and time (issue 17).
 *
 * libpcap's optimizer (pcap_compile() with optimize=1) takes time that grows much faster
 * than the filter: `tcpdump -d` with 100 `or port N` terms takes 0.7 s here, 200 take
 * 4.4 s, 1000 take minutes. Called on csumtop's JavaScript thread it made --duration,
 * SIGINT (even twice) and SIGTERM powerless for that long: a signal handled in
 * JavaScript cannot interrupt native code. pcap_compile() cannot be cancelled, and a
 * thread stuck in it would hold csumtop's exit (Node joins its worker threads at exit),
 * so the compile runs in a child process (src/capture/filter-child.ts) that csumtop
 * kills when a stop signal comes, when --duration or FILTER_TIME_LIMIT_MS elapses, or
 * when csumtop itself ends (the child asked the kernel for SIGKILL on its parent's
 * death: PR_SET_PDEATHSIG).
 *
 * Bounds, each a clear error (exit 2): the expression at most MAX_FILTER_CHARS, the
 * compile at most FILTER_TIME_LIMIT_MS (or --duration if shorter), the program at most
 * the kernel's 4096 instructions (BPF_MAXINSNS; native/capture/bpf_filter.cc).
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';

import type { FilterProgram } from '../native/live.js';
import { LINKTYPE_ETHERNET, LINKTYPE_RAW } from '../output/pcap-frames.js';

/** How long libpcap may take to compile a filter. */
export const FILTER_TIME_LIMIT_MS = 10_000;
/** The longest filter expression accepted (a 1000-term `or port N` filter is 14 KB). */
export const MAX_FILTER_CHARS = 65_536;

/** The filter cannot be used: the message says why (exit 2). */
export class FilterError extends Error {}

export interface CompileLimits {
  /** Give up after this long (default FILTER_TIME_LIMIT_MS). */
  limitMs?: number;
  /** Said after "within N s" when the limit is not FILTER_TIME_LIMIT_MS (" (--duration)"). */
  limitWhy?: string;
  /** Aborting kills the child; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

const CHILD = path.join(__dirname, 'filter-child.js');

interface ChildAnswer {
  programs?: Record<string, string>;
  error?: string;
}

function parseAnswer(text: string): ChildAnswer | null {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null ? (v as ChildAnswer) : null;
  } catch {
    return null;
  }
}

/** Compiles `expr` for Ethernet and raw-IP links (live capture's rings) in a bounded child process. */
export async function compileFilter(expr: string, limits: CompileLimits = {}): Promise<FilterProgram> {
  const p = await compileFilterFor(expr, [LINKTYPE_ETHERNET, LINKTYPE_RAW], limits);
  return { ether: p.get(LINKTYPE_ETHERNET)!, raw: p.get(LINKTYPE_RAW)! };
}

/**
 * Compiles `expr` for each of `linktypes` (LINKTYPE_* numbers) in a bounded child process:
 * the programs by link type, or a FilterError with libpcap's message for the first one
 * it cannot be compiled for (`ether host X` has no meaning on a raw-IP link).
 */
export function compileFilterFor(expr: string, linktypes: number[], limits: CompileLimits = {}): Promise<Map<number, Uint8Array>> {
  const limitMs = limits.limitMs ?? FILTER_TIME_LIMIT_MS;
  if (expr.length > MAX_FILTER_CHARS) {
    return Promise.reject(new FilterError(`-f: the filter has ${expr.length} characters, more than the ${MAX_FILTER_CHARS} csumtop compiles`));
  }
  if (limits.signal?.aborted) return Promise.reject(limits.signal.reason);
  return new Promise<Map<number, Uint8Array>>((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, String(process.pid)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let settled = false;
    const kill = (): void => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    // csumtop exiting on its own (a second signal) takes the child along at once.
    process.on('exit', kill);
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      limits.signal?.removeEventListener('abort', onAbort);
      process.removeListener('exit', kill);
      kill();
      fn();
    };
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(
            new FilterError(
              `-f: libpcap did not compile the filter within ${limitMs / 1000} s${limits.limitWhy ?? ''}: its optimizer's time grows ` +
                "much faster than the filter (200 'or port N' terms take seconds, 1000 minutes); use ranges ('portrange 8000-8100', " +
                "'net 10.0.0.0/8') or fewer terms",
            ),
          ),
        ),
      limitMs,
    );
    const onAbort = (): void => finish(() => reject(limits.signal!.reason));
    limits.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (err += d));
    child.once('error', (e) => finish(() => reject(new FilterError(`-f: cannot start the filter compiler: ${e.message}`))));
    child.once('close', (code, sig) => {
      const answer = parseAnswer(out);
      finish(() => {
        if (answer?.error !== undefined) reject(new FilterError(`-f: ${answer.error}`));
        else if (answer?.programs !== undefined && linktypes.every((lt) => typeof answer.programs![String(lt)] === 'string')) {
          resolve(new Map(linktypes.map((lt) => [lt, Buffer.from(answer.programs![String(lt)], 'base64')])));
        } else
          reject(
            new FilterError(`-f: the filter compiler ended (${sig ?? `exit ${code}`}) without an answer${err ? `: ${err.trim().split('\n').pop()}` : ''}`),
          );
      });
    });
    child.stdin.on('error', () => undefined); // a child that died early: reported on 'close'
    child.stdin.end(JSON.stringify({ expr, linktypes }));
  });
}
