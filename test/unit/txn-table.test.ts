/**
 * The typed-array tables of the JavaScript DNS and SYN trackers that are now the test
 * oracles of the native ones (test/oracle/, test/unit/native-txns.test.ts; issue 14):
 * TxnTable against a Map
 * (the structure it replaced: same entries, same insertion order, a full table refusing
 * new keys), SendSlots against Sends (the same copy-or-retry verdict for every
 * sighting). The native tables' bytes per entry: test/unit/native-txns.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { SendSlots, Sends } from '../oracle/sends.js';
import { TxnTable } from '../oracle/txn-table.js';
import { Prng } from '../fixtures/lib/prng.js';

/** Random adds, lookups and deletes on a TxnTable and a capped Map, compared after each. */
function compare(cap: number, keys: () => number, ops: number, seed: number): void {
  const rng = new Prng(seed);
  const t = new TxnTable(cap);
  const m = new Map<number, number>(); // key -> slot
  let refused = 0;
  for (let n = 0; n < ops; n++) {
    const key = keys();
    const s = t.get(key);
    const want = m.get(key);
    if (want === undefined) {
      assert.equal(s, -1, `op ${n}: key ${key} absent from both`);
      const fresh = t.add(key);
      if (m.size >= cap) {
        assert.equal(fresh, -1, `op ${n}: a full table refuses`);
        refused++;
      } else {
        assert.ok(fresh >= 0 && fresh < cap, `slot ${fresh} within 0..${cap - 1}`);
        assert.equal(t.keyOf(fresh), key);
        m.set(key, fresh);
      }
    } else {
      assert.equal(s, want, `op ${n}: key ${key} in the same slot`);
      if (rng.next() < 0.4) {
        t.delete(s);
        m.delete(key);
        assert.equal(t.get(key), -1, `op ${n}: deleted key ${key} is gone`);
      }
    }
    if (rng.next() < 0.02) {
      assert.equal(t.size, m.size);
      const order: number[] = [];
      for (let x = t.first(); x >= 0; x = t.nextOf(x)) order.push(t.keyOf(x));
      assert.deepEqual(order, [...m.keys()], `op ${n}: insertion order as a Map's`);
      for (const [k, slot] of m) assert.equal(t.get(k), slot, `op ${n}: every key still found after backward shifts`);
    }
  }
  assert.equal(t.size, m.size);
  assert.ok(refused > 0 || cap > ops, 'the full-table case was exercised');
}

test('TxnTable keeps exactly the entries and insertion order of a Map, refuses when full, finds every key after deletions', () => {
  const rng = new Prng(11);
  compare(8, () => rng.int(0, 20), 20_000, 1);
  // 53-bit keys colliding in the low bits: long probe runs, backward shifts on delete.
  const wide = Array.from({ length: 3000 }, (_, i) => (i % 7) * 2 ** 40 + (i % 13) * 2 ** 32 + (i >>> 3) * 4096);
  compare(1000, () => wide[rng.int(0, wide.length - 1)], 60_000, 2);
  compare(1, () => rng.int(0, 3), 1000, 3);
  assert.throws(() => new TxnTable(0), RangeError);
});

test('SendSlots gives the verdict of Sends for every sighting (copies, retries, places past the inline four, old sends)', () => {
  const rng = new Prng(5);
  const windowNs = 1e9;
  const slots = new SendSlots(4, windowNs);
  for (let round = 0; round < 2000; round++) {
    const slot = rng.int(0, 3);
    const ref = new Sends(windowNs);
    let ts = rng.int(0, 1e6) * 1e3;
    const match = rng.int(1, 3);
    const place = rng.int(0, 7);
    slots.start(slot, match, place, ts);
    ref.see(match, place, ts);
    for (let k = 0, n = rng.int(1, 12); k < n; k++) {
      // Copies within the window, repeats on one place, other match keys, late resends,
      // and out-of-order times (batches of two capture threads).
      ts += rng.pick([0, 1e6, 3e8, 9e8, 1.2e9, -2e8, 5e9]);
      const m = rng.next() < 0.8 ? match : rng.int(1, 3);
      const p = rng.int(0, 7);
      assert.equal(slots.see(slot, m, p, ts), ref.see(m, p, ts), `round ${round} sighting ${k}`);
    }
    if (rng.next() < 0.5) slots.release(slot);
  }
});
