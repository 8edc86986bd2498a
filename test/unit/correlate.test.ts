/**
 * The correlation as production drives it (src/cli/live-correlation.ts, dashboard-mode.ts,
 * capture/file-run.ts: batches into Correlator.add(), the caller's clock into tick()):
 * rate windows, and the pipeline's DNS timeout and cross-interface loss driven by ticks
 * in capture time. Events are real native events from frames built by the fixture library.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Correlator, type PipelineInterface } from '../../src/correlate/pipeline.js';
import { CarrierMatcher } from '../../src/correlate/matcher.js';
import { RateTracker, type CounterTick } from '../../src/correlate/rates.js';
import type { PackedRecords } from '../../src/native/records.js';
import { SecondBuckets } from '../../src/correlate/windows.js';
import { nativeLayout } from '../../src/native/analyzer.js';
import { eventsOf, recordsOf } from '../../src/native/drain.js';
import { createFrameSink } from '../../src/native/frame-sink.js';
import { eth } from '../fixtures/lib/build.js';
import { carrier, dnsQueryPacket, CLIENT_POD, COREDNS, NODES } from '../fixtures/lib/k8s.js';
import { encode, type Node } from '../fixtures/lib/packet.js';
import { pipelineContext, underlay } from '../lib/pipeline.js';
import { PACKET_OUTGOING, type EventBatch } from '../../src/native/events.js';
import { renderCorrelation } from '../../src/output/text-findings.js';

const L = nativeLayout();

/** One capture batch as a source hands it over. */
interface Batch {
  events: EventBatch;
  records: PackedRecords;
}

test('SecondBuckets: 1/10/60 s rates average over the seconds seen, gaps count as zero', () => {
  const b = new SecondBuckets();
  b.add(100, 10);
  assert.deepEqual(b.windows(), { s1: 10, s10: 10, s60: 10, total: 10 });
  b.add(101, 20);
  assert.deepEqual(b.windows(), { s1: 20, s10: 15, s60: 15, total: 30 });
  b.add(110, 0); // 8 silent seconds in between
  assert.deepEqual(b.windows(), { s1: 0, s10: 2, s60: 2.7, total: 30 });
  assert.equal(b.history().length, 60);
  assert.equal(b.history()[59], 0);
  assert.equal(b.history()[50], 20);
  // The total is everything since the start, past the 60 s the buckets hold.
  b.add(300, 5);
  assert.deepEqual(b.windows(), { s1: 5, s10: 0.5, s60: 0.1, total: 35 });
});

test('RateTracker: one update per tick with per-second rates from cumulative counters', () => {
  const tick = (second: number, frames: number, bad: number): CounterTick => {
    const c = new Float64Array(L.counterStride);
    c[L.slots.frames] = frames;
    c[L.slots.badFrames] = bad;
    return { second, samples: [{ id: 0, label: 'eth0', namespace: 'host', counters: c }] };
  };
  const tracker = new RateTracker(L);
  const out = [tick(1, 100, 0), tick(2, 300, 10), tick(3, 300, 10)]
    .map((t) => tracker.update(t))
    .map((r) => [r[0].packets.s1, r[0].badFrames.s1, r[0].badFrames.s10]);
  assert.deepEqual(out, [
    [100, 0, 0],
    [200, 10, 5],
    [0, 0, 3.3],
  ]);
});

function batchOf(frames: Node[], ifaces: number[], t0: number): Batch {
  const sink = createFrameSink({});
  frames.forEach((f, k) => {
    const bytes = encode(f).bytes;
    sink.process(ifaces[k], bytes, bytes.length, BigInt(t0 + k * 1000), 1);
  });
  const d = sink.takeBatch();
  return { events: eventsOf(d), records: recordsOf(d) };
}

test('correlate: a query in a bad carrier is unanswered after the DNS timeout, lost on the way to flannel.1, and raises the finding', () => {
  const T0 = 1_700_000_000e9;
  const ifaces: PipelineInterface[] = [
    underlay(0, 'eth0'),
    {
      id: 1,
      label: 'flannel.1',
      name: 'flannel.1',
      namespace: 'host',
      role: 'vxlan',
      kind: 'vxlan',
      driver: null,
      txChecksumOffload: null,
      vxlan: null,
      captureDrops: 0,
    },
  ];
  const good = dnsQueryPacket(CLIENT_POD, COREDNS, 40000, 1, 'good.example');
  const bad = dnsQueryPacket(CLIENT_POD, COREDNS, 40001, 2, 'lost.example');
  // The good carrier's inner packet shows up on flannel.1; the bad one does not.
  const batch = batchOf([carrier(0, 1, good), eth(good), carrier(0, 1, bad, { csum: 0xffff })], [0, 1, 0], T0);
  const c = new Correlator(pipelineContext(ifaces));
  c.add(batch.events, batch.records);
  const out = [T0 + 0.5e9, T0 + 2e9, T0 + 6e9].map((nowNs) => {
    const s = c.tick(nowNs);
    const p = s.peers.find((x) => x.peer === NODES[0].ip)!;
    return `lost=${p.lost} delivered=${p.delivered} inflight=${p.inFlight} unanswered=${s.dns.unanswered} attributed=${s.dns.attributed} findings=${s.findings.map((f) => f.id).join(',')}`;
  });
  assert.deepEqual(out, [
    'lost=0 delivered=1 inflight=1 unanswered=0 attributed=0 findings=vxlan-outer-bad-from-peer',
    'lost=1 delivered=1 inflight=0 unanswered=0 attributed=0 findings=vxlan-outer-bad-from-peer',
    'lost=1 delivered=1 inflight=0 unanswered=2 attributed=1 findings=vxlan-outer-bad-from-peer',
  ]);
});

test('a snapshot never changes after it is handed out (a paused dashboard holds one)', () => {
  const T0 = 1_700_000_000e9;
  const iface = underlay(0, 'eth0');
  const c = new Correlator(pipelineContext([iface]));
  const q = dnsQueryPacket(CLIENT_POD, COREDNS, 40010, 3, 'x.example');
  const add = (t: number): void => {
    const b = batchOf([carrier(0, 1, q, { csum: 0xffff })], [0], t);
    c.add(b.events, b.records);
  };
  add(T0);
  const first = c.tick(T0 + 1e6);
  const before = JSON.stringify({ bad: first.badFlows, flows: first.flows, peers: first.peers, syn: first.syn, dns: first.dns });
  add(T0 + 2e6);
  const second = c.tick(T0 + 3e6);
  assert.equal(second.badFlows[0].count, 2);
  assert.equal(second.peers[0].badOuter, 2);
  assert.equal(JSON.stringify({ bad: first.badFlows, flows: first.flows, peers: first.peers, syn: first.syn, dns: first.dns }), before);
});

test('matcher: identical packets are counted, not overwritten (N carriers and N inner packets give N matches)', () => {
  const T0 = 1_700_000_000e9;
  const F = L.event.flagBits;
  // One identity four times (a DF sender leaving the IPv4 id at 0 does this), one carrier bad.
  const inner = dnsQueryPacket(CLIENT_POD, COREDNS, 40030, 9, 'same.example', { id: 0 });
  const sink = createFrameSink({});
  sink.setOverlay(1, true);
  const frames: Array<[number, Node]> = [
    [0, carrier(0, 1, inner)],
    [0, carrier(0, 1, inner)],
    [0, carrier(0, 1, inner, { csum: 0xffff })],
    [0, carrier(0, 1, inner)],
    [1, eth(inner)],
    [1, eth(inner)],
    [1, eth(inner)],
  ];
  frames.forEach(([iface, f], k) => {
    const bytes = encode(f).bytes;
    sink.process(iface, bytes, bytes.length, BigInt(T0 + k * 1000), 1);
  });
  const ev = eventsOf(sink.takeBatch());
  assert.equal(ev.count, 7);
  const m = new CarrierMatcher(F, { windowNs: 1e9, maxPending: 1000 });
  m.setOverlay('host', 'flannel.1');
  const dir = (id: number) => (id === 0 ? { label: 'eth0', namespace: 'host', overlay: false } : { label: 'flannel.1', namespace: 'host', overlay: true });
  m.add(ev, dir);
  let p = m.snapshot()[0];
  assert.deepEqual([p.carriers, p.delivered, p.inFlight, p.lost], [4, 3, 1, 0]);
  m.advance(T0 + 2e9);
  p = m.snapshot()[0];
  assert.deepEqual([p.carriers, p.delivered, p.inFlight, p.lost, p.lostBad, p.badOuter], [4, 3, 0, 1, 1, 1], 'the bad carrier is the one the kernel dropped');
  assert.equal(m.overflow, 0);
});

test('an overlay packet sent to an address never seen behind a peer, never encapsulated: overlayUnattributed in the snapshot and the text report', () => {
  const T0 = 1_700_000_000e9;
  const ifaces: PipelineInterface[] = [
    underlay(0, 'eth0'),
    {
      id: 1,
      label: 'flannel.1',
      name: 'flannel.1',
      namespace: 'host',
      role: 'vxlan',
      kind: 'vxlan',
      driver: null,
      txChecksumOffload: null,
      vxlan: null,
      captureDrops: 0,
    },
  ];
  const c = new Correlator(pipelineContext(ifaces));
  // Two queries leave flannel.1 (sent) to pods no carrier ever went to or came from.
  const b = batchOf(
    [eth(dnsQueryPacket(CLIENT_POD, '10.244.9.9', 40100, 7, 'a.example')), eth(dnsQueryPacket(CLIENT_POD, '10.244.9.10', 40101, 8, 'b.example'))],
    [1, 1],
    T0,
  );
  const sent = Object.create(b.events) as EventBatch;
  sent.direction = (): number => PACKET_OUTGOING;
  c.add(sent, b.records);
  assert.equal(c.tick(T0 + 0.5e9).overlayUnattributed, 0, 'not before the match window closes');
  const snap = c.tick(T0 + 3e9);
  assert.equal(snap.overlayUnattributed, 2);
  assert.deepEqual(snap.peers, [], 'no peer to count them under');
  assert.ok(renderCorrelation({ ...snap }).includes('  overlay packets never encapsulated, to no known peer: 2'), renderCorrelation(snap).join('\n'));
  // A peer's own never-encapsulated packets are on its line; none, nothing is said.
  const peer = {
    namespace: 'host',
    underlay: 'eth0',
    overlay: 'flannel.1',
    peer: '192.168.189.4',
    local: '192.168.189.5',
    direction: 'to-peer' as const,
    tunnel: 'vxlan' as const,
    vni: 1,
    carriers: 5,
    badOuter: 0,
    badInner: 0,
    badIpv4: 0,
    delivered: 5,
    lost: 0,
    lostBad: 0,
    unmatchedOverlay: 3,
    inFlight: 0,
    firstSeen: '',
    lastSeen: '',
  };
  assert.match(
    renderCorrelation({ ...snap, overlayUnattributed: 0, peers: [peer] }).join('\n'),
    /to-peer 192\.168\.189\.4 vni 1: 5 carriers, .*delivered 5, lost 0 \(0 with bad checksums\), 3 overlay packets never encapsulated$/m,
  );
  assert.doesNotMatch(renderCorrelation({ ...snap, overlayUnattributed: 0, peers: [{ ...peer, unmatchedOverlay: 0 }] }).join('\n'), /never encapsulated/);
});

test('matcher: a peer received from and sent to on two underlays is four rows, each counting its own carriers, batch after batch', () => {
  // Carriers of a known peer are found through a per-interface, per-direction index
  // (CarrierMatcher.peersV4); a wrong direction or interface there would move carriers
  // between rows from the second batch on.
  const T0 = 1_700_000_000e9;
  const c = new Correlator(pipelineContext([underlay(0, 'eth0'), underlay(1, 'eth1')]));
  // Per batch: on eth0 1 received from NODES[1] and 2 sent to it, on eth1 3 received and 4 sent.
  const plan: Array<{ iface: number; sent: boolean; n: number }> = [
    { iface: 0, sent: false, n: 1 },
    { iface: 0, sent: true, n: 2 },
    { iface: 1, sent: false, n: 3 },
    { iface: 1, sent: true, n: 4 },
  ];
  const BATCHES = 3;
  for (let b = 0; b < BATCHES; b++) {
    const frames: Node[] = [];
    const ifaces: number[] = [];
    const sentAt: boolean[] = [];
    let port = 41000 + b * 100;
    for (const p of plan) {
      for (let k = 0; k < p.n; k++) {
        const q = dnsQueryPacket(CLIENT_POD, COREDNS, port++, 1, 'x.example');
        frames.push(p.sent ? carrier(0, 1, q) : carrier(1, 0, q));
        ifaces.push(p.iface);
        sentAt.push(p.sent);
      }
    }
    const batch = batchOf(frames, ifaces, T0 + b * 1e6);
    const events = Object.create(batch.events) as EventBatch;
    events.direction = (i: number): number => (sentAt[batch.events.frameNumber(i) - 1] ? PACKET_OUTGOING : 0);
    c.add(events, batch.records);
  }
  const rows = c
    .tick(T0 + 1e9)
    .peers.map((p) => `${p.underlay} ${p.direction} ${p.peer} ${p.carriers}`)
    .sort();
  assert.deepEqual(rows, [
    `eth0 from-peer ${NODES[1].ip} ${1 * BATCHES}`,
    `eth0 to-peer ${NODES[1].ip} ${2 * BATCHES}`,
    `eth1 from-peer ${NODES[1].ip} ${3 * BATCHES}`,
    `eth1 to-peer ${NODES[1].ip} ${4 * BATCHES}`,
  ]);
});
