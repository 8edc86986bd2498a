/**
 * Drives a real terminal for the dashboard tests: a tmux server on a socket of its own
 * (never the user's), one session per case, `send-keys` in and `capture-pane` out.
 * The command runs under `sh -c 'CMD; echo EXIT=$?; sleep'` so the exit status and the
 * restored screen can be read after csumtop is gone.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

import { which } from '../lab/lab.js';

const SOCKET = `csumtop-test-${process.pid}`;

/** Why tmux cannot be driven here, or null. Tests FAIL with it (CI installs tmux: .ci/run). */
export function tmuxProblem(): string | null {
  if (!which('tmux')) return 'tmux is not installed: the dashboard tests drive a real terminal through tmux (apt-get install tmux; .ci/run does)';
  return null;
}

function tmux(args: string[]): string {
  const r = spawnSync('tmux', ['-L', SOCKET, '-f', '/dev/null', ...args], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

/** Kills this process's tmux server and every session on it. */
export function killTmuxServer(): void {
  spawnSync('tmux', ['-L', SOCKET, 'kill-server'], { stdio: 'ignore' });
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

let serial = 0;

export class TmuxSession {
  readonly name: string;

  constructor(argv: string[], opts: { width: number; height: number; env?: Record<string, string>; cwd?: string }) {
    this.name = `t${serial++}`;
    const env = Object.entries({ TERM: 'xterm-256color', LANG: 'C.UTF-8', ...(opts.env ?? {}) })
      .map(([k, v]) => `${k}=${shellQuote(v)}`)
      .join(' ');
    const cmd = `${opts.cwd ? `cd ${shellQuote(opts.cwd)} && ` : ''}env ${env} ${argv.map(shellQuote).join(' ')}; echo EXIT=$?; sleep 600`;
    tmux(['new-session', '-d', '-s', this.name, '-x', String(opts.width), '-y', String(opts.height), 'sh', '-c', cmd]);
  }

  /** The screen as text; with `escapes`, the SGR attributes of every cell too (capture-pane -e). */
  capture(escapes = false): string {
    return tmux(['capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', this.name]);
  }

  lines(): string[] {
    return this.capture().split('\n');
  }

  /** Keys as tmux names them ("Tab", "Enter", "Escape", "Space", "C-c") or literal text. */
  send(...keys: string[]): void {
    tmux(['send-keys', '-t', this.name, ...keys]);
  }

  /** Literal text (every character a key press). */
  type(text: string): void {
    tmux(['send-keys', '-t', this.name, '-l', text]);
  }

  resize(width: number, height: number): void {
    tmux(['resize-window', '-t', this.name, '-x', String(width), '-y', String(height)]);
  }

  /** #{alternate_on} #{cursor_flag} #{pane_width}x#{pane_height} of the pane. */
  paneState(): { alternate: boolean; cursorVisible: boolean; width: number; height: number } {
    const [alt, cur, size] = tmux(['display-message', '-p', '-t', this.name, '#{alternate_on} #{cursor_flag} #{pane_width}x#{pane_height}']).trim().split(' ');
    const [w, h] = size.split('x').map(Number);
    return { alternate: alt === '1', cursorVisible: cur === '1', width: w, height: h };
  }

  /** The shell's pid: csumtop (node) is its child. */
  panePid(): number {
    return Number(tmux(['display-message', '-p', '-t', this.name, '#{pane_pid}']).trim());
  }

  /** Polls the screen until `pred` holds; fails with the last screen after timeoutMs. */
  async waitFor(pred: (screen: string) => boolean, timeoutMs: number, what: string): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let screen = '';
    for (;;) {
      screen = this.capture();
      if (pred(screen)) return screen;
      if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}; screen:\n${screen}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  /** The exit status printed after csumtop ended, waiting up to timeoutMs. */
  async exitStatus(timeoutMs = 5000): Promise<number> {
    const screen = await this.waitFor((s) => /EXIT=\d+/.test(s), timeoutMs, 'csumtop to exit');
    return Number(/EXIT=(\d+)/.exec(screen)![1]);
  }

  kill(): void {
    spawnSync('tmux', ['-L', SOCKET, 'kill-session', '-t', this.name], { stdio: 'ignore' });
  }

  /** csumtop's node process under the pane's shell (bin/csumtop execs node). */
  csumtopPid(): number {
    const pid = descendants(this.panePid()).find((p) => {
      try {
        return fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'node';
      } catch {
        return false;
      }
    });
    assert.ok(pid, "csumtop's node process");
    return pid;
  }
}

/** Pids of the descendants of `pid` (from /proc), nearest first. */
export function descendants(pid: number): number[] {
  const r = spawnSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' });
  const children = new Map<number, number[]>();
  for (const line of r.stdout.trim().split('\n')) {
    const [p, pp] = line.trim().split(/\s+/).map(Number);
    children.set(pp, [...(children.get(pp) ?? []), p]);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const c of children.get(queue.shift()!) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

/** SGR sequences that set a colour (foreground, background, 256-colour, RGB). */
export function colourEscapes(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/\x1b\[([0-9;:]*)m/g)) {
    const params = m[1]
      .split(/[;:]/)
      .filter((p) => p !== '')
      .map(Number);
    if (params.some((p) => (p >= 30 && p <= 39 && p !== 39) || (p >= 40 && p <= 49 && p !== 49) || (p >= 90 && p <= 107) || p === 38 || p === 48))
      out.push(JSON.stringify(m[0]));
  }
  return out;
}
