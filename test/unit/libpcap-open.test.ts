/**
 * A failed open of the libpcap backend leaves nothing that aborts later.
 *
 * Upstream cap 0.2.1 kept the pcap_t of a failed `pcap_activate` (or filter) in the
 * object, so its destructor, run whenever V8 collected the object, stopped a libuv poll
 * handle that was never initialised: the process aborted (exit 134) at a random later
 * moment. csumtop met it as a flaky exit status after "no CAP_NET_RAW" and after a device
 * gone between listing and opening (`--backend libpcap`); it is the vendored cap's patch 4
 * (native/vendor/cap/README.md). The child forces the collection that used to abort.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

import { loadCap } from '../../src/capture/libpcap-source.js';

const CHILD = `
const { loadCap } = require(${JSON.stringify(require.resolve('../../src/capture/libpcap-source.js'))});
const cap = loadCap();
const errors = [];
// A device that does not exist fails in pcap_activate; a filter that does not compile
// fails after it (lo always exists, but opening it needs CAP_NET_RAW: either failure will do).
const opens = [['csumtop-none0', ''], ['lo', 'this is not a filter']];
for (let i = 0; i < 40; i++) {
  const [dev, filter] = opens[i % 2];
  const h = new cap.Cap();
  try { h.open(dev, filter, 1 << 20, Buffer.alloc(65536)); errors.push('opened ' + dev); h.close(); }
  catch (e) { errors.push(e.message); }
}
global.gc();
setTimeout(() => { global.gc(); process.stdout.write(JSON.stringify(errors)); }, 50);
`;

test('libpcap backend: failed opens throw their reason and a later collection does not abort the process', () => {
  // The backend must be built where the tests run (CI installs libpcap-dev): fail, not skip.
  assert.doesNotThrow(() => loadCap(), 'the vendored cap is not built');
  const r = spawnSync(process.execPath, ['--expose-gc', '-e', CHILD], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.signal, null, `the child was killed by ${r.signal}: ${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  const errors = JSON.parse(r.stdout) as string[];
  assert.equal(errors.length, 40);
  assert.match(errors[0], /No such device/, 'the missing device is named as such');
  assert.ok(!errors.some((e) => e.startsWith('opened csumtop-none0')), 'a device that does not exist opened');
});
