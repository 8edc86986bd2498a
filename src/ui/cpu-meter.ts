/**
 * The dashboard's own CPU: the JavaScript thread's CPU time (CLOCK_THREAD_CPUTIME_ID,
 * so the capture threads are not counted) spent in what only the dashboard does: the
 * per-interval interface list and state update (reducer), laying out the panes and
 * blessed painting them, and redraws for keys and resizes. Issue 5 asks this to stay
 * under 5% of one core at a 1 s refresh with 1000 interfaces; bench/dashboard.ts reads
 * it, since whole-process figures vary between runs by more than the screen costs.
 *
 * With CSUMTOP_DASHBOARD_CPU=FILE set, the totals are written to FILE (JSON) after
 * every measured paint, for the benchmark; otherwise they are only kept in memory.
 */
import * as fs from 'node:fs';

import { nativeThreadCpuNs } from '../native/host.js';

export interface CpuMeterTotals {
  /** Measured sections (outermost only). */
  sections: number;
  /** JavaScript-thread CPU inside them, ns. */
  cpuNs: number;
}

export class CpuMeter {
  private depth = 0;
  private start = 0;
  readonly totals: CpuMeterTotals = { sections: 0, cpuNs: 0 };

  /** `file`: where the totals are written after each section (null: nowhere). */
  constructor(private readonly file: string | null = process.env.CSUMTOP_DASHBOARD_CPU || null) {}

  /** Runs `fn`, counting its thread CPU unless an enclosing measure() already does. */
  measure<T>(fn: () => T): T {
    if (this.depth++ === 0) this.start = nativeThreadCpuNs() ?? 0;
    try {
      return fn();
    } finally {
      if (--this.depth === 0) {
        const end = nativeThreadCpuNs() ?? 0;
        this.totals.sections++;
        this.totals.cpuNs += Math.max(0, end - this.start);
        if (this.file !== null) this.flush(this.file);
      }
    }
  }

  private flush(file: string): void {
    try {
      fs.writeFileSync(file, JSON.stringify(this.totals));
    } catch {
      // A benchmark aid: never disturb the screen over it.
    }
  }
}

export const dashboardCpu = new CpuMeter();
