/**
 * Issue 7, hostile traffic: trafgen blasts random and malformed frames at its highest
 * rate, for a bounded time, across a veth pair between two namespaces of this test, at
 * csumtop capturing on the receiving end. Frame kinds: random bytes of random lengths
 * (as Ethernet, and behind an IPv4 / IPv6 EtherType, fresh bytes per frame from trafgen's
 * drnd()), IPv4 header lengths below 5, IPv4 total lengths beyond the frame, IPv6
 * extension-header chains 300 long, VXLAN inside VXLAN 8 levels deep, Geneve options
 * claiming more than the packet, and tunnels cut short (a VXLAN header cut off, an inner
 * frame cut in its IPv4 header).
 *
 * What must hold: no crash; csumtop stops on SIGINT with its final report and its
 * documented exit status (0, or 1 when some frame had a bad checksum); every frame the
 * receiving veth counted is counted by csumtop or in its ring drops; each malformed kind
 * sent shows up with its reason; resident memory flat after warm-up (a test of its own).
 *
 * The first test checks, offline (`csumtop -r`), that each hostile kind gets the reason
 * the live test expects, one kind at a time. Every case fails (never skips) when the lab
 * cannot run here. CSUMTOP_HOSTILE_SECONDS sets the blast time (default 20).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';

import type { MalformedReason } from '../../src/model/verdict.js';
import type { ReportDocument } from '../../src/model/report.js';
import { MAX_QUEUED_OUTPUT } from '../../src/output/line-queue.js';
import { eth, encode, ext, geneve, ipv4, ipv6, pcapFile, udp, vxlan, type EthNode } from '../fixtures/lib/index.js';
import { BIN, Csumtop, createNamespace, describeRun, labProblem, onCleanup, reportOf, sh, sleep, track, uniqueNs, which } from './lab.js';

const SECONDS = Number(process.env.CSUMTOP_HOSTILE_SECONDS ?? '20');
const MTU = 9000; // the 300-header IPv6 chain is 2.4 KB

const work = mkdtempSync(path.join(os.tmpdir(), 'csumtop-hostile-'));
after(() => (process.env.KEEPDBG ? undefined : rmSync(work, { recursive: true, force: true })));

// ------------------------------------------------------------------ the frames

const DST = 'ff:ff:ff:ff:ff:ff'; // broadcast: taken by the receiving veth, dropped by its stack (no address)
const SRC = '02:00:00:00:00:01';
const frame = (payload: EthNode['payload'], o: Partial<EthNode> = {}): Uint8Array => encode(eth(payload, { dst: DST, src: SRC, ...o })).bytes;

/** An inner Ethernet frame for a tunnel. */
const innerEth = (payload: EthNode['payload']): EthNode => eth(payload, { dst: '02:00:00:00:00:02', src: '02:00:00:00:00:03' });

function vxlanNest(levels: number): Uint8Array {
  let node: EthNode = innerEth(ipv4('10.1.0.1', '10.1.0.2', udp(1000, 2000, new Uint8Array(16))));
  for (let k = 0; k < levels; k++) node = innerEth(ipv4('192.168.0.1', '192.168.0.2', udp(40000 + k, 4789, vxlan(100 + k, node), 'zero')));
  return encode({ ...node, dst: DST, src: SRC }).bytes;
}

interface Kind {
  name: string;
  /** The reason csumtop must give; null: anything (random bytes). */
  reason: MalformedReason | null;
  /** trafgen packets: `pre` fresh random bytes, then `bytes`, then `random` fresh random bytes. */
  packets: Array<{ pre?: number; bytes: Uint8Array; random?: number }>;
}

function build(): Kind[] {
  // The fixture builder refuses raw bytes on a tunnel port, so these are built on port
  // 4788 and moved to 4789 (the UDP checksum is zero, "absent", so nothing else changes).
  const toVxlanPort = (b: Uint8Array): Uint8Array => {
    const out = Uint8Array.from(b);
    out[14 + 20 + 2] = 4789 >> 8;
    out[14 + 20 + 3] = 4789 & 0xff;
    return out;
  };
  // A carrier whose UDP payload (and lengths) end 4 bytes into the 8-byte VXLAN header.
  const cutCarrier = (): Uint8Array => toVxlanPort(frame(ipv4('192.168.0.1', '192.168.0.2', udp(40000, 4788, new Uint8Array([0x08, 0, 0, 0]), 'zero'))));
  // A consistent carrier whose inner frame stops 10 bytes into its IPv4 header.
  const cutInner = (): Uint8Array => {
    const inner = frame(ipv4('10.1.0.1', '10.1.0.2', udp(1, 2, new Uint8Array(8)))).subarray(0, 14 + 10);
    const vx = new Uint8Array([0x08, 0, 0, 0, 0, 0, 1, 0, ...inner]);
    return toVxlanPort(frame(ipv4('192.168.0.1', '192.168.0.2', udp(40001, 4788, vx, 'zero'))));
  };
  return [
    {
      // Wholly random from 20 bytes up. Shorter frames get a fixed EtherType: Linux drops
      // a VLAN-typed frame (0x8100/0x88a8) with fewer than 6 bytes after the Ethernet
      // header before any packet socket sees it (net/core/dev.c __netif_receive_skb_core
      // calls skb_vlan_untag() ahead of the taps; its pskb_may_pull(VLAN_HLEN + 2) fails),
      // yet the veth has counted it in rx_packets (measured: 4 of 2.2 million frames).
      name: 'random Ethernet frames of random lengths',
      reason: null,
      packets: [
        ...[14, 15, 19].map((n) => ({ pre: 12, bytes: new Uint8Array([0x88, 0xb5]), random: n - 14 })),
        ...[20, 21, 33, 60, 61, 64, 100, 257, 577, 1000, 1514, 4000].map((n) => ({ bytes: new Uint8Array(0), random: n })),
      ],
    },
    {
      name: 'random bytes behind an IPv4 EtherType',
      reason: null,
      packets: [1, 19, 20, 28, 40, 64, 200, 1500].map((n) => ({ bytes: frame(new Uint8Array(0), { etherType: 0x0800 }).subarray(0, 14), random: n })),
    },
    {
      name: 'random bytes behind an IPv6 EtherType',
      reason: null,
      packets: [1, 39, 40, 48, 64, 200, 1500].map((n) => ({ bytes: frame(new Uint8Array(0), { etherType: 0x86dd }).subarray(0, 14), random: n })),
    },
    {
      name: 'IPv4 header length below 5',
      reason: 'ipv4-ihl-below-5',
      packets: [0, 1, 4].map((ihl) => ({ bytes: frame(ipv4('10.0.0.1', '10.0.0.2', udp(1, 2, new Uint8Array(20)), { ihl })) })),
    },
    {
      name: 'IPv4 total length beyond the frame',
      reason: 'ipv4-total-length',
      packets: [100, 1500, 65535].map((totalLength) => ({ bytes: frame(ipv4('10.0.0.1', '10.0.0.2', udp(1, 2, new Uint8Array(20)), { totalLength })) })),
    },
    {
      name: 'IPv6 extension-header chain 300 long',
      reason: 'ipv6-ext-chain-too-long',
      packets: [{ bytes: frame(ipv6('fd00::1', 'fd00::2', udp(1, 2, new Uint8Array(8)), { ext: Array.from({ length: 300 }, () => ext('dest', 4)) })) }],
    },
    { name: 'VXLAN inside VXLAN 8 levels deep', reason: 'tunnel-too-deep', packets: [{ bytes: vxlanNest(8) }] },
    {
      name: 'Geneve options overflowing the packet',
      reason: 'geneve-header',
      packets: [
        {
          bytes: frame(
            ipv4(
              '192.168.0.1',
              '192.168.0.2',
              udp(40000, 6081, geneve(7, innerEth(ipv4('10.1.0.1', '10.1.0.2', udp(1, 2, new Uint8Array(4)))), [], { optLen: 63 }), 'zero'),
            ),
          ),
        },
      ],
    },
    { name: 'VXLAN header cut short', reason: 'vxlan-header', packets: [{ bytes: cutCarrier() }] },
    { name: 'inner frame cut in its IPv4 header (its total length lies beyond the frame)', reason: 'ipv4-total-length', packets: [{ bytes: cutInner() }] },
  ];
}

const KINDS = build();

function trafgenConfig(kinds: Kind[]): string {
  const hex = (b: Uint8Array): string[] => [...b].map((x) => `0x${x.toString(16).padStart(2, '0')}`);
  const lines: string[] = [];
  for (const k of kinds) {
    for (const p of k.packets) {
      const items = [...(p.pre ? [`drnd(${p.pre})`] : []), ...hex(p.bytes), ...(p.random ? [`drnd(${p.random})`] : [])];
      lines.push(`{ ${items.join(', ')} }`);
    }
  }
  return lines.join('\n') + '\n';
}

// ------------------------------------------------------------------ offline: each kind's reason

test('offline: each hostile frame kind is counted malformed with its reason (csumtop -r, one kind per file)', () => {
  for (const k of KINDS.filter((x) => x.reason !== null)) {
    const file = path.join(work, `${k.reason}-${k.packets.length}.pcap`);
    const records = k.packets.map((p, i) => ({ tsNs: 1_700_000_000_000_000_000n + BigInt(i), data: p.bytes, wirelen: p.bytes.length }));
    writeFileSync(file, pcapFile({ linktype: 1 }, records));
    const r = spawnSync(BIN, ['-r', file, '--json'], { encoding: 'utf8', timeout: 60_000 });
    assert.ok(r.status === 0 || r.status === 1, `${k.name}: csumtop -r exit ${r.status}: ${r.stderr}`);
    const doc = JSON.parse(r.stdout) as ReportDocument;
    const i = doc.interfaces[0];
    assert.equal(i.frames, k.packets.length, `${k.name}: every frame counted`);
    assert.deepEqual(i.malformedReasons, { [k.reason!]: k.packets.length }, `${k.name}: malformed with reason ${k.reason}`);
  }
});

// ------------------------------------------------------------------ live: the blast

function vethCounters(ns: string, dev: string): { rx: number; tx: number } {
  const read = (f: string): number => Number(sh('ip', ['netns', 'exec', ns, 'cat', `/sys/class/net/${dev}/statistics/${f}`]).trim());
  return { rx: read('rx_packets'), tx: read('tx_packets') };
}

function rssKb(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** What the blast left for the memory test: csumtop's VmRSS once a second. */
let blast: { rss: number[]; summary: string } | null = null;

test(`live: ${SECONDS} s of hostile frames at trafgen's highest rate: no crash, exit status, every frame counted, each malformed kind with its reason`, async () => {
  const problem = labProblem(['trafgen']);
  assert.equal(problem, null, problem ?? '');

  // Two namespaces, one veth pair; nothing else talks on it (no addresses, IPv6 off).
  const A = uniqueNs('hoA');
  const B = uniqueNs('hoB');
  const removeA = createNamespace(A);
  const removeB = createNamespace(B);
  try {
    sh('ip', ['-n', A, 'link', 'add', 'hoa', 'mtu', String(MTU), 'type', 'veth', 'peer', 'name', 'hob', 'mtu', String(MTU), 'netns', B]);
    for (const [ns, dev] of [
      [A, 'hoa'],
      [B, 'hob'],
    ]) {
      sh('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', `net.ipv6.conf.${dev}.disable_ipv6=1`]);
      sh('ip', ['-n', ns, 'link', 'set', dev, 'up']);
    }
    const cfg = path.join(work, 'hostile.cfg');
    writeFileSync(cfg, trafgenConfig(KINDS));

    const ct = new Csumtop(['--netns', B, '-i', 'hob', '--duration', String(SECONDS + 120), '--json']);
    const pid = ct.pid;
    const missing = await ct.waitAttached(['hob'], 5000);
    if (missing.length > 0) {
      const r = await ct.stop();
      assert.fail(`csumtop did not attach hob in ${B}: ${describeRun(r)}`);
    }
    const before = vethCounters(B, 'hob');

    // trafgen in its own process group (it forks workers): SIGINT after SECONDS, SIGKILL if it
    // lingers. --jumbo-support: without it the TX ring's slots are 2048 bytes and trafgen
    // stalls at the first larger frame (measured: 13 frames sent in 3 s).
    const tg = track(
      spawn('ip', ['netns', 'exec', A, 'trafgen', '--dev', 'hoa', '--conf', cfg, '--cpus', '1', '--jumbo-support'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      }),
    );
    let tgErr = '';
    tg.stderr!.on('data', (d: Buffer) => (tgErr += d.toString()));
    const signalTg = (sig: NodeJS.Signals): void => {
      try {
        process.kill(-tg.pid!, sig);
      } catch {
        // gone
      }
    };
    const unregister = onCleanup(() => signalTg('SIGKILL'));
    const tgDone = new Promise<number | null>((resolve) => tg.once('exit', (code) => resolve(code)));

    // Resident memory of csumtop once a second while the blast runs.
    const rss: number[] = [];
    const started = Date.now();
    while (Date.now() - started < SECONDS * 1000 && ct.running) {
      await sleep(1000);
      const kb = rssKb(pid);
      if (kb !== null) rss.push(kb);
    }
    signalTg('SIGINT');
    const killer = setTimeout(() => signalTg('SIGKILL'), 3000);
    await tgDone;
    clearTimeout(killer);
    unregister();
    if (!ct.running) assert.fail(`csumtop died during the blast: ${describeRun(await ct.done)}`);

    // Wait until csumtop has taken everything the veth received (its stats lines stop growing).
    const after1 = vethCounters(B, 'hob');
    const offered = after1.rx + after1.tx - before.rx - before.tx;
    let lastFrames = -1;
    for (const deadline = Date.now() + 5000; Date.now() < deadline;) {
      await sleep(1100);
      const stats = ct.lines.filter((l) => l.type === 'stats' && String(l.interface).endsWith('hob'));
      const f = stats.length ? Number(stats[stats.length - 1].frames) + Number(stats[stats.length - 1].captureDrops) : -1;
      if (f === lastFrames && f >= offered) break;
      lastFrames = f;
    }
    const stopAt = Date.now();
    const r = await ct.stop();
    const stopMs = Date.now() - stopAt;
    const report = reportOf(r);
    const i = report.interfaces.find((x) => x.name.endsWith('hob'));
    assert.ok(i, `no report for hob: ${describeRun(r)}`);
    const after2 = vethCounters(B, 'hob');
    assert.deepEqual(after2, after1, 'nothing else reached the veth after trafgen stopped');

    const drops = i.captureDrops ?? 0;
    const summary =
      `offered ${offered} (veth rx ${after1.rx - before.rx}, tx ${after1.tx - before.tx}), counted ${i.frames}, ring drops ${drops}, ` +
      `malformed ${i.malformed} ${JSON.stringify(i.malformedReasons)}, bad frames ${i.badFrames}, truncated ${i.truncated}, unsupported ${i.unsupported}; ` +
      `RSS kB ${rss.join(' ')}; csumtop took ${stopMs} ms to stop; trafgen: ${tgErr.trim().split('\n').slice(-3).join(' | ')}`;
    process.stderr.write(`hostile: ${summary}\n`);
    blast = { rss, summary };

    // Documented exit status on SIGINT: 1 when a frame had a bad checksum, else 0; no signal death.
    assert.equal(r.signal, null, summary);
    assert.equal(r.code, i.badFrames > 0 ? 1 : 0, `exit status: ${describeRun(r)}`);
    assert.ok(offered > SECONDS * 10_000, `trafgen sent only ${offered} frames in ${SECONDS} s: ${summary}`);
    // Every frame the veth took is counted once, or dropped by a full ring (and counted as such).
    assert.equal(i.frames + drops, offered, `every frame counted: ${summary}`);
    const reasonSum = Object.values(i.malformedReasons).reduce((a, b) => a + (b ?? 0), 0);
    assert.equal(reasonSum, i.malformed, `every malformed frame has a reason: ${summary}`);
    for (const k of KINDS) {
      if (k.reason) assert.ok((i.malformedReasons[k.reason] ?? 0) > 0, `${k.name}: reason ${k.reason} counted: ${summary}`);
    }
    // The random frames are counted too: more malformed reasons than the fixed kinds give.
    assert.ok(Object.keys(i.malformedReasons).length > new Set(KINDS.map((k) => k.reason).filter(Boolean)).size, `random frames add reasons: ${summary}`);
  } finally {
    removeA();
    removeB();
  }
});

// Its own test, so that the sanitizer run (test/sanitize/asan.test.ts) can expect it to
// fail there: ASan keeps freed memory in quarantine (up to 256 MB), so RSS grows by design.
test('live: resident memory flat during the blast after warm-up (growth from the end of the first third to the end < 5% plus the bounded output queue)', () => {
  assert.ok(blast, 'the blast did not run (see the test before)');
  const { rss, summary } = blast;
  assert.ok(rss.length >= SECONDS - 2, `RSS sampled ${rss.length} times: ${summary}`);
  const third = rss[Math.floor(rss.length / 3) - 1];
  const last = rss[rss.length - 1];
  // Since impossible-length IPv4 headers are verified (issue 13), the random IPv4 frames
  // of the blast carry ~400 bad frames a second, each a `bad` JSON line: csumtop may then
  // hold up to MAX_QUEUED_OUTPUT bytes of lines (UTF-8, the write in flight included) for
  // a reader that falls behind (by design, src/output/line-queue.ts). Twice that is
  // allowed on top of the 5%: the memory of lines already written is freed only when
  // collected. Anything more is growth. Session 5 measured +17-29% (21-25
  // MB) over 20 s at 6,600-8,000 bad frames; that the queue is the whole of it is not
  // proven yet (issue 17, item 12).
  const allowedKb = third * 0.05 + (2 * MAX_QUEUED_OUTPUT) / 1024;
  assert.ok(
    last - third <= allowedKb,
    `RSS grew ${(((last - third) / third) * 100).toFixed(1)}% after warm-up (${third} -> ${last} kB, allowed +${Math.round(allowedKb)} kB): ${summary}`,
  );
});

// Namespaces created by this file must be gone, on failure too (createNamespace registers them).
test('the namespaces of this file are removed', () => {
  assert.equal(which('ip') !== null, true);
  const left = sh('ip', ['netns', 'list'])
    .split('\n')
    .filter((l) => l.includes(`-${process.pid}-`) && /^csl(hoA|hoB)/.test(l));
  assert.deepEqual(left, []);
});
