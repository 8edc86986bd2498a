/**
 * Decoder rules, on a real kernel frame and on mutations of it (smoltcp-style names:
 * each test says what it proves). Table-driven coverage of every link type, tunnel
 * and fault lives in test/fixtures/; this file pins individual rules.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { decodeFrame, type DecodedChecksum } from '../../src/native/analyzer.js';

const LINKTYPE_IPV4 = 228;

// A DNS query over flannel-style VXLAN (UDP 8472, `noudpcsum`) captured with tcpdump on
// the receiving veth of a two-namespace lab (kernel 6.x, default offloads):
//
//   IP 192.168.189.4.57676 > 192.168.189.5.8472: [no cksum] OTV, flags [I] (0x08), instance 1
//   IP 10.244.0.0.38046 > 10.244.1.0.53: [bad udp cksum 0x1716 -> 0xcbee!] 4660+ A? foo. (21)
//
// 0x0000:  4500 0063 8bad 0000 4011 f381 c0a8 bd04  E..c....@.......
// 0x0010:  c0a8 bd05 e14c 2118 004f 0000 0800 0000  .....L!..O......
// 0x0020:  0000 0100 06a4 b6ab 70b8 0a39 5c11 e4c2  ........p..9\...
// 0x0030:  0800 4500 0031 d094 4000 4011 5340 0af4  ..E..1..@.@.S@..
// 0x0040:  0000 0af4 0100 949e 0035 001d 1716 1234  .........5.....4
// 0x0050:  0100 0001 0000 0000 0000 0366 6f6f 0000  ...........foo..
// 0x0060:  0100 01                                  ...
//
// The inner UDP checksum holds only the pseudo-header sum: the sender's transmit
// offload had not filled it in (CHECKSUM_PARTIAL travels across veth), which is exactly
// the false alarm tcpdump raises.
function hexOf(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

const REAL = hexOf(
  '45000063 8bad0000 4011f381 c0a8bd04 c0a8bd05 e14c2118 004f0000 08000000 00000100' +
    '06a4b6ab 70b80a39 5c11e4c2 08004500 0031d094 40004011 53400af4 00000af4 0100949e' +
    '0035001d 17161234 01000001 00000000 00000366 6f6f0000 010001',
);

function statuses(sums: DecodedChecksum[]): string[] {
  return sums.map((c) => `${c.depth}/${c.kind}/${c.status}`);
}

/** Recomputes an IPv4 header checksum in place (RFC 1071), for mutated headers. */
function fixIpv4(buf: Buffer, off: number): void {
  buf.writeUInt16BE(0, off + 10);
  const hlen = (buf[off] & 0x0f) * 4;
  let s = 0;
  for (let i = 0; i < hlen; i += 2) s += buf.readUInt16BE(off + i);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  buf.writeUInt16BE(~s & 0xffff, off + 10);
}

test('real kernel frame: verdicts match tcpdump, offload artifact recognised', () => {
  const f = decodeFrame(REAL, LINKTYPE_IPV4);
  assert.deepEqual(statuses(f.checksums), ['0/ipv4/ok', '0/udp/absent', '1/ipv4/ok', '1/udp/bad']);
  const inner = f.checksums[3];
  assert.equal(inner.found, 0x1716);
  assert.equal(inner.expected, 0xcbee); // tcpdump: [bad udp cksum 0x1716 -> 0xcbee!]
  assert.equal(inner.looksPartial, true);
  assert.equal(f.layers.length, 2);
  assert.equal(f.layers[1].vni, 1);
  assert.equal(f.layers[1].sport, 38046);
  assert.equal(f.layers[1].dport, 53);
  assert.equal(f.malformed, null);
});

test('completing the pending checksum makes the frame clean', () => {
  const buf = Buffer.from(REAL);
  buf.writeUInt16BE(0xcbee, 0x4c);
  const f = decodeFrame(buf, LINKTYPE_IPV4);
  assert.deepEqual(statuses(f.checksums), ['0/ipv4/ok', '0/udp/absent', '1/ipv4/ok', '1/udp/ok']);
});

test('a wrong non-zero outer UDP checksum is bad, with the value it should hold', () => {
  const buf = Buffer.from(REAL);
  buf.writeUInt16BE(0xcbee, 0x4c); // inner fixed
  buf.writeUInt16BE(0xffff, 0x1a); // variant A: NAT "updated" the zero checksum
  const f = decodeFrame(buf, LINKTYPE_IPV4);
  const outer = f.checksums[1];
  assert.equal(outer.status, 'bad');
  assert.equal(outer.found, 0xffff);
  assert.equal(outer.looksPartial, false);
  // Writing the expected value back must verify.
  buf.writeUInt16BE(outer.expected, 0x1a);
  assert.equal(decodeFrame(buf, LINKTYPE_IPV4).checksums[1].status, 'ok');
});

test('test_impossible_len: IPv4 total length beyond the frame is malformed, decoding stops after the header checksum', () => {
  const buf = Buffer.from(REAL);
  buf.writeUInt16BE(0x0400, 2);
  fixIpv4(buf, 0);
  const f = decodeFrame(buf, LINKTYPE_IPV4);
  assert.equal(f.malformed, 'ipv4-total-length');
  assert.equal(f.malformedOffset, 2);
  // The header checksum covers the length field: it is verified (issue 13), nothing after it.
  assert.deepEqual(statuses(f.checksums), ['0/ipv4/ok']);
  // The same flip without fixing the checksum, as a bit error on the wire leaves it.
  const flipped = Buffer.from(REAL);
  flipped.writeUInt16BE(0x0400, 2);
  assert.deepEqual(statuses(decodeFrame(flipped, LINKTYPE_IPV4).checksums), ['0/ipv4/bad']);
});

test('test_ihl_below_5: IPv4 header length under 20 bytes is malformed', () => {
  const buf = Buffer.from(REAL);
  buf[0] = 0x44;
  assert.equal(decodeFrame(buf, LINKTYPE_IPV4).malformed, 'ipv4-ihl-below-5');
});

test('test_truncated: a snap length inside the inner packet leaves checksums unverifiable', () => {
  // Cut inside the inner IPv4 header (0x32..0x46): that layer is not reached.
  const early = decodeFrame(REAL.subarray(0, 0x40), LINKTYPE_IPV4, { wirelen: REAL.length });
  assert.deepEqual(statuses(early.checksums), ['0/ipv4/ok', '0/udp/absent']);
  assert.equal(early.truncated, true);
  // Cut inside the inner UDP header (0x46..0x4e): the inner IPv4 header still verifies.
  const f = decodeFrame(REAL.subarray(0, 0x48), LINKTYPE_IPV4, { wirelen: REAL.length });
  assert.deepEqual(statuses(f.checksums), ['0/ipv4/ok', '0/udp/absent', '1/ipv4/ok']);
  assert.equal(f.truncated, true);
  assert.equal(f.malformed, null);
  const cut = decodeFrame(REAL.subarray(0, 0x50), LINKTYPE_IPV4, { wirelen: REAL.length });
  assert.deepEqual(statuses(cut.checksums), ['0/ipv4/ok', '0/udp/absent', '1/ipv4/ok', '1/udp/unverifiable']);
});

test('test_header_longer_than_packet: a complete frame too short for its header is malformed, not truncated', () => {
  const f = decodeFrame(REAL.subarray(0, 12), LINKTYPE_IPV4);
  assert.equal(f.malformed, 'ipv4-total-length');
  assert.equal(f.truncated, false);
});

test('test_vxlan_flag: a VXLAN header without the I flag is malformed', () => {
  const buf = Buffer.from(REAL);
  buf[0x1c] = 0x00;
  const f = decodeFrame(buf, LINKTYPE_IPV4);
  assert.equal(f.malformed, 'vxlan-header');
  assert.deepEqual(statuses(f.checksums), ['0/ipv4/ok', '0/udp/absent']);
});

test('test_vxlan_ports: only the configured ports are decoded as VXLAN', () => {
  const f = decodeFrame(REAL, LINKTYPE_IPV4, { vxlanPorts: [4789] });
  assert.equal(f.layers.length, 1);
  assert.deepEqual(statuses(f.checksums), ['0/ipv4/ok', '0/udp/absent']);
});

test('test_bad_ipv4_header: a corrupt header checksum is bad and decoding goes on', () => {
  const buf = Buffer.from(REAL);
  buf.writeUInt16BE(0x1234, 0x0a);
  const f = decodeFrame(buf, LINKTYPE_IPV4);
  assert.equal(f.checksums[0].status, 'bad');
  assert.equal(f.checksums[0].expected, 0xf381);
  assert.equal(f.layers.length, 2);
});

test('test_fragment: the transport checksum of a fragment is unverifiable', () => {
  const buf = Buffer.from(REAL);
  buf.writeUInt16BE(0x2000, 6); // MF: first fragment
  fixIpv4(buf, 0);
  assert.deepEqual(statuses(decodeFrame(buf, LINKTYPE_IPV4).checksums), ['0/ipv4/ok', '0/udp/unverifiable']);
  buf.writeUInt16BE(0x0010, 6); // offset 128: a later fragment
  fixIpv4(buf, 0);
  assert.deepEqual(statuses(decodeFrame(buf, LINKTYPE_IPV4).checksums), ['0/ipv4/ok', '0/udp/unverifiable']);
});

test('test_unsupported_link: an unknown link type is reported, not guessed', () => {
  const f = decodeFrame(REAL, 127 /* 802.11 radiotap */);
  assert.equal(f.unsupported, true);
  assert.deepEqual(f.checksums, []);
});

test('test_empty: a zero-length frame is malformed at the link layer without reading', () => {
  const f = decodeFrame(Buffer.alloc(0), 1);
  assert.equal(f.malformed, 'link-header-short');
});
