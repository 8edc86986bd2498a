/**
 * Attaching many interfaces at once (LiveCapture::add_interfaces, LiveSource.attachAll):
 * the rings are opened on several threads because each waits for an RCU grace period
 * (net/packet/af_packet.c packet_set_ring -> synchronize_net), about 35 ms, which made
 * 400 interfaces take 14 s to attach one after another. bench/attach.ts measures the
 * time; this proves the behaviour: every interface attached, one result per request in
 * order, a failing entry not failing the others, and with two capture threads every
 * frame counted once (the fanout groups joined per interface).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { createLiveCapture, type InterfaceResult } from '../../src/native/live.js';
import { Csumtop, createNamespace, describeRun, labProblem, nsSh, sh, uniqueNs } from './lab.js';

const PAIRS = 100; // 200 interfaces
const problem = labProblem(['python3']);
let ns = '';
let remove = (): void => undefined;

before(() => {
  if (problem) return;
  ns = uniqueNs('M');
  remove = createNamespace(ns);
  // No IPv6 (router solicitations, MLD, DAD) on the new links: the frame counts are exact.
  sh('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  const cmds: string[] = [];
  for (let k = 0; k < PAIRS; k++) cmds.push(`link add am${k}a type veth peer name am${k}b`, `link set am${k}a up`, `link set am${k}b up`);
  sh('ip', ['-n', ns, '-batch', '-'], cmds.join('\n') + '\n');
});
after(() => remove());

function indexes(): Map<string, number> {
  const links = JSON.parse(sh('ip', ['-n', ns, '-j', 'link', 'show'])) as Array<{ ifname: string; ifindex: number }>;
  return new Map(links.map((l) => [l.ifname, l.ifindex]));
}

function packetSockets(): number {
  return sh('ip', ['netns', 'exec', ns, 'cat', '/proc/net/packet']).trim().split('\n').length - 1;
}

test('addInterfaces: one result per request, in order; a missing device fails alone; every other ring is open', async () => {
  if (problem) assert.fail(problem);
  const idx = indexes();
  const names = [...idx.keys()].filter((n) => n.startsWith('am')).slice(0, 40);
  // stop() joins the capture thread and returns its final batch (src/native/live.ts).
  const cap = createLiveCapture({ batchMs: 50, blockSize: 1 << 16, blockCount: 2, events: false }, () => undefined);
  cap.start();
  const requests = names.map((n, k) => ({ id: k, ifindex: idx.get(n)!, arphrd: 1, netns: `/run/netns/${ns}` }));
  // A device index that does not exist, in the middle of the batch.
  requests.splice(20, 0, { id: 999, ifindex: 999_999, arphrd: 1, netns: `/run/netns/${ns}` });
  const results: InterfaceResult[] = cap.addInterfaces(requests);
  try {
    assert.equal(results.length, requests.length);
    results.forEach((r, k) => {
      if (k === 20) {
        assert.ok('error' in r, `the missing device must fail: ${JSON.stringify(r)}`);
        assert.match(r.error, /No such device|ENODEV/);
        assert.equal(r.code, 'ENODEV');
      } else {
        assert.deepEqual(r, { group: -1 }, `entry ${k} (${requests[k].id})`);
      }
    });
    assert.equal(packetSockets(), names.length, 'one ring per device that exists');
  } finally {
    cap.stop();
  }
  assert.equal(packetSockets(), 0);
});

test('addInterfaces: a batch mixing this namespace and another opens each ring in its own', async () => {
  if (problem) assert.fail(problem);
  const inNs = (): number => nsSh(ns, ['cat', '/proc/net/packet']).trim().split('\n').length - 1;
  const here = (): number => sh('cat', ['/proc/net/packet']).trim().split('\n').length - 1;
  const ns0 = inNs();
  const here0 = here();
  // Alternating entries, so a worker thread's stride crosses namespaces. ifindex 1 is lo
  // in both: only the kernel's per-namespace lists tell where a ring was opened.
  const list = Array.from({ length: 48 }, (_, k) => ({ id: k, ifindex: 1, arphrd: 772, netns: k % 2 === 0 ? `/run/netns/${ns}` : undefined }));
  // stop() joins the capture thread and returns its final batch (src/native/live.ts).
  const cap = createLiveCapture({ batchMs: 50, blockSize: 1 << 16, blockCount: 2, events: false }, () => undefined);
  try {
    cap.start();
    const res = cap.addInterfaces(list);
    assert.deepEqual(
      res.filter((r) => 'error' in r),
      [],
      'every ring opened',
    );
    assert.equal(inNs() - ns0, 24, 'rings opened in the other namespace');
    assert.equal(here() - here0, 24, "rings opened in csumtop's own namespace");
  } finally {
    cap.stop();
  }
});

for (const threads of [1, 2]) {
  test(
    `csumtop attaches all ${PAIRS * 2} interfaces of a namespace at start (--threads ${threads}); frames on them are counted once`,
    { timeout: 60_000 },
    async () => {
      if (problem) assert.fail(problem);
      const all = [...indexes().keys()].filter((n) => n.startsWith('am'));
      assert.equal(all.length, PAIRS * 2);
      const ct = new Csumtop(['--netns', ns, '-i', 'am*', '--json', '--duration', '60', '--threads', String(threads), '--ring-mb', '2']);
      try {
        const missing = await ct.waitAttached(all, 30_000);
        assert.deepEqual(missing, [], `not attached: ${missing.slice(0, 10).join(', ')}: ${describeRun(ct)}`);
        assert.equal(packetSockets(), PAIRS * 2 * threads, 'one ring per interface and capture thread');
        // 20 frames into am7b arrive on am7a: both count each exactly once (fanout over threads).
        const frame = Buffer.alloc(60, 0);
        frame.fill(0xff, 0, 6);
        frame.writeUInt16BE(0x88b5, 12); // IEEE local experimental ethertype: not IP, counted as a frame
        sh('ip', [
          'netns',
          'exec',
          ns,
          'python3',
          '-c',
          `import socket,sys\ns=socket.socket(socket.AF_PACKET,socket.SOCK_RAW)\ns.bind(('am7b',0))\nf=bytes.fromhex(sys.argv[1])\nfor _ in range(20): s.send(f)`,
          frame.toString('hex'),
        ]);
        const counted = await ct.waitFor((l) => l.type === 'stats' && l.interface === 'am7a' && (l.frames as number) >= 20, 5000);
        assert.ok(counted, `am7a did not count 20 frames: ${describeRun(ct)}`);
        const r = await ct.stop();
        const doc = r.report!;
        const am7a = doc.interfaces.find((i) => i.name === `${ns}/am7a`);
        const am7b = doc.interfaces.find((i) => i.name === `${ns}/am7b`);
        assert.ok(am7a && am7b, describeRun(r));
        assert.equal(am7a.frames, 20, 'each frame once on the receiving side');
        assert.equal(am7b.frames, 20, 'and once on the sending side');
      } finally {
        await ct.stop();
      }
    },
  );
}
