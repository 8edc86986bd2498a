/**
 * The DNS and SYN trackers (src/correlate/dns.ts, syn.ts, sends.ts) and the words the
 * report uses for them, on real native events from frames built by the fixture library
 * (issue 13, section 1): a SYN refused by a RST+ACK, retries that keep their IPv4 id
 * against one packet seen on two interfaces, and "carrier from" naming the node that sent
 * the carrier. Also the carrier/overlay matcher with same-identity retries.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { InterfaceDirectory } from '../../src/correlate/context.js';
import { DnsTracker, MAX_KEPT_UNANSWERED } from '../../src/correlate/dns.js';
import { CarrierMatcher } from '../../src/correlate/matcher.js';
import { SynTracker } from '../../src/correlate/syn.js';
import { outerBadFromPeer, outerBadSent, innerBadFromPeer } from '../../src/diagnose/rules.js';
import type { DiagnosisInput, InterfaceDiagnosis } from '../../src/diagnose/input.js';
import type { PeerCarriers } from '../../src/model/correlation.js';
import { nativeLayout } from '../../src/native/analyzer.js';
import { eventsOf } from '../../src/native/drain.js';
import { PACKET_OUTGOING, type EventBatch } from '../../src/native/events.js';
import { createFrameSink } from '../../src/native/frame-sink.js';
import { renderCorrelation } from '../../src/output/text-findings.js';
import { eth, ipv4, tcp } from '../fixtures/lib/build.js';
import { carrier, dnsAnswerPacket, dnsQueryPacket, CLIENT_POD, COREDNS, MYSQL, NODES } from '../fixtures/lib/k8s.js';
import { encode, type Ipv4Node, type Node } from '../fixtures/lib/packet.js';

const L = nativeLayout();
const F = L.event.flagBits;
const T0 = 1_700_000_000e9;
const ETH0 = 0;
const FLANNEL = 1;
/** sll_pkttype of a received packet (PACKET_HOST). */
const RECEIVED = 0;

const dir: InterfaceDirectory = (id) =>
  id === ETH0 ? { label: 'eth0', namespace: 'host', overlay: false } : id === FLANNEL ? { label: 'flannel.1', namespace: 'host', overlay: true } : undefined;

interface Sighting {
  atMs: number;
  iface: number;
  root: Node;
  /** sll_pkttype; received when left out. */
  direction?: number;
}

/** One batch of native events for the sightings, with their capture times and directions. */
function events(list: Sighting[]): EventBatch {
  const sink = createFrameSink({});
  sink.setOverlay(FLANNEL, true);
  for (const s of list) {
    const bytes = encode(s.root).bytes;
    sink.process(s.iface, bytes, bytes.length, BigInt(T0 + Math.round(s.atMs * 1e6)), 1);
  }
  const ev = eventsOf(sink.takeBatch());
  assert.equal(ev.count, list.length, 'one event per sighting');
  // A frame sink has no sll_pkttype: give each event the direction of its sighting (in
  // its record: the native tables read the records, not the accessors).
  for (let i = 0; i < ev.count; i++) ev.buffer[i * L.event.size + L.event.direction] = list[i].direction ?? RECEIVED;
  return ev;
}

// Node 1 (192.168.56.11) is the client's node, node 2 (192.168.56.12) the server's; the
// capture is on node 2: carriers from node 1 arrive on eth0, their inner packets on flannel.1.
const N1 = 0;
const N2 = 1;
const ISN = 0x1a2b0000;
const SERVER_ISN = 0x5c6d0000;

function synPacket(id: number): Ipv4Node {
  return ipv4(CLIENT_POD, MYSQL, tcp(41000, 3306, { seq: ISN, flags: 'S' }), { id, df: true });
}
function synAckPacket(): Ipv4Node {
  return ipv4(MYSQL, CLIENT_POD, tcp(3306, 41000, { seq: SERVER_ISN, ack: ISN + 1, flags: 'SA' }), { id: 0, df: true });
}
/** RFC 9293 3.10.7.1: the reset for a SYN to a closed port, <SEQ=0><ACK=ISN+1><CTL=RST,ACK>. */
function rstPacket(ack = ISN + 1): Ipv4Node {
  return ipv4(MYSQL, CLIENT_POD, tcp(3306, 41000, { seq: 0, ack, flags: 'RA', window: 0 }), { id: 0, df: true });
}

/** A packet from node 1's pod as node 2 sees it: its carrier on eth0, then its inner packet on flannel.1. */
function arriving(atMs: number, p: Ipv4Node, csum?: number): Sighting[] {
  return [
    { atMs, iface: ETH0, root: carrier(N1, N2, p, csum === undefined ? { csum: 'zero' } : { csum }) },
    ...(csum === undefined ? [{ atMs: atMs + 0.05, iface: FLANNEL, root: eth(p) }] : []),
  ];
}
/** A reply from node 2's pod: on flannel.1, then its carrier leaving eth0 to node 1. */
function leaving(atMs: number, p: Ipv4Node, csum?: number): Sighting[] {
  return [
    { atMs, iface: FLANNEL, root: eth(p), direction: PACKET_OUTGOING },
    { atMs: atMs + 0.05, iface: ETH0, root: carrier(N2, N1, p, csum === undefined ? { csum: 'zero' } : { csum }), direction: PACKET_OUTGOING },
  ];
}

function syns(list: Sighting[], endMs = 60_000): ReturnType<SynTracker['summary']> {
  const t = new SynTracker(F);
  t.add(events(list), dir);
  t.advance(T0 + endMs * 1e6);
  return t.summary();
}

test('a SYN answered by a RST+ACK (ack = ISN + 1) is refused: not answered, not unanswered, not attributed, listed as refused', () => {
  const s = syns([...arriving(0, synPacket(0)), ...leaving(0.2, rstPacket())]);
  assert.deepEqual([s.connections, s.answered, s.refused, s.unanswered, s.attributed, s.retransmitted], [1, 0, 1, 0, 0, 0]);
  assert.equal(s.slowList.length, 1);
  assert.equal(s.slowList[0].refused, true);
  assert.equal(s.slowList[0].syns, 1, 'the SYN on eth0 and on flannel.1 is one SYN');
  assert.match(renderCorrelation(corr(s)).join('\n'), /^TCP: 1 connection attempts, 0 answered, 1 refused \(RST\), 0 unanswered/m);
  assert.match(renderCorrelation(corr(s)).join('\n'), /^ {2}refused after 0 s: 10\.244\.1\.17:41000 -> 10\.244\.2\.9:3306, 1 SYN$/m);

  // A reset for another ISN refuses nothing: the SYN stays unanswered.
  const other = syns([...arriving(0, synPacket(0)), ...leaving(0.2, rstPacket(ISN + 2))]);
  assert.deepEqual([other.refused, other.unanswered], [0, 1]);

  // Captured on the client's node 1: a reset in a carrier with a bad checksum is dropped
  // there and never reaches the client: still unanswered, and that carrier, sent by node 2
  // to node 1, is the likely reason.
  const bad = syns([...leaving(0, synPacket(0)), { atMs: 0.2, iface: ETH0, root: carrier(N2, N1, rstPacket(), { csum: 0xffff }) }]);
  assert.deepEqual([bad.refused, bad.unanswered, bad.attributed], [0, 1, 1]);
  assert.equal(bad.slowList[0].attributedTo?.sender, NODES[N2].ip);

  // Refused after a first SYN in a bad carrier and a retransmission: refused, never a
  // bad-carrier symptom in the findings (src/diagnose/rules.ts symptomsFrom).
  const late = syns([...arriving(0, synPacket(0), 0xffff), ...arriving(1000, synPacket(0)), ...leaving(1000.2, rstPacket())]);
  assert.deepEqual([late.refused, late.unanswered, late.attributed, late.slowList[0].syns], [1, 0, 0, 2]);
  const peer = peerRow({ badOuter: 1 });
  const f = outerBadFromPeer(diagnosisInput([peer], late))[0];
  assert.equal(
    f.evidence.find((e) => e.name.startsWith('TCP SYNs unanswered')),
    undefined,
    JSON.stringify(f.evidence),
  );
});

test('the SYN and its answer on a second interface, in a later batch (another capture thread), are the same attempt', () => {
  for (const [answer, field] of [
    [rstPacket(), 'refused'],
    [synAckPacket(), 'answered'],
  ] as const) {
    const t = new SynTracker(F);
    // Thread of eth0: the SYN's carrier and the answer's carrier; then flannel.1's thread.
    t.add(
      events([
        { atMs: 0, iface: ETH0, root: carrier(N1, N2, synPacket(0), { csum: 'zero' }) },
        { atMs: 0.25, iface: ETH0, root: carrier(N2, N1, answer, { csum: 'zero' }), direction: PACKET_OUTGOING },
      ]),
      dir,
    );
    t.advance(T0 + 0.5e6);
    t.add(
      events([
        { atMs: 0.05, iface: FLANNEL, root: eth(synPacket(0)) },
        { atMs: 0.2, iface: FLANNEL, root: eth(answer), direction: PACKET_OUTGOING },
      ]),
      dir,
    );
    t.advance(T0 + 60e9);
    const s = t.summary();
    assert.deepEqual([s.connections, s[field], s.unanswered, s.retransmitted], [1, 1, 0, 0], `${field}: ${JSON.stringify(s)}`);
    assert.equal(t.tableUse().size, 0, 'forgotten after the copy window');
  }
});

test("a RST answering a SYN becomes an event with the SYN's transaction key; other resets do not share it", () => {
  const ev = events([
    { atMs: 0, iface: FLANNEL, root: eth(synPacket(0)) },
    { atMs: 1, iface: FLANNEL, root: eth(rstPacket()) },
    { atMs: 2, iface: FLANNEL, root: eth(rstPacket(ISN + 7)) },
  ]);
  assert.ok(ev.flags(1) & F.rst);
  assert.equal(ev.flags(1) & (F.syn | F.synAck), 0);
  assert.equal(ev.txn(1), ev.txn(0));
  assert.notEqual(ev.txn(2), ev.txn(0));
  // A bare RST (no ACK) cannot name a SYN: no event unless the interface wants every packet.
  const bare = createFrameSink({});
  const bytes = encode(eth(ipv4(MYSQL, CLIENT_POD, tcp(3306, 41000, { seq: 5, flags: 'R' })))).bytes;
  bare.process(0, bytes, bytes.length, BigInt(T0), 1);
  assert.equal(eventsOf(bare.takeBatch()).count, 0);
});

test('SYN retransmissions with the same IPv4 id on one interface are SYNs; the same SYN on eth0 and flannel.1 is one; 1/3 s buckets follow', () => {
  // Linux: first SYN, retransmissions after 1 s and 3 s (tcp_syn_retries), all with id 0.
  const three = [0, 1000, 3000].flatMap((at) => arriving(at, synPacket(0)));
  const s = syns([...three, ...leaving(3000.3, synAckPacket())]);
  assert.deepEqual([s.connections, s.answered, s.unanswered, s.retransmitted], [1, 1, 0, 1]);
  assert.equal(s.slowList[0].syns, 3, 'three sends, each seen on eth0 and flannel.1');
  assert.deepEqual(s.slowList[0].retransmitAt, [1, 3]);
  assert.deepEqual(s.delayedBy, { '3s': 1 }, 'answered after two retransmissions: the 3 s bucket');
  const one = syns([...[0, 1000].flatMap((at) => arriving(at, synPacket(0))), ...leaving(1000.3, synAckPacket())]);
  assert.deepEqual(one.delayedBy, { '1s': 1 }, 'answered after one retransmission: the 1 s bucket');

  // Only on eth0 (the carriers were dropped): still three SYNs, unanswered.
  const dropped = syns([0, 1000, 3000].map((at) => ({ atMs: at, iface: ETH0, root: carrier(N1, N2, synPacket(0), { csum: 0xffff }) })));
  assert.deepEqual([dropped.unanswered, dropped.attributed, dropped.retransmitted, dropped.slowList[0].syns], [1, 1, 1, 3]);

  // One SYN seen on both interfaces, answered at once: one SYN, no retransmission.
  const once = syns([...arriving(0, synPacket(0)), ...leaving(0.3, synAckPacket())]);
  assert.deepEqual([once.answered, once.retransmitted, once.slowList.length], [1, 0, 0]);
  assert.deepEqual(once.delayedBy, {});
});

test('DNS queries resent with the same id and IPv4 id on one interface are retries; one query on two interfaces is one send', () => {
  const q = dnsQueryPacket(CLIENT_POD, COREDNS, 53000, 0x6100, 'mysql.middleware.svc.cluster.local', { id: 0 });
  const run = (list: Sighting[]): ReturnType<DnsTracker['summary']> => {
    const t = new DnsTracker(F);
    t.add(events(list), dir);
    t.flush();
    return t.summary();
  };
  // glibc resends after 5 s: three sends, each seen on eth0 and flannel.1.
  const s = run([0, 5000, 10000].flatMap((at) => arriving(at, q)));
  assert.deepEqual([s.queries, s.unanswered, s.retries], [1, 1, 2]);
  assert.equal(s.unansweredList[0].queries, 3);
  assert.match(renderCorrelation(corr(undefined, s)).join('\n'), /\(3 sent\)/);
  // One send seen on both interfaces: one query sent, no retry.
  const once = run(arriving(0, q));
  assert.deepEqual([once.unansweredList[0].queries, once.retries], [1, 0]);
  // Loopback shows each packet as sent and as received: one send.
  const lo = run([
    { atMs: 0, iface: ETH0, root: eth(q), direction: PACKET_OUTGOING },
    { atMs: 0.01, iface: ETH0, root: eth(q) },
  ]);
  assert.deepEqual([lo.unansweredList[0].queries, lo.retries], [1, 0]);
});

test('a query resent with the same id after the 5 s timeout is the same query (3 sent); an answer to a resend moves it to answered', () => {
  const q = dnsQueryPacket(CLIENT_POD, COREDNS, 53010, 0x6110, 'late.example', { id: 0 });
  const a = dnsAnswerPacket(COREDNS, CLIENT_POD, 53010, 0x6110, 'late.example', ['10.96.0.10'], { id: 0 });
  // glibc: sends at 0, 5 and 10 s; the pipeline ticks every second in between.
  const run = (answerAtMs: number | null): ReturnType<DnsTracker['summary']> => {
    const t = new DnsTracker(F);
    for (let ms = 0; ms <= 16_000; ms += 1000) {
      const list: Sighting[] = [];
      if (ms % 5000 === 0 && ms <= 10_000) list.push(...arriving(ms, q, ms < 10_000 ? 0xffff : undefined));
      if (answerAtMs !== null && ms === Math.floor(answerAtMs / 1000) * 1000) list.push(...leaving(answerAtMs, a));
      if (list.length > 0) t.add(events(list), dir);
      t.advance(T0 + (ms + 999) * 1e6);
    }
    t.flush();
    return t.summary();
  };
  const lost = run(null);
  assert.deepEqual([lost.queries, lost.unanswered, lost.retries, lost.attributed, lost.unansweredList.length], [1, 1, 2, 1, 1], JSON.stringify(lost));
  assert.equal(lost.unansweredList[0].queries, 3);
  const late = run(10_000.5);
  assert.deepEqual(
    [late.queries, late.answered, late.unanswered, late.retries, late.attributed, late.unansweredList.length],
    [1, 1, 0, 2, 0, 0],
    JSON.stringify(late),
  );
  assert.equal(late.latencyMaxMs, 10000.5);
});

test('a summary handed out never changes when a kept unanswered query or SYN sees a resend', () => {
  const q = dnsQueryPacket(CLIENT_POD, COREDNS, 53020, 0x6120, 'held.example', { id: 0 });
  const d = new DnsTracker(F);
  const s = new SynTracker(F);
  d.add(events(arriving(0, q, 0xffff)), dir);
  s.add(events(arriving(0, synPacket(0), 0xffff)), dir);
  d.advance(T0 + 6e9);
  s.advance(T0 + 6e9);
  const before = [d.summary(), s.summary()];
  const json = JSON.stringify(before);
  d.add(events(arriving(6000, q, 0xffff)), dir);
  s.add(events(arriving(7000, synPacket(0), 0xffff)), dir);
  assert.equal(JSON.stringify(before), json);
  assert.deepEqual([d.summary().unansweredList[0].queries, s.summary().slowList[0].syns], [2, 2]);
  assert.equal(d.summary().unansweredList[0].attributedTo?.frames.length, 2);
});

test('"carrier from X" names the node that sent the carrier (its outer source), for received and sent carriers; never a pod address', () => {
  const q = dnsQueryPacket(CLIENT_POD, COREDNS, 53001, 0x6101, 'kubernetes.default.svc.cluster.local');
  const run = (list: Sighting[]): string[] => {
    const t = new DnsTracker(F);
    t.add(events(list), dir);
    t.flush();
    return renderCorrelation(corr(undefined, t.summary()));
  };
  // Received on node 2 from node 1.
  const got = run([{ atMs: 0, iface: ETH0, root: carrier(N1, N2, q, { csum: 0xffff }) }]);
  assert.ok(
    got.some((l) => l.includes(`carrier from ${NODES[N1].ip} to ${NODES[N2].ip} on eth0 had bad outer/l4`)),
    got.join('\n'),
  );
  // Sent by this node (node 1) to node 2: from node 1, not from node 2.
  const sent = run([{ atMs: 0, iface: ETH0, root: carrier(N1, N2, q, { csum: 0xffff }), direction: PACKET_OUTGOING }]);
  assert.ok(
    sent.some((l) => l.includes(`carrier from ${NODES[N1].ip} to ${NODES[N2].ip} on eth0`)),
    sent.join('\n'),
  );
  // A packet without a tunnel with a bad checksum is no carrier: no "carrier from <pod>".
  const plain = run([{ atMs: 0, iface: FLANNEL, root: eth(dnsQueryPacket(CLIENT_POD, COREDNS, 53002, 0x6102, 'x.example', { csum: 0x1234 })) }]);
  assert.ok(
    plain.some((l) => l.startsWith('  unanswered: x.example')),
    plain.join('\n'),
  );
  for (const text of [got, sent, plain]) assertDirectionWords(text.join('\n'), new Set(NODES.map((n) => n.ip)));
});

test('findings: every "from <address>" is a carrier\'s sender and every "to <address>" its receiver', () => {
  // This node is 192.168.56.12: carriers from node 1 arrive bad, carriers it sends to node 3 leave bad.
  const from = peerRow({ peer: NODES[0].ip, local: NODES[1].ip, direction: 'from-peer', badOuter: 3, badInner: 2 });
  const to = peerRow({ peer: NODES[2].ip, local: NODES[1].ip, direction: 'to-peer', badOuter: 4 });
  const input = diagnosisInput([from, to]);
  const texts = [...outerBadFromPeer(input), ...outerBadSent(input), ...innerBadFromPeer(input)].flatMap((f) => [
    f.title,
    f.summary,
    ...f.evidence.map((e) => `${e.name}: ${String(e.value)} (${e.detail ?? ''})`),
    ...f.remedy.map((r) => `${r.where}: ${r.why}`),
  ]);
  assert.ok(texts.length > 0);
  const words = texts.join('\n');
  const senders = new Set([NODES[0].ip, NODES[1].ip]);
  const receivers = new Set([NODES[1].ip, NODES[2].ip]);
  for (const m of words.matchAll(/\bfrom (?:node |peer |from-peer )?(\d+\.\d+\.\d+\.\d+)/g))
    assert.ok(senders.has(m[1]) && m[1] !== NODES[2].ip, `"${m[0]}": not a sender\n${words}`);
  for (const m of words.matchAll(/\bto (?:node |peer |to-peer )?(\d+\.\d+\.\d+\.\d+)/g))
    assert.ok(receivers.has(m[1]) && m[1] !== NODES[0].ip, `"${m[0]}": not a receiver\n${words}`);
  assert.match(words, new RegExp(`from ${NODES[0].ip.replace(/\./g, '\\.')}`));
  assert.match(words, new RegExp(`sent to ${NODES[2].ip.replace(/\./g, '\\.')}`));
});

test('matcher: a same-identity retry joining a lost send gets its own window (a tick between the carrier and its overlay copy)', () => {
  // A query in a bad carrier (dropped), its retry 0.9 s later with the same identity in a
  // good carrier; the tick at 1.0 s comes before the retry's flannel.1 copy is added (the
  // two interfaces drain on different capture threads).
  const q = dnsQueryPacket(CLIENT_POD, COREDNS, 53003, 0x6103, 'retry.example', { id: 0 });
  const m = new CarrierMatcher(F, { windowNs: 1e9, maxPending: 1000 });
  m.setOverlay('host', 'flannel.1');
  m.add(
    events([
      { atMs: 0, iface: ETH0, root: carrier(N1, N2, q, { csum: 0xffff }) },
      { atMs: 900, iface: ETH0, root: carrier(N1, N2, q, { csum: 'zero' }) },
    ]),
    dir,
  );
  m.advance(T0 + 1000e6);
  m.add(events([{ atMs: 900.05, iface: FLANNEL, root: eth(q) }]), dir);
  m.advance(T0 + 5000e6);
  const p = m.snapshot()[0];
  assert.deepEqual([p.carriers, p.delivered, p.lost, p.lostBad, p.inFlight], [2, 1, 1, 1, 0], JSON.stringify(p));
});

// ------------------------------------------------------------------------ helpers

/** No "carrier from/to" and no "from/to" word in front of anything but a node address. */
function assertDirectionWords(text: string, nodes: Set<string>): void {
  for (const m of text.matchAll(/\bcarrier (?:from|to) (\S+)/g)) assert.ok(nodes.has(m[1]), `"${m[0]}" does not name a node\n${text}`);
  for (const m of text.matchAll(/\bcarrier from (\S+) to (\S+)/g)) assert.notEqual(m[1], m[2]);
}

function corr(syn?: ReturnType<SynTracker['summary']>, dns?: ReturnType<DnsTracker['summary']>): Parameters<typeof renderCorrelation>[0] {
  return {
    peers: [],
    flows: [],
    flowsEvicted: 0,
    eventsDropped: 0,
    overlayUnattributed: 0,
    kernel: [],
    dns: dns ?? { queries: 0, answered: 0, unanswered: 0, retries: 0, latencyP50Ms: null, latencyMaxMs: null, unansweredList: [], attributed: 0 },
    syn: syn ?? { connections: 0, answered: 0, refused: 0, unanswered: 0, retransmitted: 0, delayedBy: {}, slowList: [], attributed: 0 },
  };
}

function peerRow(o: Partial<PeerCarriers>): PeerCarriers {
  return {
    namespace: 'host',
    underlay: 'eth0',
    overlay: 'flannel.1',
    peer: NODES[0].ip,
    local: NODES[1].ip,
    direction: 'from-peer',
    tunnel: 'vxlan',
    vni: 1,
    carriers: 20,
    badOuter: 0,
    badInner: 0,
    badIpv4: 0,
    delivered: 20,
    lost: 0,
    lostBad: 0,
    unmatchedOverlay: 0,
    inFlight: 0,
    firstSeen: '',
    lastSeen: '',
    ...o,
  };
}

function diagnosisInput(peers: PeerCarriers[], syn?: ReturnType<SynTracker['summary']>): DiagnosisInput {
  const iface = (o: Partial<InterfaceDiagnosis> & { name: string; role: string }): InterfaceDiagnosis => ({
    label: o.name,
    namespace: 'host',
    kind: null,
    driver: null,
    txChecksumOffload: null,
    vxlan: null,
    frames: 100,
    captureDrops: 0,
    badIpv4: 0,
    badReceivedL4: 0,
    pending: 0,
    validated: 0,
    looksPartial: 0,
    ...o,
  });
  const c = corr(syn);
  return {
    nowNs: T0,
    live: true,
    peers,
    kernel: [],
    kernelBefore: null,
    eventsDropped: 0,
    recordsDropped: 0,
    dns: c.dns,
    syn: c.syn,
    interfaces: [iface({ name: 'eth0', role: 'underlay' }), iface({ name: 'flannel.1', role: 'vxlan', kind: 'vxlan', vxlan: { port: 8472, udpCsum: false } })],
    facts: { kernel: null, hypervisor: null, nat: {} },
    guessesOffload: false,
  };
}

test('a flood of unanswered queries keeps at most MAX_KEPT_UNANSWERED past their timeout; the newest still take their resends', () => {
  const t = new DnsTracker(F);
  const n = MAX_KEPT_UNANSWERED + 500;
  const query = (k: number) => dnsQueryPacket(CLIENT_POD, COREDNS, 1024 + (k % 60000), k & 0xffff, `q${k}.flood.example`, { id: k & 0xffff });
  // n queries in the first second, nobody answers; then the pipeline ticks past the timeout.
  t.add(events(Array.from({ length: n }, (_, k) => ({ atMs: k * (1000 / n), iface: FLANNEL, root: eth(query(k)) }))), dir);
  t.advance(T0 + 6e9);
  assert.equal(t.summary().unanswered, n, 'every one counted unanswered');
  assert.equal(t.tableUse().size, MAX_KEPT_UNANSWERED, 'only the newest kept past the timeout');
  // The newest one's resend (same id, 6.5 s later, on the same interface) is still a retry of it.
  t.add(events([{ atMs: 6500, iface: FLANNEL, root: eth(query(n - 1)) }]), dir);
  const s = t.summary();
  assert.equal(s.queries, n, 'a resend is no new query');
  assert.equal(s.retries, 1);
});
