/**
 * Shape of the addon's addInterfaces() results (native/napi/live_napi.cc): one result
 * per request, in order; a ring that cannot be opened is an entry with `error` and
 * `code` (EPERM exactly when the message names CAP_NET_RAW, ENODEV for a device that is
 * not there, else ECAPTURE: from the errno, never the text), never a
 * throw; a malformed request is a TypeError. Needs no namespace: the interfaces asked
 * for do not exist (as root the bind fails with ENODEV, without root the socket with
 * EPERM), so nothing is captured. 40 requests: more than 4, so the worker-thread path
 * (native/capture/striped.h) is the one exercised.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { createLiveCapture } from '../../src/native/live.js';

test('addInterfaces: one {error, code} per request that cannot be opened, in order, without throwing', () => {
  const cap = createLiveCapture({ batchMs: 50, blockSize: 1 << 16, blockCount: 2, events: false }, () => undefined);
  try {
    cap.start();
    assert.deepEqual(cap.addInterfaces([]), []);
    const list = Array.from({ length: 40 }, (_, k) => ({ id: k, ifindex: 0x7ffffff0 - k, arphrd: 1, fanout: k % 2 === 0 ? ('new' as const) : undefined }));
    const res = cap.addInterfaces(list);
    assert.equal(res.length, list.length);
    for (const r of res) {
      assert.ok('error' in r, JSON.stringify(r));
      assert.ok(r.error.length > 0);
      const perm = r.error.includes('CAP_NET_RAW');
      assert.equal(r.code, perm ? 'EPERM' : 'ENODEV', r.error);
      if (!perm) assert.match(r.error, /No such device/);
    }
    // A namespace that is not there: ENOENT, neither of the two.
    const [gone] = cap.addInterfaces([{ id: 99, ifindex: 1, arphrd: 1, netns: '/nonexistent/csumtop-netns' }]);
    assert.ok('error' in gone && gone.code === 'ECAPTURE' && /cannot open network namespace/.test(gone.error), JSON.stringify(gone));
    assert.throws(() => cap.addInterfaces([{ id: 1 } as never]), TypeError);
    assert.throws(() => (cap.addInterfaces as (x: unknown) => unknown)('eth0'), TypeError);
  } finally {
    cap.stop();
  }
  assert.throws(() => cap.addInterfaces([]), /capture stopped/);
});
