/**
 * `-r` with correlation decodes the next step on a thread of libuv's pool while
 * JavaScript correlates this one (src/capture/file-run.ts, native/flow/file_step.h;
 * issue 14 step 3). The Correlator must see exactly what it sees with CSUMTOP_THREADS=1,
 * where every step runs on JavaScript's thread after the one before was correlated:
 * records and events in file order, and at each tick the counters and interfaces as of
 * the end of the step it has correlated, never the live ones a step ahead already moved.
 * So the whole report (and the -w file) must be byte for byte the same, on captures where
 * DNS queries and answers, SYNs and SYN-ACKs, carriers and their overlay copies fall on
 * both sides of step boundaries, and with -c, -f, small --max-flows, a file cut short and
 * a corrupt record. A stop while a step decodes ahead reports that step too: the report
 * covers exactly the frames handed to the correlator, as -c of that many frames would.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { analyzeFileInterruptible, type FileRunOptions } from '../../src/capture/file-run.js';
import { Correlator } from '../../src/correlate/pipeline.js';
import { fileThreads, openFileAnalysis } from '../../src/native/analyzer.js';
import { buildReport, fileReportInput, listedReports } from '../../src/output/report.js';
import { reportPieces } from '../../src/output/report-stream.js';
import { ROOT } from '../fixtures/harness.js';
import { writeAll } from '../fixtures/generate.js';
import { writeHighCardinalityCapture, writeUnderlayOverlayPcapng } from '../fixtures/lib/bulk.js';
import { writeTransactionCapture } from '../fixtures/lib/transactions.js';

/** Frames per step with correlation (EVENT_STEP_FRAMES in src/capture/file-run.ts). */
const STEP = 8192;

let dir: string;
let hc: string;
let txns: string;
let overlay: string;
let sections: string;

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'csumtop-ahead-'));
  hc = path.join(dir, 'high-cardinality.pcap');
  // About 6 steps: every frame a new flow, half DNS queries, SYNs, 1% bad.
  writeHighCardinalityCapture(hc, { frames: 50_000, badRatio: 0.01, seed: 5 });
  // Answered, retried, late and unanswered DNS queries and SYNs on eth0 and flannel.1.
  txns = path.join(dir, 'transactions.pcapng');
  writeTransactionCapture(txns, { transactions: 6000, seed: 3 });
  // Carriers and their decapsulated copies: the carrier/overlay matcher.
  const carriers = path.join(dir, 'carriers.pcap');
  writeHighCardinalityCapture(carriers, { frames: 20_000, badRatio: 0.02, seed: 8 });
  overlay = path.join(dir, 'overlay.pcapng');
  writeUnderlayOverlayPcapng(carriers, overlay);
  // Two pcapng sections: the second one's interfaces are defined steps into the file.
  sections = path.join(dir, 'sections.pcapng');
  writeFileSync(sections, Buffer.concat([readFileSync(txns), readFileSync(overlay)]));
});

after(() => rmSync(dir, { recursive: true, force: true }));

interface Report {
  json: string;
  written: Buffer | null;
  frames: number;
}

/** The `-r --json --list` report (and the -w file) with `threads` threads, as bin/csumtop makes it. */
async function report(file: string, threads: number, options: Partial<FileRunOptions> = {}, stopAfterSteps = Infinity): Promise<Report> {
  const saved = process.env.CSUMTOP_THREADS;
  process.env.CSUMTOP_THREADS = String(threads);
  const out = path.join(dir, 'written.pcap');
  rmSync(out, { force: true });
  try {
    assert.equal(fileThreads(), threads);
    let steps = 0;
    const run = await analyzeFileInterruptible(
      file,
      { events: true, listBad: true, write: out, overwrite: true, maxFlows: 65536, ...options },
      () => (steps >= stopAfterSteps ? 'SIGINT' : null),
      () => steps++,
    );
    const input = fileReportInput(run);
    const doc = buildReport(input, { version: 'test', checksumPath: 'test' });
    return {
      json: [...reportPieces(doc, listedReports(input), { json: 2 })].join(''),
      written: existsSync(out) ? readFileSync(out) : null,
      frames: run.stats.frames,
    };
  } finally {
    if (saved === undefined) delete process.env.CSUMTOP_THREADS;
    else process.env.CSUMTOP_THREADS = saved;
  }
}

async function sameAsOneThread(file: string, options: Partial<FileRunOptions> = {}): Promise<void> {
  const one = await report(file, 1, options);
  const ahead = await report(file, 2, options);
  const what = `${path.basename(file)} ${JSON.stringify(options)}`;
  assert.equal(ahead.json, one.json, `${what}: report`);
  assert.ok((ahead.written === null) === (one.written === null) && (one.written === null || ahead.written!.equals(one.written)), `${what}: -w file`);
}

test('decoding a step ahead gives the one-thread report: DNS, SYN and carrier/overlay pairs across step boundaries', async () => {
  for (const file of [hc, txns, overlay, sections, path.join(ROOT, 'examples', 'incident.pcapng')]) await sameAsOneThread(file);
  // Every table full and evicting: what is evicted depends on the order of everything before.
  for (const maxFlows of [16, 100]) {
    await sameAsOneThread(hc, { maxFlows });
    await sameAsOneThread(txns, { maxFlows });
  }
});

test('decoding a step ahead gives the one-thread report with -c, -f, a file cut short and a corrupt record', async () => {
  // -c in the middle of a step, and at a step boundary.
  await sameAsOneThread(hc, { count: 2 * STEP + 3616 });
  await sameAsOneThread(txns, { count: 3 * STEP });
  // -f: a step ends at the first frame of each link type, to load its program.
  await sameAsOneThread(txns, { filter: 'udp' });
  await sameAsOneThread(hc, { filter: 'tcp' });
  const file = readFileSync(hc);
  const cut = path.join(dir, 'cut.pcap');
  writeFileSync(cut, file.subarray(0, Math.floor(file.length * 0.6) + 5));
  await sameAsOneThread(cut);
  // A captured length beyond the maximum, in a record about 70% in.
  const corrupt = Buffer.from(file);
  let off = 24;
  for (let i = 0; i < 35_000; i++) off += 16 + corrupt.readUInt32LE(off + 8);
  corrupt.writeUInt32LE(0x7ffffff0, off + 8);
  const bad = path.join(dir, 'corrupt.pcap');
  writeFileSync(bad, corrupt);
  await sameAsOneThread(bad);
});

test('decoding a step ahead gives the one-thread report on every ground-truth fixture', async () => {
  const fixtures = path.join(dir, 'fixtures');
  writeAll(fixtures);
  const files = readdirSync(fixtures).filter((f) => /\.pcap(ng)?$/.test(f));
  assert.ok(files.length > 30, `${files.length} fixtures`);
  // Small tables: a fixture has a few frames, and allocating 65536 entries each time is most of its run.
  for (const f of files.sort()) await sameAsOneThread(path.join(fixtures, f), { maxFlows: 1024 });
});

test('a stop while a step decodes ahead: that step is correlated too, and the report is -c of that many frames', async () => {
  const stopped = await report(hc, 2, {}, 3);
  // Three steps correlated, the fourth decoding when the stop was seen.
  assert.equal(stopped.frames, 4 * STEP);
  const doc = JSON.parse(stopped.json) as Record<string, unknown> & { source: { frames: number; warnings: string[] } };
  assert.match(doc.source.warnings[0], new RegExp(`^interrupted by SIGINT: this report covers only the first ${4 * STEP} frames `));
  const counted = JSON.parse((await report(hc, 1, { count: stopped.frames })).json) as typeof doc;
  for (const key of ['totals', 'interfaces', 'flows', 'flowsEvicted', 'findings', 'correlation']) {
    assert.deepEqual(doc[key], counted[key], key);
  }
  assert.equal(doc.source.frames, counted.source.frames);
  // One thread: the stop ends reading after the third step.
  assert.equal((await report(hc, 1, {}, 3)).frames, 3 * STEP);
});

test('while a step runs ahead every other call on the analysis is refused; it ends on a cut file with its message', async () => {
  const file = readFileSync(hc);
  const cut = path.join(dir, 'cut-api.pcap');
  writeFileSync(cut, file.subarray(0, Math.floor(file.length * 0.3) + 5));
  const fa = openFileAnalysis(cut, { events: true });
  const pending = fa.stepDrainAhead(STEP);
  // The step is another thread's: nothing may read what it is changing.
  assert.throws(() => fa.counters(), /a step is running/);
  assert.throws(() => fa.stats(), /a step is running/);
  assert.throws(() => fa.stepDrain(STEP), /a step is running/);
  assert.throws(() => fa.stepDrainAhead(STEP), /a step is running/);
  let s = await pending;
  let frames = 0;
  for (;;) {
    assert.ok(s.frames >= frames, 'frames only grow');
    frames = s.frames;
    if (s.status !== 'more') break;
    s = await fa.stepDrainAhead(STEP);
  }
  assert.equal(s.status, 'truncated');
  assert.match((s as { message: string }).message, /truncated|cut|ends/i);
  // The last step's counters are the analysis's own once no step runs.
  assert.deepEqual([...s.counters], [...fa.counters()]);
  assert.equal(fa.stats().frames, s.frames);
  assert.equal(fa.finish(), null);
});

test('each step ahead hands over the counters, interfaces and progress one thread reads right after it', async () => {
  const one = openFileAnalysis(sections, { events: true });
  const ahead = openFileAnalysis(sections, { events: true });
  let next = ahead.stepDrainAhead(STEP);
  let interfaces = 0;
  let grew = 0;
  for (let k = 0; ; k++) {
    const s = await next;
    // The step after it decodes while this one is looked at, as in file-run.ts.
    if (s.status === 'more') next = ahead.stepDrainAhead(STEP);
    const r = one.stepDrain(STEP);
    assert.equal(s.status, r.status, `step ${k}`);
    assert.deepEqual([...s.counters], [...one.counters()], `step ${k}: counters`);
    assert.equal(s.frames, one.stats().frames, `step ${k}: frames`);
    assert.equal(s.bytesRead, one.stats().bytesRead, `step ${k}: bytes read`);
    assert.ok(s.drain.events.equals(r.drain.events), `step ${k}: events`);
    assert.ok(s.drain.records.equals(r.drain.records), `step ${k}: records`);
    if (s.interfaces) {
      assert.deepEqual(s.interfaces, one.interfaces(), `step ${k}: interfaces`);
      if (k > 0) grew++;
      interfaces = s.interfaces.length;
    }
    assert.equal(interfaces, one.interfaces().length, `step ${k}: the interfaces handed over so far`);
    if (s.status !== 'more') break;
  }
  assert.ok(grew > 0, 'the second section defined interfaces after the first step');
  assert.equal(ahead.finish(), null);
  assert.equal(one.finish(), null);
});

test("no correlator keeps a step's events: they are overwritten once add() returns, and the report is the same", async () => {
  // A step's events and names are lent from memory the step after next fills again
  // (native/napi/lent_buffer.h). Anything that kept a view of them past add() (the matcher's
  // waiting packets, a DNS name read at a tick) would report what the next steps wrote there.
  const add = Correlator.prototype.add;
  let overwritten = 0;
  const files = [hc, txns, overlay, path.join(ROOT, 'examples', 'incident.pcapng')];
  const clean = [];
  for (const file of files) clean.push(await report(file, 2));
  Correlator.prototype.add = function (this: Correlator, ...args: Parameters<Correlator['add']>): void {
    add.apply(this, args);
    const events = args[0];
    overwritten += events.buffer.length + events.namesBuffer.length;
    events.buffer.fill(0xa5);
    events.namesBuffer.fill(0x5a);
  };
  try {
    for (const [i, file] of files.entries()) {
      for (const threads of [1, 2]) assert.equal((await report(file, threads)).json, clean[i].json, `${path.basename(file)}, ${threads} thread(s)`);
    }
  } finally {
    Correlator.prototype.add = add;
  }
  assert.ok(overwritten > 1_000_000, `events overwritten: ${overwritten} bytes`);
});
