/**
 * pcapng and pcap files read on every core (issue 14 step 4; native/capture/record_scan.h,
 * native/flow/parallel.cc): `-r --no-correlate` and `-r` with correlation (each step
 * split by frames between threads, native/flow/file_analysis.cc step_events) on several
 * threads give exactly the one-thread result -- report (counters per interface, flows,
 * listed bad frames with their numbers and timestamps, correlation, findings, warnings),
 * exit status, stderr and -w file; with correlation also every step's events, names,
 * records and counters, byte for byte -- on pcapng files that make the stretch logic
 * work: interfaces with different timestamp units and offsets, Simple Packet Blocks,
 * blocks of other types, an interface defined in the middle, a second (byte-swapped)
 * section, a byte-swapped file, interfaces past the cap, payloads full of fake blocks
 * (wrong guesses), a file cut in a block and garbage after some blocks; pcap files whose
 * carriers fold per step (few flows) and where every frame is a new flow; and with -c
 * and -f, which read on one thread.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import type { ReportDocument } from '../../src/model/report.js';
import { openFileAnalysis } from '../../src/native/analyzer.js';
import { BIN } from '../fixtures/harness.js';
import { writeHighCardinalityCapture, writeVxlanCapture } from '../fixtures/lib/bulk.js';
import { type Endian, type PcapngInterface, pcapngBlock, pcapngIdb, pcapngPacket, pcapngShb } from '../fixtures/lib/capfile.js';
import { Prng } from '../fixtures/lib/prng.js';

let dir: string;
/** The frames of a generated VXLAN capture (5% bad, many flows), about 50 MB. */
let frames: { tsNs: bigint; data: Buffer }[];

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'csumtop-pcapng-par-'));
  const pcap = path.join(dir, 'source.pcap');
  writeVxlanCapture(pcap, { frames: 100_000, badRatio: 0.05, seed: 14, flows: 3000 });
  const file = readFileSync(pcap);
  assert.equal(file.readUInt32LE(0), 0xa1b23c4d, 'a little-endian nanosecond pcap');
  frames = [];
  for (let off = 24; off + 16 <= file.length;) {
    const caplen = file.readUInt32LE(off + 8);
    const tsNs = BigInt(file.readUInt32LE(off)) * 1_000_000_000n + BigInt(file.readUInt32LE(off + 4));
    frames.push({ tsNs, data: file.subarray(off + 16, off + 16 + caplen) });
    off += 16 + caplen;
  }
  rmSync(pcap);
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** A pcapng written section by section: the frames go, in order, to the interfaces of the current section. */
class Layout {
  readonly parts: Buffer[] = [];
  private ifaces: PcapngInterface[] = [];
  private endian: Endian = 'le';
  private readonly rng = new Prng(7);

  section(endian: Endian, ifaces: PcapngInterface[]): this {
    this.endian = endian;
    this.ifaces = [];
    this.parts.push(pcapngShb(endian));
    for (const i of ifaces) this.idb(i);
    return this;
  }

  idb(i: PcapngInterface): this {
    this.ifaces.push(i);
    this.parts.push(pcapngIdb(i, this.endian));
    return this;
  }

  /**
   * Frames [from, to) on interfaces picked at random among `use` (default: all of the
   * section's); every `spbEvery`th on interface 0 as a Simple Packet Block, and a block
   * of another type (statistics, name resolution, custom) every `otherEvery` frames.
   */
  packets(from: number, to: number, opts: { use?: number[]; spbEvery?: number; otherEvery?: number } = {}): this {
    const use = opts.use ?? this.ifaces.map((_, k) => k);
    for (let n = from; n < to; n++) {
      const f = frames[n];
      const spb = opts.spbEvery !== undefined && n % opts.spbEvery === 0 && (this.ifaces[0].snaplen ?? 0) === 0;
      const iface = spb ? 0 : use[this.rng.int(0, use.length - 1)];
      this.parts.push(pcapngPacket(this.ifaces, { iface, tsNs: f.tsNs, data: f.data, wirelen: f.data.length, block: spb ? 'spb' : 'epb' }, this.endian));
      if (opts.otherEvery !== undefined && n % opts.otherEvery === 0) {
        const type = this.rng.pick([0x00000004, 0x00000005, 0x00000bad, 0x40000bad]);
        this.parts.push(pcapngBlock(type, Buffer.from(this.rng.bytes(this.rng.int(0, 40))), this.endian));
      }
    }
    return this;
  }

  write(name: string): string {
    const file = path.join(dir, name);
    writeFileSync(file, Buffer.concat(this.parts));
    return file;
  }
}

/** Four interfaces of different timestamp units (micro, nano, 2^-20 s with an offset, milli). */
const MIXED: PcapngInterface[] = [
  { linktype: 1, name: 'eth0' },
  { linktype: 1, name: 'eth1', tsresol: 9 },
  { linktype: 1, name: 'vxlan0', tsresolBinary: 20, tsoffset: 3600 },
  { linktype: 1, name: 'eth2', tsresol: 3, tsoffset: -7200 },
];

function mixed(endian: Endian): Layout {
  return new Layout().section(endian, MIXED).packets(0, frames.length, { spbEvery: 37, otherEvery: 501 });
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  written: Buffer;
}

/** With correlation (the default) or without (--no-correlate). */
type Mode = 'correlate' | 'no-correlate';
const MODES: Mode[] = ['no-correlate', 'correlate'];

function runWith(threads: number, file: string, extra: string[], mode: Mode): Run {
  const out = path.join(dir, 'bad.pcapng');
  const r = spawnSync(BIN, ['-r', file, ...(mode === 'no-correlate' ? ['--no-correlate'] : []), '--json', '--list', '-w', out, ...extra], {
    encoding: 'utf8',
    env: { ...process.env, CSUMTOP_THREADS: String(threads) },
    maxBuffer: 1 << 28,
  });
  let written = Buffer.alloc(0);
  try {
    written = readFileSync(out);
  } catch {
    // not created (an error before the first bad frame): compared as empty
  }
  rmSync(out, { force: true });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, written };
}

/**
 * The reader's and the analysis' own counts (also those no report shows: blocks skipped,
 * bytes read), read in this process; with correlation also every step as the Correlator
 * gets it (its status, frames, counters, and its events, names and records as bytes).
 */
function statsWith(threads: number, file: string, mode: Mode): { counts: unknown; helperFrames: number } {
  const saved = process.env.CSUMTOP_THREADS;
  process.env.CSUMTOP_THREADS = String(threads); // read by the addon at the first step
  try {
    if (mode === 'correlate') {
      const fa = openFileAnalysis(file, { events: true });
      const steps: unknown[] = [];
      for (;;) {
        const s = fa.stepDrain(8192);
        const hex = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
        steps.push({
          status: s.status,
          frames: s.frames,
          counters: hex(Buffer.from(s.counters.buffer, s.counters.byteOffset, s.counters.byteLength)),
          events: hex(s.drain.events),
          names: hex(s.drain.eventNames),
          records: hex(s.drain.records),
          recordBytes: hex(s.drain.recordBytes),
          dropped: [s.drain.eventsDropped, s.drain.recordsDropped],
        });
        if (s.status !== 'more') break;
      }
      const helperFrames = fa.helperFrames();
      fa.finish();
      return { counts: { steps, stats: fa.stats() }, helperFrames };
    }
    const fa = openFileAnalysis(file, {});
    let r = fa.step(1 << 16);
    while (r.status === 'more') r = fa.step(1 << 16);
    const helperFrames = fa.helperFrames();
    fa.finish();
    return { counts: { end: r, stats: fa.stats() }, helperFrames };
  } finally {
    if (saved === undefined) delete process.env.CSUMTOP_THREADS;
    else process.env.CSUMTOP_THREADS = saved;
  }
}

/**
 * Runs `file` on one thread and on 2 and 4, with and without correlation, requires the
 * same everything per mode; returns the one-thread report without correlation. Without
 * `extra`, helpers must have decoded part of the file in the modes of `helpers` (else the
 * comparison proves nothing about the parallel paths).
 */
function sameForAllThreadCounts(file: string, extra: string[] = [], helpers: Mode[] = MODES): { run: Run; doc: ReportDocument } {
  const reports = MODES.map((mode) => {
    if (extra.length === 0) {
      const one = statsWith(1, file, mode);
      assert.equal(one.helperFrames, 0, `${mode}, 1 thread: no helper`);
      for (const threads of [2, 4]) {
        const many = statsWith(threads, file, mode);
        assert.deepEqual(many.counts, one.counts, `${mode}, ${threads} threads: reader and analysis counts`);
        if (helpers.includes(mode)) assert.ok(many.helperFrames > 0, `${mode}, ${threads} threads: frames decoded by helpers`);
      }
    }
    const one = runWith(1, file, extra, mode);
    assert.ok(one.stdout.length > 0, one.stderr);
    for (const threads of [2, 4]) {
      const many = runWith(threads, file, extra, mode);
      assert.equal(many.status, one.status, `${mode}, ${threads} threads: exit status`);
      assert.equal(many.stderr, one.stderr, `${mode}, ${threads} threads: stderr`);
      assert.equal(many.stdout, one.stdout, `${mode}, ${threads} threads: report`);
      assert.ok(many.written.equals(one.written), `${mode}, ${threads} threads: -w file`);
    }
    return one;
  });
  return { run: reports[0], doc: JSON.parse(reports[0].stdout) as ReportDocument };
}

function framesOf(doc: ReportDocument): number {
  return doc.interfaces.reduce((a, i) => a + i.frames, 0);
}

test('interfaces with different timestamp units, Simple Packet Blocks and blocks of other types', () => {
  const { run, doc } = sameForAllThreadCounts(mixed('le').write('mixed.pcapng'));
  assert.equal(run.status, 1, 'bad checksums');
  assert.deepEqual(
    doc.interfaces.map((i) => i.name),
    MIXED.map((i) => i.name),
  );
  assert.equal(framesOf(doc), frames.length);
  assert.ok(doc.interfaces.every((i) => i.badFrames > 0));
});

test('the same file byte-swapped', () => {
  const { doc } = sameForAllThreadCounts(mixed('be').write('mixed-be.pcapng'));
  assert.equal(framesOf(doc), frames.length);
});

test('interfaces defined in the middle, and further sections of either byte order', () => {
  const n = frames.length;
  const at = (share: number): number => Math.floor(n * share);
  const layout = new Layout()
    .section('le', MIXED.slice(0, 2))
    .packets(0, at(0.2), { otherEvery: 999 })
    .idb({ linktype: 1, name: 'late0', tsresol: 9, tsoffset: 10 })
    .packets(at(0.2), at(0.3), { spbEvery: 41 })
    .idb({ linktype: 1, name: 'late1', tsresolBinary: 30 })
    .packets(at(0.3), at(0.35), { use: [3] })
    .section('be', [MIXED[2], MIXED[3]])
    .packets(at(0.35), at(0.45), { spbEvery: 23, otherEvery: 301 });
  // Then a section every 5% of the file, all of one byte order, each with the same
  // interfaces in another order: a stretch read with the interfaces of the section
  // before would name the wrong interface and get its timestamps wrong.
  const rotating: PcapngInterface[] = [
    { linktype: 1, name: 'a', tsresol: 6 },
    { linktype: 1, name: 'b', tsresol: 9, tsoffset: 5 },
    { linktype: 1, name: 'c', tsresolBinary: 24 },
  ];
  const names = ['eth0', 'eth1', 'late0', 'late1', 'vxlan0', 'eth2'];
  for (let k = 0; at(0.45 + k * 0.05) < n; k++) {
    const ifaces = [0, 1, 2].map((j) => rotating[(j + k) % 3]);
    layout.section('le', ifaces).packets(at(0.45 + k * 0.05), Math.min(n, at(0.5 + k * 0.05)), { spbEvery: 53 });
    names.push(...ifaces.map((i) => i.name ?? ''));
  }
  // A section every 5% of the file (~2.7 MB): --no-correlate's byte stretches (planned
  // over 32 MB) never start where the reader arrives unchanged, so it reads the file
  // itself; a step's shares (4096 frames each) fit between sections and are applied.
  const { doc } = sameForAllThreadCounts(layout.write('sections.pcapng'), [], ['correlate']);
  assert.deepEqual(
    doc.interfaces.map((i) => i.name),
    names,
  );
  assert.equal(framesOf(doc), n);
});

test('interfaces past the cap: their packets skipped and counted as with one thread', () => {
  const ifaces: PcapngInterface[] = Array.from({ length: 4100 }, (_, k) => ({ linktype: 1, tsresol: k % 2 === 0 ? 6 : 9 }));
  const n = frames.length;
  const layout = new Layout().section('le', ifaces).packets(0, n, { use: [0, 1, 0, 1, 0, 1, 0, 1, 4095, 4098] });
  // With correlation a step's share stops at the first packet past the cap (every 10th
  // here), so the reader reads it; the byte stretches apply their part before it.
  const { doc } = sameForAllThreadCounts(layout.write('cap.pcapng'), [], ['no-correlate']);
  assert.equal(doc.interfaces.length, 4096);
  assert.ok(framesOf(doc) < n * 0.95 && framesOf(doc) > n * 0.85, `${framesOf(doc)} of ${n} frames read`);
  assert.ok(
    doc.source.warnings.some((w) => w.includes('interfaces past the first 4096')),
    JSON.stringify(doc.source.warnings),
  );
});

test('payloads full of fake blocks (wrong guesses of where a block starts) change nothing', () => {
  // From byte 96 of each frame (past the outer and inner headers): a fake Enhanced
  // Packet Block of interface 0, then fake 12-byte blocks of another type, each with
  // its trailing length, so that a guess in a payload sees a chain of valid blocks.
  const saved = frames;
  frames = frames.map((f) => {
    const d = Buffer.from(f.data);
    if (d.length < 96 + 32 + 12 * 16) return { tsNs: f.tsNs, data: d };
    d.writeUInt32LE(6, 96);
    d.writeUInt32LE(32, 100);
    d.fill(0, 104, 124);
    d.writeUInt32LE(32, 124);
    for (let at = 128; at + 12 <= d.length; at += 12) {
      d.writeUInt32LE(0xbad, at);
      d.writeUInt32LE(12, at + 4);
      d.writeUInt32LE(12, at + 8);
    }
    return { tsNs: f.tsNs, data: d };
  });
  try {
    const { doc } = sameForAllThreadCounts(mixed('le').write('decoy.pcapng'));
    assert.equal(framesOf(doc), frames.length);
  } finally {
    frames = saved;
  }
});

test('a file cut in the middle of a block, a corrupt block and garbage after some blocks: as with one thread', () => {
  const file = Buffer.concat(mixed('le').parts);
  const cut = path.join(dir, 'cut.pcapng');
  writeFileSync(cut, file.subarray(0, Math.floor(file.length * 0.7) + 3));
  const c = sameForAllThreadCounts(cut);
  assert.ok(c.doc.source.cutShort, 'cut short');

  // A block whose trailing length differs from its leading one, 60% into the file.
  const blocks: number[] = [];
  for (let at = 0; at + 8 <= file.length; at += file.readUInt32LE(at + 4)) blocks.push(at);
  const corrupt = Buffer.from(file);
  const at = blocks[Math.floor(blocks.length * 0.6)];
  corrupt.writeUInt32LE(corrupt.readUInt32LE(at + 4) + 4, at + corrupt.readUInt32LE(at + 4) - 4);
  const bad = path.join(dir, 'corrupt.pcapng');
  writeFileSync(bad, corrupt);
  const b = sameForAllThreadCounts(bad);
  assert.equal(b.run.status, 2, b.run.stderr);
  assert.match(b.run.stderr, new RegExp(`corrupt pcapng block at byte offset ${at}: total length`));

  // Random bytes from a block boundary 45% into the file to its end.
  const garbage = Buffer.from(file);
  garbage.set(new Prng(3).bytes(file.length - blocks[Math.floor(blocks.length * 0.45)]), blocks[Math.floor(blocks.length * 0.45)]);
  const junk = path.join(dir, 'garbage.pcapng');
  writeFileSync(junk, garbage);
  const g = sameForAllThreadCounts(junk);
  assert.equal(g.run.status, 2, g.run.stderr);
});

test('-c and -f (read on one thread) report as with one thread', () => {
  const file = mixed('le').write('count.pcapng');
  const c = sameForAllThreadCounts(file, ['-c', '60000']);
  assert.equal(framesOf(c.doc), 60000);
  const f = sameForAllThreadCounts(file, ['-f', 'greater 300']);
  assert.ok(framesOf(f.doc) > 0 && framesOf(f.doc) < frames.length, `${framesOf(f.doc)} frames pass the filter`);
});

test('pcap with correlation: carriers of few flows (folded per step) and every frame a new flow, as with one thread', () => {
  const few = path.join(dir, 'few.pcap');
  writeVxlanCapture(few, { frames: 60_000, badRatio: 0.05, seed: 15, flows: 40 });
  const a = sameForAllThreadCounts(few);
  assert.equal(framesOf(a.doc), 60_000);
  const many = path.join(dir, 'many.pcap');
  writeHighCardinalityCapture(many, { frames: 40_000, badRatio: 0.02, seed: 16 });
  const b = sameForAllThreadCounts(many);
  assert.equal(framesOf(b.doc), 40_000);
  // The files are big enough for the parallel paths (8 MB: native/flow/file_analysis.cc).
  for (const f of [few, many]) assert.ok(readFileSync(f).length > 8 << 20, `${f} is over 8 MB`);
});
