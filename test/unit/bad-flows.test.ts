import assert from 'node:assert/strict';
import { test } from 'node:test';

import { BadFlowTracker } from '../../src/correlate/bad-flows.js';
import type { DecodedRecord } from '../../src/model/bad-frame.js';
import { RECENT_BAD_FRAMES } from '../../src/model/correlation.js';

function record(frame: number, direction: DecodedRecord['direction'], sport = 41000): DecodedRecord {
  return {
    frame,
    tsNs: BigInt(1_700_000_000_000_000_000 + frame * 1_000_000),
    iface: 3,
    caplen: 100,
    wirelen: 100,
    outer: { family: 4, src: '192.168.189.4', dst: '192.168.189.5', proto: 17, sport, dport: 8472 },
    tunnel: 'vxlan',
    vni: 1,
    inner: { family: 4, src: '10.244.0.1', dst: '10.244.1.10', proto: 17, sport: 53000, dport: 53 },
    checksums: [{ layer: 'outer', depth: 0, protocol: 'udp', found: 0xffff, expected: 0x1000 + frame, looksLikeOffload: false }],
    direction,
    bytes: null,
  };
}

test('a bad flow keeps its latest RECENT_BAD_FRAMES frames, oldest first, with direction and verdicts; snapshots copy them', () => {
  const t = new BadFlowTracker(16);
  const dir = () => ({ label: 'nsb/vlb', namespace: 'nsb', overlay: false });
  const n = RECENT_BAD_FRAMES + 3;
  t.add(
    Array.from({ length: n }, (_, i) => record(i + 1, i % 2 === 0 ? 'received' : 'sent')),
    dir,
  );
  t.add([record(500, 'received', 42000)], dir); // another flow: its frames stay its own
  const [f, g] = t.top(10);
  assert.equal(f.count, n);
  assert.deepEqual(
    f.recent.map((r) => r.frame),
    Array.from({ length: RECENT_BAD_FRAMES }, (_, i) => n - RECENT_BAD_FRAMES + 1 + i),
  );
  assert.deepEqual(
    f.recent.map((r) => r.direction),
    f.recent.map((r) => ((r.frame - 1) % 2 === 0 ? 'received' : 'sent')),
  );
  assert.ok(f.recent.every((r) => r.checksums[0].expected === 0x1000 + r.frame && /^2023-11-14T22:1\d:\d\d\.\d{9}Z$/.test(r.time)));
  assert.deepEqual(
    g.recent.map((r) => r.frame),
    [500],
  );
  // A snapshot is a copy: later frames do not change what was handed out.
  t.add([record(n + 1, 'received')], dir);
  assert.equal(f.recent.length, RECENT_BAD_FRAMES);
  assert.equal(f.recent[f.recent.length - 1].frame, n);
  assert.equal(t.top(1)[0].recent[RECENT_BAD_FRAMES - 1].frame, n + 1);
});
