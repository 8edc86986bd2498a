/**
 * The native bad-flow table (native/flow/bad_flows.h) of a capture file: its memory follows
 * the bad flows the file has, not --max-flows (issue 14: the default -r at <= 200 MB), and
 * at a cap it keeps the file's first flows and counts every frame of the others.
 * Live captures keep it resident from the start (the libpcap path's FrameSink here, the
 * AF_PACKET engine's in test/lab/hostile.test.ts: memory flat under a flood of new bad flows).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { NATIVE_BYTES_PER_FLOW_PER_THREAD } from '../../src/correlate/limits.js';
import { decodeFlows, nativeLayout, openFileAnalysis, type FileAnalysis } from '../../src/native/analyzer.js';
import { createFrameSink } from '../../src/native/frame-sink.js';
import { writeVxlanCapture, type VxlanCaptureTruth } from '../fixtures/lib/bulk.js';

/** sizeof(BadFlow) and the index's bytes per slot (bad_flows.h). */
const FLOW_BYTES = 192;
const SLOT_BYTES = 4;
const PAGE = 4096;

let dir: string;
let file: string;
let truth: VxlanCaptureTruth;

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'csumtop-badflows-'));
  file = path.join(dir, 'flows.pcap');
  // 3000 flows, 5% bad: about 1,500 of them with a bad frame, most with one or two.
  truth = writeVxlanCapture(file, { frames: 40_000, badRatio: 0.05, seed: 5, flows: 3000 });
});

after(() => rmSync(dir, { recursive: true, force: true }));

function readAll(maxFlows: number): FileAnalysis {
  const fa = openFileAnalysis(file, { maxFlows });
  for (;;) {
    const r = fa.step(1 << 14);
    if (r.status !== 'more') break;
  }
  fa.finish();
  return fa;
}

function slotsFor(maxFlows: number): number {
  let cap = 16;
  while (cap < maxFlows * 2) cap *= 2;
  return cap;
}

const pages = (bytes: number): number => Math.ceil(bytes / PAGE) * PAGE;

test("a file's bad-flow table is resident for the flows it keeps, not for --max-flows", () => {
  for (const maxFlows of [65536, 1_000_000]) {
    const fa = readAll(maxFlows);
    const kept = fa.stats().flows;
    assert.ok(kept > 1000 && kept < maxFlows, `${kept} flows kept`);
    const { mapped, resident } = fa.flowTableBytes();
    // The bound is still the cap's, and within the memory formula's bytes per flow with
    // the vector of used slots (4 bytes a flow, up to twice that after it doubled).
    assert.equal(mapped, maxFlows * FLOW_BYTES + slotsFor(maxFlows) * SLOT_BYTES);
    assert.ok(mapped + 8 * maxFlows <= NATIVE_BYTES_PER_FLOW_PER_THREAD * maxFlows, `${mapped} bytes mapped for ${maxFlows} flows`);
    // The flows are dense from the start of their array: their pages, at most the whole
    // index, nothing of the rest.
    const flowPages = pages(kept * FLOW_BYTES);
    assert.ok(resident >= flowPages, `resident ${resident} < the kept flows' ${flowPages}`);
    assert.ok(resident <= flowPages + pages(slotsFor(maxFlows) * SLOT_BYTES), `resident ${resident} of ${mapped} mapped for ${kept} flows`);
  }
});

test("a live capture's bad-flow table is resident from the start (flat memory under a flood of new bad flows)", () => {
  for (const maxFlows of [1000, 65536]) {
    const sink = createFrameSink({ maxFlows });
    const { mapped, resident } = sink.flowTableBytes();
    assert.equal(mapped, maxFlows * FLOW_BYTES + slotsFor(maxFlows) * SLOT_BYTES);
    assert.equal(resident, pages(maxFlows * FLOW_BYTES) + pages(slotsFor(maxFlows) * SLOT_BYTES));
  }
});

test('at a cap the first flows of the file are kept, every bad frame of the others is counted as evicted', () => {
  const all = decodeFlows(readAll(65536).flowsPacked(), nativeLayout());
  assert.equal(
    all.reduce((n, f) => n + f.count, 0),
    truth.badFrames,
  );
  for (const cap of [16, 100]) {
    const fa = readAll(cap);
    const kept = decodeFlows(fa.flowsPacked(), nativeLayout());
    const first = [...all].sort((a, b) => a.exampleFrame - b.exampleFrame).slice(0, cap);
    const key = (f: (typeof all)[number]): string => `${f.exampleFrame}/${f.count}/${f.firstNs}/${f.lastNs}/${f.badMask}`;
    assert.deepEqual(kept.map(key).sort(), first.map(key).sort());
    assert.equal(fa.stats().flows, cap);
    assert.equal(fa.stats().flowsEvicted, truth.badFrames - first.reduce((n, f) => n + f.count, 0));
    assert.ok(fa.flowTableBytes().resident <= pages(cap * FLOW_BYTES) + pages(slotsFor(cap) * SLOT_BYTES));
  }
});
