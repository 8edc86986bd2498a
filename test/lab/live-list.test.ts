/**
 * Live `--list` (issue 17 item 10): the bad frames of a live capture are kept packed and
 * listed in the final report as it is written, in the order they arrived, in the JSON
 * `report` line and in the text report. The test sends N Ethernet frames with a wrong UDP
 * checksum on the loopback of a namespace it creates (AF_PACKET, so the kernel does not
 * fill the checksum in), and nothing else runs there. Loopback shows each frame twice (as
 * sent and as received), so the capture sees 2N, in pairs.
 * Runs as root (CI does); fails, never skips, when it cannot run here.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';

import { Csumtop, createNamespace, describeRun, labProblem, reportOf, uniqueNs } from './lab.js';

const N = 300;
let ns: string;
let removeNs: () => void;

before(() => {
  const p = labProblem();
  if (p) assert.fail(p);
  ns = uniqueNs('lst');
  removeNs = createNamespace(ns);
});

after(() => removeNs?.());

/** N frames 10.0.0.1:(2000+i) -> 10.0.0.2:9999 with UDP checksum 0x1234 (never the right one here: checked). */
function sendBad(): void {
  const py = [
    'import socket, struct',
    'def csum(b):',
    '    if len(b) % 2: b += b"\\0"',
    '    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))',
    '    while s >> 16: s = (s & 0xffff) + (s >> 16)',
    '    return ~s & 0xffff',
    's = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)',
    's.bind(("lo", 0))',
    'src, dst = socket.inet_aton("10.0.0.1"), socket.inet_aton("10.0.0.2")',
    `for i in range(${N}):`,
    '    payload = b"z" * 20',
    '    ulen = 8 + len(payload)',
    '    good = csum(src + dst + struct.pack("!BBH", 0, 17, ulen) + struct.pack("!HHHH", 2000 + i, 9999, ulen, 0) + payload) or 0xffff',
    '    bad = 0x1234 if good != 0x1234 else 0x4321',
    '    udp = struct.pack("!HHHH", 2000 + i, 9999, ulen, bad) + payload',
    '    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, i, 0, 64, 17, 0, src, dst)',
    '    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]',
    '    s.send(b"\\0" * 12 + b"\\x08\\x00" + ip + udp)',
  ].join('\n');
  const r = spawnSync('ip', ['netns', 'exec', ns, 'python3', '-c', py], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

async function capture(args: string[]): Promise<Awaited<Csumtop['done']>> {
  const ct = new Csumtop(['--netns', ns, '-i', 'lo', '--list', '--json', ...args]);
  assert.deepEqual(await ct.waitAttached(['lo'], 10_000), [], 'lo attached');
  sendBad();
  // -c: the capture ends by itself once it has counted every frame sent.
  const killer = setTimeout(() => ct.child.kill('SIGKILL'), 20_000);
  const r = await ct.done;
  clearTimeout(killer);
  assert.equal(r.signal, null, describeRun(r));
  return r;
}

/** Source ports in capture order: each frame as sent, then as received. */
const PORTS = Array.from({ length: 2 * N }, (_, k) => 2000 + Math.floor(k / 2));

test(`live --list --json: the report line lists all ${2 * N} bad frames in the order they came`, { timeout: 40_000 }, async () => {
  const r = await capture(['-c', String(2 * N)]);
  assert.equal(r.code, 1, describeRun(r));
  const doc = reportOf(r);
  assert.equal(doc.totals.badFrames, 2 * N);
  assert.equal(doc.badFrames?.length, 2 * N);
  assert.deepEqual(
    doc.badFrames!.map((b) => b.outer?.sport),
    PORTS,
  );
  for (const b of doc.badFrames!) {
    assert.match(b.interface, /\blo$/);
    assert.equal(b.checksums[0].protocol, 'udp');
    assert.ok(b.checksums[0].found === 0x1234 || b.checksums[0].found === 0x4321);
  }
});

test(`live --list, text report: the list section holds the ${2 * N} frames, then the notes`, { timeout: 40_000 }, async () => {
  const ct = new Csumtop(['--netns', ns, '-i', 'lo', '--list', '-c', String(2 * N)]);
  // No JSON lines to tell when lo is attached: text mode's first per-second line (stdout)
  // names it once capture runs.
  const deadline = Date.now() + 10_000;
  while (!/lo/.test(ct.stderr + ct.stdout) && Date.now() < deadline && ct.running) await new Promise((res) => setTimeout(res, 50));
  await new Promise((res) => setTimeout(res, 300));
  sendBad();
  const killer = setTimeout(() => ct.child.kill('SIGKILL'), 20_000);
  const r = await ct.done;
  clearTimeout(killer);
  assert.equal(r.code, 1, describeRun(r));
  const lines = r.stdout.split('\n');
  const at = lines.indexOf(`Frames with bad checksums (${2 * N}):`);
  assert.ok(at >= 0, r.stdout.slice(-3000));
  PORTS.forEach((port, k) =>
    assert.match(
      lines[at + 1 + k],
      new RegExp(`^ {2}\\d+ \\S+ \\S+/lo \\S+ 10\\.0\\.0\\.1:${port} > 10\\.0\\.0\\.2:9999 udp  outer udp 0x(1234|4321) `),
      lines[at + 1 + k],
    ),
  );
  assert.doesNotMatch(lines[at + 1 + 2 * N] ?? '', /^ {2}\d/);
});
