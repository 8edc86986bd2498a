/**
 * The only file that imports blessed (unmaintained since 2016, docs/design.md): it paints the
 * lines format.ts lays out, on a timer, and turns key presses into reducer actions.
 *
 * Known blessed traps handled here:
 * - compiling xterm-256color's terminfo prints "Error on xterm-256color.Setulc" with
 *   console.error while the screen is created: console output is captured around the
 *   construction and goes to the warnings pane, never to the terminal;
 * - widgets do not follow a resize by themselves: on 'resize' the box is given the new
 *   size explicitly and the text is laid out again for it.
 *
 * Terminal restoration: screen.destroy() (alternate screen left, cursor shown, raw mode
 * off) runs on quit, on SIGINT/SIGTERM/SIGHUP, on an uncaught exception and, as a last
 * resort, in a process 'exit' handler; it is idempotent.
 */
import blessed from 'blessed';

import { EXIT_INTERNAL } from '../cli/exit-status.js';
import { dashboardCpu } from './cpu-meter.js';
import { releaseDeadTerminalAtExit } from './dead-terminal.js';
import { initialState, reduce, type Action, type DashboardState, type DashboardUpdate, type Effect, type KeyEvent, type RunInfo } from './dashboard-state.js';
import { renderDashboard, type Line, type Tone } from './format.js';

export interface ScreenOptions {
  run: RunInfo;
  /** Redraw period (--interval). */
  intervalMs: number;
  /** NO_COLOR unset and the terminal not dumb. */
  colour: boolean;
  /** TERM=dumb: ASCII glyphs only. */
  ascii: boolean;
  /**
   * TERM=dumb: the terminal cannot move the cursor, so blessed cannot drive it (it prints
   * its cursor-addressed screen as one run-on line). Each interval's view is written as
   * plain lines instead, like `top -b`, with no escape sequence at all; keys still work.
   */
  dumb?: boolean;
  /** Runs a write-pcap effect; returns the status line text (path written, or why not). */
  writePcap: (e: Extract<Effect, { type: 'write-pcap' }>) => string;
  /** A remedy `F` applies (the demo's): what it is, and the action, which resolves with the status line text or rejects. */
  fix?: DashboardFix;
  input?: NodeJS.ReadStream;
  output?: NodeJS.WriteStream;
}

export interface DashboardFix {
  what: string;
  apply: () => Promise<string>;
}

/** How the terminal should be driven, from the environment (NO_COLOR: https://no-color.org). */
export function terminalPolicy(env: NodeJS.ProcessEnv): { colour: boolean; ascii: boolean; dumb: boolean; terminal: string } {
  const term = env.TERM ?? 'xterm';
  const dumb = term === 'dumb' || term === '';
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  return { colour: !noColor && !dumb, ascii: dumb, dumb, terminal: dumb ? 'dumb' : term };
}

const TONE_TAGS: Record<Tone, [string, string] | null> = {
  plain: null,
  title: ['{bold}', '{/bold}'],
  focus: ['{bold}{cyan-fg}', '{/cyan-fg}{/bold}'],
  selected: ['{inverse}', '{/inverse}'],
  critical: ['{red-fg}', '{/red-fg}'],
  warning: ['{yellow-fg}', '{/yellow-fg}'],
  info: ['{cyan-fg}', '{/cyan-fg}'],
  paused: ['{black-fg}{yellow-bg}', '{/yellow-bg}{/black-fg}'],
  dim: null,
  mark: ['{green-fg}', '{/green-fg}'],
};

/** The tagged content blessed draws: with colour off there is not a single tag. */
export function toContent(lines: Line[], colour: boolean): string {
  return lines
    .map((l) => {
      const text = blessed.escape(l.text);
      const tags = colour ? TONE_TAGS[l.tone] : null;
      return tags ? `${tags[0]}${text}${tags[1]}` : text;
    })
    .join('\n');
}

/** Key presses from raw bytes, for a dumb terminal (no blessed): the keys csumtop uses. */
export function dumbKeys(data: string): KeyEvent[] {
  const out: KeyEvent[] = [];
  for (let i = 0; i < data.length; i++) {
    const c = data[i];
    if (c === '\x1b') {
      // Arrow keys (ESC [ A/B) where a terminal sends them; a lone ESC is Escape.
      if (data[i + 1] === '[' && (data[i + 2] === 'A' || data[i + 2] === 'B')) {
        out.push({ name: data[i + 2] === 'A' ? 'up' : 'down' });
        i += 2;
      } else out.push({ name: 'escape' });
    } else if (c === '\x03') out.push({ name: 'C-c' });
    else if (c === '\r' || c === '\n') out.push({ name: 'enter' });
    else if (c === '\t') out.push({ name: 'tab' });
    else if (c === '\x7f' || c === '\b') out.push({ name: 'backspace' });
    else if (c === ' ') out.push({ name: 'space', ch: ' ' });
    else if (c >= ' ' && c <= '~') out.push({ name: c, ch: c });
  }
  return out;
}

/** What blessed's keypress event carries (lib/keys.js): the fields read here. */
interface BlessedKey {
  full?: string;
  name?: string;
  meta?: boolean;
  /** The bytes read for this key. */
  sequence?: string;
}

export class DashboardScreen {
  private state: DashboardState;
  private screen: blessed.Widgets.Screen | null = null;
  private box: blessed.Widgets.BoxElement | null = null;
  private timer: NodeJS.Timeout | null = null;
  private destroyed = false;
  private resolveQuit: (() => void) | null = null;
  readonly quit: Promise<void>;
  private readonly restoreConsole: Array<() => void> = [];
  private readonly onExit = (): void => this.destroy();
  private readonly onSignal = (): void => this.requestQuit();
  private readonly onUncaught = (err: Error): void => {
    this.destroy();
    process.stderr.write(`csumtop: ${err.stack ?? err.message}\n`);
    releaseDeadTerminalAtExit();
    // A bug, as anywhere else in csumtop (src/cli/run.ts): not a usage or input error.
    process.exit(EXIT_INTERNAL);
  };

  constructor(private readonly opts: ScreenOptions) {
    this.state = initialState(opts.run, opts.fix?.what ?? null);
    this.quit = new Promise((resolve) => (this.resolveQuit = resolve));
  }

  /** Current state (tests, and the final report after quit). */
  get current(): DashboardState {
    return this.state;
  }

  start(): void {
    this.hookProcess();
    if (this.opts.dumb) {
      this.startDumb();
      return;
    }
    const policy = terminalPolicy(process.env);
    const captured: string[] = [];
    const origError = console.error;
    const origLog = console.log;
    const origWarn = console.warn;
    // blessed reports terminfo problems with console.error during construction (Setulc).
    console.error =
      console.log =
      console.warn =
        (...args: unknown[]): void => {
          captured.push(args.map(String).join(' '));
        };
    try {
      this.screen = blessed.screen({
        input: this.opts.input ?? process.stdin,
        output: this.opts.output ?? process.stdout,
        terminal: policy.terminal,
        smartCSR: true,
        fullUnicode: false,
        autoPadding: false,
        warnings: false,
        dockBorders: false,
        title: 'csumtop',
        forceUnicode: !this.opts.ascii,
      });
    } finally {
      console.error = origError;
      console.log = origLog;
      console.warn = origWarn;
    }
    for (const c of captured) {
      const text = c.trim();
      if (text && !/^Error on .*Setulc|^"\\u001b\[58::2::|^var v,|^\s*$/.test(text))
        this.dispatch({ type: 'warning', text: `terminal: ${text.slice(0, 200)}` });
    }
    this.captureConsole();
    this.box = blessed.box({ top: 0, left: 0, width: this.screen.width, height: this.screen.height, tags: true, wrap: false, scrollable: false });
    this.screen.append(this.box);
    this.screen.program.hideCursor();
    this.screen.on('keypress', (ch: string | undefined, key: BlessedKey | undefined) => this.key(ch, key));
    this.screen.on('resize', () => this.draw());
    this.timer = setInterval(() => this.timerDraw(), this.opts.intervalMs);
    this.draw();
  }

  private lastDrawMs = 0;

  /**
   * The timer paints only when nothing else did during the interval (paused, replay
   * ended, a feed that stalls): a new interval's update is painted as it arrives, and
   * painting twice a second doubled the screen's CPU with 1000 interfaces.
   */
  private timerDraw(): void {
    if (Date.now() - this.lastDrawMs >= this.opts.intervalMs * 0.9) this.draw();
  }

  private hookProcess(): void {
    process.on('exit', this.onExit);
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, this.onSignal);
    process.on('uncaughtException', this.onUncaught);
  }

  private dumbInput: NodeJS.ReadStream | null = null;
  private readonly onDumbData = (d: Buffer): void => {
    for (const ev of dumbKeys(d.toString('latin1'))) {
      this.dispatch({ type: 'key', key: ev });
      if (this.destroyed) return;
    }
    this.draw();
  };

  private startDumb(): void {
    const input = this.opts.input ?? process.stdin;
    this.dumbInput = input;
    if (input.isTTY) input.setRawMode(true);
    input.on('data', this.onDumbData);
    input.resume();
    this.captureConsole();
    this.timer = setInterval(() => this.timerDraw(), this.opts.intervalMs);
    this.draw();
  }

  private drawDumb(): void {
    const out = this.opts.output ?? process.stdout;
    const width = Math.max(20, out.columns || 80);
    const height = Math.max(5, out.rows || 24);
    // One line short of the terminal: the newline after the last line scrolls, and the
    // whole view, header included, stays on screen until the next one.
    const lines = renderDashboard(this.state, { width, height: height - 1, ascii: true });
    // Trailing blanks cost a dumb terminal a whole line each: cut them.
    out.write(lines.map((l) => l.text.trimEnd()).join('\n') + '\n');
  }

  /** Everything that would print while the screen is up goes to the warnings pane. */
  private captureConsole(): void {
    const toPane = (...args: unknown[]): void => this.dispatch({ type: 'warning', text: args.map(String).join(' ') });
    const saved = { error: console.error, log: console.log, warn: console.warn, info: console.info };
    console.error = console.log = console.warn = console.info = toPane;
    const stderrWrite = process.stderr.write;
    process.stderr.write = ((chunk: string | Uint8Array): boolean => {
      toPane(typeof chunk === 'string' ? chunk.trimEnd() : Buffer.from(chunk).toString().trimEnd());
      return true;
    }) as typeof process.stderr.write;
    this.restoreConsole.push(() => {
      Object.assign(console, saved);
      process.stderr.write = stderrWrite;
    });
  }

  /** A new interval's data: stored now, painted at the next tick (never per packet). */
  push(update: DashboardUpdate): void {
    dashboardCpu.measure(() => this.dispatch({ type: 'update', update }));
  }

  warn(text: string): void {
    this.dispatch({ type: 'warning', text });
  }

  status(text: string): void {
    this.dispatch({ type: 'status', text });
  }

  /** Replay reached the end: freeze on the final view and paint it. */
  finished(): void {
    this.dispatch({ type: 'finished' });
    this.draw();
  }

  private dispatch(action: Action): void {
    const step = reduce(this.state, action);
    this.state = step.state;
    for (const e of step.effects) {
      if (e.type === 'quit') this.requestQuit();
      else if (e.type === 'write-pcap') this.state = reduce(this.state, { type: 'status', text: this.opts.writePcap(e) }).state;
      else if (e.type === 'apply-fix') this.applyFix();
    }
  }

  /** Runs the fix off the key handler; its outcome is an action like any other, painted at once. */
  private applyFix(): void {
    const fix = this.opts.fix;
    if (!fix) return;
    fix.apply().then(
      (text) => this.fixDone(true, text),
      (err: Error) => this.fixDone(false, `fix failed: ${err.message.slice(0, 200)}`),
    );
  }

  private fixDone(ok: boolean, text: string): void {
    if (this.destroyed) return;
    this.dispatch({ type: 'fix-done', ok, text, atMs: Date.now() });
    this.draw();
  }

  private key(ch: string | undefined, key: BlessedKey | undefined): void {
    dashboardCpu.measure(() => this.keyNow(ch, key));
  }

  private keyNow(ch: string | undefined, key: BlessedKey | undefined): void {
    const name = key?.full ?? key?.name ?? '';
    // blessed reports a carriage return twice, as 'enter' and then as 'return': one is enough.
    if (name === 'return') return;
    const events: KeyEvent[] = [];
    if (key?.meta === true && key.sequence?.length === 2 && key.sequence[0] === '\x1b') {
      // ESC and a key in one read is Esc pressed just before that key: blessed takes the
      // pair for Alt+key ("M-j", "M-escape") and both were lost. csumtop binds no Alt key,
      // so it is Esc, then the key. tmux makes such pairs: it holds a lone Esc for its
      // escape-time (500 ms by default) and sends it with the next key typed meanwhile.
      events.push(...dumbKeys(key.sequence));
    } else {
      const ev: KeyEvent = { name };
      if (ch !== undefined && ch.length === 1 && ch >= ' ') ev.ch = ch;
      events.push(ev);
    }
    for (const ev of events) {
      this.dispatch({ type: 'key', key: ev });
      if (this.destroyed) return;
    }
    // A key is a user event, not a packet: answer it at once. blessed itself delivers a
    // lone Esc as soon as it is read (lib/keys.js waits for nothing); a wait seen in tmux
    // is tmux's escape-time (docs/usage.md, the Esc key).
    this.draw();
  }

  private requestQuit(): void {
    const r = this.resolveQuit;
    this.resolveQuit = null;
    r?.();
  }

  draw(): void {
    dashboardCpu.measure(() => this.drawNow());
  }

  private drawNow(): void {
    if (this.destroyed) return;
    this.lastDrawMs = Date.now();
    if (this.opts.dumb) return this.drawDumb();
    if (!this.screen || !this.box) return;
    const width = Math.max(20, Number(this.screen.width));
    const height = Math.max(5, Number(this.screen.height));
    this.box.width = width;
    this.box.height = height;
    const lines = renderDashboard(this.state, { width, height, ascii: this.opts.ascii });
    this.box.setContent(toContent(lines, this.opts.colour));
    this.screen.render();
  }

  /** Leaves the alternate screen, shows the cursor, restores the console; idempotent. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.timer) clearInterval(this.timer);
    process.removeListener('exit', this.onExit);
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.removeListener(s, this.onSignal);
    process.removeListener('uncaughtException', this.onUncaught);
    for (const r of this.restoreConsole.splice(0)) r();
    if (this.dumbInput) {
      this.dumbInput.removeListener('data', this.onDumbData);
      if (this.dumbInput.isTTY) this.dumbInput.setRawMode(false);
      this.dumbInput.pause();
      this.dumbInput = null;
    }
    try {
      this.screen?.program.showCursor();
      this.screen?.destroy();
    } catch {
      // The terminal may be gone (SIGHUP); nothing left to restore then.
    }
    this.screen = null;
    this.requestQuit();
  }
}
