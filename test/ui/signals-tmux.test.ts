/**
 * Issue 7, signals on the dashboard, in a real terminal (tmux): after SIGINT, SIGTERM or
 * SIGHUP the terminal is as it was (`stty -a` in the same pane shows echo and icanon
 * back, the alternate screen is left, the cursor shown) and the exit status is the
 * report's (src/cli/shutdown.ts); --demo also removes its lab. The terminal going away
 * (the tmux session killed: the pty closes, SIGHUP and EIO) ends csumtop within a few
 * seconds with the same status, without burning CPU, and --demo leaves no namespace.
 * A second signal exits at once (128 + N), still restoring the terminal and removing
 * the lab (the process 'exit' handlers).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { BIN, ROOT, createNamespace, labProblem, sleep, uniqueNs } from '../lab/lab.js';
import { TmuxSession, killTmuxServer, tmuxProblem } from './tmux.js';

const T = { timeout: 40_000 };
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

let ns = '';
let removeNs: (() => void) | null = null;
let dir = '';
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csumtop-sig-tmux-'));
  if (labProblem() !== null) return;
  ns = uniqueNs('S');
  removeNs = createNamespace(ns);
});
after(() => {
  killTmuxServer();
  removeNs?.();
  fs.rmSync(dir, { recursive: true, force: true });
});

function need(): void {
  const p = tmuxProblem() ?? labProblem();
  if (p) assert.fail(p);
}

function demoNamespaces(): string[] {
  return spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((l) => l.split(' ')[0])
    .filter((n) => /^demo\d+-node[12]$/.test(n));
}

function removeDemoNamespaces(): void {
  for (const n of demoNamespaces()) spawnSync('ip', ['netns', 'del', n]);
}

/** Waits (polling /proc, no sleep) until `sig` is no longer pending for `pid`: delivered to its handler. */
async function untilTaken(pid: number, sig: NodeJS.Signals, ms: number): Promise<void> {
  const bit = 1n << BigInt((os.constants.signals[sig] as number) - 1);
  const deadline = Date.now() + ms;
  for (;;) {
    let pending = 0n;
    try {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      for (const m of status.matchAll(/^(?:SigPnd|ShdPnd):\s*([0-9a-f]+)$/gm)) pending |= BigInt(`0x${m[1]}`);
    } catch {
      return; // gone
    }
    if ((pending & bit) === 0n) return;
    assert.ok(Date.now() < deadline, `${sig} still pending for ${pid} after ${ms} ms`);
    await new Promise((r) => setImmediate(r));
  }
}

/** The command in the pane: csumtop, then its status and the terminal's settings. */
function thenStty(args: string[]): string[] {
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  return ['sh', '-c', `${[BIN, ...args].map(q).join(' ')}; echo STATUS=$?; stty -a; echo STTY-DONE`];
}

/** Terminal restored: stty shows line editing and echo back, alternate screen left, cursor shown. */
async function assertRestored(t: TmuxSession, what: string): Promise<number> {
  const screen = await t.waitFor((x) => /STTY-DONE/.test(x), 15_000, `${what}: csumtop to exit and stty to run`);
  const status = Number(/STATUS=(\d+)/.exec(screen)?.[1]);
  const stty = screen.slice(screen.indexOf('STATUS='));
  assert.match(stty, /(^|\s)icanon(\s|$)/m, `${what}: canonical mode not restored:\n${stty}`);
  assert.match(stty, /(^|\s)echo(\s|$)/m, `${what}: echo not restored:\n${stty}`);
  assert.doesNotMatch(stty, /(^|\s)-(icanon|echo|isig)(\s|$)/m, `${what}: the terminal is left raw:\n${stty}`);
  const st = t.paneState();
  assert.equal(st.alternate, false, `${what}: still on the alternate screen`);
  assert.equal(st.cursorVisible, true, `${what}: cursor hidden`);
  return status;
}

for (const sig of SIGNALS) {
  test(`${sig} to the live dashboard: stty shows echo and icanon back, alternate screen left, exit 0 (the report's status)`, T, async () => {
    need();
    const t = new TmuxSession(thenStty(['--netns', ns, '-i', 'lo']), { width: 100, height: 30, cwd: ROOT });
    try {
      await t.waitFor((x) => /Interfaces 1\b/.test(x), 10_000, 'the dashboard');
      process.kill(t.csumtopPid(), sig);
      assert.equal(await assertRestored(t, sig), 0);
    } finally {
      t.kill();
    }
  });
}

test('SIGTERM to the -r replay dashboard: the terminal restored, exit 1 (as q: the replayed file has bad checksums)', T, async () => {
  need();
  const t = new TmuxSession(thenStty(['-r', path.join(ROOT, 'examples', 'incident.pcapng'), '--fast']), { width: 120, height: 40, cwd: ROOT });
  try {
    await t.waitFor((x) => /\[END OF FILE\]/.test(x), 15_000, 'the end of the replay');
    process.kill(t.csumtopPid(), 'SIGTERM');
    assert.equal(await assertRestored(t, 'replay SIGTERM'), 1);
  } finally {
    t.kill();
  }
});

for (const sig of ['SIGINT', 'SIGHUP'] as const) {
  test(`${sig} to --demo: the lab is removed, the terminal restored, exit 0 (as after q)`, T, async () => {
    need();
    assert.deepEqual(demoNamespaces(), [], 'a demo lab is left over from before');
    const t = new TmuxSession(thenStty(['--demo']), { width: 120, height: 40, cwd: ROOT });
    try {
      await t.waitFor((x) => /csumtop demo/.test(x) && /Interfaces 4\b/.test(x), 20_000, 'the demo dashboard');
      assert.equal(demoNamespaces().length, 2);
      process.kill(t.csumtopPid(), sig);
      assert.equal(await assertRestored(t, `--demo ${sig}`), 0);
      assert.deepEqual(demoNamespaces(), [], `the lab is removed after ${sig}`);
    } finally {
      t.kill();
      removeDemoNamespaces();
    }
  });
}

test('--demo, SIGINT while the lab is still being built (before the screen is up): exit 0, the lab removed, the terminal as it was', T, async () => {
  need();
  assert.deepEqual(demoNamespaces(), []);
  const t = new TmuxSession(thenStty(['--demo']), { width: 120, height: 40, cwd: ROOT });
  try {
    const deadline = Date.now() + 10_000;
    while (demoNamespaces().length === 0 && Date.now() < deadline) await sleep(20);
    assert.ok(demoNamespaces().length > 0, 'the demo lab never appeared');
    assert.doesNotMatch(t.capture(), /csumtop demo/, 'the dashboard is already up: too late for this case');
    const at = Date.now();
    process.kill(t.csumtopPid(), 'SIGINT');
    assert.equal(await assertRestored(t, 'SIGINT during the build'), 0, 'exit status (130: nobody heard the signal and the 5 s bound ended it)');
    assert.ok(Date.now() - at < 4000, `took ${Date.now() - at} ms: the signal was not acted on`);
    assert.deepEqual(demoNamespaces(), [], 'the lab is removed');
  } finally {
    t.kill();
    removeDemoNamespaces();
  }
});

test('--demo, a second SIGTERM while stopping: exit 143 at once, the terminal restored and the lab removed all the same', T, async () => {
  need();
  assert.deepEqual(demoNamespaces(), []);
  const t = new TmuxSession(thenStty(['--demo']), { width: 120, height: 40, cwd: ROOT });
  try {
    await t.waitFor((x) => /csumtop demo/.test(x) && /Interfaces 4\b/.test(x), 20_000, 'the demo dashboard');
    const pid = t.csumtopPid();
    process.kill(pid, 'SIGTERM');
    // The second once the kernel has handed the first over (it is no longer pending), so
    // the two are not merged into one; at once, because the demo's stop takes ~100 ms
    // (a fixed 50 ms gap sometimes came after it had ended: CI, stop 20).
    await untilTaken(pid, 'SIGTERM', 2000);
    process.kill(pid, 'SIGTERM');
    assert.equal(await assertRestored(t, 'two SIGTERMs'), 143);
    assert.match(t.capture(), /csumtop: SIGTERM again while stopping: exiting now/, 'why, printed after the screen is gone');
    assert.deepEqual(demoNamespaces(), [], 'the lab is removed on the forced exit too');
  } finally {
    t.kill();
    removeDemoNamespaces();
  }
});

// ------------------------------------------------------------------ the terminal goes away

/**
 * csumtop under a small Python parent that survives the hang-up (it ignores SIGHUP and
 * gives csumtop the default disposition back) and writes csumtop's pid and exit status
 * (negative: killed by that signal) to files.
 */
function watched(args: string[], tag: string): { argv: string[]; pidFile: string; statusFile: string } {
  const statusFile = path.join(dir, `${tag}.status`);
  const pidFile = path.join(dir, `${tag}.pid`);
  const script = [
    'import signal, subprocess, sys',
    'signal.signal(signal.SIGHUP, signal.SIG_IGN)',
    'p = subprocess.Popen(sys.argv[3:], preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_DFL))',
    'open(sys.argv[1], "w").write(str(p.pid))',
    'rc = p.wait()',
    'open(sys.argv[2], "w").write(str(rc))',
  ].join('\n');
  return { argv: ['python3', '-c', script, pidFile, statusFile, BIN, ...args], pidFile, statusFile };
}

function cpuTicks(pid: number): number | null {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return null;
  }
}

/** Kills the session (the pty closes) and follows csumtop until it is gone: CPU used meanwhile. */
async function killTerminal(t: TmuxSession, pid: number, statusFile: string): Promise<{ status: number; ms: number; cpuShare: number }> {
  const hz = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  const before = cpuTicks(pid) ?? 0;
  let last = before;
  const at = Date.now();
  t.kill();
  let ms = 0;
  for (;;) {
    await sleep(100);
    ms = Date.now() - at;
    const now = cpuTicks(pid);
    if (now === null || fs.existsSync(statusFile)) break;
    last = now;
    if (ms > 10_000) {
      process.kill(pid, 'SIGKILL');
      assert.fail(`csumtop still running ${ms} ms after its terminal went away (CPU ${((last - before) / hz).toFixed(2)} s meanwhile)`);
    }
  }
  assert.ok(await waitFile(statusFile, 3000), 'the watcher wrote no exit status');
  const cpuShare = (last - before) / hz / Math.max(ms / 1000, 0.1);
  return { status: Number(fs.readFileSync(statusFile, 'utf8')), ms, cpuShare };
}

async function waitFile(file: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') === '') {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

test("the live dashboard's terminal goes away (tmux session killed): csumtop exits within 5 s with status 0, without spinning", T, async (tt) => {
  need();
  const w = watched(['--netns', ns, '-i', 'lo'], 'live');
  const t = new TmuxSession(w.argv, { width: 100, height: 30, cwd: ROOT });
  try {
    await t.waitFor((x) => /Interfaces 1\b/.test(x), 10_000, 'the dashboard');
    assert.ok(await waitFile(w.pidFile, 3000));
    const pid = Number(fs.readFileSync(w.pidFile, 'utf8'));
    const r = await killTerminal(t, pid, w.statusFile);
    tt.diagnostic(`exit ${r.status} after ${r.ms} ms, CPU ${(r.cpuShare * 100).toFixed(0)}% of a core meanwhile`);
    assert.equal(r.status, 0, 'exit status (negative: killed by that signal; -6 was Node aborting on the dead terminal)');
    assert.ok(r.ms < 5000, `took ${r.ms} ms`);
    assert.ok(r.cpuShare < 0.5, `burnt ${(r.cpuShare * 100).toFixed(0)}% of a core after the terminal went away`);
  } finally {
    t.kill();
  }
});

test('--report on a terminal that goes away: csumtop stops (SIGHUP), its report to the dead terminal is no crash, exit 0', T, async () => {
  need();
  const w = watched(['--netns', ns, '-i', 'lo', '--report'], 'report');
  const t = new TmuxSession(w.argv, { width: 100, height: 30, cwd: ROOT });
  try {
    assert.ok(await waitFile(w.pidFile, 5000));
    const pid = Number(fs.readFileSync(w.pidFile, 'utf8'));
    // Capturing: its progress line is on the terminal.
    await t.waitFor((x) => new RegExp(`${ns}/lo`).test(x), 10_000, 'the first progress line');
    const r = await killTerminal(t, pid, w.statusFile);
    assert.equal(r.status, 0, 'exit status (negative: killed by that signal)');
    assert.ok(r.ms < 5000, `took ${r.ms} ms`);
  } finally {
    t.kill();
  }
});

test("--demo's terminal goes away: csumtop exits within 5 s with status 0, without spinning, and leaves no namespace", T, async (tt) => {
  need();
  assert.deepEqual(demoNamespaces(), []);
  const w = watched(['--demo'], 'demo');
  const t = new TmuxSession(w.argv, { width: 120, height: 40, cwd: ROOT });
  try {
    await t.waitFor((x) => /csumtop demo/.test(x) && /Interfaces 4\b/.test(x), 20_000, 'the demo dashboard');
    assert.equal(demoNamespaces().length, 2);
    const pid = Number(fs.readFileSync(w.pidFile, 'utf8'));
    const r = await killTerminal(t, pid, w.statusFile);
    tt.diagnostic(`exit ${r.status} after ${r.ms} ms, CPU ${(r.cpuShare * 100).toFixed(0)}% of a core meanwhile`);
    assert.equal(r.status, 0);
    assert.ok(r.ms < 5000, `took ${r.ms} ms`);
    assert.ok(r.cpuShare < 0.5, `burnt ${(r.cpuShare * 100).toFixed(0)}% of a core after the terminal went away`);
    assert.deepEqual(demoNamespaces(), [], 'the demo lab is removed');
  } finally {
    t.kill();
    removeDemoNamespaces();
  }
});
