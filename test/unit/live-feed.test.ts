/**
 * LiveFeed's contract (src/cli/live-feed.ts, issue 15), the batch handling live text/JSON
 * mode and the dashboard share: each batch is applied to the state and given to the
 * correlation before a mode sees it, in the source's order; the correlation ticks once per
 * interval (and at once for the dashboard); the final tick is made once and ends the
 * interval ticks; -c is reached once, at the first batch whose counters reach it. The
 * interval runs on node:test's mock timers: no waiting.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { Subject } from 'rxjs';

import { LiveState } from '../../src/capture/live-state.js';
import type { CapturedInterface, SourceBatch } from '../../src/capture/source.js';
import type { CorrelationSnapshot } from '../../src/model/correlation.js';
import { nativeLayout } from '../../src/native/analyzer.js';
import { LiveFeed, type LiveFeedOptions } from '../../src/cli/live-feed.js';
import { sourceBatch, type BatchRow } from '../lib/source-batch.js';

const L = nativeLayout();
const S = L.counterStride;

/** A batch of one engine: interface `id` has counted `frames` frames (cumulative). */
function batchOf(seq: number, rows: Array<[number, number]>, engine = 0): SourceBatch {
  const row = ([id, frames]: [number, number]): BatchRow => {
    const counters = new Float64Array(S);
    counters[L.slots.frames] = frames;
    return { id, counters };
  };
  return sourceBatch(engine, seq, rows.map(row), { recordsDropped: seq });
}

interface Call {
  what: 'add' | 'tick';
  seq?: number;
  nowNs?: number;
  final?: boolean;
}

/** A feed over a real LiveState, a source that is a Subject and a correlator that records its calls. */
function feedOf(t: TestContext, over: Partial<LiveFeedOptions> = {}) {
  t.mock.timers.enable({ apis: ['setInterval', 'setImmediate'] });
  const batches = new Subject<SourceBatch>();
  const state = new LiveState();
  const calls: Call[] = [];
  const byEvents = new Map<unknown, number>();
  let clockMs = 1000;
  const snapshots: CorrelationSnapshot[] = [];
  const correlator = {
    add: (events: unknown) => void calls.push({ what: 'add', seq: byEvents.get(events) }),
    tick: (nowNs: number, final = false): CorrelationSnapshot => {
      calls.push({ what: 'tick', nowNs, final });
      const s = { time: `t${snapshots.length}` } as unknown as CorrelationSnapshot;
      snapshots.push(s);
      return s;
    },
  };
  const ifaces = [1, 2].map((id) => ({ id }) as CapturedInterface);
  const engines: number[] = [];
  const feed = new LiveFeed({
    source: { batches$: batches, interfaces: () => ifaces },
    state,
    correlator,
    framesSlot: L.slots.frames,
    count: null,
    intervalMs: 1000,
    metrics: { batch: (engine) => void engines.push(engine) },
    clock: () => clockMs,
    ...over,
  });
  const send = (b: SourceBatch): void => {
    byEvents.set(b.events, b.seq);
    batches.next(b);
  };
  return { feed, send, batches, state, calls, snapshots, engines, setClock: (ms: number) => (clockMs = ms) };
}

test('each batch is applied to the state and given to the correlation before a mode sees it, in order', (t) => {
  const { feed, send, state, calls, engines } = feedOf(t);
  const seen: Array<{ seq: number; applied: number; frames: number; adds: number }> = [];
  feed.batches$.subscribe((b) =>
    seen.push({ seq: b.seq, applied: state.batches, frames: state.countersOf(1)[L.slots.frames], adds: calls.filter((c) => c.what === 'add').length }),
  );
  send(batchOf(1, [[1, 5]]));
  assert.equal(state.batches, 0, 'nothing is read before start()');
  feed.start();
  send(batchOf(2, [[1, 7]], 0));
  send(batchOf(3, [[1, 9]], 1));
  send(batchOf(4, [[1, 12]], 0));
  assert.deepEqual(seen, [
    { seq: 2, applied: 1, frames: 7, adds: 1 },
    { seq: 3, applied: 2, frames: 16, adds: 2 },
    { seq: 4, applied: 3, frames: 21, adds: 3 },
  ]);
  assert.deepEqual(
    calls.map((c) => c.seq),
    [2, 3, 4],
  );
  assert.deepEqual(engines, [0, 1, 0], '--metrics is told of every batch');
  assert.equal(state.recordsDropped, 4 + 3, 'the state took every field of the batch');
});

test('the correlation ticks once per interval, at the clock, until stopTicks', (t) => {
  const { feed, calls, snapshots, setClock } = feedOf(t);
  const got: Array<{ time: string; nowMs: number }> = [];
  feed.intervals$.subscribe(({ snapshot, nowMs }) => got.push({ time: snapshot.time, nowMs }));
  feed.start();
  t.mock.timers.tick(999);
  assert.equal(got.length, 0, 'no tick at start unless asked for');
  setClock(2000);
  t.mock.timers.tick(1);
  setClock(3000);
  t.mock.timers.tick(1000);
  setClock(4000);
  t.mock.timers.tick(1000);
  assert.deepEqual(got, [
    { time: 't0', nowMs: 2000 },
    { time: 't1', nowMs: 3000 },
    { time: 't2', nowMs: 4000 },
  ]);
  assert.deepEqual(
    calls.map((c) => [c.nowNs, c.final]),
    [
      [2000e6, false],
      [3000e6, false],
      [4000e6, false],
    ],
  );
  feed.stopTicks();
  t.mock.timers.tick(5000);
  assert.equal(snapshots.length, 3, 'no tick after stopTicks');
});

test('the dashboard is painted at once: one tick right after start, then one per interval', (t) => {
  const { feed, calls } = feedOf(t, { tickAtStart: true });
  let n = 0;
  feed.intervals$.subscribe(() => n++);
  feed.start();
  assert.equal(n, 0, 'after start, not within it');
  t.mock.timers.tick(0);
  assert.equal(n, 1);
  t.mock.timers.tick(1000);
  assert.equal(n, 2);
  assert.ok(calls.every((c) => c.final === false));
});

test('the final tick is made once, the same snapshot to every caller, and ends the interval ticks', (t) => {
  const { feed, send, calls, setClock } = feedOf(t);
  let completed = false;
  feed.intervals$.subscribe({ complete: () => (completed = true) });
  feed.start();
  t.mock.timers.tick(1000);
  send(batchOf(1, [[2, 3]]));
  setClock(7000);
  const last = feed.final();
  assert.equal(feed.final(), last);
  t.mock.timers.tick(10_000);
  assert.deepEqual(
    calls.map((c) => [c.what, c.final ?? null]),
    [
      ['tick', false],
      ['add', null],
      ['tick', true],
    ],
  );
  assert.equal(calls[2].nowNs, 7000e6);
  assert.ok(completed, 'intervals$ completes');
});

test('-c: reached once, at the first batch whose counters (every interface, every engine) reach it', (t) => {
  const { feed, send, state } = feedOf(t, { count: 10 });
  const reached: number[] = [];
  feed.countReached$.subscribe(() => reached.push(state.batches));
  feed.start();
  send(batchOf(1, [[1, 4]], 0));
  send(batchOf(2, [[2, 5]], 1));
  assert.deepEqual(reached, [], '9 frames of 10');
  send(batchOf(3, [[1, 5]], 0));
  send(batchOf(4, [[1, 20]], 0));
  assert.deepEqual(reached, [3], 'at the third batch (4 + 5 + 1 more), once');
  let late = 0;
  feed.countReached$.subscribe(() => late++);
  assert.equal(late, 1, 'a later subscriber learns it was reached');
});

test('-c: without a count, never reached', (t) => {
  const { feed, send } = feedOf(t);
  let reached = false;
  feed.countReached$.subscribe(() => (reached = true));
  feed.start();
  send(batchOf(1, [[1, 1e9]]));
  assert.equal(reached, false);
});

test('close() stops reading batches', (t) => {
  const a = feedOf(t);
  let n = 0;
  a.feed.batches$.subscribe(() => n++);
  a.feed.start();
  a.send(batchOf(1, [[1, 1]]));
  a.feed.close();
  a.send(batchOf(2, [[1, 2]]));
  assert.equal(n, 1);
  assert.equal(a.state.batches, 1);
});

test('the source completing completes batches$', (t) => {
  const { feed, batches } = feedOf(t);
  let done = false;
  feed.batches$.subscribe({ complete: () => (done = true) });
  feed.start();
  batches.complete();
  assert.ok(done);
});
