/**
 * A large `-f` filter (issue 17): 1000 `or udp port N` terms keep libpcap's optimizer
 * busy for minutes. It used to run on csumtop's JavaScript thread, where --duration,
 * SIGINT (twice) and SIGTERM could not reach it. Now it is compiled in a child process
 * (src/capture/filter-compile.ts) that a stop signal, --duration and a 10 s limit kill,
 * and that dies with csumtop. Each case is bounded in time here.
 *
 * Runs as root (CI does); fails, never skips, when it cannot run here.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { test } from 'node:test';

import { FILTER_TIME_LIMIT_MS, MAX_FILTER_CHARS } from '../../src/capture/filter-compile.js';
import { Csumtop, describeRun, labProblem, sleep } from './lab.js';

/** 1000 terms: minutes of pcap_compile() optimizing. */
const BIG = Array.from({ length: 1000 }, (_, k) => `udp port ${k + 1}`).join(' or ');
/** How long csumtop may take to end after a signal while compiling. */
const STOP_BOUND_MS = 3000;

function problem(): void {
  const p = labProblem();
  if (p) assert.fail(p);
  if (!['/usr/lib/x86_64-linux-gnu/libpcap.so.0.8', '/usr/lib/aarch64-linux-gnu/libpcap.so.0.8', '/usr/lib64/libpcap.so.1'].some((f) => fs.existsSync(f))) {
    assert.fail('libpcap is not installed (apt-get install libpcap0.8): -f needs it');
  }
}

/** Pids whose command line runs the filter child. */
function filterChildren(): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('filter-child.js')) out.push(Number(d));
    } catch {
      // gone
    }
  }
  return out;
}

function parentOf(pid: number): number {
  try {
    return Number(/^PPid:\s*(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? -1);
  } catch {
    return -1;
  }
}

/** Waits until csumtop's filter child runs (the compile has started); returns its pid. */
async function compiling(ct: Csumtop): Promise<number> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && ct.running) {
    const child = filterChildren().find((p) => parentOf(p) === ct.pid);
    if (child !== undefined) return child;
    await sleep(50);
  }
  assert.fail(`no filter child of csumtop: ${describeRun(ct)}`);
}

async function gone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!fs.existsSync(`/proc/${pid}`) || /^State:\s*Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))) return true;
    await sleep(20);
  }
  return false;
}

for (const [signal, status] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  test(
    `${signal} while a 1000-term filter compiles: csumtop ends within ${STOP_BOUND_MS} ms with ${status}, the compiler child too`,
    { timeout: 30_000 },
    async () => {
      problem();
      const ct = new Csumtop(['-i', 'lo', '-f', BIG]);
      try {
        const child = await compiling(ct);
        await sleep(500);
        const t0 = Date.now();
        ct.child.kill(signal);
        const r = await ct.done;
        const took = Date.now() - t0;
        assert.equal(r.code, status, describeRun(r));
        assert.ok(took < STOP_BOUND_MS, `${signal} took ${took} ms`);
        assert.match(r.stderr, new RegExp(`${signal} while compiling the -f filter: stopped before capturing anything`));
        assert.ok(await gone(child, 2000), 'the filter child outlived csumtop');
      } finally {
        if (ct.running) process.kill(ct.pid, 'SIGKILL');
      }
    },
  );
}

test('--duration 2 bounds the compile of a 1000-term filter: exit 2 with a message, in about 2 s', { timeout: 30_000 }, async () => {
  problem();
  const t0 = Date.now();
  const ct = new Csumtop(['-i', 'lo', '-f', BIG, '--duration', '2']);
  try {
    const r = await ct.done;
    const took = Date.now() - t0;
    assert.equal(r.code, 2, describeRun(r));
    assert.match(r.stderr, /-f: libpcap did not compile the filter within 2 s \(--duration\): its optimizer's time grows much faster than the filter/);
    assert.ok(took < 2000 + 4000, `took ${took} ms`);
  } finally {
    if (ct.running) process.kill(ct.pid, 'SIGKILL');
  }
});

test(`without --duration the compile is bounded at ${FILTER_TIME_LIMIT_MS / 1000} s: exit 2 with a message`, { timeout: 40_000 }, async () => {
  problem();
  const t0 = Date.now();
  const ct = new Csumtop(['-i', 'lo', '-f', BIG, '--json']);
  try {
    const r = await ct.done;
    const took = Date.now() - t0;
    assert.equal(r.code, 2, describeRun(r));
    assert.match(r.stderr, new RegExp(`-f: libpcap did not compile the filter within ${FILTER_TIME_LIMIT_MS / 1000} s: `));
    assert.ok(took >= FILTER_TIME_LIMIT_MS && took < FILTER_TIME_LIMIT_MS + 5000, `took ${took} ms`);
    assert.equal(r.stdout, '', 'nothing captured, nothing reported');
  } finally {
    if (ct.running) process.kill(ct.pid, 'SIGKILL');
  }
});

test('SIGKILL to csumtop while compiling: the compiler child dies with it (PR_SET_PDEATHSIG)', { timeout: 30_000 }, async () => {
  problem();
  const ct = new Csumtop(['-i', 'lo', '-f', BIG]);
  try {
    const child = await compiling(ct);
    process.kill(ct.pid, 'SIGKILL');
    assert.ok(await gone(child, 2000), 'the filter child outlived a killed csumtop');
  } finally {
    if (ct.running) process.kill(ct.pid, 'SIGKILL');
  }
});

test('a filter longer than the size bound is refused at once; a small one still captures', { timeout: 30_000 }, async () => {
  problem();
  const long = new Csumtop(['-i', 'lo', '-f', `udp port 1${' or udp port 1'.repeat(MAX_FILTER_CHARS / 10)}`]);
  const r = await long.done;
  assert.equal(r.code, 2, describeRun(r));
  assert.match(r.stderr, new RegExp(`-f: the filter has \\d+ characters, more than the ${MAX_FILTER_CHARS} csumtop compiles`));
  // A filter that compiles: capture runs and ends at --duration with the report.
  const ok = new Csumtop(['-i', 'lo', '-f', 'udp port 53 or tcp port 443', '--duration', '1']);
  const o = await ok.done;
  assert.equal(o.code, 0, describeRun(o));
  assert.match(o.stdout, /Interface lo /);
});
