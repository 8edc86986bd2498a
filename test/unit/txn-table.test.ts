/**
 * The typed-array tables of the DNS and SYN trackers (issue 14): TxnTable against a Map
 * (the structure it replaced: same entries, same insertion order, a full table refusing
 * new keys), SendSlots against Sends (the same copy-or-retry verdict for every
 * sighting), and the bytes per transaction as a formula of the cap.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { carrierFlowBytesPerEntry } from '../../src/correlate/carrier-flows.js';
import { DNS_BYTES_PER_ENTRY, DnsTracker } from '../../src/correlate/dns.js';
import { TABLE_BYTES_PER_FLOW } from '../../src/correlate/limits.js';
import { SendSlots, Sends } from '../../src/correlate/sends.js';
import { SYN_BYTES_PER_ENTRY } from '../../src/correlate/syn.js';
import { TxnTable } from '../../src/correlate/txn-table.js';
import { nativeLayout } from '../../src/native/analyzer.js';
import { Prng } from '../fixtures/lib/prng.js';

const L = nativeLayout();

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

test("DNS tables: <= 256 bytes per transaction, allocated once, a formula of the cap; with the SYN table within the memory bound's per-flow term", () => {
  const F = L.event.flagBits;
  const perEntry = DNS_BYTES_PER_ENTRY + L.record.epSize;
  assert.ok(perEntry <= 256, `DNS: ${perEntry} bytes per transaction`);
  // The memory bound's per-flow term covers the tables --max-flows sizes (the SYN
  // attempts' native bytes per entry include their endpoint: test/unit/native-txns.test.ts).
  const tables = carrierFlowBytesPerEntry(L.record.epSize) + DNS_BYTES_PER_ENTRY + L.record.epSize + SYN_BYTES_PER_ENTRY;
  assert.ok(TABLE_BYTES_PER_FLOW >= tables, `TABLE_BYTES_PER_FLOW ${TABLE_BYTES_PER_FLOW} < ${tables}`);
  for (const cap of [1, 1000, 65536]) {
    const dns = new DnsTracker(F, { timeoutNs: 5e9, maxTransactions: cap, maxListed: 100 });
    // The endpoints come with the first batch: counted by the formula, not yet allocated.
    assert.ok(dns.bytes <= DNS_BYTES_PER_ENTRY * cap, `DNS cap ${cap}: ${dns.bytes} > ${DNS_BYTES_PER_ENTRY} x ${cap}`);
    assert.ok(dns.bytes >= (DNS_BYTES_PER_ENTRY - 16) * cap, `DNS cap ${cap}: ${dns.bytes}: the formula is not far above what is allocated`);
  }
});
