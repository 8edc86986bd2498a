/**
 * Native correlation events (native/flow/events.cc) seen through the typed view
 * (src/native/events.ts): which frames become events, with which flags, keys and
 * DNS/TCP fields. Frames are built by the fixture library, so the truth is known by
 * construction.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

import { eventsOf, recordsOf } from '../../src/native/drain.js';
import type { DecodedRecord } from '../../src/model/bad-frame.js';
import { nativeLayout } from '../../src/native/analyzer.js';
import { createFrameSink } from '../../src/native/frame-sink.js';
import type { EventBatch } from '../../src/native/events.js';
import { eth, ipv4, tcp, udp } from '../fixtures/lib/build.js';
import { carrier, dnsAnswerPacket, dnsQueryPacket, MYSQL, CLIENT_POD, COREDNS, NODES } from '../fixtures/lib/k8s.js';
import { encode, type Node } from '../fixtures/lib/packet.js';
import { pcapFile, type CapturedRecord } from '../fixtures/lib/capfile.js';
import { BIN } from '../fixtures/harness.js';
import type { ReportDocument } from '../../src/model/report.js';

function run(frames: Node[], ifaces?: number[]): { ev: EventBatch; sink: ReturnType<typeof createFrameSink>; records: DecodedRecord[] } {
  const sink = createFrameSink({});
  frames.forEach((f, k) => {
    const bytes = encode(f).bytes;
    sink.process(ifaces?.[k] ?? 0, bytes, bytes.length, BigInt(1_700_000_000_000_000_000 + k * 1000), 1);
  });
  const b = sink.takeBatch();
  return { ev: eventsOf(b), sink, records: recordsOf(b).decode() };
}

test('a VXLAN carrier of a DNS query is one event: carrier + query, with name, id and peer', () => {
  const q = dnsQueryPacket(CLIENT_POD, COREDNS, 40000, 0x1234, 'mysql.middleware.svc.cluster.local');
  const { ev } = run([carrier(0, 1, q)]);
  const F = nativeLayout().event.flagBits;
  assert.equal(ev.count, 1);
  assert.ok(ev.flags(0) & F.carrier);
  assert.ok(ev.flags(0) & F.dnsQuery);
  assert.equal(ev.flags(0) & (F.badOuter | F.badInner | F.badIpv4), 0);
  assert.equal(ev.dnsName(0), 'mysql.middleware.svc.cluster.local');
  assert.equal(ev.dnsId(0), 0x1234);
  assert.equal(ev.dnsQtype(0), 1);
  assert.equal(ev.outer(0).src, NODES[0].ip);
  assert.equal(ev.outer(0).dst, NODES[1].ip);
  assert.equal(ev.inner(0).src, CLIENT_POD);
  assert.equal(ev.inner(0).dport, 53);
  assert.equal(ev.vni(0), 1);
  assert.equal(ev.tunnel(0), 'vxlan');
  assert.ok(ev.flow(0) > 0 && Number.isSafeInteger(ev.flow(0)));
});

test('the carrier and its decapsulated packet share the match key; plain packets need an overlay interface', () => {
  const q = dnsQueryPacket(CLIENT_POD, COREDNS, 40001, 7, 'a.example');
  // Without plain events the bare inner packet is still a DNS query event.
  const { ev } = run([carrier(0, 1, q), eth(q)]);
  assert.equal(ev.count, 2);
  assert.equal(ev.match(0), ev.match(1));
  const F = nativeLayout().event.flagBits;
  assert.ok(!(ev.flags(1) & F.carrier));
  // A different IP id is a different packet.
  const q2 = dnsQueryPacket(CLIENT_POD, COREDNS, 40001, 7, 'a.example', { id: 99 });
  const other = run([carrier(0, 1, q2), eth(q)]).ev;
  assert.notEqual(other.match(0), other.match(1));
});

test('bad outer, bad inner and bad IPv4 header checksums set their flags', () => {
  const q = dnsQueryPacket(CLIENT_POD, COREDNS, 40002, 8, 'b.example');
  const F = nativeLayout().event.flagBits;
  const { ev } = run([
    carrier(0, 1, q, { csum: 0xffff }),
    carrier(0, 1, dnsQueryPacket(CLIENT_POD, COREDNS, 40002, 9, 'b.example', { csum: 0x1111 })),
    carrier(0, 1, q, { ipCsum: 0x2222 }),
  ]);
  assert.equal(ev.count, 3);
  assert.ok(ev.flags(0) & F.badOuter);
  assert.ok(!(ev.flags(0) & F.badInner));
  assert.ok(ev.flags(1) & F.badInner);
  assert.ok(ev.flags(2) & F.badIpv4);
});

test('DNS answers, SYN and SYN-ACK become events; other TCP and UDP do not', () => {
  const F = nativeLayout().event.flagBits;
  const a = dnsAnswerPacket(COREDNS, CLIENT_POD, 40003, 10, 'c.example', ['10.0.0.1']);
  const syn = ipv4(CLIENT_POD, MYSQL, tcp(41000, 3306, { seq: 1000, flags: 'S' }));
  const synack = ipv4(MYSQL, CLIENT_POD, tcp(3306, 41000, { seq: 5000, ack: 1001, flags: 'SA' }));
  const data = ipv4(CLIENT_POD, MYSQL, tcp(41000, 3306, { seq: 1001, ack: 5001, flags: 'A' }));
  const other = ipv4(CLIENT_POD, MYSQL, udp(5000, 6000, new Uint8Array(20)));
  const { ev } = run([eth(a), eth(syn), eth(synack), eth(data), eth(other)]);
  assert.equal(ev.count, 3);
  assert.ok(ev.flags(0) & F.dnsAnswer);
  assert.equal(ev.dnsName(0), 'c.example');
  assert.ok(ev.flags(1) & F.syn);
  assert.equal(ev.tcpSeq(1), 1000);
  assert.ok(ev.flags(2) & F.synAck);
  assert.equal(ev.tcpAck(2), 1001);
});

test('bad-frame records keep the frame bytes and the checksum field offset', () => {
  const q = dnsQueryPacket(CLIENT_POD, COREDNS, 40004, 11, 'd.example');
  const frame = carrier(0, 1, q, { csum: 0xbd67 });
  const bytes = encode(frame).bytes;
  const { records } = run([frame]);
  assert.equal(records.length, 1);
  const r = records[0];
  assert.deepEqual(r.bytes, bytes);
  const c = r.checksums[0];
  assert.equal(c.found, 0xbd67);
  assert.ok(c.offset !== undefined);
  // The outer UDP checksum field holds the value found, big-endian, at that offset.
  assert.equal((bytes[c.offset!] << 8) | bytes[c.offset! + 1], 0xbd67);
});

test('a query and its answer share the transaction key, as do a SYN and its SYN-ACK; other transactions do not', () => {
  const q = dnsQueryPacket(CLIENT_POD, COREDNS, 40010, 77, 'd.example');
  const a = dnsAnswerPacket(COREDNS, CLIENT_POD, 40010, 77, 'd.example', ['10.0.0.2']);
  const otherId = dnsAnswerPacket(COREDNS, CLIENT_POD, 40010, 78, 'd.example', ['10.0.0.2']);
  const otherPort = dnsAnswerPacket(COREDNS, CLIENT_POD, 40011, 77, 'd.example', ['10.0.0.2']);
  const syn = ipv4(CLIENT_POD, MYSQL, tcp(41000, 3306, { seq: 1000, flags: 'S' }));
  const synack = ipv4(MYSQL, CLIENT_POD, tcp(3306, 41000, { seq: 5000, ack: 1001, flags: 'SA' }));
  const wrongAck = ipv4(MYSQL, CLIENT_POD, tcp(3306, 41000, { seq: 5000, ack: 1002, flags: 'SA' }));
  // The query in a carrier and the answer bare: the key is about the inner transaction.
  const { ev } = run([carrier(0, 1, q), eth(a), eth(otherId), eth(otherPort), eth(syn), eth(synack), eth(wrongAck)]);
  assert.equal(ev.count, 7);
  const k = [0, 1, 2, 3, 4, 5, 6].map((i) => ev.txn(i));
  for (const v of k) assert.ok(v > 0 && Number.isSafeInteger(v));
  assert.equal(k[0], k[1], 'query and answer');
  assert.notEqual(k[0], k[2], 'another DNS id');
  assert.notEqual(k[0], k[3], 'another client port');
  assert.equal(k[4], k[5], 'SYN and SYN-ACK (ack = ISN + 1)');
  assert.notEqual(k[4], k[6], 'a SYN-ACK for another ISN');
  assert.notEqual(k[0], k[4]);
});

test('carriers nothing needs alone are folded per flow and drain; DNS, SYN, bad ones and matched ones are not', () => {
  const F = nativeLayout().event.flagBits;
  const data = (id: number, sport: number): Node => carrier(0, 1, ipv4(CLIENT_POD, MYSQL, tcp(sport, 3306, { seq: 1, ack: 1, flags: 'A' }), { id }));
  const frames = [data(1, 41000), data(2, 41000), data(3, 41001), data(4, 41000), carrier(0, 1, dnsQueryPacket(CLIENT_POD, COREDNS, 40020, 5, 'e.example'))];
  const sizes = frames.map((f) => encode(f).bytes.length);
  const { ev } = run(frames);
  assert.equal(ev.count, 3, 'flow 41000 (3 carriers), flow 41001, the DNS carrier');
  assert.equal(ev.packets(0), 3);
  assert.equal(ev.wirelen(0), sizes[0] + sizes[1] + sizes[3]);
  // The folded event spans its frames: the first one's time and the newest one's.
  assert.equal(ev.tsNs(0), 1_700_000_000_000_000_000, 'the first of the folded frames');
  assert.equal(ev.lastTsNs(0), 1_700_000_000_000_000_000 + 3 * 1000, 'the newest of the folded frames');
  assert.equal(ev.lastTsNs(1), ev.tsNs(1), 'an event of one frame');
  assert.equal(ev.packets(1), 1);
  assert.ok(ev.flags(2) & F.dnsQuery);
  assert.equal(ev.packets(2), 1);
  // A bad one stands alone (its symptoms are attributed to it).
  const bad = carrier(0, 1, ipv4(CLIENT_POD, MYSQL, tcp(41000, 3306, { seq: 1, ack: 1, flags: 'A', csum: 0x1234 }), { id: 9 }));
  const withBad = run([data(1, 41000), bad, data(2, 41000)]).ev;
  assert.equal(withBad.count, 2);
  assert.equal(withBad.packets(0), 2);
  assert.ok(withBad.flags(1) & F.badInner);
  // With an overlay device captured every carrier is its own event (it is matched).
  const sink = createFrameSink({});
  sink.setOverlay(1, true);
  frames.slice(0, 4).forEach((f, k) => {
    const bytes = encode(f).bytes;
    sink.process(0, bytes, bytes.length, BigInt(1_700_000_000_000_000_000 + k), 1);
  });
  const matched = eventsOf(sink.takeBatch());
  assert.equal(matched.count, 4);
  for (let i = 0; i < 4; i++) assert.equal(matched.packets(i), 1);
});

test('-r: a carrier flow whose first frames are folded is first seen at its first carrier, last at its last (report firstSeen/lastSeen)', () => {
  // Plain TCP data carriers (folded into one event per drain): 5 of one flow, 7 ms apart,
  // starting 10 ms into the file, between DNS carriers that are events of their own.
  const t0 = 1_709_632_800_000_000_000n;
  const records: CapturedRecord[] = [];
  const add = (n: Node, at: bigint): void => {
    const data = encode(n).bytes;
    records.push({ tsNs: at, data, wirelen: data.length });
  };
  add(carrier(0, 1, dnsQueryPacket(CLIENT_POD, COREDNS, 40020, 5, 'a.example')), t0);
  for (let k = 0; k < 5; k++)
    add(
      carrier(0, 1, ipv4(CLIENT_POD, MYSQL, tcp(41000, 3306, { seq: 1 + k, ack: 1, flags: 'A' }), { id: 100 + k })),
      t0 + 10_000_000n + BigInt(k) * 7_000_000n,
    );
  add(carrier(0, 1, dnsQueryPacket(CLIENT_POD, COREDNS, 40021, 6, 'b.example')), t0 + 90_000_000n);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'csumtop-first-'));
  try {
    const file = path.join(dir, 'folded.pcap');
    writeFileSync(file, pcapFile({ linktype: 1, nsec: true }, records));
    const r = spawnSync(BIN, ['-r', file, '--json'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const flows = (JSON.parse(r.stdout) as ReportDocument).correlation!.flows;
    const mysql = flows.find((f) => f.inner?.dport === 3306);
    assert.ok(mysql, r.stdout);
    assert.equal(mysql.packets, 5);
    assert.equal(mysql.firstSeen, '2024-03-05T10:00:00.010Z');
    assert.equal(mysql.lastSeen, '2024-03-05T10:00:00.038Z');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
