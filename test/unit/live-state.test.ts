/**
 * LiveState (src/capture/live-state.ts) sums each interface's latest cumulative counters
 * and ring statistics over the engines. A batch repeats every attached interface, so an
 * unchanged row is skipped: the totals must still follow every change, of any counter
 * slot or of the ring statistics alone, on either engine.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { LiveState } from '../../src/capture/live-state.js';
import { nativeLayout } from '../../src/native/analyzer.js';
import { sourceBatch } from '../lib/source-batch.js';

const L = nativeLayout();
const S = L.counterStride;

function counters(fill: (j: number) => number): Float64Array {
  return Float64Array.from({ length: S }, (_, j) => fill(j));
}

test('LiveState: totals over engines follow every change (any slot, the ring alone), and a repeated batch changes nothing', () => {
  const st = new LiveState();
  const a0 = counters((j) => j);
  const b0 = counters((j) => 2 * j);
  st.apply(sourceBatch(0, 1, [{ id: 1, counters: a0, ring: [10, 0, 0] }]));
  st.apply(sourceBatch(1, 1, [{ id: 1, counters: b0, ring: [5, 1, 0] }]));
  assert.deepEqual([...st.countersOf(1)], [...counters((j) => 3 * j)]);
  assert.deepEqual(st.ringOf(1), { packets: 15, drops: 1, freezes: 0 });

  // The same batch again: the same totals (and the returned arrays are not changed in place).
  const before = st.countersOf(1);
  const snap = st.snapshot();
  st.apply(sourceBatch(0, 2, [{ id: 1, counters: a0.slice(), ring: [10, 0, 0] }]));
  assert.deepEqual([...st.countersOf(1)], [...counters((j) => 3 * j)]);
  assert.deepEqual([...before], [...counters((j) => 3 * j)]);

  // Each slot in turn, then the ring alone, then the last slot: each shows in the totals.
  const a = counters((x) => x);
  for (const j of [0, Math.floor(S / 2), S - 1]) {
    const c = st.countersOf(1).slice();
    a[j] += 100;
    st.apply(sourceBatch(0, 3 + j, [{ id: 1, counters: a, ring: [10, 0, 0] }]));
    c[j] += 100;
    assert.deepEqual([...st.countersOf(1)], [...c], `slot ${j}`);
  }
  const total = st.countersOf(1).slice();
  st.apply(sourceBatch(0, 9999, [{ id: 1, counters: a.slice(), ring: [12, 3, 1] }]));
  assert.deepEqual(st.ringOf(1), { packets: 17, drops: 4, freezes: 1 }, 'ring statistics alone changed');
  assert.deepEqual([...st.countersOf(1)], [...total]);
  assert.deepEqual([...snap.get(1)!], [...counters((j) => 3 * j)], 'a snapshot is a copy');
  assert.equal(st.totalDrops(), 4);
});
