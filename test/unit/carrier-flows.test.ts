/**
 * The native carrier-flow table (native/flow/carrier_flows.h, behind
 * src/correlate/carrier-flows.ts) against the JavaScript table it replaced
 * (test/lib/carrier-flows-oracle.ts, whose policy test/unit/slot-table.test.ts checks
 * against LruMap): random batches of events, with hits, evictions at small caps, ties,
 * DNS names short, long, empty and cut at the end of the name buffer, interfaces listed,
 * renamed and unlisted, must give the same top() rows in the same order, the same size and
 * the same evictions after every batch (issue 14 step 1: reports byte for byte the same).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { CarrierFlowTable } from '../../src/correlate/carrier-flows.js';
import type { InterfaceInfo } from '../../src/correlate/context.js';
import { Places } from '../../src/correlate/places.js';
import { nativeLayout } from '../../src/native/analyzer.js';
import { EventBatch } from '../../src/native/events.js';
import { Prng } from '../fixtures/lib/prng.js';
import { JsCarrierFlowTable } from '../lib/carrier-flows-oracle.js';

const L = nativeLayout();
const EV = L.event;
const F = EV.flagBits;
const E = L.record;

/** A name as the native DNS parse writes it: printable, sometimes escaped, sometimes long. */
function randomName(rng: Prng): string {
  const r = rng.next();
  if (r < 0.1) return '';
  const labels = rng.int(1, r < 0.3 ? 12 : 4);
  const parts: string[] = [];
  for (let k = 0; k < labels; k++) {
    let s = '';
    for (let c = rng.int(1, 20); c > 0; c--)
      s += rng.next() < 0.05 ? `\\${String(rng.int(0, 255)).padStart(3, '0')}` : String.fromCharCode(rng.int(0x61, 0x7a));
    parts.push(s);
  }
  return parts.join('.');
}

interface BatchOptions {
  events: number;
  keys: readonly number[];
  ifaces: readonly number[];
  tsNs: bigint;
}

/** One batch of random FrameEvents in the native layout, and its name buffer. */
function randomBatch(rng: Prng, o: BatchOptions): { batch: EventBatch; endNs: bigint } {
  const buf = Buffer.alloc(o.events * EV.size);
  const nameParts: Buffer[] = [];
  let nameBytes = 0;
  let ts = o.tsNs;
  for (let i = 0; i < o.events; i++) {
    const at = i * EV.size;
    let flags = rng.next() < 0.8 ? F.carrier : rng.pick([F.plain, F.dnsAnswer, F.syn, 0]);
    if (rng.next() < 0.08) flags |= F.badOuter;
    if (rng.next() < 0.08) flags |= F.badInner;
    if (rng.next() < 0.3) flags |= F.dnsQuery;
    buf.writeUInt16LE(flags, at + EV.flagsAt);
    buf.writeDoubleLE(rng.pick(o.keys), at + EV.flow);
    // Mostly forward in time, sometimes back (frames of several interfaces interleave).
    ts += BigInt(rng.int(0, 2_000_000));
    const first = rng.next() < 0.1 ? ts - BigInt(rng.int(0, 5_000_000)) : ts;
    buf.writeBigUInt64LE(first, at + EV.tsNs);
    buf.writeUInt32LE(rng.pick(o.ifaces), at + EV.iface);
    const packets = rng.next() < 0.9 ? 1 : rng.int(2, 40);
    buf.writeUInt32LE(packets, at + EV.packets);
    // A coalesced carrier spans its frames: first at tsNs, last at lastTsNs.
    buf.writeBigUInt64LE(packets > 1 ? first + BigInt(rng.int(0, 3_000_000)) : first, at + EV.lastTsNs);
    buf.writeUInt32LE(rng.int(60, 9000), at + EV.wirelen);
    buf.writeUInt32LE(rng.int(0, 0xffffff), at + EV.vni);
    buf[at + EV.tunnel] = rng.int(0, 6);
    for (const ep of [at + EV.outer, at + EV.inner]) {
      const v6 = rng.next() < 0.2;
      buf[ep + E.epFamily] = v6 ? 6 : 4;
      buf[ep + E.epProto] = rng.pick([6, 17, 1]);
      buf[ep + E.epHasPorts] = rng.next() < 0.9 ? 1 : 0;
      buf.writeUInt16LE(rng.int(0, 65535), ep + E.epSport);
      buf.writeUInt16LE(rng.int(0, 65535), ep + E.epDport);
      Buffer.from(rng.bytes(v6 ? 16 : 4)).copy(buf, ep + E.epSrc);
      Buffer.from(rng.bytes(v6 ? 16 : 4)).copy(buf, ep + E.epDst);
    }
    if (flags & F.dnsQuery) {
      const name = Buffer.from(randomName(rng), 'latin1');
      buf.writeUInt32LE(nameBytes, at + EV.nameOff);
      buf.writeUInt16LE(name.length, at + EV.nameLen);
      nameParts.push(name);
      nameBytes += name.length;
    }
  }
  // Sometimes the name buffer ends early: names past its end are cut there (a native
  // buffer never does this; both tables must still agree on what they read).
  let names = Buffer.concat(nameParts);
  if (rng.next() < 0.1) names = names.subarray(0, rng.int(0, names.length));
  return { batch: new EventBatch(buf, names, EV, E, 0), endNs: ts };
}

interface Scenario {
  cap: number;
  keys: number;
  batches: number;
  maxEvents: number;
  seed: number;
}

/** Runs the same batches through both tables; returns the evictions seen. */
function compare(s: Scenario): number {
  const rng = new Prng(s.seed);
  const keys = Array.from({ length: s.keys }, () => rng.int(1, 2 ** 21) * 2 ** 32 + rng.uint32());
  const ifaces = [1, 2, 3, 4, 77];
  const places = new Places();
  const native = new CarrierFlowTable(s.cap, places, E);
  const oracle = new JsCarrierFlowTable(s.cap, F, E);
  let tsNs = 1_765_000_000_000_000_000n;
  for (let b = 0; b < s.batches; b++) {
    // Interfaces 1-4 listed (sometimes renamed or moved between batches), 77 never: an
    // interface folded away while its events were in flight.
    const byId = new Map<number, InterfaceInfo>();
    for (const id of [1, 2, 3, 4]) byId.set(id, { label: `eth${id}${b % 7 === id ? '-renamed' : ''}`, namespace: id % 2 ? `ns${b % 3}` : '', overlay: false });
    const { batch, endNs } = randomBatch(rng, { events: rng.int(0, s.maxEvents), keys, ifaces, tsNs });
    tsNs = endNs;
    native.add(batch, places.pairs(byId));
    oracle.add(batch, (id) => byId.get(id));
    assert.equal(native.size, oracle.size, `batch ${b}: size`);
    assert.equal(native.evicted, oracle.evicted, `batch ${b}: evicted`);
    assert.deepEqual(native.tableUse(), oracle.tableUse(), `batch ${b}: tableUse`);
    for (const limit of [200, 3, s.cap + 5]) assert.deepEqual(native.top(limit), oracle.top(limit), `batch ${b}: top(${limit})`);
  }
  return oracle.evicted;
}

test('native carrier-flow table: the rows, order, size and evictions of the JavaScript table', () => {
  // Small caps and more keys than fit: evictions in every batch, recency decides which.
  assert.ok(compare({ cap: 8, keys: 40, batches: 300, maxEvents: 40, seed: 1 }) > 1000);
  assert.ok(compare({ cap: 50, keys: 120, batches: 200, maxEvents: 200, seed: 2 }) > 1000);
  // cap 1: every new key evicts the one flow.
  assert.ok(compare({ cap: 1, keys: 3, batches: 200, maxEvents: 10, seed: 3 }) > 100);
  // A table that never fills: no evictions, every flow listed.
  assert.equal(compare({ cap: 500, keys: 300, batches: 100, maxEvents: 300, seed: 4 }), 0);
  // Many ties (few packets per flow, rare bad ones): the least recently seen first.
  assert.ok(compare({ cap: 300, keys: 5000, batches: 60, maxEvents: 400, seed: 5 }) > 1000);
});

test('native carrier-flow table: an empty batch changes nothing; bad arguments are refused', () => {
  const t = new CarrierFlowTable(4, new Places(), E);
  t.add(new EventBatch(Buffer.alloc(0), Buffer.alloc(0), EV, E, 0), new Uint32Array(0));
  assert.deepEqual(t.tableUse(), { size: 0, cap: 4, evicted: 0 });
  assert.deepEqual(t.top(10), []);
  assert.throws(() => new CarrierFlowTable(0, new Places(), E), RangeError);
  assert.throws(() => new CarrierFlowTable(2.5, new Places(), E), RangeError);
});
