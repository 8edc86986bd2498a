/**
 * The addon's layout objects (offsets the per-packet accessors read) must be in V8's fast
 * mode: the addon builds them one named property at a time, which leaves an object of more
 * than a dozen properties a dictionary, and every event accessor's `this.L.flagsAt` was then
 * a hash lookup through the generic load builtin (src/native/addon.ts fastLayout, issue 14).
 * The same values as the addon's own objects.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';

import { fastLayout, loadAddon } from '../../src/native/addon.js';
import { nativeLayout } from '../../src/native/analyzer.js';
import { carrierFlowLayout } from '../../src/native/carrier-flows.js';
import { txnLayout } from '../../src/native/txns.js';

setFlagsFromString('--allow-natives-syntax');
const hasFastProperties = new Function('o', 'return %HasFastProperties(o)') as (o: object) => boolean;

/** Every plain object under `o`, with its path. */
function objects(o: unknown, at = 'layout'): [string, object][] {
  if (o === null || typeof o !== 'object' || Array.isArray(o) || ArrayBuffer.isView(o)) return [];
  return [[at, o], ...Object.entries(o).flatMap(([k, v]) => objects(v, `${at}.${k}`))];
}

test('native layouts: every object the accessors read has fast properties, and the values of the addon', () => {
  const addon = loadAddon() as unknown as {
    layout(): unknown;
    txnLayout(): unknown;
    CarrierFlows: { layout(): unknown };
  };
  // The check itself: the addon's own event layout is a dictionary (else this test proves nothing).
  const raw = addon.layout() as { event: object };
  assert.equal(hasFastProperties(raw.event), false, 'the addon no longer builds a dictionary: drop fastLayout?');
  for (const [made, raw] of [
    [nativeLayout(), addon.layout()],
    [carrierFlowLayout(), addon.CarrierFlows.layout()],
    [txnLayout(), addon.txnLayout()],
  ] as const) {
    assert.deepEqual(made, raw);
    for (const [path, o] of objects(made)) assert.ok(hasFastProperties(o), `${path} is in dictionary mode`);
  }
  // Arrays and typed arrays are kept as they are.
  const t = new Uint8Array(2);
  const copy = fastLayout({ a: [1, 2], t });
  assert.deepEqual(copy.a, [1, 2]);
  assert.equal(copy.t, t);
});
