/**
 * Bounded tables and queues (issue 7, "Memory bounds"): the LRU map behind the carrier
 * flows and the bad-flow view, the JSON line queue of live capture, and the caps,
 * sizes and eviction counts the correlation snapshot reports for every table, with real
 * native events from frames built by the fixture library.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Correlator } from '../../src/correlate/pipeline.js';
import { LruMap } from '../../src/correlate/lru.js';
import { correlationLimits, MAX_COPIES } from '../../src/correlate/limits.js';
import { nativeLayout } from '../../src/native/analyzer.js';
import { eventsOf, recordsOf } from '../../src/native/drain.js';
import { createFrameSink } from '../../src/native/frame-sink.js';
import type { Chunk, Chunks } from '../../src/output/write.js';
import { LineQueue } from '../../src/output/line-queue.js';
import { carrier, dnsQueryPacket, CLIENT_POD, COREDNS } from '../fixtures/lib/k8s.js';
import { eth, ipv4, tcp } from '../fixtures/lib/build.js';
import { encode, type Node } from '../fixtures/lib/packet.js';
import { pipelineContext, underlay } from '../lib/pipeline.js';

const L = nativeLayout();

test('LruMap: holds at most cap entries, evicts the least recently used, counts evictions', () => {
  const m = new LruMap<number, string>(3);
  m.set(1, 'a');
  m.set(2, 'b');
  m.set(3, 'c');
  assert.equal(m.get(1), 'a'); // 1 is now the most recent: 2 is the oldest
  m.set(4, 'd');
  assert.equal(m.size, 3);
  assert.equal(m.evicted, 1);
  assert.equal(m.get(2), undefined);
  assert.deepEqual([...m.values()], ['c', 'a', 'd']);
  m.set(3, 'C'); // replace: no eviction, most recent
  assert.equal(m.evicted, 1);
  assert.deepEqual([...m.values()], ['a', 'd', 'C']);
  assert.equal(m.delete(1), true);
  m.set(5, 'e');
  m.set(6, 'f');
  assert.equal(m.size, 3);
  assert.equal(m.evicted, 2);
  assert.deepEqual([...m.values()], ['C', 'e', 'f']);
  // Many evictions stay cheap (a Map re-inserted on use took seconds here: lru.ts).
  const big = new LruMap<number, number>(1000);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < 300_000; i++) big.set(i, i);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  assert.equal(big.size, 1000);
  assert.equal(big.evicted, 299_000);
  assert.ok(ms < 2000, `300,000 inserts into a full LruMap took ${ms} ms`);
});

/** A LineQueue of `maxBytes` whose writes are recorded and complete only when released
 * (`release()` completes the latest). */
function heldQueue(maxBytes: number): { q: LineQueue; writes: Chunks[]; release: () => void } {
  const writes: Chunks[] = [];
  let done: () => void = () => {};
  const q = new LineQueue(
    (data) =>
      new Promise<void>((resolve) => {
        writes.push(data);
        done = resolve;
      }),
    maxBytes,
  );
  return { q, writes, release: () => done() };
}

test('LineQueue: lines in order, one write for what waits; sample lines past the bound are dropped and counted, others never', async () => {
  const { q, writes, release } = heldQueue(10);
  q.line('a\n'); // written at once; its write has not completed
  assert.equal(q.sample('bb\n'), true);
  assert.equal(q.sample('cc\n'), true);
  assert.equal(q.sample('ddddd\n'), false); // 6 more than the 6 waiting and the 2 being written > 10
  q.line('stats that is long\n'); // never dropped
  assert.equal(q.dropped, 1);
  release();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(writes, ['a\n', 'bb\ncc\nstats that is long\n']);
  release();
  await q.drained();
});

test('LineQueue: what is being written counts against the bound, so at most maxBytes are held', async () => {
  const { q, writes, release } = heldQueue(100);
  const line = 'x'.repeat(30) + '\n'; // 31
  const taken = Array.from({ length: 6 }, () => q.sample(line));
  // The first goes out at once and is held until its write completes: two more fit beside
  // it (93 of 100); holding a third (124) is what the queue did before it counted the write.
  assert.deepEqual(taken, [true, true, true, false, false, false]);
  assert.equal(q.room(), 100 - 93);
  assert.equal(q.dropped, 3);
  release(); // the first written: the two waiting go out as one write, and room is back
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(writes, [line, line + line]);
  assert.equal(q.room(), 100 - 62);
  release();
  await q.drained();
  assert.equal(q.room(), 100);
});

test("LineQueue: a batch's sample lines as bytes go out in order with the text lines, within room(); the rest counted dropped", async () => {
  const { q, writes, release } = heldQueue(20);
  q.line('a\n'); // written at once; its write has not completed, and counts
  assert.equal(q.room(), 20 - 2);
  const made = Buffer.from('bé\ncc\n');
  q.samples(made, 2, 3); // 3 offered, 2 made within the room: 1 dropped
  assert.equal(q.room(), 20 - 2 - 7);
  q.line('stats\n');
  q.samples(Buffer.alloc(0), 0, 4); // no room for any of 4
  q.line('é\n'); // text counts in the bytes it is written as: 3, not 2
  assert.equal(q.room(), 20 - 2 - 7 - 6 - 3);
  assert.equal(q.dropped, 5);
  release();
  await new Promise((r) => setImmediate(r));
  assert.equal(writes.length, 2);
  assert.equal(writes[0], 'a\n');
  // One gathered write of the parts: the addon's bytes as they are (not copied into one
  // buffer), then the text lines.
  const parts = writes[1] as readonly Chunk[];
  assert.ok(Array.isArray(parts));
  assert.equal(parts.length, 2);
  assert.equal(parts[0], made, 'the bytes the addon made, not a copy');
  assert.equal(parts[1], 'stats\né\n', 'the text lines after them joined');
  assert.equal(Buffer.concat(parts.map((p) => Buffer.from(p))).toString('utf8'), 'bé\ncc\nstats\né\n');
  assert.equal(q.room(), 20 - 16); // the second write is in flight
  release();
  await q.drained();
  assert.equal(q.room(), 20);
});

function batch(frames: Node[], t0: number): { events: ReturnType<typeof eventsOf>; records: ReturnType<typeof recordsOf> } {
  const sink = createFrameSink({});
  frames.forEach((f, k) => {
    const bytes = encode(f).bytes;
    sink.process(0, bytes, bytes.length, BigInt(t0 + k * 1000), 1);
  });
  const d = sink.takeBatch();
  return { events: eventsOf(d), records: recordsOf(d) };
}

test('correlation tables: each at its cap (from --max-flows), evictions counted in the snapshot', () => {
  const T0 = 1_700_000_000e9;
  const CAP = 8;
  const c = new Correlator(pipelineContext([underlay(0, 'eth0')], { maxFlows: CAP, nativeBadFlows: () => ({ size: 3, cap: CAP, evicted: 7 }) }));
  // 20 DNS queries (bad outer checksum: also bad flows) and 20 SYNs, each a new flow.
  const frames: Node[] = [];
  for (let i = 0; i < 20; i++) frames.push(carrier(0, 1, dnsQueryPacket(CLIENT_POD, COREDNS, 40000 + i, i, 'x.example'), { csum: 0xffff }));
  for (let i = 0; i < 20; i++) frames.push(carrier(0, 1, ipv4(CLIENT_POD, COREDNS, tcp(41000 + i, 80, { flags: 'S', seq: 1000 + i }))));
  const b = batch(frames, T0);
  c.add(b.events, b.records);
  const s = c.tick(T0 + 1e6);
  const t = s.tables!;
  assert.deepEqual(t.carrierFlows, { size: CAP, cap: CAP, evicted: 40 - CAP });
  assert.equal(s.flowsEvicted, 40 - CAP);
  assert.deepEqual(t.dnsTransactions, { size: CAP, cap: CAP, evicted: 20 - CAP });
  assert.deepEqual(t.synAttempts, { size: CAP, cap: CAP, evicted: 20 - CAP });
  assert.deepEqual(t.badFlowView, { size: CAP, cap: CAP, evicted: 20 - CAP });
  assert.deepEqual(t.badFlows, { size: 3, cap: CAP, evicted: 7 });
  assert.equal(t.peers.size, 1);
  assert.equal(correlationLimits(CAP).badFlowView, CAP);
  assert.equal(correlationLimits(100_000).badFlowView, 4096);
});

test('peers past their cap are counted under "other" (spoofed outer sources cannot grow the table)', async () => {
  const { CarrierMatcher } = await import('../../src/correlate/matcher.js');
  const m = new CarrierMatcher(L.event.flagBits, { windowNs: 1e9, maxPending: 16, maxPeers: 1 });
  const T0 = 1_700_000_000e9;
  // Carriers from the three lab nodes, two each: one peer gets its row, two are "other".
  const frames: Node[] = [];
  for (let n = 0; n < 6; n++) frames.push(carrier(n % 3, (n + 1) % 3, dnsQueryPacket(CLIENT_POD, COREDNS, 40000 + n, n, 'y.example')));
  const b = batch(frames, T0);
  m.add(b.events, () => ({ label: 'eth0', namespace: 'host', overlay: false }));
  const peers = m.snapshot();
  assert.equal(peers.length, 2);
  assert.equal(peers.find((p) => p.peer === 'other')?.carriers, 4);
  assert.equal(m.tableUse().peers.evicted, 4);
  assert.equal(
    peers.reduce((a, p) => a + p.carriers, 0),
    6,
  );
});

test('retransmitted copies of one DNS query or SYN are counted but at most MAX_COPIES remembered', async () => {
  const { SynTracker } = await import('../../src/correlate/syn.js');
  const syn = new SynTracker(L.event.flagBits, { timeoutNs: 3.5e9, maxAttempts: 10, maxListed: 10 });
  const T0 = 1_700_000_000e9;
  const frames: Node[] = [];
  // The same SYN (ports, ISN) with a new IPv4 id each time: a retransmission each.
  for (let k = 0; k < MAX_COPIES + 20; k++) frames.push(eth(ipv4(CLIENT_POD, COREDNS, tcp(42000, 80, { flags: 'S', seq: 77 }), { id: k + 1 })));
  const b = batch(frames, T0);
  syn.add(b.events, () => ({ label: 'eth0', namespace: 'host', overlay: false }));
  syn.flush();
  const a = syn.summary().slowList[0];
  assert.equal(a.syns, MAX_COPIES + 20);
  assert.equal(a.retransmitAt.length, MAX_COPIES - 1);
});
