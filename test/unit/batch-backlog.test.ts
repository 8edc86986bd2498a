/**
 * The live backlog (src/capture/batch-backlog.ts) is bounded by the bytes its batches
 * hold, not by their number: many small batches (a capture thread hands a batch over as
 * soon as it is full) wait whole, and past the bound the oldest lose their events and
 * records, counted per engine, the newest never; a thinned batch leaves the queue for a
 * newer one of its engine, which carries what only it held.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { BatchBacklog, batchBytes, MAX_BACKLOG_BYTES } from '../../src/capture/batch-backlog.js';
import { nativeLayout } from '../../src/native/analyzer.js';
import type { NativeLiveBatch } from '../../src/native/live.js';

const L = nativeLayout();

/** A batch of `events` events and `records` records (contents irrelevant here), one interface. */
function batch(seq: number, events: number, records: number, o: { released?: number[]; gone?: number[] } = {}): NativeLiveBatch {
  const S = L.counterStride;
  const ids = [1, ...(o.released ?? [])];
  return {
    seq,
    final: false,
    monoNs: 0n,
    ids: Uint32Array.from(ids),
    counters: Float64Array.from(ids.flatMap((id) => Array.from({ length: S }, () => id * 1000 + seq))),
    ring: new Float64Array(ids.length * 3),
    records: Buffer.alloc(records * L.record.size),
    recordBytes: Buffer.alloc(records * 100),
    recordsDropped: 0,
    events: Buffer.alloc(events * L.event.size),
    eventNames: Buffer.alloc(events * 10),
    eventsDropped: 0,
    gone: (o.gone ?? []).map((id) => ({ id, reason: 'gone' })),
    released: Uint32Array.from(o.released ?? []),
    badFlows: 0,
    badFlowsEvicted: 0,
  };
}

test('backlog: 64 small batches wait whole (the old bound of 4 batches thinned 60 of them)', () => {
  const q = new BatchBacklog();
  assert.equal(q.maxBytes, MAX_BACKLOG_BYTES);
  for (let s = 1; s <= 64; s++) q.push(0, batch(s, 1000, 64), false);
  assert.equal(q.length, 64);
  assert.deepEqual(q.thinned(0), { events: 0, records: 0 });
  let events = 0;
  for (let x = q.shift(); x; x = q.shift()) events += x.b.events.length / L.event.size;
  assert.equal(events, 64 * 1000);
  assert.equal(q.bytes, 0);
});

test('backlog: past its bytes the oldest are thinned and counted, the newest kept whole, the held bytes accounted', () => {
  const one = batchBytes(batch(1, 1000, 100));
  const q = new BatchBacklog(one * 3 + 10); // room for three whole batches
  // Two engines: engine 1's single batch has no newer one, so it stays (thinned) in place.
  q.push(1, batch(1, 1000, 100), false);
  for (let s = 2; s <= 6; s++) q.push(0, batch(s, 1000, 100), false);
  assert.ok(q.bytes <= q.maxBytes, `${q.bytes} held`);
  const left: Array<{ engine: number; seq: number; events: number; records: number }> = [];
  const held = q.bytes;
  let sum = 0;
  for (let x = q.shift(); x; x = q.shift()) {
    sum += batchBytes(x.b);
    left.push({ engine: x.engine, seq: x.b.seq, events: x.b.events.length / L.event.size, records: x.b.records.length / L.record.size });
  }
  assert.equal(sum, held, 'the bytes held are those of the batches waiting');
  // Engine 1's batch thinned but kept (its counters are the only ones of engine 1);
  // engine 0's oldest thinned and gone (the newer ones carry its counters); the newest whole.
  assert.deepEqual(left[0], { engine: 1, seq: 1, events: 0, records: 0 });
  assert.deepEqual(left[left.length - 1], { engine: 0, seq: 6, events: 1000, records: 100 });
  const gone0 = 5 - left.filter((l) => l.engine === 0).length;
  assert.ok(gone0 >= 1, JSON.stringify(left));
  const thinned0 = left.filter((l) => l.engine === 0 && l.events === 0).length;
  assert.deepEqual(q.thinned(0), { events: (gone0 + thinned0) * 1000, records: (gone0 + thinned0) * 100 });
  assert.deepEqual(q.thinned(1), { events: 1000, records: 100 });
});

test('backlog: a thinned batch that leaves hands its released interfaces and gone notices to the next of its engine', () => {
  const q = new BatchBacklog(batchBytes(batch(1, 1000, 0)) + 10);
  q.push(0, batch(1, 1000, 0, { released: [7], gone: [7] }), false);
  q.push(0, batch(2, 1000, 0), false);
  assert.equal(q.length, 1);
  const x = q.shift()!;
  assert.equal(x.b.seq, 2);
  assert.deepEqual([...x.b.ids], [1, 7]);
  assert.deepEqual([...x.b.released], [7]);
  assert.deepEqual(
    x.b.gone.map((g) => g.id),
    [7],
  );
  assert.equal(x.b.counters[L.counterStride], 7001, "the released interface's last counters, from batch 1");
});

test('backlog: while stopping (whole) nothing is thinned', () => {
  const q = new BatchBacklog(1);
  for (let s = 1; s <= 8; s++) q.push(0, batch(s, 100, 10), true);
  assert.equal(q.length, 8);
  assert.deepEqual(q.thinned(0), { events: 0, records: 0 });
});

test('backlog: a waiting batch of counters alone is superseded by the next of its engine; one with records, events, released or vanished interfaces is not', () => {
  const q = new BatchBacklog();
  q.push(0, batch(1, 0, 0), false); // counters only
  q.push(1, batch(2, 0, 0), false); // counters only, another engine
  q.push(0, batch(3, 5, 0), false); // supersedes 1
  q.push(0, batch(4, 0, 2), false);
  q.push(0, batch(5, 0, 0, { released: [7] }), false);
  q.push(0, batch(6, 0, 0, { gone: [8] }), false);
  q.push(0, batch(7, 0, 0), false);
  q.push(0, batch(8, 0, 0), false); // supersedes 7
  assert.equal(q.superseded, 2);
  const left: Array<[number, number]> = [];
  const held = q.bytes;
  let sum = 0;
  for (let x = q.shift(); x; x = q.shift()) {
    left.push([x.engine, x.b.seq]);
    sum += batchBytes(x.b);
  }
  assert.deepEqual(left, [
    [1, 2],
    [0, 3],
    [0, 4],
    [0, 5],
    [0, 6],
    [0, 8],
  ]);
  assert.equal(sum, held, 'the bytes held are those of the batches waiting');
  assert.deepEqual(q.thinned(0), { events: 0, records: 0 }, 'superseding drops nothing');
});
