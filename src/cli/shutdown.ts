/**
 * How csumtop stops on SIGINT, SIGTERM and SIGHUP, the same in every mode (issue 7):
 *
 * - The first signal asks the running mode to stop: live capture (report, dashboard,
 *   --demo) stops and ends as it would at --duration (the report's exit status: a live
 *   capture has no other way to end, as with tcpdump); `-r FILE` stops reading and
 *   reports what was read, marked interrupted, with 128 + the signal's number (the
 *   answer is incomplete, so neither 0 nor 1 would be true).
 * - A second signal while shutting down exits at once with 128 + its number. So does a
 *   shutdown that made no progress for SHUTDOWN_LIMIT_MS: no output drained and the event
 *   loop idle (a standard output nobody reads, a stuck file system). The stop's own work
 *   is progress (the last batches correlated, a report of 65,536 flows built: seconds
 *   of JavaScript, in pieces or in one go), for at most STOP_WORK_LIMIT_MS in all; a
 *   reader that keeps draining keeps getting the report. process.exit() runs the
 *   'exit' handlers, which are synchronous and restore the terminal (src/ui/screen.ts)
 *   and remove the demo lab (src/lab/lab.ts); a -w file holds whole records only
 *   (native/capture/bad_frame_file.cc writes each in one writev).
 *
 * SIGHUP is also what a terminal going away sends (the dashboard's pty closed): it is a
 * stop like the others, never a reason to spin on a dead terminal.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { performance } from 'node:perf_hooks';

import { releaseDeadTerminalAtExit } from '../ui/dead-terminal.js';
import { EXIT_USAGE } from './exit-status.js';

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** After the first signal, how long shutdown may go without progress before csumtop exits anyway. */
export const SHUTDOWN_LIMIT_MS = 5000;
/** How long the stop's own work (the event loop busy) counts as progress, in all. */
export const STOP_WORK_LIMIT_MS = 60_000;
/** An interval in which the event loop was active at least this share of the time was spent working. */
export const BUSY_SHARE = 0.5;

/** The event loop's active share of the time since the previous call (or since it was made). */
export type LoadMeter = () => number;

/** node:perf_hooks' event-loop utilization: active time over active + idle time. */
export function eventLoopMeter(): LoadMeter {
  let last = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const share = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    return share;
  };
}

export interface ShutdownOptions {
  limitMs?: number;
  workLimitMs?: number;
  /** writeSync: at exit nothing asynchronous is flushed any more. */
  say?: (text: string) => void;
  /** Made when the first signal arrives. */
  meter?: () => LoadMeter;
  pendingOutput?: () => number;
  exit?: (status: number) => never;
}

/** The shell's convention for "ended by signal N": 128 + N (130 SIGINT, 143 SIGTERM, 129 SIGHUP). */
export function signalStatus(sig: StopSignal): number {
  return 128 + (os.constants.signals[sig] ?? 15);
}

/** Why a run stops: a signal, or standard output/error that can no longer be written. */
type Listener = (sig: StopSignal | 'output') => void;

/** Exit status when standard output or error could not be written (README: a write error is 2). */
export const EXIT_OUTPUT_LOST = EXIT_USAGE;
/** After output is lost, how long the stop may take before csumtop exits anyway (ms). */
export const OUTPUT_LOST_LIMIT_MS = 1000;

export class Shutdown {
  /** The first stop signal, null while none arrived. */
  signal: StopSignal | null = null;
  /** Standard output or error failed (closed pipe, full disk): why, else null. */
  lost: string | null = null;
  private readonly listeners = new Set<Listener>();
  private installed = false;
  private limitTimer: NodeJS.Timeout | null = null;

  private readonly limitMs: number;
  private readonly workLimitMs: number;
  private readonly say: (text: string) => void;
  private readonly makeMeter: () => LoadMeter;
  private readonly pending: () => number;
  private readonly exit: (status: number) => never;

  constructor(o: ShutdownOptions = {}) {
    this.limitMs = o.limitMs ?? SHUTDOWN_LIMIT_MS;
    this.workLimitMs = o.workLimitMs ?? STOP_WORK_LIMIT_MS;
    this.say = o.say ?? ((text) => void fs.writeSync(2, `csumtop: ${text}\n`));
    this.makeMeter = o.meter ?? eventLoopMeter;
    this.pending =
      o.pendingOutput ??
      // Bytes handed to standard output and error and not yet taken by the reader.
      (() => (process.stdout.writableLength ?? 0) + (process.stderr.writableLength ?? 0));
    this.exit = o.exit ?? ((status) => process.exit(status));
  }

  /** Takes over the three signals for the whole run (from main(), before any mode starts). */
  install(): void {
    if (this.installed) return;
    this.installed = true;
    for (const s of STOP_SIGNALS) process.on(s, this.onSignal);
  }

  /** Calls `fn` with the first stop signal (at once when it already came); returns the unsubscriber. */
  onStop(fn: Listener): () => void {
    if (this.signal !== null || this.lost !== null) {
      fn(this.signal ?? 'output');
      return () => undefined;
    }
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * Standard output or error failed: nobody can read what csumtop prints (`| head`
   * exited: EPIPE) or it cannot be stored (ENOSPC). Like tcpdump, the run ends at once
   * in every mode: the stop goes as for a signal (rings closed, -w file complete, the
   * terminal restored), skips the report, and exits EXIT_OUTPUT_LOST at the latest
   * OUTPUT_LOST_LIMIT_MS later. `say` gets one line when standard error still works.
   */
  outputLost(stream: 'stdout' | 'stderr', err: NodeJS.ErrnoException): void {
    if (this.lost !== null) return;
    // Node's message is "ENOSPC: no space left on device, write": said as a sentence.
    const what =
      err.code === 'EPIPE' ? 'closed by its reader' : `${err.message.replace(/^[A-Z]+: /, '').replace(/, write$/, '')}${err.code ? ` (${err.code})` : ''}`;
    this.lost = `cannot write standard ${stream === 'stdout' ? 'output' : 'error'}: ${what}`;
    // A reader that went away (csumtop --json | head -1) is the normal end of a pipeline:
    // tcpdump says nothing then either. Anything else is a write error worth a line.
    if (stream === 'stdout' && err.code !== 'EPIPE') {
      try {
        this.say(this.lost);
      } catch {
        // standard error gone too
      }
    }
    const t = setTimeout(() => {
      releaseDeadTerminalAtExit();
      this.exit(EXIT_OUTPUT_LOST);
    }, OUTPUT_LOST_LIMIT_MS);
    t.unref();
    for (const fn of [...this.listeners]) {
      this.listeners.delete(fn);
      try {
        fn('output');
      } catch {
        // stopping anyway
      }
    }
  }

  /** Resolves with the first stop signal. */
  stopped(): Promise<StopSignal | 'output'> {
    return new Promise((resolve) => this.onStop(resolve));
  }

  /** The run ended by itself: the bound on shutdown no longer applies. */
  finished(): void {
    if (this.limitTimer) clearTimeout(this.limitTimer);
    this.limitTimer = null;
  }

  private readonly onSignal = (sig: StopSignal): void => {
    if (this.signal !== null) {
      this.exitNow(sig, `${sig} again while stopping: exiting now`);
      return;
    }
    this.signal = sig;
    this.armLimit(sig, this.pending(), this.makeMeter(), performance.now());
    for (const fn of [...this.listeners]) {
      this.listeners.delete(fn);
      try {
        fn(sig);
      } catch (err) {
        this.say(`while stopping: ${(err as Error).message}`);
      }
    }
  };

  /**
   * Exits limitMs from now unless the stop progressed meanwhile: output drained (a slow
   * reader, csumtop --json | slow-consumer, gets the whole report) or the event loop
   * mostly busy with the stop's own work (for workLimitMs in all). A reader that stopped
   * reading, or a file system that does not answer, leaves the loop idle: exit.
   */
  private armLimit(sig: StopSignal, pendingBefore: number, meter: LoadMeter, since: number): void {
    this.limitTimer = setTimeout(() => {
      const pending = this.pending();
      const drained = pending > 0 && pending !== pendingBefore;
      // A timer firing late after one long synchronous piece counts it: the meter covers
      // the whole time since the last check.
      const working = meter() >= BUSY_SHARE && performance.now() - since < this.workLimitMs;
      if (drained || working) {
        this.armLimit(sig, pending, meter, since);
        return;
      }
      const why = pending > 0 ? 'output not drained' : 'idle: a file system or a peer not answering';
      this.exitNow(sig, `stopping after ${sig} made no progress for ${this.limitMs / 1000} s (${why}): exiting now`);
    }, this.limitMs);
    // unref: the timer alone must not keep an otherwise finished process alive.
    this.limitTimer.unref();
  }

  private exitNow(sig: StopSignal, why: string): never {
    // Said by the last 'exit' handler: after the dashboard has given the terminal back
    // (its own 'exit' handler, src/ui/screen.ts), where it would go to its warnings pane.
    process.on('exit', () => {
      try {
        this.say(why);
      } catch {
        // standard error gone with the terminal: exit anyway
      }
    });
    releaseDeadTerminalAtExit();
    return this.exit(signalStatus(sig));
  }
}

/** The process's one Shutdown (main() installs it). */
export const shutdown = new Shutdown();
