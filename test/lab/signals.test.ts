/**
 * Issue 7, signals: SIGINT, SIGTERM and SIGHUP in every headless mode, on the namespace
 * lab, with the exit statuses src/cli/shutdown.ts defines (and --help, the README):
 *
 * - live capture (--json, text, -w, --metrics) stops at a signal as at --duration: the
 *   report is printed whole and the status is the report's (1 here: bad frames were
 *   injected); a -w file is read by tcpdump with exactly the frames the report counts;
 *   the metrics port is closed (connect refused);
 * - a second signal while stopping exits at once with 128 + its number, and a stop that
 *   cannot finish (standard output nobody reads) ends 5 s after the signal, 128 + N;
 * - -r on a large file stops reading at a signal: one well-formed report of what was
 *   read, marked interrupted, exit 128 + N, the -w file valid.
 *
 * The dashboard and --demo cases drive a terminal: test/ui/signals-tmux.test.ts.
 * Every case fails (never skips) when it cannot run here.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { writeVxlanCapture } from '../fixtures/lib/bulk.js';
import type { ReportDocument } from '../../src/model/report.js';
import { BIN, Csumtop, FAULT_KINDS, describeRun, faultFrame, iface, reportOf, sharedLab, sleep, track, which, within, type Lab } from './lab.js';

const theLab = sharedLab();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const STATUS = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
const T = { timeout: 30_000 };

let dir: string;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csumtop-signals-'));
});
after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The bad frames of the lab's fault kinds (the legal zero-checksum carrier left out), indices [from, from+n). */
function badFrames(lab: Lab, from: number, n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = from; i < from + n; i++) for (const k of FAULT_KINDS) if (k !== 'zero-outer-udp') out.push(faultFrame(lab.macs, k, i));
  return out;
}

function tcpdumpCount(file: string): number {
  assert.ok(which('tcpdump'), 'tcpdump is not installed (apt-get install -y tcpdump): the -w cases read the file with it');
  const r = spawnSync('tcpdump', ['-r', file, '-nn'], { encoding: 'utf8', timeout: 20_000, maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, `tcpdump -r ${file}: ${r.error?.message ?? ''} ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => /^\d\d:\d\d:\d\d\./.test(l)).length;
}

/** True when nothing listens on 127.0.0.1:port (connect refused). */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

/**
 * Bad checksums counted on `device` in csumtop's /metrics, null while the device has no
 * series yet (not attached). With --metrics, standard output holds the report only
 * (issue 19): the metrics say when capture runs and what it counted.
 */
async function metricsBad(port: number, device: string): Promise<number | null> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const series = text.split('\n').filter((l) => l.startsWith('csumtop_checksums_total{') && l.includes(`device="${device}"`));
  if (series.length === 0) return null;
  return series.filter((l) => l.includes('verdict="bad"')).reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

async function untilAsync(pred: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/** Resolves with the run and how long after `since` it ended; fails after timeoutMs. */
async function exitWithin(ct: Csumtop, since: number, timeoutMs: number): Promise<{ r: Awaited<Csumtop['done']>; ms: number }> {
  const timer = new Promise<null>((resolve) => setTimeout(() => resolve(null), timeoutMs));
  const r = await Promise.race([ct.done, timer]);
  if (r === null) {
    process.kill(ct.pid, 'SIGKILL');
    assert.fail(`csumtop was still running ${timeoutMs} ms after the signal: ${describeRun(await ct.done)}`);
  }
  return { r, ms: (ct.exitedAt ?? Date.now()) - since };
}

// ------------------------------------------------------------------ live: the matrix

interface LiveMode {
  name: string;
  json: boolean;
  extra: (file: string) => string[];
  write?: boolean;
  metrics?: boolean;
}

const MODES: LiveMode[] = [
  { name: 'headless --json', json: true, extra: () => [] },
  { name: 'headless text', json: false, extra: () => [] },
  { name: '-w FILE --json', json: true, extra: (f) => ['-w', f], write: true },
  { name: '--metrics (text)', json: false, extra: () => ['--metrics', '127.0.0.1:0'], metrics: true },
];

let serial = 0;
for (const sig of SIGNALS) {
  for (const mode of MODES) {
    test(
      `${sig}, live ${mode.name}: the report whole, exit 1 (the report's status)${mode.write ? ', tcpdump reads the file with the frames the report counts' : ''}${mode.metrics ? ', the metrics port closed' : ''}`,
      T,
      async () => {
        const lab = theLab();
        const n = serial++;
        const file = path.join(dir, `live-${n}.pcap`);
        // No --duration (the text mode's per-interval lines need none); exitWithin bounds a broken run.
        const ct = new Csumtop(['--netns', lab.B, '-i', 'vlb', ...(mode.json ? ['--json'] : []), ...mode.extra(file)]);
        try {
          let port = 0;
          if (mode.metrics) {
            assert.ok(
              await within(() => /serving metrics on http:\/\/127\.0\.0\.1:\d+/.test(ct.stderr) || !ct.running, 5000, 50),
              `no metrics port: ${describeRun(ct)}`,
            );
            port = Number(/serving metrics on http:\/\/127\.0\.0\.1:(\d+)/.exec(ct.stderr)?.[1]);
            assert.equal(await refused(port), false, 'the metrics port is open while capturing');
          }
          // Ready: attached (--json), vlb's series in /metrics (--metrics), or the first
          // per-interval line (text).
          if (mode.json) assert.deepEqual(await ct.waitAttached(['vlb'], 5000), [], describeRun(ct));
          else if (mode.metrics)
            assert.ok(await untilAsync(async () => (await metricsBad(port, 'vlb')) !== null, 5000), `vlb not in /metrics: ${describeRun(ct)}`);
          else assert.ok(await within(() => /\/vlb\s/.test(ct.stdout) || !ct.running, 5000, 50), `no progress line: ${describeRun(ct)}`);
          const bad = badFrames(lab, 100 + n, 1);
          lab.inject(lab.A, 'vla', bad);
          const counted = mode.json
            ? async (): Promise<boolean> => (await ct.waitFor(() => ct.lines.filter((l) => l.type === 'bad').length >= bad.length, 5000)) !== null
            : mode.metrics
              ? async (): Promise<boolean> => untilAsync(async () => ((await metricsBad(port, 'vlb')) ?? 0) >= bad.length, 5000)
              : async (): Promise<boolean> => within(() => new RegExp(`/vlb .*bad total ${bad.length},`).test(ct.stdout), 5000, 50);
          assert.ok(await counted(), `the ${bad.length} bad frames were not counted: ${describeRun(ct)}`);
          const at = Date.now();
          process.kill(ct.pid, sig);
          const { r, ms } = await exitWithin(ct, at, 5000);
          assert.equal(r.signal, null, `killed by ${r.signal}: ${describeRun(r)}`);
          assert.equal(r.code, 1, `exit status after ${sig}: ${describeRun(r)}`);
          assert.ok(ms < 3000, `took ${ms} ms to stop`);
          if (mode.json) {
            const report = reportOf(r);
            assert.equal(iface(report, `${lab.B}/vlb`).badFrames, bad.length);
            assert.equal(r.lines[r.lines.length - 1].type, 'report', 'the report is the last line');
            if (mode.write) {
              assert.deepEqual(report.written, { path: file, frames: bad.length });
              assert.equal(tcpdumpCount(file), bad.length, 'tcpdump -r reads as many frames as the report says were written');
            }
          } else {
            assert.match(r.stdout, new RegExp(`^csumtop \\S+: live capture \\(afpacket\\)`, 'm'), r.stdout.slice(-800));
            assert.match(r.stdout, new RegExp(`^Interface ${lab.B}/vlb .*: \\d+ frames, ${bad.length} with bad checksums`, 'm'));
          }
          if (mode.metrics) assert.equal(await refused(port), true, `the metrics port ${port} still accepts connections after exit`);
        } finally {
          if (ct.running) process.kill(ct.pid, 'SIGKILL');
        }
      },
    );
  }
}

// ------------------------------------------------------------------ live: a stop that cannot finish

/**
 * csumtop --json -w FILE with its standard output no longer read: the bad lines fill the
 * pipe, so the report can never be written. Returns once every injected frame is in the
 * file (written by the capture thread before its batch reaches JavaScript).
 */
async function stuckRun(lab: Lab, tag: number): Promise<{ ct: Csumtop; file: string; frames: number }> {
  const file = path.join(dir, `stuck-${tag}.pcap`);
  const ct = new Csumtop(['--netns', lab.B, '-i', 'vlb', '--duration', '60', '--json', '-w', file]);
  assert.deepEqual(await ct.waitAttached(['vlb'], 5000), [], describeRun(ct));
  ct.child.stdout!.pause();
  // About 600 bytes of JSON per bad frame: 1,600 frames are far more than a pipe holds.
  const frames = badFrames(lab, 1000 * tag, 400);
  let size = 24;
  for (const f of frames) size += 16 + f.length;
  for (let k = 0; k < frames.length; k += 200) lab.inject(lab.A, 'vla', frames.slice(k, k + 200));
  assert.ok(await within(() => fs.statSync(file).size >= size, 5000, 50), `-w file ${fs.statSync(file).size} of ${size} bytes: ${describeRun(ct)}`);
  await sleep(500);
  return { ct, file, frames: frames.length };
}

test('a second signal while stopping exits at once with 128 + its number; the -w file holds every frame, whole', T, async () => {
  const lab = theLab();
  const { ct, file, frames } = await stuckRun(lab, 1);
  try {
    process.kill(ct.pid, 'SIGTERM');
    await sleep(700);
    assert.equal(ct.running, true, 'the first stop should still be waiting on the unread standard output');
    const at = Date.now();
    process.kill(ct.pid, 'SIGINT');
    const { r, ms } = await exitWithin(ct, at, 3000);
    assert.equal(r.code, 130, `exit status after a second signal (SIGINT): ${describeRun(r)}`);
    assert.ok(ms < 1500, `took ${ms} ms after the second signal`);
    assert.match(r.stderr, /SIGINT again while stopping: exiting now/);
    assert.equal(tcpdumpCount(file), frames, 'tcpdump -r reads every frame after the forced exit');
  } finally {
    if (ct.running) process.kill(ct.pid, 'SIGKILL');
  }
});

test('a stop that cannot finish (standard output not read) ends 5 s after the signal, 128 + N, and says why', T, async () => {
  const lab = theLab();
  const { ct, file, frames } = await stuckRun(lab, 2);
  try {
    const at = Date.now();
    process.kill(ct.pid, 'SIGHUP');
    const { r, ms } = await exitWithin(ct, at, 10_000);
    assert.equal(r.code, 129, `exit status after a stop past its bound: ${describeRun(r)}`);
    assert.ok(ms >= 4500 && ms < 8000, `ended ${ms} ms after SIGHUP (bound: 5 s)`);
    assert.match(r.stderr, /stopping after SIGHUP made no progress for 5 s .*exiting now/);
    assert.equal(tcpdumpCount(file), frames);
  } finally {
    if (ct.running) process.kill(ct.pid, 'SIGKILL');
  }
});

test('a slow reader still gets the whole report after a signal: the 5 s bound counts only time without output drained', T, async (t) => {
  const lab = theLab();
  const { ct, frames } = await stuckRun(lab, 3);
  const stdout = ct.child.stdout!;
  const at = Date.now();
  process.kill(ct.pid, 'SIGTERM');
  // One buffer's worth (16 KiB) every 250 ms: far slower than the output, never stopped.
  const reader = setInterval(() => stdout.read(), 250);
  try {
    const { r, ms } = await exitWithin(ct, at, 25_000);
    t.diagnostic(`drained and exited ${ms} ms after SIGTERM`);
    assert.ok(ms > 5000, `the output drained within ${ms} ms, before the bound: this case proves nothing (more frames needed)`);
    assert.equal(r.code, 1, `a slow reader is not a stuck one: ${describeRun(r)}`);
    // What csumtop wrote is still in the pipe: read it to the end.
    clearInterval(reader);
    // (ct.done waits up to 2 s for the pipe to close: the slow reader may have read it all.)
    const closed = stdout.closed ? Promise.resolve() : new Promise((resolve) => stdout.once('close', resolve));
    stdout.resume();
    await closed;
    assert.equal(ct.lines.filter((l) => l.type === 'bad').length, frames, 'every bad line arrived');
    assert.equal(ct.lines[ct.lines.length - 1].type, 'report', 'the report arrived whole, last');
  } finally {
    clearInterval(reader);
    if (ct.running) process.kill(ct.pid, 'SIGKILL');
  }
});

// ------------------------------------------------------------------ -r FILE interrupted

const BIG_FRAMES = 150_000;
let big = '';

function cpuTicks(pid: number): number {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
  } catch {
    return -1;
  }
}

const FILE_CASES: Array<{ sig: (typeof SIGNALS)[number]; json: boolean; write: boolean }> = [
  { sig: 'SIGINT', json: true, write: false },
  { sig: 'SIGTERM', json: false, write: false },
  { sig: 'SIGHUP', json: true, write: true },
];

for (const c of FILE_CASES) {
  test(
    `-r on a large file, ${c.sig} mid-analysis: one ${c.json ? 'JSON document' : 'text report'} of what was read, marked interrupted, exit ${STATUS[c.sig]}${c.write ? '; the -w file holds the frames the report says' : ''}`,
    T,
    async () => {
      if (big === '') {
        // Every frame bad, so the analysis takes seconds (each crosses into the correlation).
        big = path.join(dir, 'big.pcap');
        writeVxlanCapture(big, { frames: BIG_FRAMES, badRatio: 1, seed: 7, flows: 512 });
      }
      const out = path.join(dir, `r-${c.sig}.pcap`);
      const child = track(spawn(BIN, ['-r', big, ...(c.json ? ['--json'] : []), ...(c.write ? ['-w', out] : [])], { stdio: ['ignore', 'pipe', 'pipe'] }));
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.once('exit', (code, signal) => resolve({ code, signal })),
      );
      try {
        // Mid-analysis: half a second of CPU is past start-up (node and the addon take ~0.2 s).
        assert.ok(await within(() => cpuTicks(child.pid!) >= 50 || child.exitCode !== null, 10_000, 50), 'csumtop did not get going');
        assert.equal(child.exitCode, null, `the analysis ended before it could be interrupted: ${stderr}`);
        const at = Date.now();
        process.kill(child.pid!, c.sig);
        const r = await Promise.race([done, sleep(5000).then(() => null)]);
        assert.ok(r, `csumtop -r still running 5 s after ${c.sig}`);
        assert.ok(Date.now() - at < 3000, `took ${Date.now() - at} ms`);
        assert.equal(r.signal, null, `killed by ${r.signal}: stderr ${stderr}`);
        assert.equal(r.code, STATUS[c.sig], `exit status: stderr ${stderr}`);
        if (c.json) {
          const doc = JSON.parse(stdout) as ReportDocument;
          assert.equal(doc.source.interrupted, c.sig);
          assert.ok(doc.source.frames > 0 && doc.source.frames < BIG_FRAMES, `frames read: ${doc.source.frames}`);
          assert.equal(doc.totals.badFrames, doc.source.frames, 'every frame of the file is bad');
          assert.match(doc.source.warnings[0], new RegExp(`^interrupted by ${c.sig}: this report covers only the first ${doc.source.frames} frames`));
          if (c.write) {
            assert.deepEqual(doc.written, { path: out, frames: doc.source.frames });
            assert.equal(tcpdumpCount(out), doc.source.frames, 'tcpdump -r reads the frames the report says were written');
          }
        } else {
          assert.match(stdout, /^csumtop \S+: .*big\.pcap \(pcap, \d+ frames/m);
          const m = /^warning: interrupted by SIGTERM: this report covers only the first (\d+) frames/m.exec(stdout);
          assert.ok(m, `no interrupted warning in the text report: ${stdout.slice(-600)}`);
          assert.ok(Number(m[1]) > 0 && Number(m[1]) < BIG_FRAMES);
        }
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    },
  );
}

test('-r - from a pipe that stalls: a signal still ends csumtop at once (default action, 128+N to a shell), nothing half printed', T, async () => {
  // The addon reads a pipe with blocking reads on the main thread: an orderly stop could
  // only begin once the writer sends more, so csumtop leaves these signals alone there.
  const child = track(spawn(BIN, ['-r', '-', '--json'], { stdio: ['pipe', 'pipe', 'pipe'] }));
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  try {
    // Started, and blocked reading the (empty, open) pipe: half a second of CPU is not needed for that.
    await sleep(1500);
    assert.equal(child.exitCode, null, 'csumtop -r - ended before any input');
    const at = Date.now();
    process.kill(child.pid!, 'SIGTERM');
    const r = await Promise.race([done, sleep(3000).then(() => null)]);
    assert.ok(r, 'csumtop -r - on a stalled pipe ignored SIGTERM for 3 s');
    assert.ok(Date.now() - at < 1000, `took ${Date.now() - at} ms`);
    assert.equal(r.signal, 'SIGTERM', `ended by the signal itself (a shell reports 143): ${JSON.stringify(r)}`);
    assert.equal(stdout, '', 'nothing was printed, so nothing is cut off');
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});
