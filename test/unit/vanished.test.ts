/**
 * Vanished interfaces, bounded (src/capture/vanished.ts, src/capture/live-state.ts): with
 * a small cap, the oldest detached interfaces are folded into one row once every engine
 * has released them; the sum of all rows (the report's totals) is the same before and
 * after every fold; a folded id holds nothing; an interface that appears after a fold
 * starts from its own counts. Also carryClosed (src/capture/live-source.ts): a batch
 * dropped unprocessed hands its closed interfaces' last counters to the next one.
 * The lab test test/lab/vanished.test.ts does the same with real interfaces.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { carryClosed } from '../../src/capture/batch-backlog.js';
import { LiveState } from '../../src/capture/live-state.js';
import type { SourceBatch } from '../../src/capture/source.js';
import { foldedName, MAX_VANISHED, VanishedFolder } from '../../src/capture/vanished.js';
import { parseOptions, UsageError } from '../../src/cli/args.js';
import { Correlator, RATES_AFTER_DETACH_NS, type PipelineInterface } from '../../src/correlate/pipeline.js';
import { nativeLayout } from '../../src/native/analyzer.js';
import type { NativeLiveBatch } from '../../src/native/live.js';
import { underlay } from '../lib/pipeline.js';
import { sourceBatch } from '../lib/source-batch.js';

const L = nativeLayout();
const S = L.counterStride;

/** Counters of interface `id` after `n` frames: every slot a distinct function of both. */
function countersOf(id: number, n: number): Float64Array {
  const c = new Float64Array(S);
  for (let j = 0; j < S; j++) c[j] = n * (j + 1) + id;
  c[L.slots.frames] = n;
  return c;
}

function batchOf(engine: number, seq: number, rows: Array<[number, number]>, folded?: { ids: number[]; into: number }): SourceBatch {
  return sourceBatch(
    engine,
    seq,
    rows.map(([id, n]) => ({ id, counters: countersOf(id, n), ring: [n, id % 3, 0] })),
    folded ? { folded: { ...folded, interfaces: [] } } : {},
  );
}

function totals(state: LiveState): Float64Array {
  const t = new Float64Array(S);
  for (const id of state.ids()) {
    const c = state.countersOf(id);
    for (let j = 0; j < S; j++) t[j] += c[j];
  }
  return t;
}

test('the cap: MAX_VANISHED by default, --max-vanished N (0-100000), anything else a usage error', () => {
  assert.equal(MAX_VANISHED, 256);
  assert.equal(parseOptions([]).maxVanished, MAX_VANISHED);
  assert.equal(parseOptions(['--max-vanished', '3']).maxVanished, 3);
  assert.equal(parseOptions(['--max-vanished', '0']).maxVanished, 0);
  for (const bad of ['many', '-1', '100001', '2.5']) assert.throws(() => parseOptions(['--max-vanished', bad]), UsageError, bad);
  assert.equal(foldedName(1), '(1 older vanished interface)');
  assert.equal(foldedName(7), '(7 older vanished interfaces)');
});

test('VanishedFolder: folds the oldest beyond the cap, in order, only once every engine released them', () => {
  const f = new VanishedFolder(2, 2);
  for (const id of [10, 11, 12, 13]) f.detached(id);
  assert.deepEqual(f.take(), [], 'nothing released yet: the counters may still be on their way');
  f.released(10);
  assert.deepEqual(f.take(), [], 'one engine of two released 10');
  f.released(11);
  f.released(11);
  assert.deepEqual(f.take(), [], '11 is released but 10, older, waits: order is kept');
  f.released(10);
  assert.deepEqual(f.take(), [10, 11]);
  assert.equal(f.kept, 2);
  assert.equal(f.folded, 2);
  // A release may come before JavaScript saw the interface detached (native gone notice).
  f.released(14);
  f.released(14);
  f.detached(14);
  for (const id of [12, 13]) {
    f.released(id);
    f.released(id);
  }
  assert.deepEqual(f.take(), [12]);
  assert.equal(f.kept, 2);
  assert.equal(f.folded, 3);
});

test("VanishedFolder.releasedBy: a batch releases what it says it released; an engine's final batch, every interface it carries", () => {
  const f = new VanishedFolder(0, 2);
  for (const id of [20, 21, 22]) f.detached(id);
  const batch = (ids: number[], released: number[], final: boolean): { ids: Uint32Array; released: Uint32Array; final: boolean } => ({
    ids: Uint32Array.from(ids),
    released: Uint32Array.from(released),
    final,
  });
  const known = (id: number): boolean => id !== 99;
  // Engine 0 released 20; 21 and 22 are still open there (their removal not applied yet).
  f.releasedBy(batch([1, 20, 21, 22], [20], false), known);
  // Engine 1 released all three in an ordinary batch.
  f.releasedBy(batch([1, 20, 21, 22], [20, 21, 22], false), known);
  assert.deepEqual(f.take(), [20], 'an ordinary batch releases only what it released');
  // Engine 0 stops: its final batch still carries 21 and 22 (and 99, folded already: ignored).
  f.releasedBy(batch([1, 21, 22, 99], [], true), known);
  assert.deepEqual(f.take(), [21, 22], "the final batch's counters are their last");
  assert.equal(f.folded, 3);
});

test('LiveState.fold: totals preserved before and after every fold, folded ids hold nothing, a new interface does not inherit', () => {
  const cap = 3;
  const engines = 2;
  const state = new LiveState();
  const folder = new VanishedFolder(cap, engines);
  const into = 1000; // the folded row's id (LiveSource allocates it like any other)
  let seq = 0;
  // Interfaces 0..9, each seen by both engines with its own counts.
  const frames = (id: number, engine: number): number => 5 + id * 2 + engine;
  for (let e = 0; e < engines; e++)
    state.apply(
      batchOf(
        e,
        ++seq,
        Array.from({ length: 10 }, (_, id) => [id, frames(id, e)] as [number, number]),
      ),
    );
  const before = totals(state);
  const frameSum = Array.from({ length: 10 }, (_, id) => frames(id, 0) + frames(id, 1)).reduce((a, b) => a + b, 0);
  assert.equal(before[L.slots.frames], frameSum);

  let folded = 0;
  for (let id = 0; id < 8; id++) {
    folder.detached(id);
    for (let e = 0; e < engines; e++) folder.released(id);
    const ids = folder.take();
    // As LiveSource: the batch that says so applies its counters first, then folds.
    state.apply(batchOf(0, ++seq, [[9, frames(9, 0)]], ids.length > 0 ? { ids, into } : undefined));
    folded += ids.length;
    assert.deepEqual([...totals(state)], [...before], `totals changed after folding ${folded}`);
    for (const f of ids) {
      assert.ok(!state.ids().includes(f), `folded ${f} is still a row`);
      assert.equal(state.countersOf(f)[L.slots.frames], 0);
      assert.equal(state.ringOf(f).packets, 0);
    }
  }
  assert.equal(folded, 8 - cap);
  assert.equal(state.ids().length, 10 - folded + 1, 'the rows: the ones not folded and the folded row');
  assert.equal(state.held(), 10 - folded + 1, 'no engine keeps a folded id');
  const row = state.countersOf(into);
  const want = new Float64Array(S);
  for (let id = 0; id < folded; id++)
    for (let e = 0; e < engines; e++) {
      const c = countersOf(id, frames(id, e));
      for (let j = 0; j < S; j++) want[j] += c[j];
    }
  assert.deepEqual([...row], [...want], 'the folded row is the sum of the folded interfaces');
  assert.equal(
    state.ringOf(into).packets,
    Array.from({ length: folded }, (_, id) => frames(id, 0) + frames(id, 1)).reduce((a, b) => a + b, 0),
  );

  // A new interface after the folds starts from its own counts (ids are never reused,
  // and even the folded row's counters are not its).
  state.apply(batchOf(0, ++seq, [[11, 4]]));
  assert.deepEqual([...state.countersOf(11)], [...countersOf(11, 4)]);
  assert.deepEqual([...state.countersOf(into)], [...want], 'the folded row did not move');
});

test("carryClosed: a batch dropped unprocessed hands its released interfaces' last counters and gone notices to the next", () => {
  const native = (ids: number[], released: number[], gone: number[]): NativeLiveBatch => {
    const b = batchOf(
      0,
      1,
      ids.map((id) => [id, 100 + id] as [number, number]),
    );
    return {
      seq: 1,
      final: false,
      monoNs: 0n,
      ids: b.ids,
      counters: b.counters,
      ring: b.ring,
      gone: gone.map((id) => ({ id, reason: 'gone' })),
      released: Uint32Array.from(released),
      badFlows: 0,
      badFlowsEvicted: 0,
    } as unknown as NativeLiveBatch;
  };
  const old = native([1, 2, 3], [2, 3], [3]);
  const newer = native([1], [], []);
  carryClosed(old, newer);
  assert.deepEqual([...newer.ids], [1, 2, 3]);
  assert.deepEqual([...newer.released], [2, 3]);
  assert.deepEqual(
    newer.gone.map((g) => g.id),
    [3],
  );
  assert.deepEqual([...newer.counters.subarray(S, 2 * S)], [...countersOf(2, 102)]);
  assert.deepEqual([...newer.counters.subarray(2 * S, 3 * S)], [...countersOf(3, 103)]);
  assert.deepEqual([...newer.counters.subarray(0, S)], [...countersOf(1, 101)], 'an open interface keeps the newer counters');
  assert.deepEqual([...newer.ring.subarray(3, 9)], [102, 2, 0, 103, 0, 0]);
});

test('the correlation pipeline: the folded row keeps a dashboard row with zero rates (its counts are no traffic), is not diagnosed, and folded ids are forgotten', () => {
  const T0 = 1_700_000_000e9;
  const eth0: PipelineInterface = { ...underlay(0, 'eth0'), attached: true };
  const gone: PipelineInterface = { ...eth0, id: 1, label: 'ns1/veth1', name: 'veth1', namespace: 'ns1', role: 'veth', attached: false };
  const row: PipelineInterface = { ...eth0, id: 2, label: foldedName(5), name: foldedName(5), namespace: '*', role: 'other', attached: false, folded: 5 };
  // The folded row's counters: 1000 frames with 40 bad IPv4 header checksums (enough for a
  // finding on an interface of its own).
  const c = new Float64Array(S);
  c[L.slots.frames] = 1000;
  c[L.slots.badFrames] = 40;
  c[L.slots.badChecksums] = 40;
  c[L.csumBase + (0 * L.numKinds + 0) * L.numStatus + 1] = 40;
  let list = [eth0, gone, row];
  const p = new Correlator({
    layout: L,
    interfaces: () => list,
    counters: (id) => (id === 2 ? c : new Float64Array(S)),
    kernel: null,
    facts: { kernel: null, hypervisor: null, nat: {} },
    live: true,
    guessesOffload: false,
    maxFlows: 100,
  });
  let snap = p.tick(T0);
  const folded = (): ReturnType<Correlator['tick']>['rates'][number] | undefined => snap.rates.find((r) => r.interface === foldedName(5));
  assert.ok(folded(), 'the folded row has a dashboard row');
  c[L.slots.frames] = 1500; // one more interface folded in: not 500 frames/s
  c[L.slots.badFrames] = 60;
  snap = p.tick(T0 + 1e9);
  assert.deepEqual(
    [folded()!.packets, folded()!.badFrames],
    [
      { s1: 0, s10: 0, s60: 0, total: 0 },
      { s1: 0, s10: 0, s60: 0, total: 0 },
    ],
  );
  assert.deepEqual(
    snap.findings.filter((f) => JSON.stringify(f).includes('older vanished')).map((f) => f.key),
    [],
    'no finding on the folded row',
  );
  snap = p.tick(T0 + RATES_AFTER_DETACH_NS + 2e9);
  assert.ok(folded(), "the folded row stays past the window that ends a vanished interface's row");
  assert.ok(!snap.rates.some((r) => r.interface === 'ns1/veth1'), "a vanished interface's row ends");
  // veth1 is folded: gone from the list, and from the pipeline's own tables.
  const internals = p as unknown as { detachedAt: Map<number, number>; ratesEnded: Set<number> };
  assert.deepEqual([...internals.ratesEnded], [1]);
  list = [eth0, row];
  p.tick(T0 + RATES_AFTER_DETACH_NS + 3e9);
  assert.equal(internals.detachedAt.size + internals.ratesEnded.size, 0, 'nothing by the folded id is left');
});
