/**
 * isoOf caches the date and time by second (issue 14): it must give exactly what
 * `new Date(ms).toISOString()` gives, for any capture time and at the edges.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { isoOf } from '../../src/correlate/context.js';
import { Prng } from '../fixtures/lib/prng.js';

const reference = (ns: number): string => {
  try {
    return new Date(Math.floor(ns / 1e6)).toISOString();
  } catch (err) {
    return `throws ${(err as Error).name}`;
  }
};
const actual = (ns: number): string => {
  try {
    return isoOf(ns);
  } catch (err) {
    return `throws ${(err as Error).name}`;
  }
};

/** The exact ISO time of an integer number of nanoseconds. */
const exact = (ns: bigint): string => {
  const ms = ns / 1_000_000n;
  return new Date(Number(ms)).toISOString();
};

test('isoOf: a capture time (nanoseconds past 2^53, as a number) shows its own millisecond, also on a millisecond boundary', () => {
  const rng = new Prng(15);
  for (let i = 0; i < 100_000; i++) {
    // Microsecond pcap times 2024-2027, one in ten exactly on a millisecond.
    const us = 1_700_000_000_000_000n + BigInt(Math.floor(rng.next() * 1e14));
    const v = (i % 10 === 0 ? (us / 1000n) * 1000n : us) * 1000n;
    assert.equal(isoOf(Number(v)), exact(v), `ns ${v}`);
  }
  // 2024-03-05T10:00:00.010000 of a microsecond pcap: the double is 128 ns below it.
  assert.equal(isoOf(Number(1_709_632_800_010_000_000n)), '2024-03-05T10:00:00.010Z');
});

test('isoOf equals Date.toISOString to the millisecond where a number holds nanoseconds exactly', () => {
  const rng = new Prng(14);
  for (let i = 0; i < 100_000; i++) {
    // Below 2^53 every integer is exact; beyond, up to year 9999, the double's own value
    // more than half a unit in the last place away from a millisecond.
    const ns = i % 2 ? Math.floor(rng.next() * 2 ** 53) : rng.next() * 2.5e20;
    if (ns < 2 ** 53) {
      assert.equal(actual(ns), reference(ns), `ns ${ns}`);
      continue;
    }
    const v = BigInt(Math.floor(ns));
    const half = 1n << BigInt(Math.floor(Math.log2(ns)) - 53);
    if (1_000_000n - (v % 1_000_000n) <= half) continue; // within half a unit below a millisecond: the next one
    assert.equal(actual(ns), exact(v), `ns ${ns}`);
  }
  for (const ns of [0, 1, 999_999, 1e6, -5e9, -1, NaN, Infinity]) assert.equal(actual(ns), reference(ns), `ns ${ns}`);
  // Past 2^53: what the capture's integer says, to the millisecond.
  for (const [v, iso] of [
    [1_709_632_800_123_456_789n, '2024-03-05T10:00:00.123Z'],
    [1_709_632_800_000_000_000n, '2024-03-05T10:00:00.000Z'],
    [1_709_632_800_009_000_000n, '2024-03-05T10:00:00.009Z'],
    [253_402_300_799_999_000_000n, '9999-12-31T23:59:59.999Z'],
    [253_402_300_800_000_000_000n, '+010000-01-01T00:00:00.000Z'],
  ] as const)
    assert.equal(actual(Number(v)), iso, `ns ${v}`);
});
