/**
 * The offline analysis on several threads (native/flow/parallel.cc) gives exactly the
 * one-thread result: same report (counters, flows with their first frames and times,
 * listed bad frames), same -w file, same warnings and errors, whatever the number of
 * threads, also when the guessed record boundaries are wrong (payloads full of fake
 * pcap records) or the file is cut or corrupt. And the packed flow table reads back as
 * the object one.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { decodeFlows, nativeLayout, openFileAnalysis } from '../../src/native/analyzer.js';
import { BIN } from '../fixtures/harness.js';
import { writeVxlanCapture } from '../fixtures/lib/bulk.js';

let dir: string;
let big: string;

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'csumtop-fa-'));
  big = path.join(dir, 'big.pcap');
  // About 75 MB: several rounds of the parallel path (32 MiB each), 5% bad, many flows.
  writeVxlanCapture(big, { frames: 150_000, badRatio: 0.05, seed: 11, flows: 3000 });
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** Every record of a little-endian pcap as [header, data] pairs. */
function records(file: Buffer): { hdr: Buffer; data: Buffer }[] {
  const out: { hdr: Buffer; data: Buffer }[] = [];
  for (let off = 24; off + 16 <= file.length;) {
    const caplen = file.readUInt32LE(off + 8);
    out.push({ hdr: file.subarray(off, off + 16), data: file.subarray(off + 16, off + 16 + caplen) });
    off += 16 + caplen;
  }
  return out;
}

function runWith(threads: number, file: string, extra: string[]): { status: number | null; stdout: string; stderr: string; written: Buffer } {
  const out = path.join(dir, 'bad.pcap');
  const r = spawnSync(BIN, ['-r', file, '--json', '--list', '-w', out, ...extra], {
    encoding: 'utf8',
    env: { ...process.env, CSUMTOP_THREADS: String(threads) },
    maxBuffer: 1 << 28,
  });
  const written = readFileSync(out);
  rmSync(out, { force: true });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, written };
}

/**
 * Both ways several threads are used: --no-correlate decodes stretches on every thread
 * (native/flow/parallel.cc); the default (correlation) decodes one step ahead
 * (native/flow/file_step.h). Without --no-correlate here the stretches went untested
 * once correlation became the default.
 */
function sameForAllThreadCounts(file: string, extra: string[] = []): void {
  for (const mode of [['--no-correlate'], []]) {
    const args = [...mode, ...extra];
    const one = runWith(1, file, args);
    assert.ok(one.stdout.length > 0, one.stderr);
    for (const threads of [2, 3, 4]) {
      const many = runWith(threads, file, args);
      const what = `${threads} threads${mode.length ? ' ' + mode.join(' ') : ''}`;
      assert.equal(many.status, one.status, `${what}: exit status`);
      assert.equal(many.stderr, one.stderr, `${what}: stderr`);
      assert.equal(many.stdout, one.stdout, `${what}: report`);
      assert.ok(many.written.equals(one.written), `${what}: -w file`);
    }
  }
}

test('several threads give the one-thread report and -w file', () => {
  sameForAllThreadCounts(big);
  sameForAllThreadCounts(big, ['--max-flows', '100']);
});

test('payloads full of fake pcap records (wrong boundary guesses) change nothing', () => {
  const file = readFileSync(big);
  const parts: Buffer[] = [file.subarray(0, 24)];
  for (const { hdr, data } of records(file)) {
    const d = Buffer.from(data);
    for (let at = 14; at + 20 <= d.length; at += 20) {
      hdr.copy(d, at, 0, 8); // a plausible timestamp
      d.writeUInt32LE(4, at + 8);
      d.writeUInt32LE(4, at + 12);
      d.fill(0, at + 16, at + 20);
    }
    parts.push(hdr, d);
  }
  const decoy = path.join(dir, 'decoy.pcap');
  writeFileSync(decoy, Buffer.concat(parts));
  sameForAllThreadCounts(decoy);
});

test('a file cut short, and one with a corrupt record, are reported as with one thread', () => {
  const file = readFileSync(big);
  const cut = path.join(dir, 'cut.pcap');
  writeFileSync(cut, file.subarray(0, Math.floor(file.length * 0.7) + 3));
  sameForAllThreadCounts(cut);
  const recs = records(file);
  const corrupt = Buffer.from(file);
  // A captured length beyond the maximum in a record in the second half.
  const at = recs[Math.floor(recs.length * 0.6)].hdr.byteOffset - file.byteOffset;
  corrupt.writeUInt32LE(0x7ffffff0, at + 8);
  const bad = path.join(dir, 'corrupt.pcap');
  writeFileSync(bad, corrupt);
  sameForAllThreadCounts(bad);
});

test('the packed flow table: every flow, in report order, and a limit takes the first ones', () => {
  const fa = openFileAnalysis(big, { maxFlows: 65536 });
  for (;;) {
    const r = fa.step(1 << 16);
    if (r.status !== 'more') break;
  }
  fa.finish();
  const flows = decodeFlows(fa.flowsPacked(), nativeLayout());
  assert.ok(flows.length > 1000, `${flows.length} flows`);
  assert.equal(fa.stats().flows, flows.length);
  // The report's order: most frequent first, then first seen first (a stable sort).
  const sorted = [...flows].sort((a, b) => b.count - a.count || (a.firstNs < b.firstNs ? -1 : a.firstNs > b.firstNs ? 1 : 0));
  const plain = (list: typeof flows): unknown => JSON.parse(JSON.stringify(list, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
  assert.deepEqual(plain(flows), plain(sorted));
  assert.ok(flows[0].count > flows[flows.length - 1].count, 'not all flows alike: the order is checked on something');
  assert.deepEqual(plain(decodeFlows(fa.flowsPacked(25), nativeLayout())), plain(flows.slice(0, 25)));
});

test('a file truncated by someone else while it is read is an error, not a crash (SIGBUS)', () => {
  const file = path.join(dir, 'shrinking.pcap');
  for (const threads of ['1', '2']) {
    writeFileSync(file, readFileSync(big));
    const script = `
      const fs = require('node:fs');
      const { openFileAnalysis } = require(${JSON.stringify(path.resolve(__dirname, '..', '..', 'src', 'native', 'analyzer.js'))});
      const fa = openFileAnalysis(${JSON.stringify(file)}, {});
      let r = fa.step(20000);
      fs.truncateSync(${JSON.stringify(file)}, 20_000_000);
      while (r.status === 'more') r = fa.step(1 << 16);
      process.stdout.write(JSON.stringify(r));
    `;
    const child = spawnSync(process.execPath, ['-e', script], {
      encoding: 'utf8',
      env: { ...process.env, CSUMTOP_THREADS: threads },
    });
    assert.equal(child.signal, null, `${threads} thread(s): killed by ${child.signal}`);
    assert.equal(child.status, 0, child.stderr);
    const r = JSON.parse(child.stdout) as { status: string; message: string };
    assert.equal(r.status, 'error');
    assert.match(r.message, /^read error at byte offset \d+: the file was truncated to 20000000 bytes while it was being read$/);
  }
});
