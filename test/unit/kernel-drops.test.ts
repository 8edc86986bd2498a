/**
 * Issue 18, without a kernel: the record parser of the eBPF program's drop records
 * (native/kdrops/event.cc, through parseKernelDropEvent) on records built here byte by
 * byte, cut short and random; and the per-interval aggregation of KernelDropTracker
 * (src/correlate/kernel-drops.ts) with its key cap.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { KernelDropTracker, type KernelDropNames } from '../../src/correlate/kernel-drops.js';
import { noOutcomes } from '../../src/model/kernel-match.js';
import type { KernelDropCount, KernelDropOutcomes, KernelDropView } from '../../src/model/correlation.js';
import type { ReportCorrelation } from '../../src/model/report.js';
import { renderCorrelation } from '../../src/output/text-findings.js';
import { kernelDropEventLayout, parseKernelDropEvent, type KernelDropTake } from '../../src/native/kernel-drops.js';
import { encode, eth, ipv4, ipv6, tcp, udp, vxlan } from '../fixtures/lib/index.js';
import { Prng } from '../fixtures/lib/prng.js';

// KDROP_REASON_* of native/bpf/kernel_drops_event.h.
const UDP_CSUM = 1;
const IP_CSUM = 3;

/** struct kdrop_event: netns, ifindex (u32, host order), reason, len, protocol (be16), data[96]. */
function record(o: { netns?: number; ifindex?: number; reason?: number; protocol?: number; l3: Uint8Array; len?: number }): Uint8Array {
  const L = kernelDropEventLayout();
  const b = Buffer.alloc(L.size);
  b.writeUInt32LE(o.netns ?? 4026532000, 0);
  b.writeUInt32LE(o.ifindex ?? 7, 4);
  b[8] = o.reason ?? UDP_CSUM;
  const n = Math.min(o.l3.length, L.dataBytes);
  b[9] = o.len ?? n;
  b.writeUInt16BE(o.protocol ?? 0x0800, 10);
  b.set(o.l3.subarray(0, n), 12);
  return b;
}

/** The IPv4 packet (no Ethernet header) of a frame built with the fixtures. */
function l3Of(frame: Uint8Array): Uint8Array {
  return frame.subarray(14);
}

const CARRIER = l3Of(
  encode(eth(ipv4('192.168.56.11', '192.168.56.12', udp(40123, 8472, vxlan(1, eth(ipv4('10.244.1.5', '10.244.2.7', udp(5353, 53, new Uint8Array(20)))))))))
    .bytes,
);

test('parser: a VXLAN carrier dropped for UDP_CSUM gives peer, ports, VNI and the inner tuple', () => {
  const d = parseKernelDropEvent(record({ l3: CARRIER, netns: 4026532999, ifindex: 3 }));
  assert.deepEqual(d, {
    netns: 4026532999,
    ifindex: 3,
    reason: 'UDP_CSUM',
    family: 4,
    proto: 17,
    src: '192.168.56.11',
    dst: '192.168.56.12',
    sport: 40123,
    dport: 8472,
    vni: 1,
    inner: { proto: 17, src: '10.244.1.5', dst: '10.244.2.7', sport: 5353, dport: 53 },
  });
});

test('parser: only the bytes the kernel had in the linear part count (len), never past them', () => {
  // 20 + 8 + 8 + 14 + 20 + 4 = 74 bytes reach the inner ports; one fewer: no inner tuple.
  assert.notEqual(parseKernelDropEvent(record({ l3: CARRIER, len: 74 }))?.inner, null);
  const cut = parseKernelDropEvent(record({ l3: CARRIER, len: 73 }));
  assert.equal(cut?.inner, null);
  assert.equal(cut?.vni, 1);
  const noPorts = parseKernelDropEvent(record({ l3: CARRIER, len: 23 }));
  assert.equal(noPorts?.src, '192.168.56.11');
  assert.equal(noPorts?.sport, null);
  const nothing = parseKernelDropEvent(record({ l3: CARRIER, len: 0 }));
  assert.equal(nothing?.family, 0);
  assert.equal(nothing?.src, null);
  assert.equal(nothing?.reason, 'UDP_CSUM', 'a record without readable headers still counts as a drop');
});

test('parser: IPv6 TCP, IPv4 header drop, unknown reason and short records', () => {
  const v6 = l3Of(encode(eth(ipv6('fd00::1', 'fd00::2', tcp(1234, 80)))).bytes);
  const d6 = parseKernelDropEvent(record({ l3: v6, protocol: 0x86dd, reason: 2 }));
  assert.equal(d6?.family, 6);
  assert.equal(d6?.src, 'fd00::1');
  assert.equal(d6?.reason, 'TCP_CSUM');
  assert.equal(d6?.dport, 80);
  const ip = parseKernelDropEvent(record({ l3: CARRIER, reason: IP_CSUM }));
  assert.equal(ip?.reason, 'IP_CSUM');
  assert.equal(parseKernelDropEvent(record({ l3: CARRIER, reason: 0 })), null, 'reason 0 is never sent');
  assert.equal(parseKernelDropEvent(record({ l3: CARRIER, reason: 7 })), null, 'a reason past the known ones');
  assert.equal(parseKernelDropEvent(record({ l3: CARRIER }).subarray(0, kernelDropEventLayout().size - 1)), null, 'a short record');
});

/** `l3` (an IPv6 packet) with an extension header of type `type` (8 octets: `body` after next header and length) in front of its payload. */
function withExtension(l3: Uint8Array, type: number, body: number[]): Uint8Array {
  const out = new Uint8Array(l3.length + 8);
  out.set(l3.subarray(0, 40), 0);
  out.set([l3[6], 0, ...body], 40); // next header, length 0 (8 octets; reserved in a fragment header)
  out.set(l3.subarray(40), 48);
  out[6] = type;
  const plen = ((l3[4] << 8) | l3[5]) + 8;
  out[4] = plen >> 8;
  out[5] = plen & 0xff;
  return out;
}

test('parser: IPv6 extension headers (RFC 8200) are followed to the ports; a later fragment has none; cut short, the header not followed is the protocol', () => {
  const v6 = l3Of(encode(eth(ipv6('fd00::1', 'fd00::2', udp(40123, 53, new Uint8Array(8))))).bytes);
  const padN = [0x01, 0x04, 0, 0, 0, 0]; // RFC 8200 4.2: PadN, 4 octets
  const hbh = withExtension(v6, 0, padN);
  const d = parseKernelDropEvent(record({ l3: withExtension(hbh, 60, padN), protocol: 0x86dd }));
  assert.deepEqual([d?.proto, d?.sport, d?.dport], [17, 40123, 53], 'hop-by-hop then destination options, then UDP');
  const first = parseKernelDropEvent(record({ l3: withExtension(v6, 44, [0, 0, 0, 0, 0, 1]), protocol: 0x86dd }));
  assert.deepEqual([first?.proto, first?.sport], [17, 40123], 'the first fragment (offset 0) has the ports');
  const later = parseKernelDropEvent(record({ l3: withExtension(v6, 44, [0, 0x08, 0, 0, 0, 1]), protocol: 0x86dd }));
  assert.deepEqual([later?.proto, later?.sport], [17, null], 'a later fragment (offset 1) has none');
  const cut = parseKernelDropEvent(record({ l3: hbh, protocol: 0x86dd, len: 41 }));
  assert.deepEqual([cut?.proto, cut?.sport, cut?.src], [0, null, 'fd00::1'], 'the record ends inside the hop-by-hop header');
});

test('parser: 20,000 random records (and random lengths) parse or are refused, never read past len', () => {
  const rng = new Prng(18);
  const L = kernelDropEventLayout();
  for (let i = 0; i < 20_000; i++) {
    const b = rng.bytes(L.size);
    b[8] = rng.int(0, 7);
    if (i % 2 === 0) b[12] = 0x45; // mostly IPv4-looking
    const d = parseKernelDropEvent(b);
    if (b[8] === 0 || b[8] >= 7) assert.equal(d, null);
    else {
      assert.ok(d !== null);
      // Bytes past len must not matter: zeroing them gives the same answer.
      const z = b.slice();
      z.fill(0, 12 + Math.min(b[9], L.dataBytes));
      assert.deepEqual(parseKernelDropEvent(z), d);
    }
  }
});

function source(takes: Array<Partial<KernelDropTake> | null>): { take(): KernelDropTake | null } {
  let i = 0;
  return {
    take: () => {
      const t = takes[i++];
      return t === null ? null : { rows: [], overflow: 0, overflowOutcomes: noOutcomes(), pending: 0, ringFull: 0, unparsed: 0, ...(t ?? {}) };
    },
  };
}

/** A native row: `count` drops, and `outcomes` resolved (by default none yet). */
function r(
  netns: number,
  ifindex: number,
  reason: KernelDropTake['rows'][number]['reason'],
  peer: string,
  count: number,
  outcomes: Partial<KernelDropOutcomes> = {},
  frame: number | null = null,
): KernelDropTake['rows'][number] {
  return { netns, ifindex, reason, peer, count, outcomes: { ...noOutcomes(), ...outcomes }, frame };
}

const NAMES: KernelDropNames = {
  namespace: (inode) => (inode === 100 ? 'node2' : null),
  device: (label, ifindex) => (label === 'node2' && ifindex === 3 ? 'vlb' : null),
};

test('tracker: totals since start, the last interval alone, names for inode and ifindex', () => {
  const t = new KernelDropTracker(
    source([
      { rows: [r(100, 3, 'UDP_CSUM', '192.168.56.11', 3), r(200, 9, 'IP_CSUM', '10.0.0.1', 1)] },
      { rows: [r(100, 3, 'UDP_CSUM', '192.168.56.11', 2)], ringFull: 4 },
      {},
    ]),
    NAMES,
  );
  const a = t.sample()!;
  assert.deepEqual(a.drops, [
    { namespace: 'node2', device: 'vlb', reason: 'UDP_CSUM', peer: '192.168.56.11', total: 3, interval: 3, outcomes: noOutcomes(), pending: 3, frame: null },
    {
      namespace: 'netns:200',
      device: 'ifindex 9',
      reason: 'IP_CSUM',
      peer: '10.0.0.1',
      total: 1,
      interval: 1,
      outcomes: noOutcomes(),
      pending: 1,
      frame: null,
    },
  ]);
  const b = t.sample()!;
  assert.deepEqual(b.drops[0], {
    namespace: 'node2',
    device: 'vlb',
    reason: 'UDP_CSUM',
    peer: '192.168.56.11',
    total: 5,
    interval: 2,
    outcomes: noOutcomes(),
    pending: 5,
    frame: null,
  });
  assert.equal(b.drops[1].interval, 0);
  assert.equal(b.ringFull, 4);
  const c = t.sample()!;
  assert.deepEqual(
    c.drops.map((d) => [d.total, d.interval]),
    [
      [5, 0],
      [1, 0],
    ],
  );
});

test('tracker: past the key cap drops are counted in `other`, with what the native table could not keep', () => {
  const row = (peer: string, count: number) => r(100, 3, 'UDP_CSUM', peer, count);
  const t = new KernelDropTracker(
    source([{ rows: [row('10.0.0.1', 1), row('10.0.0.2', 2), row('10.0.0.3', 4)], overflow: 8 }, { rows: [row('10.0.0.1', 1), row('10.0.0.4', 16)] }]),
    NAMES,
    2,
  );
  const a = t.sample()!;
  assert.equal(a.drops.length, 2);
  assert.equal(a.other, 4 + 8);
  assert.deepEqual(a.keys, { size: 2, cap: 2, evicted: 12 });
  const b = t.sample()!;
  assert.equal(b.drops.find((d) => d.peer === '10.0.0.1')?.total, 2, 'a kept key goes on counting');
  assert.equal(b.other, 12 + 16);
  // Nothing is lost: kept + other = every drop taken.
  assert.equal(b.drops.reduce((s, d) => s + d.total, 0) + b.other, 1 + 2 + 4 + 8 + 1 + 16);
});

test('tracker: no view while the source is not running (still loading, or unavailable); counts from when it runs', () => {
  const t = new KernelDropTracker(source([null, { rows: [r(100, 3, 'UDP_CSUM', '192.168.56.11', 2)] }]), NAMES);
  assert.equal(t.sample(), null);
  assert.equal(t.sample()?.drops[0].total, 2);
});

test('tracker: what became of each drop, resolved in a later take than it was counted; pending is what is not resolved; the last matched frame', () => {
  const t = new KernelDropTracker(
    source([
      { rows: [r(100, 3, 'UDP_CSUM', '192.168.56.11', 6, { seenBad: 2 }, 41)], pending: 4 },
      { rows: [r(100, 3, 'UDP_CSUM', '192.168.56.11', 0, { seenBad: 2, notCaptured: 1, ringDrop: 1 }, 57)], pending: 0 },
    ]),
    NAMES,
    512,
    2000,
  );
  const a = t.sample()!.drops[0];
  assert.deepEqual([a.total, a.outcomes.seenBad, a.pending, a.frame], [6, 2, 4, 41]);
  const v = t.sample()!;
  const b = v.drops[0];
  assert.deepEqual(b.outcomes, { ...noOutcomes(), seenBad: 4, notCaptured: 1, ringDrop: 1 });
  assert.equal(b.pending, 0, 'every drop resolved');
  assert.equal(b.frame, 57);
  assert.equal(v.matchWindowMs, 2000);
});

test('tracker: with a backend whose frames are not matched (libpcap), the native outcomes (all "not captured") are not shown', () => {
  const t = new KernelDropTracker(
    source([{ rows: [r(100, 3, 'UDP_CSUM', '10.0.0.1', 3, { notCaptured: 3 })], overflow: 1, overflowOutcomes: { ...noOutcomes(), notCaptured: 1 } }]),
    NAMES,
    512,
    2000,
    false,
  );
  const v = t.sample()!;
  assert.equal(v.matching, false);
  assert.deepEqual([v.drops[0].total, v.drops[0].outcomes, v.drops[0].pending, v.otherOutcomes], [3, noOutcomes(), 0, noOutcomes()]);
});

test("tracker: past the key cap, the outcomes of drops counted in `other` go to otherOutcomes, with the native overflow's", () => {
  const t = new KernelDropTracker(
    source([
      {
        rows: [r(100, 3, 'UDP_CSUM', '10.0.0.1', 1, { seenBad: 1 }), r(100, 3, 'UDP_CSUM', '10.0.0.2', 3, { notSeen: 2 })],
        overflow: 5,
        overflowOutcomes: { ...noOutcomes(), tableFull: 5 },
      },
    ]),
    NAMES,
    1,
  );
  const v = t.sample()!;
  assert.equal(v.other, 3 + 5);
  assert.deepEqual(v.otherOutcomes, { ...noOutcomes(), notSeen: 2, tableFull: 5 });
  assert.deepEqual(v.drops[0].outcomes, { ...noOutcomes(), seenBad: 1 });
});

test("text report: a line per kernel drop key saying what csumtop saw of them, the keys past the cap and the ring buffer's losses", () => {
  const drop = (o: Partial<KernelDropCount>): KernelDropCount => ({
    namespace: 'node2',
    device: 'vlb',
    reason: 'UDP_CSUM',
    peer: '192.168.56.11',
    total: 6,
    interval: 0,
    outcomes: { ...noOutcomes(), seenBad: 6 },
    pending: 0,
    frame: 31,
    ...o,
  });
  const kernelDrops: KernelDropView = {
    drops: [
      drop({}),
      drop({
        device: 'flannel.1',
        reason: 'TCP_CSUM',
        peer: '10.244.0.0',
        total: 3,
        outcomes: { ...noOutcomes(), seenBad: 1, notCaptured: 1 },
        pending: 1,
        frame: null,
      }),
    ],
    other: 2,
    otherOutcomes: { ...noOutcomes(), tableFull: 2 },
    matchWindowMs: 2000,
    matching: true,
    keys: { size: 2, cap: 512, evicted: 2 },
    ringFull: 5,
  };
  const text = renderCorrelation({
    peers: [],
    overlayUnattributed: 0,
    dns: { queries: 0 },
    syn: { connections: 0 },
    kernelDrops,
  } as unknown as ReportCorrelation).join('\n');
  assert.match(text, /^Kernel drops \(kernel verdict: eBPF on skb:kfree_skb; each looked for among the frames captured up to 2 s before it\):$/m);
  assert.match(text, /^ {2}node2 vlb UDP_CSUM from 192\.168\.56\.11: 6 dropped, all 6 seen by csumtop with a bad UDP checksum \(last matched frame 31\)$/m);
  assert.match(
    text,
    /^ {2}node2 flannel\.1 TCP_CSUM from 10\.244\.0\.0: 3 dropped, 1 of 3 seen by csumtop with a bad TCP checksum; 1 not seen: the device is not captured; 1 not matched yet \(waiting for their frame, or csumtop stopped first\)$/m,
  );
  assert.match(
    text,
    /^ {2}under keys past the table's 512: 2 dropped, 0 of 2 seen by csumtop with the checksum the kernel names bad; 2 not matched: csumtop's bounded match tables overflowed/m,
  );
  assert.match(text, /^ {2}5 more drops the kernel made were not counted: csumtop's eBPF ring buffer was full$/m);
  // A backend whose frames are not matched (libpcap): the counts, and no claim of what was seen.
  const unmatched = renderCorrelation({
    peers: [],
    overlayUnattributed: 0,
    dns: { queries: 0 },
    syn: { connections: 0 },
    kernelDrops: { ...kernelDrops, matching: false },
  } as unknown as ReportCorrelation).join('\n');
  assert.match(unmatched, /not matched to captured frames: the libpcap backend does not hand its frames over/);
  assert.match(unmatched, /^ {2}node2 vlb UDP_CSUM from 192\.168\.56\.11: 6 dropped$/m);
  assert.doesNotMatch(unmatched, /seen by csumtop/);
  // Without the source: no section.
  assert.doesNotMatch(
    renderCorrelation({ peers: [], overlayUnattributed: 0, dns: { queries: 0 }, syn: { connections: 0 } } as unknown as ReportCorrelation).join('\n'),
    /Kernel drops/,
  );
});
