/**
 * The dashboard's own CPU with many interfaces: PAIRS veth pairs (both ends up, so
 * 2 x PAIRS interfaces) in a network namespace this bench creates and removes, captured
 * by `csumtop --netns NS` with the dashboard at a 1 s refresh inside a tmux terminal.
 *
 * CPU is the process's utime + stime (/proc/PID/stat) over a measured window after a
 * warm-up, so it covers everything csumtop does: capture threads, correlation, layout
 * and painting. The same capture without the dashboard (`--duration`, output to
 * /dev/null: no screen, no progress lines) is measured the same way in the same run, so
 * the difference is what the screen costs. Target (issue 5): under 5% of one core.
 *
 * Usage (root): node dist/bench/dashboard.js [--pairs 500] [--seconds 30] [--warmup 10] [--runs 1]
 * With --runs N the two variants alternate N times and every run is printed, then the
 * medians: the capture's own CPU varies between runs by more than the screen costs.
 * Nothing leaves the namespace; it is removed at exit, also on failure or Ctrl-C.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { createNamespace, uniqueNs } from '../src/lab/lab.js';
import { BIN, ROOT } from '../test/lab/lab.js';
import { TmuxSession, descendants, killTmuxServer } from '../test/ui/tmux.js';

const { values } = parseArgs({
  options: {
    pairs: { type: 'string', default: '500' },
    seconds: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '10' },
    runs: { type: 'string', default: '1' },
  },
});
const RUNS = Number(values.runs);
const PAIRS = Number(values.pairs);
const SECONDS = Number(values.seconds);
const WARMUP = Number(values.warmup);
const TICK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TICK;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function measure(pid: number): Promise<number> {
  await sleep(WARMUP * 1000);
  const c0 = cpuSeconds(pid);
  const t0 = process.hrtime.bigint();
  await sleep(SECONDS * 1000);
  const c1 = cpuSeconds(pid);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  return (c1 - c0) / wall;
}

function nodeChild(root: number): number {
  const pid = descendants(root).find((p) => {
    try {
      return readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'node';
    } catch {
      return false;
    }
  });
  if (pid === undefined) throw new Error('csumtop (node) not found under the tmux pane');
  return pid;
}

async function main(): Promise<void> {
  const ns = uniqueNs('bench');
  const remove = createNamespace(ns);
  try {
    const t0 = Date.now();
    const script: string[] = [];
    for (let i = 0; i < PAIRS; i++) script.push(`link add vb${i}a type veth peer name vb${i}b`);
    for (let i = 0; i < PAIRS; i++) script.push(`link set vb${i}a up`, `link set vb${i}b up`);
    const r = spawnSync('ip', ['-n', ns, '-batch', '-'], { input: script.join('\n') + '\n', encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip -batch: ${r.stderr}`);
    const n = PAIRS * 2;
    console.log(`namespace ${ns}: ${PAIRS} veth pairs, ${n} interfaces up (${Date.now() - t0} ms)`);
    // The smallest ring the engine takes (2 blocks of 1 MiB): 1000 default rings would be 8 GiB.
    const common = ['--netns', ns, '--ring-mb', '2', '--interval', '1'];

    const withScreen = async (): Promise<number> => {
      // 1. The dashboard, in a real terminal.
      const t = new TmuxSession([BIN, ...common], { width: 200, height: 60, cwd: ROOT });
      let dash: number;
      try {
        await t.waitFor((x) => new RegExp(`Interfaces ${n}\\b`).test(x), 120_000, `${n} interfaces on the dashboard`);
        const pid = nodeChild(t.panePid());
        dash = await measure(pid);
        const screen = t.capture();
        if (!new RegExp(`Interfaces ${n}\\b`).test(screen)) throw new Error(`the dashboard lost interfaces:\n${screen}`);
        t.send('q');
        await t.exitStatus(30_000);
      } finally {
        t.kill();
        killTmuxServer();
      }
      return dash;
    };
    const withoutScreen = async (): Promise<number> => {
      // 2. The same capture without a screen.
      const total = WARMUP + SECONDS + 60;
      const child = spawn(BIN, [...common, '--duration', String(total)], { stdio: ['ignore', 'ignore', 'pipe'], cwd: ROOT });
      let headless: number;
      try {
        // Attaching 1000 rings takes a while: wait until every interface is captured.
        const deadline = Date.now() + 120_000;
        for (;;) {
          const fds = spawnSync('ls', [`/proc/${child.pid}/fd`], { encoding: 'utf8' }).stdout.split('\n').length;
          if (fds >= n || Date.now() > deadline) break;
          await sleep(500);
        }
        headless = await measure(child.pid!);
      } finally {
        child.kill('SIGINT');
        await new Promise((res) => child.once('exit', res));
      }
      return headless;
    };
    const dashRuns: number[] = [];
    const headlessRuns: number[] = [];
    for (let k = 0; k < RUNS; k++) {
      dashRuns.push(await withScreen());
      headlessRuns.push(await withoutScreen());
      console.log(`run ${k + 1}: dashboard ${(dashRuns[k] * 100).toFixed(2)}%, without a screen ${(headlessRuns[k] * 100).toFixed(2)}%`);
    }
    const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
    const dash = median(dashRuns);
    const headless = median(headlessRuns);
    const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;
    console.log('');
    console.log(`| median of ${RUNS} run(s) (${n} interfaces, --interval 1, ${SECONDS} s measured after ${WARMUP} s) | CPU of one core |`);
    console.log('| --- | --- |');
    console.log(`| csumtop, dashboard (tmux 200x60) | ${pct(dash)} |`);
    console.log(`| csumtop, same capture without a screen (--duration) | ${pct(headless)} |`);
    console.log(`| difference: the dashboard itself | ${pct(dash - headless)} |`);
    console.log('');
    console.log(`target: the dashboard process under 5% of one core: ${dash < 0.05 ? 'met' : 'NOT met'}`);
  } finally {
    remove();
  }
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exitCode = 1;
});
