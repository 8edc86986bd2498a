/**
 * The tables that replace one JavaScript object per flow (issue 14): the SlotTable index
 * against LruMap (the policy it must keep: same entries, same order, same evictions; it is
 * the policy of the test oracle of the native carrier-flow table,
 * test/unit/carrier-flows.test.ts), and the native carrier-flow table's memory bound
 * (<= 256 bytes per flow, allocated once, as a formula of --max-flows).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { CarrierFlowTable, carrierFlowBytesPerEntry } from '../../src/correlate/carrier-flows.js';
import { LruMap } from '../../src/correlate/lru.js';
import { Places } from '../../src/correlate/places.js';
import { SlotTable } from '../lib/slot-table.js';
import { nativeLayout } from '../../src/native/analyzer.js';
import { Prng } from '../fixtures/lib/prng.js';

const L = nativeLayout();

/** Drives a SlotTable and an LruMap with the same operations; the LruMap holds each key's slot. */
function compare(cap: number, keys: () => number, ops: number, seed: number): void {
  const rng = new Prng(seed);
  const t = new SlotTable(cap);
  const m = new LruMap<number, number>(cap);
  const slotOf = new Map<number, number>();
  for (let n = 0; n < ops; n++) {
    const key = keys();
    const s = t.get(key);
    const want = m.get(key);
    if (want === undefined) {
      assert.equal(s, -1, `op ${n}: key ${key} absent from both`);
      const fresh = t.add(key);
      assert.ok(fresh >= 0 && fresh < cap, `slot ${fresh} within 0..${cap - 1}`);
      m.set(key, fresh);
      slotOf.set(key, fresh);
    } else {
      assert.equal(s, want, `op ${n}: key ${key} in the same slot`);
    }
    if (rng.next() < 0.01) {
      assert.equal(t.size, m.size);
      assert.equal(t.evicted, m.evicted);
      const order: number[] = [];
      t.forEach((slot) => order.push(slot));
      assert.deepEqual(order, [...m.values()], `op ${n}: recency order`);
    }
  }
  assert.equal(t.size, m.size);
  assert.equal(t.evicted, m.evicted);
}

test('SlotTable keeps exactly the entries, order and evictions of LruMap', () => {
  const rng = new Prng(7);
  // Few keys, often repeated: hits, touches, evictions of recently touched neighbours.
  compare(8, () => rng.int(0, 20), 20_000, 1);
  // 53-bit keys (the native flow and match keys), many colliding in the low bits.
  const wide = Array.from({ length: 3000 }, (_, i) => (i % 7) * 2 ** 40 + (i % 13) * 2 ** 32 + (i >>> 3) * 4096);
  compare(1000, () => wide[rng.int(0, wide.length - 1)], 60_000, 2);
  // A new key every time (every frame a new flow): the full table evicts on every add.
  let next = 1;
  compare(500, () => (next++ * 2654435761) % 2 ** 53, 20_000, 3);
  // cap 1
  compare(1, () => rng.int(0, 3), 1000, 4);
});

test('SlotTable rejects a cap it cannot hold', () => {
  assert.throws(() => new SlotTable(0), RangeError);
  assert.throws(() => new SlotTable(2.5), RangeError);
});

test('carrier-flow table: <= 256 bytes per flow, allocated once, a formula of --max-flows', () => {
  const perEntry = carrierFlowBytesPerEntry();
  assert.ok(perEntry <= 256, `${perEntry} bytes per carrier flow`);
  for (const cap of [1, 1000, 65536, 100_000]) {
    const t = new CarrierFlowTable(cap, new Places(), L.record);
    // The index rounds its buckets up to a power of two: never more than the formula.
    assert.ok(t.tableBytes <= perEntry * cap, `cap ${cap}: ${t.tableBytes} > ${perEntry} x ${cap}`);
    // 8-byte buckets, 2-4 per flow: at most 16 bytes a flow under the bound.
    assert.ok(t.tableBytes >= (perEntry - 16) * cap, `cap ${cap}: ${t.tableBytes} bytes: the formula is not far above what is allocated`);
  }
});
