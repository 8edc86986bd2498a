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

test('isoOf equals Date.toISOString to the millisecond', () => {
  const rng = new Prng(14);
  for (let i = 0; i < 100_000; i++) {
    // Capture times (2024-2027), then anything up to year 9999.
    const ns = i % 2 ? 1.7e18 + rng.next() * 1e17 : rng.next() * 2.5e20;
    assert.equal(actual(ns), reference(ns), `ns ${ns}`);
  }
  for (const ns of [
    0,
    1,
    999_999,
    1e6,
    // eslint-disable-next-line no-loss-of-precision -- nanoseconds past 2^53, as a capture's are: the rounding is what is tested
    1_709_632_800_123_456_789,
    1_709_632_800_000_000_000,
    1_709_632_800_009_000_000,
    -5e9,
    -1,
    253402300799999e6,
    253402300800000e6,
    NaN,
    Infinity,
  ]) {
    assert.equal(actual(ns), reference(ns), `ns ${ns}`);
  }
});
