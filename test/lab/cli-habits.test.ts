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
import { spawn, spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';

import { BIN, Csumtop, createNamespace, describeRun, labProblem, reportOf, sh, track, uniqueNs } from './lab.js';

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
    spawn(
      'ip',
      [
        'netns',
        'exec',
        ns,
        'python3',
        '-c',
        [
          'import socket, time',
          's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
          'while True:',
          '    s.sendto(b"x" * 20, ("127.0.0.1", 9999)); s.sendto(b"y" * 200, ("127.0.0.1", 53)); time.sleep(0.001)',
        ].join('\n'),
      ],
      { stdio: 'ignore' },
    ),
  );
  stopTraffic = () => sender.kill('SIGKILL');
});

after(() => {
  stopTraffic?.();
  removeNs?.();
});

async function run(args: string[], libpcap = false): Promise<ReturnType<typeof reportOf>> {
  // libpcap opens interfaces in csumtop's own namespace: run it inside the namespace.
  const ct = libpcap
    ? new Csumtop(['--backend', 'libpcap', '--promisc', '-i', 'lo', '--json', ...args], { wrap: ['ip', 'netns', 'exec', ns] })
    : new Csumtop(['--netns', ns, '-i', 'lo', '--json', ...args]);
  // -c ends the capture on its own; a bound in case it does not.
  const killer = setTimeout(() => ct.child.kill('SIGKILL'), 20_000);
  const r = await ct.done;
  clearTimeout(killer);
  assert.equal(r.signal, null, `csumtop did not stop at -c: ${describeRun(r)}`);
  assert.equal(r.code, 0, describeRun(r));
  return reportOf(r);
}

test("-c 40 with trailing filter words: exactly 40 frames, all of them the filter's, and the report says it stopped there", { timeout: 30_000 }, async () => {
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

test("-c 30 with --backend libpcap: exactly 30 frames, the filter's only", { timeout: 30_000 }, async () => {
  const doc = await run(['-c', '30', 'udp', 'dst', 'port', '9999'], true);
  assert.equal(doc.source.path, 'libpcap');
  assert.equal(doc.source.frames, 30);
  assert.equal(doc.source.bytes, 30 * SMALL);
  assert.deepEqual(doc.source.count, { limit: 30, reached: true });
});

test("-D --netns NS lists the namespace's links as tcpdump -D does, with kind and state; -i narrows it", { timeout: 30_000 }, () => {
  const other = uniqueNs('habD');
  const remove = createNamespace(other);
  try {
    sh('ip', ['-n', other, 'link', 'add', 'habA', 'type', 'veth', 'peer', 'name', 'habB']);
    sh('ip', ['-n', other, 'link', 'set', 'habA', 'up']); // its peer stays down: no carrier
    const r = spawnSync(BIN, ['-D', '--netns', other], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    // Every link of the namespace, numbered from 1, and nothing of the host's (no --host).
    const names = (JSON.parse(sh('ip', ['-n', other, '-j', 'link'])) as Array<{ ifname: string }>).map((l) => l.ifname);
    assert.deepEqual(lines.map((l) => /^\d+\.([^ ]+) /.exec(l)?.[1]).sort(), names.map((n) => `${other}/${n}`).sort());
    assert.deepEqual(
      lines.map((l) => Number(/^(\d+)\./.exec(l)?.[1])),
      lines.map((_, k) => k + 1),
    );
    assert.ok(lines.includes(`${lines.findIndex((l) => l.includes('/lo ')) + 1}.${other}/lo (loopback) [Up, Running, Loopback]`), r.stdout);
    assert.ok(
      lines.some((l) => new RegExp(`^\\d+\\.${other}/habA \\(veth\\) \\[Up\\]$`).test(l)),
      r.stdout,
    );
    assert.ok(
      lines.some((l) => new RegExp(`^\\d+\\.${other}/habB \\(veth\\) \\[Down\\]$`).test(l)),
      r.stdout,
    );
    const narrowed = spawnSync(BIN, ['-D', '--netns', other, '-i', 'hab*'], { encoding: 'utf8' });
    assert.equal(narrowed.status, 0, narrowed.stderr);
    const shown = narrowed.stdout
      .trimEnd()
      .split('\n')
      .map((l) => l.replace(/ .*/, ''));
    assert.deepEqual(shown.map((l) => l.replace(/^\d+\./, '')).sort(), [`${other}/habA`, `${other}/habB`]);
    assert.deepEqual(
      shown.map((l) => l.replace(/\..*/, '')),
      ['1', '2'],
    );
    const missing = spawnSync(BIN, ['-D', '--netns', `${other}-missing`], { encoding: 'utf8' });
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /no such network namespace/);
  } finally {
    remove();
  }
});
