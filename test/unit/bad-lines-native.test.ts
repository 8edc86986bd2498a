/**
 * The addon's `bad` lines (native/flow/bad_lines.h, src/native/bad-lines.ts) are the text
 * of the generic path, `jsonLine({ type: 'bad', version, ...badFrameReport(r, names) })`
 * over `decodeRecords`, byte for byte:
 *   - on the records the addon makes of real frames (IPv4, IPv6, ICMP, a fragment without
 *     ports, VXLAN with inner checksums, several bad checksums in one frame);
 *   - on packed records of random bytes, every field anywhere in its range (checksum
 *     kinds those of KINDS): families
 *     other than 4 and 6 (no endpoint), IPv6 addresses made of zero runs (RFC 5952
 *     compression, ties, IPv4-mapped), times to the end of uint64 nanoseconds, tunnels,
 *     directions and checksum counts past their tables, interfaces without a name and
 *     names that need escaping;
 *   - cut at the room given: whole lines only, and `lines` says how many.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

import { nativeLayout, openFileAnalysis, type RecordLayout } from '../../src/native/analyzer.js';
import { newBadLines } from '../../src/native/bad-lines.js';
import { decodeRecords } from '../../src/native/records.js';
import { jsonLine, jsonText, JSON_LINES_VERSION } from '../../src/output/json-lines.js';
import { badFrameReport } from '../../src/output/report.js';
import { eth, icmpEcho, ipv4, ipv6, tcp, udp, vxlan } from '../fixtures/lib/build.js';
import { pcapFile } from '../fixtures/lib/capfile.js';
import { encode } from '../fixtures/lib/packet.js';
import { Prng } from '../fixtures/lib/prng.js';

// Holes: interfaces with no name are written "#id".
const NAMES: string[] = ['eth0', 'we"ird', 'back\\slash', 'tab\there', 'c1\u009bcsi', 'sep\u2028line', 'ünïcødé-ns/veth0', '\u0000nul', 'cslB-1/vlb'];
delete NAMES[3];
const JSON_NAMES: (string | undefined)[] = NAMES.map(jsonText);

/** The generic path's lines (what `bad` lines were before the addon made them). */
function javascriptLines(records: Buffer, L: RecordLayout): string {
  return decodeRecords(records, L)
    .map((r) => jsonLine({ type: 'bad', version: JSON_LINES_VERSION, ...badFrameReport(r, NAMES) }))
    .join('');
}

test("native bad lines: the addon's records of real frames give the JavaScript text", () => {
  const frames = [
    eth(ipv4('10.1.0.1', '10.1.0.2', icmpEcho({ csum: 0x1234 }))),
    eth(ipv4('10.1.0.9', '10.1.0.10', new Uint8Array(16), { proto: 17, df: false, fragOffset: 100, csum: 0x5555 })),
    eth(ipv6('fd00::1', 'fd00::2:3', udp(5353, 53, new Uint8Array(12), 0x4321))),
    eth(ipv6('::ffff:a00:1', '2001:db8:0:0:1:0:0:1', udp(5353, 53, new Uint8Array(12), 0x4321))),
    eth(ipv4('192.168.0.1', '192.168.0.2', udp(40000, 4789, vxlan(42, eth(ipv4('10.244.1.5', '10.244.2.7', tcp(33000, 443, { csum: 0x1111 }))))))),
    eth(
      ipv4('192.168.0.3', '192.168.0.4', udp(40001, 8472, vxlan(1, eth(ipv4('10.244.1.6', '10.244.2.8', udp(53000, 53, new Uint8Array(20), 0x2222))))), {
        csum: 0x7777,
      }),
    ),
  ].map((f, k) => {
    const bytes = encode(f).bytes;
    return { tsNs: 1_700_000_000_123_456_789n + BigInt(k) * 1000n, data: bytes, wirelen: bytes.length };
  });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'csumtop-bad-lines-'));
  try {
    const file = path.join(dir, 'bad.pcap');
    writeFileSync(file, pcapFile({ linktype: 1, nsec: true }, frames));
    const fa = openFileAnalysis(file, { listBad: true });
    for (let r = fa.step(); r.status === 'more'; r = fa.step());
    const packed = fa.takeRecords();
    assert.equal(fa.finish(), null);
    const L = nativeLayout().record;
    assert.equal(packed.length / L.size, frames.length);
    const lines = newBadLines();
    const text = lines.format(packed, JSON_NAMES, Infinity).toString('utf8');
    assert.equal(lines.lines, frames.length);
    assert.equal(text, javascriptLines(packed, L));
    assert.match(text, /"src":"::ffff:10\.0\.0\.1","dst":"2001:db8::1:0:0:1"/);
    assert.match(text, /"tunnel":"vxlan","vni":42/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Packed records of random bytes, with the fields that need it set to what records can hold. */
function randomRecords(p: Prng, n: number, L: RecordLayout): Buffer {
  const buf = Buffer.from(p.bytes(n * L.size));
  const groups = [0, 0, 0, 0xffff, 1, 0x0db8, 0xfe80, 0xabcd];
  const endpoint = (off: number): void => {
    buf[off + L.epFamily] = p.pick([4, 4, 6, 6, 6, 0, 5, 255]);
    buf[off + L.epHasPorts] = p.pick([0, 1, 2]);
    // Zero-heavy IPv6 addresses: compression of the longest run, ties, ::ffff:a.b.c.d.
    for (const at of [L.epSrc, L.epDst]) {
      if (p.next() < 0.5) continue; // random bytes
      for (let g = 0; g < 8; g++) buf.writeUInt16BE(p.next() < 0.6 ? 0 : p.pick(groups), off + at + 2 * g);
      if (p.next() < 0.2) {
        buf.fill(0, off + at, off + at + 10);
        buf.writeUInt16BE(0xffff, off + at + 10);
      }
    }
  };
  for (let k = 0; k < n; k++) {
    const off = k * L.size;
    // Frame numbers are JavaScript numbers (exact below 2^53).
    buf.writeBigUInt64LE(BigInt(p.int(0, 2 ** 21)) * 2n ** 32n + BigInt(p.int(0, 2 ** 32 - 1)), off + L.frameNumber);
    if (p.next() < 0.5)
      buf.writeBigUInt64LE(1_700_000_000_000_000_000n + BigInt(p.int(0, 2 ** 31)) * 1_000_000_000n + BigInt(p.int(0, 999_999_999)), off + L.tsNs);
    buf.writeUInt32LE(p.int(0, NAMES.length + 2), off + L.iface);
    buf[off + L.tunnel] = p.int(0, 9);
    buf[off + L.hasInner] = p.pick([0, 1, 7]);
    buf[off + L.nBad] = p.int(0, L.maxBad + 2);
    buf[off + L.direction] = p.pick([0, 1, 2, 3, 4, 5, 255]);
    // Checksum kinds within KINDS, as the decoder writes them (frame.h CsumKind).
    for (let i = 0; i < L.maxBad; i++) buf[off + L.bad + i * L.badSize + L.bKind] = p.int(0, 5);
    endpoint(off + L.outer);
    endpoint(off + L.inner);
  }
  return buf;
}

test('native bad lines: random records, every field in its range, give the JavaScript text', () => {
  const L = nativeLayout().record;
  const lines = newBadLines();
  const p = new Prng(0xbad1e5);
  for (let round = 0; round < 20; round++) {
    const packed = randomRecords(p, 200, L);
    const want = javascriptLines(packed, L);
    // Odd rounds hand a slice at an odd offset (a Buffer may be one): the same text.
    const given = round % 2 === 1 ? Buffer.concat([Buffer.alloc(1), packed]).subarray(1) : packed;
    const got = lines.format(given, JSON_NAMES, Infinity).toString('utf8');
    assert.equal(lines.lines, 200);
    if (got !== want) {
      // The first line that differs, not 200 lines of diff.
      const g = got.split('\n');
      const w = want.split('\n');
      const k = g.findIndex((line, i) => line !== w[i]);
      assert.equal(g[k], w[k], `round ${round}, record ${k}`);
    }
  }
});

test('native bad lines: the extremes of time, ports and addresses', () => {
  const L = nativeLayout().record;
  const packed = Buffer.alloc(4 * L.size);
  const at = (k: number, field: number): number => k * L.size + field;
  packed.writeBigUInt64LE(0xffff_ffff_ffff_ffffn, at(0, L.tsNs)); // 2554-07-21T23:34:33.709551615Z
  packed.writeBigUInt64LE(0n, at(1, L.tsNs)); // 1970-01-01T00:00:00.000000000Z
  packed.writeBigUInt64LE(951_782_400_000_000_001n, at(2, L.tsNs)); // 2000-02-29 (a leap day of a century)
  packed.writeBigUInt64LE(4_107_542_400_000_000_000n, at(3, L.tsNs)); // 2100-03-01 (2100 is no leap year)
  packed.writeBigUInt64LE(2n ** 53n - 1n, at(0, L.frameNumber));
  for (let k = 0; k < 4; k++) {
    const o = at(k, L.outer);
    packed[o + L.epFamily] = 6;
    packed[o + L.epHasPorts] = 1;
    packed.writeUInt16LE(65535, o + L.epSport);
    // ::, ::1, 1::, and two equal zero runs (the first is compressed).
    const v6 = [
      Buffer.alloc(16),
      Buffer.from('00000000000000000000000000000001', 'hex'),
      Buffer.from('00010000000000000000000000000000', 'hex'),
      Buffer.from('00010000000000010001000000000001', 'hex'),
    ][k];
    v6.copy(packed, o + L.epSrc);
  }
  const lines = newBadLines();
  const text = lines.format(packed, JSON_NAMES, Infinity).toString('utf8');
  assert.equal(text, javascriptLines(packed, L));
  assert.match(text, /"frame":9007199254740991,.*"time":"2554-07-21T23:34:33\.709551615Z"/);
  assert.match(text, /"time":"1970-01-01T00:00:00\.000000000Z"/);
  assert.match(text, /"time":"2000-02-29T00:00:00\.000000001Z"/);
  assert.match(text, /"time":"2100-03-01T00:00:00\.000000000Z"/);
  assert.match(text, /"src":"::","dst":"::"/);
  assert.match(text, /"src":"::1"/);
  assert.match(text, /"src":"1::"/);
  assert.match(text, /"src":"1::1:1:0:0:1"/);
});

test('native bad lines: whole lines up to the room given, and how many', () => {
  const L = nativeLayout().record;
  const packed = randomRecords(new Prng(7), 50, L);
  const all = javascriptLines(packed, L).split(/(?<=\n)/);
  assert.equal(all.length, 50);
  const lines = newBadLines();
  for (const k of [0, 1, 17, 49, 50]) {
    const room = Buffer.byteLength(all.slice(0, k).join(''));
    assert.equal(lines.format(packed, JSON_NAMES, room).toString('utf8'), all.slice(0, k).join(''));
    assert.equal(lines.lines, k);
    if (k > 0) {
      assert.equal(lines.format(packed, JSON_NAMES, room - 1).toString('utf8'), all.slice(0, k - 1).join(''));
      assert.equal(lines.lines, k - 1);
    }
  }
  assert.equal(lines.format(packed, JSON_NAMES, -5).length, 0);
  assert.equal(lines.lines, 0);
  assert.throws(() => lines.format(packed, JSON_NAMES, '5' as unknown as number), TypeError);
});
