/**
 * tcpdump's habits on live capture (issue 16 item 6), on the loopback of a namespace the
 * test creates: a filter given as trailing words reaches the socket filter, and -c COUNT
 * stops the capture at exactly COUNT frames, also with several capture threads.
 *
 * The namespace's loopback carries UDP to two ports with different sizes (62-byte frames
 * to port 9999, 242-byte frames to port 53), so bytes / frames shows what was counted.
 * Runs as root (CI does); fails, never skips, when it cannot run here.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';

import { Csumtop, createNamespace, describeRun, labProblem, reportOf, track, uniqueNs } from './lab.js';

/** Ethernet (zeroed on lo) 14 + IPv4 20 + UDP 8 + payload. */
const SMALL = 14 + 20 + 8 + 20;
const LARGE = 14 + 20 + 8 + 200;

let ns: string;
let removeNs: () => void;
let stopTraffic: () => void;

before(() => {
  const p = labProblem();
  if (p) assert.fail(p);
  ns = uniqueNs('hab');
  removeNs = createNamespace(ns);
  // One small datagram to 9999 and one large one to 53, every millisecond, until killed.
  const sender = track(
    spawn('ip', ['netns', 'exec', ns, 'python3', '-c', [
      'import socket, time',
      's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
      'while True:',
      '    s.sendto(b"x" * 20, ("127.0.0.1", 9999)); s.sendto(b"y" * 200, ("127.0.0.1", 53)); time.sleep(0.001)',
    ].join('\n')], { stdio: 'ignore' }),
  );
  stopTraffic = () => sender.kill('SIGKILL');
});

after(() => {
  stopTraffic?.();
  removeNs?.();
});

async function run(args: string[]): Promise<ReturnType<typeof reportOf>> {
  const ct = new Csumtop(['--netns', ns, '-i', 'lo', '--json', ...args]);
  // -c ends the capture on its own; a bound in case it does not.
  const killer = setTimeout(() => ct.child.kill('SIGKILL'), 20_000);
  const r = await ct.done;
  clearTimeout(killer);
  assert.equal(r.signal, null, `csumtop did not stop at -c: ${describeRun(r)}`);
  assert.equal(r.code, 0, describeRun(r));
  return reportOf(r);
}

test('-c 40 with trailing filter words: exactly 40 frames, all of them the filter\'s, and the report says it stopped there', { timeout: 30_000 }, async () => {
  const doc = await run(['-c', '40', 'udp', 'dst', 'port', '9999']);
  assert.equal(doc.source.frames, 40);
  assert.deepEqual(doc.source.count, { limit: 40, reached: true });
  assert.deepEqual(doc.source.filter, { expression: 'udp dst port 9999' });
  assert.equal(doc.interfaces.length, 1);
  assert.equal(doc.interfaces[0].frames, 40);
  // Only the small datagrams: the socket filter left out every port-53 one.
  assert.equal(doc.source.bytes, 40 * SMALL);
});

test('-c 40 without a filter counts both kinds of datagram (the filter above did the selecting)', { timeout: 30_000 }, async () => {
  const doc = await run(['-c', '40']);
  assert.equal(doc.source.frames, 40);
  assert.ok(doc.source.bytes > 40 * SMALL && doc.source.bytes <= 40 * LARGE, `bytes ${doc.source.bytes}`);
  const large = await run(['-f', 'udp dst port 53', '-c', '10']);
  assert.equal(large.source.bytes, 10 * LARGE);
});

test('-c 500 with --threads 2: the two capture threads share the count, exactly 500 frames', { timeout: 30_000 }, async () => {
  const doc = await run(['-c', '500', '--threads', '2']);
  assert.equal(doc.source.frames, 500);
  assert.equal(doc.totals.frames, 500);
  assert.deepEqual(doc.source.count, { limit: 500, reached: true });
});
