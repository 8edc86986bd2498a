import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PLACE_OVERLAY, PLACE_PAIR_WORDS, Places, UNLISTED_PLACE } from '../../src/correlate/places.js';

test('places: one index per distinct (label, namespace), pairs carry id, place and the overlay flag', () => {
  const p = new Places();
  const pairs = p.pairs([
    [7, { label: 'eth0', namespace: 'a', overlay: false }],
    [9, { label: 'flannel.1', namespace: 'a', overlay: true }],
    [12, { label: 'eth0', namespace: 'b', overlay: false }],
  ]);
  assert.equal(pairs.length, 3 * PLACE_PAIR_WORDS);
  assert.deepEqual([...pairs], [7, 0, 0, 9, 1, PLACE_OVERLAY, 12, 2, 0]);
  // The same interface again (next batch) keeps its place; a new id with a known label shares it.
  assert.deepEqual([...p.pairs([[30, { label: 'flannel.1', namespace: 'a', overlay: true }]])], [30, 1, PLACE_OVERLAY]);
  assert.equal(p.size, 3);
  assert.deepEqual(p.at(1), { label: 'flannel.1', namespace: 'a' });
  assert.deepEqual(p.at(2), { label: 'eth0', namespace: 'b' });
  // An id the native side could not place (folded while in flight) reads as #id.
  assert.deepEqual(p.at(UNLISTED_PLACE + 41), { label: '#41', namespace: '' });
});
