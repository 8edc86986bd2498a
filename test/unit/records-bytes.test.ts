/**
 * A bad-frame record's bytes are a view of its batch's byte buffer, not a copy per record
 * (src/native/records.ts: the copy was 85% of decoding a record and set off collections
 * under a flood, issue 14). So whatever keeps bytes past the batch must copy them: the
 * bad-flow view's samples and the dashboard's ring of recent frames for `w`. Checked by
 * overwriting the batch's buffer after it was handled: what was kept must not change.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

import { keepRecent } from '../../src/cli/dashboard-mode.js';
import { BadFlowTracker } from '../../src/correlate/bad-flows.js';
import { nativeLayout, openFileAnalysis } from '../../src/native/analyzer.js';
import { decodeRecords, PackedRecords } from '../../src/native/records.js';
import { RecentFrames } from '../../src/ui/dashboard.js';
import { writeHighCardinalityCapture } from '../fixtures/lib/bulk.js';
import { dnsEvents, packRecords } from '../lib/pack-records.js';

const NO_EVENTS = dnsEvents([]);

/** The drains of a capture where a fifth of 20,000 frames (each a new flow) have a bad checksum. */
function drains(): { records: Buffer; recordBytes: Buffer }[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csumtop-records-bytes-'));
  try {
    const file = path.join(dir, 'bad.pcap');
    writeHighCardinalityCapture(file, { frames: 20000, badRatio: 0.2, seed: 7 });
    const fa = openFileAnalysis(file, { events: true });
    const out: { records: Buffer; recordBytes: Buffer }[] = [];
    for (;;) {
      const s = fa.stepDrain(8192);
      out.push(s.drain);
      if (s.status !== 'more') break;
    }
    fa.finish();
    return out;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const dir = () => ({ label: 'eth0', namespace: '', overlay: false });

test('records: bytes are views of the batch; the bad-flow view and the recent-frame ring keep copies', () => {
  const L = nativeLayout().record;
  const view = new BadFlowTracker(4096, true);
  const recent = new RecentFrames(300);
  const expected = new Map<number, string>(); // frame -> its bytes when decoded
  let total = 0;
  for (const d of drains()) {
    const recs = decodeRecords(d.records, L, d.recordBytes);
    total += recs.length;
    for (const r of recs) {
      assert.ok(r.bytes, `frame ${r.frame} has bytes`);
      assert.equal(r.bytes.buffer, d.recordBytes.buffer, 'a view of the batch, not a copy');
      expected.set(r.frame, Buffer.from(r.bytes).toString('hex'));
    }
    const packed = new PackedRecords(d.records, d.recordBytes, L);
    view.add(packed, NO_EVENTS, dir);
    keepRecent(
      recent,
      packed,
      () => 'eth0',
      () => 1,
    );
    // The batch's memory is reused for the next one.
    d.recordBytes.fill(0xee);
  }
  assert.ok(total > 3000, `${total} bad frames`);
  const samples = view.top(4096).filter((f) => f.sample?.bytes);
  assert.ok(samples.length >= 256, `${samples.length} samples with bytes`);
  for (const { sample } of samples) assert.equal(Buffer.from(sample!.bytes!).toString('hex'), expected.get(sample!.frame), `sample of frame ${sample!.frame}`);
  const kept = recent.list();
  assert.equal(kept.length, 300);
  assert.equal(recent.evicted, total - 300);
  const frames = [...expected.keys()].slice(-300);
  assert.deepEqual(
    kept.map((k) => Buffer.from(k.bytes).toString('hex')),
    frames.map((f) => expected.get(f)),
  );
});

test('the recent-frame ring keeps the last frames with bytes of each batch, decoding only those; the others are counted passed over', () => {
  const recent = new RecentFrames(3);
  const frame = (n: number, bytes: boolean) => ({
    frame: n,
    tsNs: 1_700_000_000_000_000_000n + BigInt(n),
    iface: 0,
    caplen: 60,
    wirelen: 60,
    outer: null,
    tunnel: 'none' as const,
    vni: null,
    inner: null,
    checksums: [],
    direction: null,
    bytes: bytes ? new Uint8Array([n]) : null,
  });
  // Frames 1-10, every third without bytes: 7 with bytes.
  keepRecent(
    recent,
    packRecords(Array.from({ length: 10 }, (_, k) => frame(k + 1, (k + 1) % 3 !== 0))),
    () => 'eth0',
    () => 1,
  );
  assert.deepEqual(
    recent.list().map((f) => f.bytes[0]),
    [7, 8, 10],
  );
  assert.equal(recent.evicted, 4, 'the 4 earlier frames with bytes');
  keepRecent(
    recent,
    packRecords([frame(11, true), frame(12, false)]),
    () => 'eth0',
    () => 1,
  );
  assert.deepEqual(
    recent.list().map((f) => f.bytes[0]),
    [8, 10, 11],
  );
  assert.equal(recent.evicted, 5);
});
