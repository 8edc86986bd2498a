/**
 * Progress of a long `-r` on standard error when it is a terminal (issue 14): bytes and
 * frames done, the rate, and the time left when the file's size is known. One line,
 * rewritten in place at most every `everyMs`, and erased before the report is printed, so
 * nothing of it is left on the screen or in a redirected standard error (which gets none).
 */

export interface ProgressSample {
  frames: number;
  bytesRead: number;
}

/** The progress line for `s` after `seconds`, of a file of `totalBytes` (null: a pipe). */
export function progressLine(s: ProgressSample, seconds: number, totalBytes: number | null): string {
  const mb = (b: number): string => `${(b / 1e6).toFixed(1)} MB`;
  const rate = seconds > 0 ? s.frames / seconds : 0;
  let line = `csumtop: ${mb(s.bytesRead)}`;
  if (totalBytes !== null && totalBytes > 0) {
    const pct = Math.min(100, (100 * s.bytesRead) / totalBytes);
    line += ` of ${mb(totalBytes)} (${pct.toFixed(0)}%)`;
  }
  line += `, ${s.frames.toLocaleString('en-US')} frames, ${(rate / 1e6).toFixed(2)} M frames/s`;
  if (totalBytes !== null && totalBytes > 0 && s.bytesRead > 0 && seconds > 0) {
    const left = ((totalBytes - s.bytesRead) * seconds) / s.bytesRead;
    line += `, ${formatEta(Math.max(0, left))} left`;
  }
  return line;
}

function formatEta(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export class Progress {
  private readonly start = process.hrtime.bigint();
  private lastMs = 0;
  private shown = false;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly totalBytes: number | null,
    private readonly everyMs = 500,
  ) {}

  /** Called after every step: redraws when `everyMs` have passed since the last line. */
  update(s: ProgressSample): void {
    const ms = Number(process.hrtime.bigint() - this.start) / 1e6;
    if (ms - this.lastMs < this.everyMs) return;
    this.lastMs = ms;
    const width = this.out.columns > 1 ? this.out.columns - 1 : 79;
    // \r and erase-to-end-of-line (ECMA-48 EL, CSI K): the line is redrawn in place.
    this.out.write(`\r${progressLine(s, ms / 1000, this.totalBytes).slice(0, width)}\x1b[K`);
    this.shown = true;
  }

  /** Erases the line (before the report and warnings are printed). */
  clear(): void {
    if (this.shown) this.out.write('\r\x1b[K');
    this.shown = false;
  }
}
