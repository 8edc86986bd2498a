/**
 * The native DNS and SYN transaction tables (native/flow/dns_txns.h, syn_txns.h, wrapped
 * by src/correlate/dns.ts and syn.ts) against the JavaScript implementations they
 * replaced (test/oracle/): random event streams with retries (same id, and a new id for a
 * name that just failed), retransmissions, copies on several interfaces and directions,
 * answers, SYN-ACKs, RSTs, bad carriers, answers in later batches, timeouts, late answers,
 * names longer than the inline 64 bytes and a full table must give the same summary and
 * table use after every batch and tick. Also the native bytes per entry: <= 256, a
 * formula of the cap, checked against what the tables allocate.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { carrierFlowBytesPerEntry } from '../../src/correlate/carrier-flows.js';
import type { InterfaceDirectory } from '../../src/correlate/context.js';
import { DNS_BYTES_PER_ENTRY, DnsTracker } from '../../src/correlate/dns.js';
import { TABLE_BYTES_PER_FLOW } from '../../src/correlate/limits.js';
import { SYN_BYTES_PER_ENTRY, SynTracker } from '../../src/correlate/syn.js';
import { nativeLayout } from '../../src/native/analyzer.js';
import { eventsOf } from '../../src/native/drain.js';
import { PACKET_OUTGOING, type EventBatch } from '../../src/native/events.js';
import { createFrameSink } from '../../src/native/frame-sink.js';
import { txnLayout } from '../../src/native/txns.js';
import { eth, ipv4, tcp } from '../fixtures/lib/build.js';
import { carrier, dnsAnswerPacket, dnsQueryPacket } from '../fixtures/lib/k8s.js';
import { encode, type Node } from '../fixtures/lib/packet.js';
import { Prng } from '../fixtures/lib/prng.js';
import { DnsTracker as DnsOracle } from '../oracle/dns.js';
import { SynTracker as SynOracle } from '../oracle/syn.js';

const L = nativeLayout();
const F = L.event.flagBits;
const T0 = 1_700_000_000e9;
/** Interfaces: the underlay (carriers), the overlay device, a pod veth; id 3 is not listed. */
const ETH0 = 0;
const FLANNEL = 1;
const VETH = 2;
const UNLISTED = 3;
const dir: InterfaceDirectory = (id) =>
  id === ETH0
    ? { label: 'eth0', namespace: 'host', overlay: false }
    : id === FLANNEL
      ? { label: 'flannel.1', namespace: 'host', overlay: true }
      : id === VETH
        ? { label: 'veth1', namespace: 'pod', overlay: false }
        : undefined;

interface Sighting {
  atNs: number;
  iface: number;
  root: Node;
  direction: number;
}

/** One sink for every batch (a sink's buffers are large; a new one per batch piles up until a collection). */
const sink = createFrameSink({});
sink.setOverlay(FLANNEL, true);

/** One batch of native events, with each sighting's direction written into its record. */
function batch(list: Sighting[]): EventBatch {
  for (const s of list) {
    const bytes = encode(s.root).bytes;
    sink.process(s.iface, bytes, bytes.length, BigInt(T0) + BigInt(Math.round(s.atNs)), 1);
  }
  const ev = eventsOf(sink.takeBatch());
  assert.equal(ev.count, list.length, 'one event per sighting');
  for (let i = 0; i < ev.count; i++) ev.buffer[i * L.event.size + L.event.direction] = list[i].direction;
  return ev;
}

const PODS = ['10.244.1.17', '10.244.1.18', '10.244.3.21'];
const SERVERS = ['10.244.2.9', '10.244.2.3'];

/** Sightings of one packet: on a random subset of the interfaces, some in bad carriers. */
function sightings(rng: Prng, atNs: number, p: ReturnType<typeof ipv4>, fromNode: number, toNode: number): Sighting[] {
  const out: Sighting[] = [];
  const direction = (): number => (rng.next() < 0.3 ? PACKET_OUTGOING : 0);
  const bad = rng.next() < 0.12;
  if (rng.next() < 0.8) {
    const csum = bad ? rng.pick([0xffff, 0x1234]) : 'zero';
    out.push({
      atNs,
      iface: rng.next() < 0.05 ? UNLISTED : ETH0,
      root: carrier(fromNode, toNode, p, { csum, ipCsum: bad && rng.next() < 0.3 ? 0x4321 : undefined }),
      direction: direction(),
    });
  }
  if (!bad && rng.next() < 0.7) out.push({ atNs: atNs + rng.int(0, 3e6), iface: FLANNEL, root: eth(p), direction: direction() });
  if (!bad && rng.next() < 0.4) out.push({ atNs: atNs + rng.int(0, 3e6), iface: VETH, root: eth(p), direction: direction() });
  // Seen again on one interface: a retransmission as far as the rule can tell.
  if (out.length > 0 && rng.next() < 0.05) out.push({ ...out[0], atNs: out[0].atNs + rng.int(0, 2e9) });
  return out;
}

interface Conn {
  client: string;
  server: string;
  sport: number;
  isn: number;
  next: number;
  sent: number;
}

/** A random SYN stream: connections retransmitting after 1, 2, 4 ... s, answered, refused or not. */
function synStream(seed: number, n: number): Sighting[] {
  const rng = new Prng(seed);
  const out: Sighting[] = [];
  const open: Conn[] = [];
  let now = 0;
  for (let k = 0; k < n; k++) {
    now += rng.int(0, 400e6);
    if (open.length < 4 || rng.next() < 0.3) {
      open.push({ client: rng.pick(PODS), server: rng.pick(SERVERS), sport: rng.int(32768, 32800), isn: rng.uint32(), next: now, sent: 0 });
    }
    const c = open[rng.int(0, open.length - 1)];
    if (c.next > now) continue;
    const syn = ipv4(c.client, c.server, tcp(c.sport, 3306, { seq: c.isn, flags: 'S' }), { id: rng.next() < 0.7 ? 0 : rng.int(1, 65535), df: true });
    out.push(...sightings(rng, now, syn, 0, 1));
    c.sent++;
    c.next = now + 2 ** (c.sent - 1) * 1e9;
    const r = rng.next();
    const at = now + rng.int(1e5, 9e9);
    const answer = (flags: string, ack: number, seq: number) =>
      ipv4(c.server, c.client, tcp(3306, c.sport, { seq, ack, flags, window: flags === 'RA' ? 0 : 64240 }), { id: 0, df: true });
    if (r < 0.3) out.push(...sightings(rng, at, answer('SA', (c.isn + 1) >>> 0, rng.uint32()), 1, 0));
    else if (r < 0.4) out.push(...sightings(rng, at, answer('RA', (c.isn + 1) >>> 0, 0), 1, 0));
    else if (r < 0.45) out.push(...sightings(rng, at, answer('RA', (c.isn + 7) >>> 0, 0), 1, 0));
    if (r < 0.4 || c.sent > 6) open.splice(open.indexOf(c), 1);
  }
  // Batches are cut in arrival order of each "capture thread": roughly by time, not exactly.
  return out.sort((a, b) => a.atNs - b.atNs + (a.iface - b.iface) * 1e6);
}

const LONG = `${'a'.repeat(40)}.${'b'.repeat(40)}.svc.cluster.local`;
const NAMES = ['mysql.default.svc.cluster.local', 'api.example.com', LONG, `x${LONG}`];

/** A random DNS stream: queries resent with the same id (also after the 5 s timeout), new ids for a failed name, answers at once or late, or none. */
function dnsStream(seed: number, n: number): Sighting[] {
  const rng = new Prng(seed);
  const out: Sighting[] = [];
  let now = 0;
  for (let k = 0; k < n; k++) {
    now += rng.int(0, 600e6);
    const client = rng.pick(PODS);
    const server = rng.pick(SERVERS);
    const name = rng.pick(NAMES);
    const sport = rng.int(40000, 40010);
    let qid = rng.int(0, 20);
    const sends = [now];
    const r = rng.next();
    if (r < 0.3) sends.push(now + rng.int(4.9e9, 5.1e9));
    if (r < 0.1) sends.push(now + rng.int(9.9e9, 10.1e9));
    for (const at of sends)
      out.push(...sightings(rng, at, dnsQueryPacket(client, server, sport, qid, name, { id: rng.next() < 0.5 ? 0 : rng.int(1, 65535) }), 0, 1));
    const last = sends[sends.length - 1];
    if (rng.next() < 0.2) {
      // The stub resolver gives up on this id and asks again with a new one.
      qid = (qid + 1) & 0xffff;
      out.push(...sightings(rng, last + rng.int(5e9, 8e9), dnsQueryPacket(client, server, sport, qid, name), 0, 1));
    }
    const a = rng.next();
    if (a < 0.5) out.push(...sightings(rng, last + rng.int(1e5, 3e8), dnsAnswerPacket(server, client, sport, qid, name, ['10.96.0.1']), 1, 0));
    else if (a < 0.6) out.push(...sightings(rng, last + rng.int(5e9, 40e9), dnsAnswerPacket(server, client, sport, qid, name, ['10.96.0.1']), 1, 0));
  }
  return out.sort((a, b) => a.atNs - b.atNs + (a.iface - b.iface) * 1e6);
}

interface Tracker {
  add(ev: EventBatch, dir: InterfaceDirectory): void;
  advance(nowNs: number): void;
  flush(): void;
  summary(): unknown;
  tableUse(): unknown;
}

function compareSyn(seed: number, cap: number, maxListed: number, frames: number): void {
  const opts = { timeoutNs: 3.5e9, maxAttempts: cap, maxListed, copyWindowNs: 1e9 };
  compare(`SYN seed ${seed} cap ${cap}`, seed, new SynTracker(F, opts), new SynOracle(F, opts), synStream(seed, frames));
}

function compareDns(seed: number, cap: number, maxListed: number, frames: number): void {
  const opts = { timeoutNs: 5e9, maxTransactions: cap, maxListed, copyWindowNs: 1e9 };
  compare(`DNS seed ${seed} cap ${cap}`, seed, new DnsTracker(F, opts), new DnsOracle(F, opts), dnsStream(seed, frames));
}

function compare(what: string, seed: number, native: Tracker, oracle: Tracker, list: Sighting[]): void {
  const rng = new Prng(seed ^ 0x5eed);
  let lastNs = 0;
  for (let at = 0; at < list.length;) {
    const part = list.slice(at, at + rng.int(1, 40));
    at += part.length;
    const ev = batch(part);
    native.add(ev, dir);
    oracle.add(ev, dir);
    lastNs = Math.max(lastNs, ...part.map((s) => s.atNs));
    if (rng.next() < 0.5) {
      const now = T0 + lastNs - rng.int(0, 2e9);
      native.advance(now);
      oracle.advance(now);
    }
    assert.deepEqual(native.summary(), oracle.summary(), `${what}: summary after ${at} sightings`);
    assert.deepEqual(native.tableUse(), oracle.tableUse(), `${what}: table use after ${at} sightings`);
  }
  native.advance(T0 + lastNs + 4e9);
  oracle.advance(T0 + lastNs + 4e9);
  native.flush();
  oracle.flush();
  assert.deepEqual(native.summary(), oracle.summary(), `${what}: final summary`);
  assert.deepEqual(native.tableUse(), oracle.tableUse(), `${what}: final table use`);
}

test('native SYN attempts: the summary of the JavaScript oracle on random streams (retransmissions, copies, answers, RSTs, bad carriers, timeouts, a full table)', () => {
  for (let seed = 1; seed <= 12; seed++) {
    compareSyn(seed, seed % 3 === 0 ? 6 : 4096, seed % 2 === 0 ? 3 : 100, 1500);
  }
});

test('native DNS queries: the summary of the JavaScript oracle on random streams (resends, new ids, copies, answers, late answers, bad carriers, timeouts, long names, a full table)', () => {
  for (let seed = 1; seed <= 12; seed++) {
    compareDns(seed, seed % 3 === 0 ? 6 : 4096, seed % 2 === 0 ? 3 : 100, 800);
  }
});

test('the random DNS streams exercise every rule the differential test is about', () => {
  const t = new DnsTracker(F, { timeoutNs: 5e9, maxTransactions: 6, maxListed: 100, copyWindowNs: 1e9 });
  for (let seed = 1; seed <= 12; seed++) {
    const list = dnsStream(seed, 800);
    for (let at = 0; at < list.length; at += 30) {
      t.add(batch(list.slice(at, at + 30)), dir);
      t.advance(T0 + list[Math.min(at + 29, list.length - 1)].atNs);
    }
    t.flush();
  }
  const s = t.summary();
  assert.ok(s.answered > 0 && s.unanswered > 0 && s.retries > 0 && s.attributed > 0, JSON.stringify({ ...s, unansweredList: s.unansweredList.length }));
  assert.ok(s.unansweredList.some((q) => q.name.length > 64) && s.unansweredList.some((q) => q.queries > 1));
  assert.ok(t.tableUse().evicted > 0, 'the small table refused some');
});

test('the random SYN streams exercise every rule the differential test is about', () => {
  const opts = { timeoutNs: 3.5e9, maxAttempts: 6, maxListed: 100, copyWindowNs: 1e9 };
  const t = new SynTracker(F, opts);
  let s = t.summary();
  for (let seed = 1; seed <= 12; seed++) {
    const list = synStream(seed, 1500);
    for (let at = 0; at < list.length; at += 30) t.add(batch(list.slice(at, at + 30)), dir);
    t.flush();
    s = t.summary();
  }
  assert.ok(s.answered > 0 && s.refused > 0 && s.unanswered > 0 && s.retransmitted > 0 && s.attributed > 0, JSON.stringify(s));
  assert.ok(t.tableUse().evicted > 0, 'the small table refused some');
  assert.ok(Object.keys(s.delayedBy).length >= 2, JSON.stringify(s.delayedBy));
});

test("native DNS table: <= 256 bytes per query, allocated once, a formula of the cap; DNS, SYN and carrier flows within the memory bound's per-flow term", () => {
  assert.ok(DNS_BYTES_PER_ENTRY <= 256, `${DNS_BYTES_PER_ENTRY} bytes per query`);
  for (const cap of [1, 1000, 65536]) {
    const dns = new DnsTracker(F, { timeoutNs: 5e9, maxTransactions: cap, maxListed: 100 });
    assert.ok(dns.bytes <= DNS_BYTES_PER_ENTRY * cap, `cap ${cap}: ${dns.bytes} > ${DNS_BYTES_PER_ENTRY} x ${cap}`);
    assert.ok(dns.bytes >= (DNS_BYTES_PER_ENTRY - 16) * cap, `cap ${cap}: ${dns.bytes}: the formula is not far above what is allocated`);
  }
  const tables = carrierFlowBytesPerEntry() + DNS_BYTES_PER_ENTRY + SYN_BYTES_PER_ENTRY;
  assert.ok(TABLE_BYTES_PER_FLOW >= tables, `TABLE_BYTES_PER_FLOW ${TABLE_BYTES_PER_FLOW} < ${tables}`);
});

test('native SYN table: <= 256 bytes per attempt, allocated once, a formula of the cap', () => {
  assert.ok(SYN_BYTES_PER_ENTRY <= 256, `${SYN_BYTES_PER_ENTRY} bytes per attempt`);
  assert.equal(txnLayout().txnTableBytesPerEntry, 52);
  for (const cap of [1, 1000, 65536]) {
    const syn = new SynTracker(F, { timeoutNs: 3.5e9, maxAttempts: cap, maxListed: 100 });
    assert.ok(syn.bytes <= SYN_BYTES_PER_ENTRY * cap, `cap ${cap}: ${syn.bytes} > ${SYN_BYTES_PER_ENTRY} x ${cap}`);
    assert.ok(syn.bytes >= (SYN_BYTES_PER_ENTRY - 16) * cap, `cap ${cap}: ${syn.bytes}: the formula is not far above what is allocated`);
  }
});
