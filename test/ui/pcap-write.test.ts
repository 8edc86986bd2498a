/**
 * `w` on the dashboard: which frames are written, and how the file is created (mode
 * 0600, never through a symlink, never over an existing file), read back with
 * csumtop's own reader.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';

import { readCaptureFile } from '../../src/native/capture-file.js';
import { LINKTYPE_RAW, defaultPcapName, writeFramesPcap } from '../../src/output/pcap-frames.js';
import { RecentFrames, framesForFlows, type RecentFrame } from '../../src/ui/dashboard.js';
import { badCarrier, badFlow } from './synthetic.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csumtop-w-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function frame(n: number, ts: bigint): RecentFrame {
  const f = badFlow(n);
  const c = badCarrier(n);
  return { interface: f.interface, outer: f.outer, vni: f.vni, inner: f.inner, tsNs: ts, bytes: c.bytes, wirelen: c.bytes.length, linktype: 1 };
}

test('the recent frames of the shown flows are written, oldest first, bytes and times intact; mode 0600', () => {
  const recent = new RecentFrames(10);
  recent.add(frame(0, 1_000_000_001n));
  recent.add(frame(1, 2_000_000_002n));
  recent.add(frame(0, 3_000_000_003n));
  const chosen = framesForFlows({ type: 'write-pcap', flows: [badFlow(0)] }, recent);
  assert.deepEqual(
    chosen.map((f) => f.tsNs),
    [1_000_000_001n, 3_000_000_003n],
    'only flow 0, in capture order',
  );
  const file = writeFramesPcap(path.join(dir, 'a.pcap'), chosen);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  const back = readCaptureFile(file);
  assert.equal(back.format, 'pcap');
  assert.equal(back.interfaces[0].linktype, 1);
  assert.deepEqual(
    back.frames.map((f) => f.tsNs),
    [1_000_000_001n, 3_000_000_003n],
  );
  assert.deepEqual(Buffer.from(back.frames[0].data), Buffer.from(badCarrier(0).bytes));
});

test('a flow with no recent frame falls back to its sample; the link type is written as given', () => {
  const chosen = framesForFlows({ type: 'write-pcap', flows: [badFlow(2)] }, new RecentFrames(4), () => LINKTYPE_RAW);
  assert.equal(chosen.length, 1);
  assert.equal(chosen[0].linktype, LINKTYPE_RAW);
  assert.deepEqual(Buffer.from(chosen[0].bytes), Buffer.from(badCarrier(2).bytes));
  const back = readCaptureFile(writeFramesPcap(path.join(dir, 'raw.pcap'), chosen, LINKTYPE_RAW));
  assert.equal(back.interfaces[0].linktype, LINKTYPE_RAW);
});

test('never through a symlink, never over an existing file', () => {
  const target = path.join(dir, 'precious');
  fs.writeFileSync(target, 'keep me');
  const link = path.join(dir, 'link.pcap');
  fs.symlinkSync(target, link);
  assert.throws(() => writeFramesPcap(link, [frame(0, 1n)]));
  assert.equal(fs.readFileSync(target, 'utf8'), 'keep me');
  assert.throws(() => writeFramesPcap(target, [frame(0, 1n)]));
  assert.equal(fs.readFileSync(target, 'utf8'), 'keep me');
});

test('the ring keeps the newest frames; default names differ per second', () => {
  const r = new RecentFrames(3);
  for (let i = 0; i < 5; i++) r.add(frame(0, BigInt(i)));
  assert.deepEqual(
    r.list().map((f) => f.tsNs),
    [2n, 3n, 4n],
  );
  assert.equal(r.evicted, 2);
  assert.match(defaultPcapName(Date.UTC(2026, 10, 21, 13, 5, 12), '/x'), /^\/x\/csumtop-bad-20261121T130512Z\.pcap$/);
  assert.notEqual(defaultPcapName(0), defaultPcapName(1000));
});
