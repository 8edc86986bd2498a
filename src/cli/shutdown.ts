/**
 * How csumtop stops on SIGINT, SIGTERM and SIGHUP, the same in every mode (issue 7):
 *
 * - The first signal asks the running mode to stop: live capture (report, dashboard,
 *   --demo) stops and ends as it would at --duration (the report's exit status: a live
 *   capture has no other way to end, as with tcpdump); `-r FILE` stops reading and
 *   reports what was read, marked interrupted, with 128 + the signal's number (the
 *   answer is incomplete, so neither 0 nor 1 would be true).
 * - A second signal while shutting down exits at once with 128 + its number. So does a
 *   shutdown still running SHUTDOWN_LIMIT_MS after the first signal with no output
 *   drained meanwhile (a standard output nobody reads, a stuck file system): exit is
 *   bounded, while a slow reader still gets the whole report. process.exit() runs the
 *   'exit' handlers, which are synchronous and restore the terminal (src/ui/screen.ts)
 *   and remove the demo lab (src/lab/lab.ts); a -w file holds whole records only
 *   (native/capture/bad_frame_file.cc writes each in one writev).
 *
 * SIGHUP is also what a terminal going away sends (the dashboard's pty closed): it is a
 * stop like the others, never a reason to spin on a dead terminal.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';

import { releaseDeadTerminalAtExit } from '../ui/dead-terminal.js';

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** After the first signal, how long shutdown may take before csumtop exits anyway. */
export const SHUTDOWN_LIMIT_MS = 5000;

/** The shell's convention for "ended by signal N": 128 + N (130 SIGINT, 143 SIGTERM, 129 SIGHUP). */
export function signalStatus(sig: StopSignal): number {
  return 128 + (os.constants.signals[sig] ?? 15);
}

type Listener = (sig: StopSignal) => void;

export class Shutdown {
  /** The first stop signal, null while none arrived. */
  signal: StopSignal | null = null;
  private readonly listeners = new Set<Listener>();
  private installed = false;
  private limitTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly limitMs = SHUTDOWN_LIMIT_MS,
    // writeSync: at exit nothing asynchronous is flushed any more.
    private readonly say: (text: string) => void = (text) => void fs.writeSync(2, `csumtop: ${text}\n`),
  ) {}

  /** Takes over the three signals for the whole run (from main(), before any mode starts). */
  install(): void {
    if (this.installed) return;
    this.installed = true;
    for (const s of STOP_SIGNALS) process.on(s, this.onSignal);
  }

  /** Calls `fn` with the first stop signal (at once when it already came); returns the unsubscriber. */
  onStop(fn: Listener): () => void {
    if (this.signal !== null) {
      fn(this.signal);
      return () => undefined;
    }
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Resolves with the first stop signal. */
  stopped(): Promise<StopSignal> {
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
    this.armLimit(sig, this.pendingOutput());
    for (const fn of [...this.listeners]) {
      this.listeners.delete(fn);
      try {
        fn(sig);
      } catch (err) {
        this.say(`while stopping: ${(err as Error).message}`);
      }
    }
  };

  /** Bytes handed to standard output and error and not yet taken by the reader. */
  private pendingOutput(): number {
    return (process.stdout.writableLength ?? 0) + (process.stderr.writableLength ?? 0);
  }

  /**
   * Exits limitMs from now unless the output is still draining meanwhile: a slow reader
   * (csumtop --json | slow-consumer) gets the whole report, a reader that stopped does
   * not hold csumtop forever.
   */
  private armLimit(sig: StopSignal, pendingBefore: number): void {
    // unref: the timer alone must not keep an otherwise finished process alive.
    const armedAt = performance.now();
    this.limitTimer = setTimeout(() => {
      const pending = this.pendingOutput();
      // Late by more than a second: the event loop was busy with the stop's own work (the
      // final correlation and a report of 65,536 flows take seconds in one go), not waiting
      // on a reader; judge the next interval instead of exiting just as that work ended.
      const blocked = performance.now() - armedAt > this.limitMs + 1000;
      if ((pending > 0 && pending !== pendingBefore) || blocked) {
        this.armLimit(sig, pending);
        return;
      }
      this.exitNow(sig, `stopping after ${sig} made no progress for ${this.limitMs / 1000} s (output not drained, or a file system not answering): exiting now`);
    }, this.limitMs);
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
    process.exit(signalStatus(sig));
  }
}

/** The process's one Shutdown (main() installs it). */
export const shutdown = new Shutdown();
