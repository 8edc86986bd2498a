// \summary: Tests of the native pcap/pcapng reader and writer against hand-built files and tshark/tcpdump/editcap.
/**
 * Test files are built here byte by byte (independent of the C++ writer), following
 * draft-ietf-opsawg-pcap (sections 4, 5) and draft-ietf-opsawg-pcapng (sections 3.1,
 * 4.1-4.4, appendix A). Cross-checks convert files with editcap/tcpdump/mergecap and
 * compare what our reader returns with what tshark reports.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { CaptureFileReader, CaptureFileWriter, readCaptureFile, type CaptureContents, type CaptureFrame } from '../../src/native/capture-file.js';
import { Prng } from '../fixtures/lib/prng.js';

const MODULE_PATH = path.resolve(__dirname, '..', '..', 'src', 'native', 'capture-file.js');

let tmp = '';
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'csumtop-capfile-'));
});
after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

let fileCounter = 0;
function tmpFile(name: string, content?: Buffer | string): string {
  const p = path.join(tmp, `${++fileCounter}-${name}`);
  if (content !== undefined) fs.writeFileSync(p, content);
  return p;
}

// ---------------------------------------------------------------------------------------
// Byte builders (both byte orders)

function u16(v: number, le: boolean): Buffer {
  const b = Buffer.alloc(2);
  if (le) b.writeUInt16LE(v);
  else b.writeUInt16BE(v);
  return b;
}
function u32(v: number, le: boolean): Buffer {
  const b = Buffer.alloc(4);
  if (le) b.writeUInt32LE(v >>> 0);
  else b.writeUInt32BE(v >>> 0);
  return b;
}
function u64(v: bigint, le: boolean): Buffer {
  const b = Buffer.alloc(8);
  const x = BigInt.asUintN(64, v);
  if (le) b.writeBigUInt64LE(x);
  else b.writeBigUInt64BE(x);
  return b;
}
function pad4(b: Buffer): Buffer {
  const n = (4 - (b.length % 4)) % 4;
  return n ? Buffer.concat([b, Buffer.alloc(n)]) : b;
}

/** Deterministic pseudo-random bytes (test/fixtures/lib/prng.ts). */
function randomBytes(n: number, seed: number): Buffer {
  return Buffer.from(new Prng(seed).bytes(n));
}
/** An Ethernet-looking frame of `n` bytes (n >= 14): tshark and tcpdump dissect it. */
function etherFrame(n: number, seed: number): Buffer {
  const b = randomBytes(n, seed);
  b.writeUInt16BE(0x88b5, 12); // local experimental ethertype: opaque payload
  return b;
}

interface Expected {
  data: Buffer;
  caplen: number;
  wirelen: number;
  tsNs: bigint;
  iface: number;
  offset: number;
  end: number;
}

/** A file under construction: blocks/records with their offsets, expected frames. */
class FileBuilder {
  private parts: Buffer[] = [];
  size = 0;
  /** Every record/block: [offset, end). */
  units: { offset: number; end: number }[] = [];
  frames: Expected[] = [];

  add(b: Buffer, frame?: Omit<Expected, 'offset' | 'end'>, isHeader = false): this {
    const offset = this.size;
    this.parts.push(b);
    this.size += b.length;
    if (!isHeader) this.units.push({ offset, end: this.size });
    if (frame) this.frames.push({ ...frame, offset, end: this.size });
    return this;
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

// pcap (draft-ietf-opsawg-pcap sections 4 and 5)
const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;

function pcapHeader(le: boolean, nsec: boolean, linktypeField: number, snaplen = 65535, major = 2, minor = 4): Buffer {
  return Buffer.concat([
    u32(nsec ? PCAP_MAGIC_NS : PCAP_MAGIC_US, le),
    u16(major, le),
    u16(minor, le),
    u32(0, le),
    u32(0, le),
    u32(snaplen, le),
    u32(linktypeField, le),
  ]);
}
function pcapRecord(le: boolean, sec: number, frac: number, data: Buffer, wirelen = data.length, caplen = data.length): Buffer {
  return Buffer.concat([u32(sec, le), u32(frac, le), u32(caplen, le), u32(wirelen, le), data]);
}

// pcapng (draft-ietf-opsawg-pcapng)
const BT_SHB = 0x0a0d0d0a;
const BT_IDB = 1;
const BT_PB = 2;
const BT_SPB = 3;
const BT_NRB = 4;
const BT_ISB = 5;
const BT_EPB = 6;
const BT_DSB = 0x0a;
const BT_CB = 0x00000bad;

function ngBlock(type: number, body: Buffer, le: boolean, lenOverride?: number, trailerOverride?: number): Buffer {
  const b = pad4(body);
  const len = b.length + 12;
  return Buffer.concat([u32(type, le), u32(lenOverride ?? len, le), b, u32(trailerOverride ?? lenOverride ?? len, le)]);
}
function ngOption(code: number, value: Buffer, le: boolean): Buffer {
  return Buffer.concat([u16(code, le), u16(value.length, le), pad4(value)]);
}
function ngEnd(le: boolean): Buffer {
  return Buffer.concat([u16(0, le), u16(0, le)]);
}
function shb(le: boolean, major = 1, minor = 0, options: Buffer = Buffer.alloc(0)): Buffer {
  return ngBlock(BT_SHB, Buffer.concat([u32(0x1a2b3c4d, le), u16(major, le), u16(minor, le), u64(-1n, le), options]), le);
}
interface IdbSpec {
  linktype: number;
  snaplen?: number;
  name?: string;
  description?: string;
  tsresol?: number;
  tsoffset?: bigint;
}
function idb(le: boolean, s: IdbSpec): Buffer {
  const opts: Buffer[] = [];
  if (s.name !== undefined) opts.push(ngOption(2, Buffer.from(s.name), le));
  if (s.description !== undefined) opts.push(ngOption(3, Buffer.from(s.description), le));
  if (s.tsresol !== undefined) opts.push(ngOption(9, Buffer.from([s.tsresol]), le));
  if (s.tsoffset !== undefined) opts.push(ngOption(14, u64(s.tsoffset, le), le));
  opts.push(ngOption(4, Buffer.from('tcp port 80'), le)); // if_filter-ish: ignored
  if (opts.length) opts.push(ngEnd(le));
  return ngBlock(BT_IDB, Buffer.concat([u16(s.linktype, le), u16(0, le), u32(s.snaplen ?? 0, le), ...opts]), le);
}
function epb(le: boolean, iface: number, ts: bigint, data: Buffer, wirelen = data.length, caplen = data.length): Buffer {
  const body = Buffer.concat([
    u32(iface, le),
    u32(Number(ts >> 32n), le),
    u32(Number(ts & 0xffffffffn), le),
    u32(caplen, le),
    u32(wirelen, le),
    pad4(data),
    ngOption(1, Buffer.from('a comment'), le), // opt_comment
    ngEnd(le),
  ]);
  return ngBlock(BT_EPB, body, le);
}
function pb(le: boolean, iface: number, ts: bigint, data: Buffer, wirelen = data.length): Buffer {
  const body = Buffer.concat([
    u16(iface, le),
    u16(0, le), // drops count
    u32(Number(ts >> 32n), le),
    u32(Number(ts & 0xffffffffn), le),
    u32(data.length, le),
    u32(wirelen, le),
    pad4(data),
  ]);
  return ngBlock(BT_PB, body, le);
}
function spb(le: boolean, data: Buffer, wirelen: number): Buffer {
  return ngBlock(BT_SPB, Buffer.concat([u32(wirelen, le), data]), le);
}

/** Units per second of an if_tsresol value (pcapng section 4.2). */
function unitsPerSecond(tsresol: number): bigint {
  return tsresol & 0x80 ? 2n ** BigInt(tsresol & 0x7f) : 10n ** BigInt(tsresol);
}
/** The timestamp, in the interface's units, of `ns` since the epoch (floored). */
function toUnits(ns: bigint, tsresol: number, tsoffset = 0n): bigint {
  return ((ns - tsoffset * 1_000_000_000n) * unitsPerSecond(tsresol)) / 1_000_000_000n;
}
/** What a reader must return for a timestamp in units: floor to ns, plus the offset. */
function unitsToNs(ts: bigint, tsresol: number, tsoffset = 0n): bigint {
  const u = unitsPerSecond(tsresol);
  return (ts / u + tsoffset) * 1_000_000_000n + ((ts % u) * 1_000_000_000n) / u;
}

// ---------------------------------------------------------------------------------------
// Reading helpers

function read(file: string): CaptureContents {
  return readCaptureFile(file);
}

function assertFrames(got: CaptureFrame[], want: Expected[], label = ''): void {
  assert.equal(got.length, want.length, `${label}: frame count`);
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    const where = `${label}: frame ${i + 1}`;
    assert.equal(g.number, i + 1, `${where} number`);
    assert.equal(g.caplen, w.caplen, `${where} caplen`);
    assert.equal(g.wirelen, w.wirelen, `${where} wirelen`);
    assert.equal(g.tsNs, w.tsNs, `${where} tsNs`);
    assert.equal(g.iface, w.iface, `${where} iface`);
    assert.equal(g.offset, w.offset, `${where} offset`);
    assert.equal(g.data.length, w.caplen, `${where} data length`);
    assert.ok(g.data.equals(w.data.subarray(0, w.caplen)), `${where} data`);
  }
}

function openError(file: string): string {
  try {
    new CaptureFileReader(file).close();
  } catch (err) {
    return (err as Error).message;
  }
  assert.fail(`${file}: opened, but an error was expected`);
}

function framesBeforeText(n: number): string {
  if (n === 0) return 'no frame before it';
  if (n === 1) return 'the 1 frame before it was read';
  return `the ${n} frames before it were read`;
}

function haveTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

interface ToolFrame {
  number: number;
  tsNs: bigint;
  wirelen: number;
  caplen: number;
  ifname: string;
}

/** frame.time_epoch "1700000000.123456789" -> ns, exactly. */
function epochToNs(s: string): bigint {
  const [sec, frac = ''] = s.split('.');
  return BigInt(sec) * 1_000_000_000n + BigInt((frac + '000000000').slice(0, 9));
}

function tsharkFrames(file: string): ToolFrame[] {
  const out = execFileSync(
    'tshark',
    [
      '-r',
      file,
      '-T',
      'fields',
      '-E',
      'separator=/t',
      '-e',
      'frame.number',
      '-e',
      'frame.time_epoch',
      '-e',
      'frame.len',
      '-e',
      'frame.cap_len',
      '-e',
      'frame.interface_name',
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 },
  );
  return out
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const [n, t, len, cap, ifname = ''] = l.split('\t');
      return { number: Number(n), tsNs: epochToNs(t), wirelen: Number(len), caplen: Number(cap), ifname };
    });
}

function ourFrames(c: CaptureContents): ToolFrame[] {
  return c.frames.map((f) => ({
    number: f.number,
    tsNs: f.tsNs,
    wirelen: f.wirelen,
    caplen: f.caplen,
    // tshark calls a pcapng interface without if_name "unknown" (pcap has no names).
    ifname: c.format === 'pcapng' ? c.interfaces[f.iface].name || 'unknown' : '',
  }));
}

function tool(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed: ${r.stderr}`);
}

// ---------------------------------------------------------------------------------------

describe('pcap', () => {
  for (const le of [true, false]) {
    for (const nsec of [false, true]) {
      test(`${le ? 'little' : 'big'}-endian, ${nsec ? 'nanosecond' : 'microsecond'} timestamps`, () => {
        // Link type with FCS bits set in the upper half (pcap draft section 4, Figure 2):
        // FCS len 2, P bit: the link type is still the low 16 bits.
        const linktype = nsec ? 113 : 1;
        const field = le ? linktype : (0x2 << 28) | (1 << 26) | linktype;
        const f = new FileBuilder().add(pcapHeader(le, nsec, field, 1500), undefined, true);
        const sizes = [60, 1514, 1, 0, 333, 1500];
        sizes.forEach((n, i) => {
          const data = randomBytes(n, 100 + i);
          const sec = 1_700_000_000 + i;
          const frac = nsec ? 999_999_999 - i : 999_999 - i;
          const wirelen = i === 4 ? 4000 : n; // truncated capture
          f.add(pcapRecord(le, sec, frac, data, wirelen), {
            data,
            caplen: n,
            wirelen,
            tsNs: BigInt(sec) * 1_000_000_000n + BigInt(nsec ? frac : frac * 1000),
            iface: 0,
          });
        });
        // caplen above the SnapLen (1500) is accepted
        const big = randomBytes(2000, 7);
        f.add(pcapRecord(le, 5, 6, big), { data: big, caplen: 2000, wirelen: 2000, tsNs: 5_000_000_000n + (nsec ? 6n : 6000n), iface: 0 });
        const file = tmpFile('a.pcap', f.bytes());
        const c = read(file);
        assert.equal(c.format, 'pcap');
        assert.deepEqual(c.interfaces, [{ name: '', description: '', linktype, snaplen: 1500, section: 0 }]);
        assertFrames(c.frames, f.frames, 'pcap');
        assert.deepEqual(c.end, { status: 'eof' });
      });
    }
  }

  test('a record at libpcap maximum (256 KiB) is read', () => {
    const le = true;
    const max = randomBytes(262144, 3);
    const ok = new FileBuilder()
      .add(pcapHeader(le, false, 1, 262144), undefined, true)
      .add(pcapRecord(le, 1, 2, max), { data: max, caplen: max.length, wirelen: max.length, tsNs: 1_000_002_000n, iface: 0 });
    assertFrames(read(tmpFile('max.pcap', ok.bytes())).frames, ok.frames, 'max');
  });

  test('a file that grows while it is read (mapped to its size at open) is read to its new end', () => {
    // Regular files are mapped as they are at open; what is appended later is read with
    // read(2), starting with the rest of a record that the old end cut in two.
    const f = new FileBuilder().add(pcapHeader(true, true, 1), undefined, true);
    for (let i = 0; i < 3000; i++) {
      const data = randomBytes(100 + (i % 1400), i);
      f.add(pcapRecord(true, i, i, data), { data, caplen: data.length, wirelen: data.length, tsNs: BigInt(i) * 1_000_000_001n, iface: 0 });
    }
    const all = f.bytes();
    const cutAt = f.units[2000].end + 10; // inside record 2001's header
    const file = tmpFile('grow.pcap', all.subarray(0, cutAt));
    const r = new CaptureFileReader(file);
    for (let i = 0; i < 1500; i++) assert.equal(r.next().status, 'frame');
    fs.appendFileSync(file, all.subarray(cutAt));
    const d = r.drain();
    assert.deepEqual(d.end, { status: 'eof' });
    assert.equal(r.framesRead, 3000);
    assert.equal(r.bytesRead, all.length);
    r.close();
    assertFrames(read(file).frames, f.frames, 'grown');
  });

  test('bytesRead and framesRead follow the records', () => {
    const f = new FileBuilder().add(pcapHeader(true, true, 1), undefined, true);
    for (let i = 0; i < 3; i++) f.add(pcapRecord(true, i, i, randomBytes(50 + i, i)));
    const r = new CaptureFileReader(tmpFile('count.pcap', f.bytes()));
    assert.equal(r.bytesRead, 24);
    assert.equal(r.next().status, 'frame');
    assert.equal(r.bytesRead, f.units[0].end);
    assert.equal(r.framesRead, 1);
    assert.equal(r.drain().frames, 2);
    assert.equal(r.bytesRead, f.size);
    assert.equal(r.framesRead, 3);
    r.close();
  });
});

/** A pcapng section with several interfaces of different link types and resolutions. */
function multiInterfaceSection(f: FileBuilder, le: boolean, firstGlobal: number, seed: number): void {
  const specs: IdbSpec[] = [
    { linktype: 1, snaplen: 65535, name: 'eth0', description: 'uplink' }, // default 10^-6
    { linktype: 101, snaplen: 0, name: 'tun0', tsresol: 9 },
    { linktype: 113, snaplen: 262144, name: 'any', tsresol: 0x80 | 10 }, // 2^-10
    { linktype: 1, snaplen: 9000, name: 'vxlan.calico', tsresol: 3, tsoffset: 3600n }, // ms, +1 h
    { linktype: 276, snaplen: 128, name: 'sll2', tsresol: 0x80 | 32, tsoffset: -100n }, // 2^-32
    { linktype: 1, name: 'fine', tsresol: 10 }, // 10^-10 s: today's time needs 64 bits
  ];
  f.add(shb(le));
  for (const s of specs) f.add(idb(le, s));
  const baseNs = 1_700_000_000_123_456_789n;
  let k = 0;
  for (let round = 0; round < 2; round++) {
    specs.forEach((s, i) => {
      const tsresol = s.tsresol ?? 6;
      const ns = baseNs + BigInt(k) * 1_234_567_891n;
      const units = toUnits(ns, tsresol, s.tsoffset ?? 0n);
      const n = 20 + ((k * 37) % 100);
      const data = etherFrame(n, seed + k);
      f.add(epb(le, i, units, data, n + k), {
        data,
        caplen: n,
        wirelen: n + k,
        tsNs: unitsToNs(units, tsresol, s.tsoffset ?? 0n),
        iface: firstGlobal + i,
      });
      k++;
    });
  }
}

describe('pcapng', () => {
  for (const le of [true, false]) {
    test(`${le ? 'little' : 'big'}-endian section, interfaces with their own link type, name, if_tsresol and if_tsoffset`, () => {
      const f = new FileBuilder();
      multiInterfaceSection(f, le, 0, 1000);
      const file = tmpFile('multi.pcapng', f.bytes());
      const c = read(file);
      assert.equal(c.format, 'pcapng');
      assert.deepEqual(
        c.interfaces.map((i) => [i.name, i.description, i.linktype, i.snaplen, i.section]),
        [
          ['eth0', 'uplink', 1, 65535, 0],
          ['tun0', '', 101, 0, 0],
          ['any', '', 113, 262144, 0],
          ['vxlan.calico', '', 1, 9000, 0],
          ['sll2', '', 276, 128, 0],
          ['fine', '', 1, 0, 0],
        ],
      );
      assertFrames(c.frames, f.frames, 'multi');
      assert.deepEqual(c.end, { status: 'eof' });
    });
  }

  test('timestamp conversion: exact values for 10^-6, 10^-9, 2^-10, 10^-3, 2^-32, 10^-10, 2^-63, 10^-19 (+ if_tsoffset)', () => {
    const le = true;
    const f = new FileBuilder().add(shb(le));
    f.add(idb(le, { linktype: 1 }));
    f.add(idb(le, { linktype: 1, tsresol: 9 }));
    f.add(idb(le, { linktype: 1, tsresol: 0x8a }));
    f.add(idb(le, { linktype: 1, tsresol: 3, tsoffset: -3600n }));
    f.add(idb(le, { linktype: 1, tsresol: 0xa0 }));
    f.add(idb(le, { linktype: 1, tsresol: 10 }));
    // Very fine clocks only fit 64 bits relative to an if_tsoffset; frac * 10^9 does not.
    f.add(idb(le, { linktype: 1, tsresol: 0x80 | 63, tsoffset: 1_700_000_000n }));
    f.add(idb(le, { linktype: 1, tsresol: 19, tsoffset: 1_700_000_000n }));
    const d = Buffer.from('x');
    const cases: [number, bigint, bigint][] = [
      [0, 1_700_000_000_654_321n, 1_700_000_000_654_321_000n],
      [1, 1_700_000_000_987_654_321n, 1_700_000_000_987_654_321n],
      [2, 1_700_000_000n * 1024n + 512n, 1_700_000_000_500_000_000n],
      [3, 1_700_003_600_250n, 1_700_000_000_250_000_000n],
      // 2^-32 units of 2023: ts * 10^9 needs 93 bits.
      [4, (1_700_000_000n << 32n) + (1n << 30n), 1_700_000_000_250_000_000n],
      // 10^-10 units of 2023 (1.7e19) fit 64 bits but not once multiplied by 10^9.
      [5, 17_000_000_001_234_567_899n, 1_700_000_000_123_456_789n],
      [6, (1n << 62n) + (1n << 61n), 1_700_000_000_750_000_000n],
      [7, 12_345_678_912_345_678_912n, 1_700_000_001_234_567_891n],
    ];
    for (const [iface, ts, ns] of cases) f.add(epb(le, iface, ts, d), { data: d, caplen: 1, wirelen: 1, tsNs: ns, iface });
    assertFrames(read(tmpFile('ts.pcapng', f.bytes())).frames, f.frames, 'ts');
  });

  test('two sections of different byte order: interfaces reset per section, global indices', () => {
    const f = new FileBuilder();
    multiInterfaceSection(f, true, 0, 2000);
    multiInterfaceSection(f, false, 6, 3000);
    // A third section reusing interface ID 0 for a new interface.
    f.add(shb(true));
    f.add(idb(true, { linktype: 228, name: 'ipv4only' }));
    const d = randomBytes(40, 9);
    f.add(epb(true, 0, 1_000_000n, d), { data: d, caplen: 40, wirelen: 40, tsNs: 1_000_000_000n, iface: 12 });
    const c = read(tmpFile('sections.pcapng', f.bytes()));
    assert.equal(c.interfaces.length, 13);
    assert.deepEqual(
      c.interfaces.map((i) => i.section),
      [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2],
    );
    assert.equal(c.interfaces[6].name, 'eth0');
    assert.equal(c.interfaces[12].linktype, 228);
    assertFrames(c.frames, f.frames, 'sections');
    assert.deepEqual(c.end, { status: 'eof' });
  });

  test('EPB, SPB and obsolete PB; every other block type is skipped and counted', () => {
    for (const le of [true, false]) {
      const f = new FileBuilder().add(shb(le));
      f.add(idb(le, { linktype: 1, snaplen: 64, name: 'first', tsresol: 9 }));
      f.add(ngBlock(BT_NRB, Buffer.concat([u16(1, le), u16(8, le), Buffer.from([10, 0, 0, 1]), Buffer.from('host'), u32(0, le)]), le));
      f.add(idb(le, { linktype: 101, snaplen: 0, name: 'second' }));
      const a = randomBytes(60, 1);
      f.add(epb(le, 1, 5_000_000n, a), { data: a, caplen: 60, wirelen: 60, tsNs: 5_000_000_000n, iface: 1 });
      // SPB: interface 0 (first), captured = min(original, snaplen 64, body)
      const s1 = randomBytes(100, 2);
      f.add(spb(le, s1, 100), { data: s1, caplen: 64, wirelen: 100, tsNs: 0n, iface: 0 });
      const s2 = randomBytes(41, 3); // padded to 44 in the block, original 41
      f.add(spb(le, s2, 41), { data: s2, caplen: 41, wirelen: 41, tsNs: 0n, iface: 0 });
      const s3 = randomBytes(20, 4); // body holds 20 (padded 20), original 1000, snaplen 64
      f.add(spb(le, s3, 1000), { data: s3, caplen: 20, wirelen: 1000, tsNs: 0n, iface: 0 });
      f.add(ngBlock(BT_ISB, Buffer.concat([u32(0, le), u32(0, le), u32(0, le)]), le));
      f.add(ngBlock(BT_DSB, Buffer.concat([u32(0x544c534b, le), u32(4, le), Buffer.from('keys')]), le));
      f.add(ngBlock(BT_CB, Buffer.concat([u32(32473, le), Buffer.from('custom data')]), le));
      f.add(ngBlock(0x80000001, Buffer.alloc(0), le)); // local use, empty body
      const p = randomBytes(33, 5);
      f.add(pb(le, 0, 7_000_000_000n, p, 1500), { data: p, caplen: 33, wirelen: 1500, tsNs: 7_000_000_000n, iface: 0 });
      const c = read(tmpFile('kinds.pcapng', f.bytes()));
      assertFrames(c.frames, f.frames, `kinds ${le ? 'le' : 'be'}`);
      assert.equal(c.blocksSkipped, 5);
      assert.deepEqual(c.end, { status: 'eof' });
    }
  });

  test('interfaces right after the section header are known once the file is open', () => {
    const f = new FileBuilder()
      .add(shb(true))
      .add(idb(true, { linktype: 1, name: 'a' }))
      .add(idb(true, { linktype: 113, name: 'b' }));
    f.add(epb(true, 0, 1n, Buffer.alloc(14))).add(idb(true, { linktype: 101, name: 'late' }));
    const r = new CaptureFileReader(tmpFile('early.pcapng', f.bytes()));
    assert.deepEqual(
      r.interfaces().map((i) => i.name),
      ['a', 'b'],
    );
    assert.equal(r.next().status, 'frame');
    assert.deepEqual(r.next(), { status: 'eof' });
    assert.deepEqual(
      r.interfaces().map((i) => i.name),
      ['a', 'b', 'late'],
    );
    r.close();
  });

  test('records larger than the 1 MiB read buffer (grown for them) and records across refills', () => {
    const le = true;
    const f = new FileBuilder().add(shb(le)).add(idb(le, { linktype: 1, tsresol: 9 }));
    const sizes = [100, 3_000_001, 1514, 5_000_000, 7, 1_048_576, 60];
    sizes.forEach((n, i) => {
      const d = randomBytes(n, 50 + i);
      f.add(epb(le, 0, BigInt(i), d), { data: d, caplen: n, wirelen: n, tsNs: BigInt(i), iface: 0 });
    });
    for (let i = 0; i < 3000; i++) {
      const n = 60 + ((i * 131) % 1455);
      const d = randomBytes(n, 9000 + i);
      f.add(epb(le, 0, BigInt(1000 + i), d), { data: d, caplen: n, wirelen: n, tsNs: BigInt(1000 + i), iface: 0 });
    }
    const c = read(tmpFile('big-records.pcapng', f.bytes()));
    assertFrames(c.frames, f.frames, 'big records');
    assert.deepEqual(c.end, { status: 'eof' });
  });
});

// ---------------------------------------------------------------------------------------

describe('corrupt and unsupported files give an error naming the byte offset', () => {
  test('not a capture file: random bytes, text, too short, empty, a directory, missing', () => {
    let rnd = randomBytes(4096, 42);
    rnd[0] = 0x12;
    rnd[1] = 0x34;
    rnd[2] = 0x56;
    rnd[3] = 0x78;
    assert.equal(openError(tmpFile('random.bin', rnd)), 'not a pcap or pcapng file: magic 0x12345678 at byte offset 0');
    for (let seed = 1; seed <= 20; seed++) {
      rnd = randomBytes(1 + seed * 37, seed);
      const msg = openError(tmpFile('random.bin', rnd));
      assert.match(msg, /^(not a pcap or pcapng file: magic 0x[0-9a-f]{8} at byte offset 0|not a pcap or pcapng file: only \d bytes at byte offset 0.*)$/);
    }
    assert.equal(openError(tmpFile('text.txt', 'Hello, this is not a capture\n')), 'not a pcap or pcapng file: magic 0x48656c6c at byte offset 0');
    assert.equal(openError(tmpFile('empty.pcap', Buffer.alloc(0))), 'empty file');
    assert.match(openError(tmpFile('three.pcap', Buffer.from([0xd4, 0xc3, 0xb2]))), /^not a pcap or pcapng file: only 3 bytes at byte offset 0/);
    assert.match(openError(tmp), /it is a directory/);
    assert.match(openError(path.join(tmp, 'does-not-exist.pcap')), /^cannot open .*does-not-exist\.pcap: No such file or directory$/);
  });

  test('truncated file headers and unsupported versions', () => {
    const ph = pcapHeader(true, false, 1);
    assert.equal(openError(tmpFile('h.pcap', ph.subarray(0, 10))), 'truncated pcap file header at byte offset 0: 24 bytes needed, 10 present');
    assert.match(openError(tmpFile('v.pcap', pcapHeader(false, true, 1, 65535, 3, 0))), /^unsupported pcap version 3\.0 at byte offset 4/);
    const s = shb(true);
    assert.match(openError(tmpFile('h.pcapng', s.subarray(0, 10))), /^truncated pcapng section header block at byte offset 0: 28 bytes needed, 10 present$/);
    assert.match(openError(tmpFile('h2.pcapng', s.subarray(0, 20))), /^truncated pcapng section header block at byte offset 0: 28 bytes needed, 20 present$/);
    assert.match(openError(tmpFile('v.pcapng', shb(false, 2, 0))), /^unsupported pcapng version 2\.0 in the section header block at byte offset 0/);
    const badBom = Buffer.from(s);
    badBom.writeUInt32BE(0xdeadbeef, 8);
    assert.match(openError(tmpFile('bom.pcapng', badBom)), /^corrupt pcapng section header block at byte offset 0: byte-order magic 0xdeadbeef/);
    const short = Buffer.from(s);
    short.writeUInt32LE(26, 4);
    assert.match(openError(tmpFile('shb26.pcapng', short)), /^corrupt pcapng block at byte offset 0: total length 26 is not a multiple of 4$/);
  });

  /** A pcapng prefix (SHB, IDB, one EPB) then `tail`: the error must name tail's offset. */
  function ngWithTail(le: boolean, tail: Buffer): { file: string; offset: number } {
    const f = new FileBuilder().add(shb(le)).add(idb(le, { linktype: 1, name: 'eth0' }));
    f.add(epb(le, 0, 1n, Buffer.alloc(60)));
    const offset = f.size;
    f.add(tail);
    f.add(epb(le, 0, 2n, Buffer.alloc(60))); // never reached
    return { file: tmpFile('tail.pcapng', f.bytes()), offset };
  }
  function expectErrorAfterOneFrame(file: string, re: RegExp): void {
    const r = new CaptureFileReader(file);
    const first = r.next();
    assert.equal(first.status, 'frame');
    const e = r.next();
    assert.equal(e.status, 'error', JSON.stringify(e));
    if (e.status === 'error') assert.match(e.error, re);
    assert.deepEqual(r.next(), e, 'the error is repeated');
    r.close();
  }

  for (const le of [true, false]) {
    const bo = le ? 'LE' : 'BE';
    test(`pcapng ${bo}: block length not a multiple of 4, below 12, huge; trailer mismatch`, () => {
      let t = ngWithTail(le, Buffer.concat([u32(BT_EPB, le), u32(30, le), Buffer.alloc(24)]));
      expectErrorAfterOneFrame(t.file, new RegExp(`^corrupt pcapng block at byte offset ${t.offset}: total length 30 is not a multiple of 4$`));
      t = ngWithTail(le, Buffer.concat([u32(BT_NRB, le), u32(8, le), u32(8, le)]));
      expectErrorAfterOneFrame(t.file, new RegExp(`^corrupt pcapng block at byte offset ${t.offset}: total length 8 is less than the minimum of 12$`));
      t = ngWithTail(le, Buffer.concat([u32(BT_EPB, le), u32(0x7ffffff0, le), Buffer.alloc(64)]));
      expectErrorAfterOneFrame(
        t.file,
        new RegExp(`^corrupt pcapng block at byte offset ${t.offset}: total length 2147483632 exceeds the maximum of 16777216$`),
      );
      t = ngWithTail(le, ngBlock(BT_ISB, Buffer.alloc(84), le, undefined, 100));
      expectErrorAfterOneFrame(t.file, new RegExp(`^corrupt pcapng block at byte offset ${t.offset}: total length 96 at the start but 100 at the end$`));
    });

    test(`pcapng ${bo}: EPB/PB with an undefined interface, caplen beyond the block, SPB without interface`, () => {
      let t = ngWithTail(le, epb(le, 3, 5n, Buffer.alloc(20)));
      expectErrorAfterOneFrame(
        t.file,
        new RegExp(
          `^corrupt pcapng block at byte offset ${t.offset}: enhanced packet block refers to interface 3, but this section defines 1 interface\\(s\\)$`,
        ),
      );
      t = ngWithTail(le, pb(le, 1, 5n, Buffer.alloc(20)));
      expectErrorAfterOneFrame(t.file, new RegExp(`^corrupt pcapng block at byte offset ${t.offset}: packet block refers to interface 1`));
      t = ngWithTail(le, epb(le, 0, 5n, Buffer.alloc(100), 100_000, 100_000));
      expectErrorAfterOneFrame(
        t.file,
        new RegExp(`^corrupt pcapng block at byte offset ${t.offset}: captured length 100000 is greater than the block body \\(\\d+ bytes for packet data\\)$`),
      );
      t = ngWithTail(le, epb(le, 0, 5n, Buffer.alloc(100), 0xffffffff, 0xffffffff));
      expectErrorAfterOneFrame(
        t.file,
        new RegExp(`^corrupt pcapng block at byte offset ${t.offset}: captured length 4294967295 is greater than the block body`),
      );
      t = ngWithTail(le, ngBlock(BT_EPB, Buffer.alloc(8), le));
      expectErrorAfterOneFrame(
        t.file,
        new RegExp(`^corrupt pcapng block at byte offset ${t.offset}: enhanced packet block body of 8 bytes is shorter than its 20 fixed bytes$`),
      );
      // A new section forgets the interfaces of the previous one.
      t = ngWithTail(le, Buffer.concat([shb(!le), epb(!le, 0, 1n, Buffer.alloc(10))]));
      expectErrorAfterOneFrame(
        t.file,
        new RegExp(
          `^corrupt pcapng block at byte offset ${t.offset + 28}: enhanced packet block refers to interface 0, but this section defines 0 interface\\(s\\)$`,
        ),
      );
      t = ngWithTail(le, Buffer.concat([shb(le), spb(le, Buffer.alloc(10), 10)]));
      expectErrorAfterOneFrame(
        t.file,
        new RegExp(`^corrupt pcapng block at byte offset ${t.offset + 28}: simple packet block, but this section defines no interface$`),
      );
      // Options: a length running past the block; unsupported if_tsresol.
      const badOpt = ngBlock(BT_IDB, Buffer.concat([u16(1, le), u16(0, le), u32(0, le), u16(2, le), u16(200, le), Buffer.from('eth1')]), le);
      t = ngWithTail(le, badOpt);
      expectErrorAfterOneFrame(
        t.file,
        new RegExp(`^corrupt pcapng block at byte offset ${t.offset}: interface description block option 2 of 200 bytes runs past the end of the block$`),
      );
      t = ngWithTail(le, idb(le, { linktype: 1, tsresol: 0x80 | 64 }));
      expectErrorAfterOneFrame(t.file, new RegExp(`^unsupported if_tsresol 2\\^-64 in the interface description block at byte offset ${t.offset}`));
      t = ngWithTail(le, idb(le, { linktype: 1, tsresol: 20 }));
      expectErrorAfterOneFrame(t.file, new RegExp(`^unsupported if_tsresol 10\\^-20 in the interface description block at byte offset ${t.offset}`));
      t = ngWithTail(le, Buffer.concat([shb(le, 1, 1)]));
      expectErrorAfterOneFrame(t.file, new RegExp(`^unsupported pcapng version 1\\.1 in the section header block at byte offset ${t.offset}`));
    });
  }

  test('pcap: huge captured lengths are corruption after the frames before them', () => {
    for (const le of [true, false]) {
      for (const caplen of [262145, 0x7fffffff, 0xffffffff]) {
        const f = new FileBuilder().add(pcapHeader(le, false, 1), undefined, true);
        f.add(pcapRecord(le, 1, 1, Buffer.alloc(60)));
        const offset = f.size;
        f.add(pcapRecord(le, 1, 2, Buffer.alloc(100), caplen, caplen));
        expectErrorAfterOneFrame(
          tmpFile('huge.pcap', f.bytes()),
          new RegExp(`^corrupt pcap record at byte offset ${offset}: captured length ${caplen} exceeds the maximum of 262144$`),
        );
      }
    }
  });
});

// ---------------------------------------------------------------------------------------

describe('files cut off at every byte position', () => {
  function checkCuts(full: Buffer, f: FileBuilder, headerLen: number, isPcap: boolean): void {
    for (let cut = 0; cut <= full.length; cut++) {
      const file = path.join(tmp, 'cut.bin');
      fs.writeFileSync(file, full.subarray(0, cut));
      const label = `cut at ${cut}`;
      if (cut === 0) {
        assert.equal(openError(file), 'empty file', label);
        continue;
      }
      if (cut < 4) {
        assert.match(openError(file), /^not a pcap or pcapng file: only \d bytes at byte offset 0/, label);
        continue;
      }
      if (cut < headerLen) {
        assert.match(openError(file), /^truncated (pcap file header|pcapng section header block) at byte offset 0: /, label);
        continue;
      }
      const c = read(file);
      const complete = f.frames.filter((x) => x.end <= cut);
      assertFrames(c.frames, complete, label);
      const partial = f.units.find((u) => u.offset < cut && cut < u.end);
      if (!partial) {
        assert.deepEqual(c.end, { status: 'eof' }, label);
        continue;
      }
      assert.equal(c.end.status, 'truncated', `${label}: ${JSON.stringify(c.end)}`);
      if (c.end.status !== 'truncated') continue;
      const have = cut - partial.offset;
      let detail: string;
      if (isPcap) {
        detail = have < 16 ? `16-byte record header, ${have} present` : `record header says ${partial.end - partial.offset - 16} bytes, ${have - 16} present`;
      } else {
        const isShb = full.readUInt32LE(partial.offset) === BT_SHB;
        if (have < 8) detail = `${have} bytes of an 8-byte pcapng block header present`;
        else if (isShb && have < 12) detail = `${have} bytes of a pcapng section header block present`;
        else detail = `pcapng block header says ${partial.end - partial.offset} bytes, ${have} present`;
      }
      assert.equal(
        c.end.warning,
        `file ends in the middle of a record at byte offset ${partial.offset} (${detail}); ${framesBeforeText(complete.length)}`,
        label,
      );
    }
  }

  test('pcap', () => {
    const le = false;
    const f = new FileBuilder().add(pcapHeader(le, true, 1), undefined, true);
    [60, 0, 1514, 3, 90].forEach((n, i) => {
      const d = randomBytes(n, 70 + i);
      f.add(pcapRecord(le, 10 + i, i, d), { data: d, caplen: n, wirelen: n, tsNs: BigInt(10 + i) * 1_000_000_000n + BigInt(i), iface: 0 });
    });
    checkCuts(f.bytes(), f, 24, true);
  });

  test('pcapng', () => {
    const f = new FileBuilder();
    for (const le of [true, false]) {
      f.add(shb(le));
      f.add(idb(le, { linktype: 1, name: 'eth0', tsresol: 9 }));
      const a = randomBytes(61, le ? 1 : 2);
      f.add(epb(le, 0, 11n, a), { data: a, caplen: 61, wirelen: 61, tsNs: 11n, iface: le ? 0 : 1 });
      f.add(ngBlock(BT_NRB, Buffer.alloc(4), le));
      const b = randomBytes(30, 3);
      f.add(spb(le, b, 30), { data: b, caplen: 30, wirelen: 30, tsNs: 0n, iface: le ? 0 : 1 });
      const c = randomBytes(45, 4);
      f.add(pb(le, 0, 12n, c), { data: c, caplen: 45, wirelen: 45, tsNs: 12n, iface: le ? 0 : 1 });
    }
    checkCuts(f.bytes(), f, 28, false);
  });
});

// ---------------------------------------------------------------------------------------

describe('pipes (no seeking)', () => {
  function viaStdin(input: Buffer): { summary: string; frames: number; end: unknown; digest: string } {
    const script = `
      const { readCaptureFile } = require(${JSON.stringify(MODULE_PATH)});
      const { createHash } = require('node:crypto');
      const c = readCaptureFile(0);
      const h = createHash('sha256');
      for (const f of c.frames) { h.update(f.data); h.update(String(f.tsNs) + ' ' + f.wirelen + ' ' + f.iface + ' ' + f.offset + ';'); }
      process.stdout.write(JSON.stringify({ summary: c.format + ' ' + c.interfaces.map((i) => i.name).join(','), frames: c.frames.length, end: c.end, digest: h.digest('hex') }));
    `;
    const out = execFileSync(process.execPath, ['-e', script], { input, encoding: 'utf8', maxBuffer: 1 << 26, timeout: 60_000 });
    return JSON.parse(out) as { summary: string; frames: number; end: unknown; digest: string };
  }
  function digestOf(c: CaptureContents): string {
    const h = createHash('sha256');
    for (const f of c.frames) {
      h.update(f.data);
      h.update(String(f.tsNs) + ' ' + f.wirelen + ' ' + f.iface + ' ' + f.offset + ';');
    }
    return h.digest('hex');
  }

  test('a 3 MB pcapng read from stdin equals the file read from disk; a cut stream is truncated', () => {
    const f = new FileBuilder();
    multiInterfaceSection(f, true, 0, 77);
    for (let i = 0; i < 4000; i++) {
      const n = 60 + ((i * 97) % 1455);
      f.add(epb(true, i % 6, BigInt(i) * 1000n, randomBytes(n, i)));
    }
    const full = f.bytes();
    assert.ok(full.length > 2_000_000);
    const file = tmpFile('pipe.pcapng', full);
    const disk = read(file);
    const piped = viaStdin(full);
    assert.equal(piped.summary, 'pcapng eth0,tun0,any,vxlan.calico,sll2,fine');
    assert.equal(piped.frames, disk.frames.length);
    assert.equal(piped.frames, 4012);
    assert.deepEqual(piped.end, { status: 'eof' });
    assert.equal(piped.digest, digestOf(disk));

    const cut = full.subarray(0, full.length - 1000);
    const cutDisk = read(tmpFile('pipe-cut.pcapng', cut));
    const cutPiped = viaStdin(cut);
    assert.equal(cutDisk.end.status, 'truncated');
    assert.deepEqual(cutPiped.end, cutDisk.end);
    assert.equal(cutPiped.frames, cutDisk.frames.length);
    assert.equal(cutPiped.digest, digestOf(cutDisk));
  });

  test('a pcap through a pipe, and an empty pipe', () => {
    const f = new FileBuilder().add(pcapHeader(true, false, 1), undefined, true);
    for (let i = 0; i < 500; i++) f.add(pcapRecord(true, i, i, randomBytes(200 + i, i)));
    const piped = viaStdin(f.bytes());
    assert.equal(piped.frames, 500);
    assert.equal(piped.digest, digestOf(read(tmpFile('pipe.pcap', f.bytes()))));
    const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(MODULE_PATH)}).readCaptureFile(0)`], { input: Buffer.alloc(0), encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /Error: empty file/);
  });
});

// ---------------------------------------------------------------------------------------

describe('cross-checks with tshark, tcpdump, editcap and mergecap', () => {
  const tools = ['tshark', 'tcpdump', 'editcap', 'mergecap'].filter((t) => !haveTool(t));
  const skip = tools.length ? `not installed: ${tools.join(', ')}` : false;

  function compareWithTshark(file: string, label: string): CaptureContents {
    const ours = read(file);
    assert.deepEqual(ours.end, { status: 'eof' }, label);
    const theirs = tsharkFrames(file);
    assert.ok(theirs.length > 0, `${label}: tshark saw frames`);
    assert.deepEqual(ourFrames(ours), theirs, label);
    return ours;
  }

  test('hand-built pcapng, several interfaces, resolutions and offsets, both byte orders', { skip }, () => {
    for (const le of [true, false]) {
      const f = new FileBuilder();
      multiInterfaceSection(f, le, 0, 500);
      f.add(ngBlock(BT_ISB, Buffer.concat([u32(0, le), u32(0, le), u32(0, le)]), le));
      multiInterfaceSection(f, !le, 6, 600);
      compareWithTshark(tmpFile('x.pcapng', f.bytes()), `hand-built ${le ? 'LE' : 'BE'}`);
    }
  });

  test('hand-built pcap in every byte order and precision', { skip }, () => {
    for (const le of [true, false]) {
      for (const nsec of [false, true]) {
        const f = new FileBuilder().add(pcapHeader(le, nsec, 1, 1514), undefined, true);
        for (let i = 0; i < 20; i++) f.add(pcapRecord(le, 1_700_000_000 + i, i * 12345, etherFrame(14 + i * 50, i), 14 + i * 60));
        compareWithTshark(tmpFile('x.pcap', f.bytes()), `pcap ${le} ${nsec}`);
      }
    }
  });

  test('editcap -F pcapng / -F pcap / -F nsecpcap / -T, tcpdump -r -w, mergecap: same frames as tshark reports', { skip }, () => {
    // Source: a big-endian microsecond pcap of Ethernet frames.
    const src = new FileBuilder().add(pcapHeader(false, false, 1, 65535), undefined, true);
    for (let i = 0; i < 40; i++) {
      const n = 60 + i * 30;
      src.add(pcapRecord(false, 1_700_000_000 + i, (i * 24_999) % 1_000_000, etherFrame(n, i), n + (i % 3)));
    }
    const srcFile = tmpFile('src.pcap', src.bytes());
    const srcRead = compareWithTshark(srcFile, 'source');

    const ng = tmpFile('editcap.pcapng');
    tool('editcap', ['-F', 'pcapng', srcFile, ng]);
    const ngRead = compareWithTshark(ng, 'editcap -F pcapng');
    assert.equal(ngRead.format, 'pcapng');
    assert.deepEqual(
      ngRead.frames.map((f) => [f.tsNs, f.caplen, f.wirelen, f.data.toString('hex')]),
      srcRead.frames.map((f) => [f.tsNs, f.caplen, f.wirelen, f.data.toString('hex')]),
    );

    const back = tmpFile('editcap.pcap');
    tool('editcap', ['-F', 'pcap', ng, back]);
    const backRead = compareWithTshark(back, 'editcap -F pcap');
    assert.equal(backRead.format, 'pcap');
    assert.deepEqual(
      backRead.frames.map((f) => f.data.toString('hex')),
      srcRead.frames.map((f) => f.data.toString('hex')),
    );

    const nsecFile = tmpFile('editcap-nsec.pcap');
    tool('editcap', ['-F', 'nsecpcap', ng, nsecFile]);
    compareWithTshark(nsecFile, 'editcap -F nsecpcap');

    const user0 = tmpFile('editcap-user0.pcapng');
    tool('editcap', ['-F', 'pcapng', '-T', 'user0', srcFile, user0]);
    const u0 = compareWithTshark(user0, 'editcap -T user0');
    assert.equal(u0.interfaces[0].linktype, 147);

    const sliced = tmpFile('editcap-snap.pcapng');
    tool('editcap', ['-F', 'pcapng', '-s', '64', srcFile, sliced]);
    const s = compareWithTshark(sliced, 'editcap -s 64');
    assert.ok(s.frames.every((f) => f.caplen <= 64));

    const td = tmpFile('tcpdump.pcap');
    tool('tcpdump', ['-r', ng, '-w', td]);
    compareWithTshark(td, 'tcpdump -r pcapng -w pcap');

    // A second source with another link type: mergecap makes a pcapng with two IDBs.
    const raw = new FileBuilder().add(pcapHeader(true, true, 101), undefined, true);
    for (let i = 0; i < 15; i++) {
      const d = randomBytes(40 + i, 300 + i);
      d[0] = 0x45; // IPv4, so tshark's raw-IP dissector is content
      raw.add(pcapRecord(true, 1_700_000_000 + i, 500_000_000 + i, d));
    }
    const rawFile = tmpFile('raw.pcap', raw.bytes());
    const merged = tmpFile('merged.pcapng');
    tool('mergecap', ['-w', merged, srcFile, rawFile]);
    const m = compareWithTshark(merged, 'mergecap');
    assert.deepEqual(
      m.interfaces.map((i) => i.linktype).sort((a, b) => a - b),
      [1, 101],
    );
    assert.equal(m.frames.length, 55);
  });
});

// ---------------------------------------------------------------------------------------

describe('CaptureFileWriter', () => {
  function framesFor(ifaces: number) {
    const out: { iface: number; ts: bigint; data: Buffer; wirelen: number }[] = [];
    for (let i = 0; i < 25; i++) {
      const n = 14 + ((i * 53) % 1501);
      out.push({ iface: i % ifaces, ts: 1_700_000_000_000_000_000n + BigInt(i) * 1_000_000_007n, data: etherFrame(n, 800 + i), wirelen: n + (i % 4) * 10 });
    }
    return out;
  }

  /**
   * The timestamp tcpdump prints for each frame (continuation lines start with a tab);
   * a zero-length frame has none and shows as "[Invalid header: caplen==0, ...]": null.
   */
  function tcpdumpTimestamps(file: string): (bigint | null)[] {
    const r = spawnSync('tcpdump', ['-nn', '-tt', '--time-stamp-precision=nano', '-r', file], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, `tcpdump -r: ${r.stderr}`);
    return r.stdout
      .split('\n')
      .filter((l) => /^\d+\.\d{9} /.test(l) || l.startsWith('[Invalid header: caplen==0'))
      .map((l) => (l.startsWith('[') ? null : epochToNs(l.slice(0, l.indexOf(' ')))));
  }

  const skipTools = ['tshark', 'tcpdump'].some((t) => !haveTool(t)) ? 'tshark/tcpdump not installed' : false;

  test('pcap and pcapng round trips: our reader, tcpdump -r and tshark -r agree', { skip: skipTools }, () => {
    const cases: { format: 'pcap' | 'pcapng'; ifaces: { name?: string; description?: string; linktype: number; snaplen?: number }[]; tcpdump: boolean }[] = [
      { format: 'pcap', ifaces: [{ linktype: 1, snaplen: 65535 }], tcpdump: true },
      {
        format: 'pcapng',
        ifaces: [
          { name: 'eth0', description: 'uplink', linktype: 1 },
          { name: 'vxlan.calico', linktype: 1 },
        ],
        tcpdump: true,
      },
      // libpcap (tcpdump) reads one link type per file only; tshark reads them all.
      {
        format: 'pcapng',
        ifaces: [
          { name: 'eth0', linktype: 1 },
          { name: 'tun0', linktype: 101 },
          { name: 'any', linktype: 113 },
        ],
        tcpdump: false,
      },
    ];
    for (const c of cases) {
      const file = tmpFile(`w.${c.format}`);
      const w = new CaptureFileWriter(file, c.format, c.ifaces);
      const frames = framesFor(c.ifaces.length);
      for (const f of frames) w.write(f.iface, f.ts, f.data, f.wirelen);
      w.write(0, 5n, new Uint8Array(0)); // empty frame
      assert.equal(w.framesWritten, frames.length + 1);
      w.close();

      const back = read(file);
      assert.equal(back.format, c.format);
      assert.deepEqual(back.end, { status: 'eof' });
      assert.deepEqual(
        back.interfaces.map((i) => [i.name, i.description, i.linktype]),
        c.ifaces.map((i) => [c.format === 'pcap' ? '' : (i.name ?? ''), c.format === 'pcap' ? '' : (i.description ?? ''), i.linktype]),
      );
      assert.equal(back.frames.length, frames.length + 1);
      frames.forEach((f, i) => {
        const g = back.frames[i];
        assert.equal(g.tsNs, f.ts);
        assert.equal(g.iface, f.iface);
        assert.equal(g.wirelen, f.wirelen);
        assert.ok(g.data.equals(f.data));
      });
      assert.equal(back.frames[frames.length].caplen, 0);

      const ts = tsharkFrames(file);
      assert.equal(ts.length, frames.length + 1);
      assert.deepEqual(ts, ourFrames(back));
      if (c.tcpdump)
        assert.deepEqual(
          tcpdumpTimestamps(file),
          back.frames.map((f) => (f.caplen === 0 ? null : f.tsNs)),
        );
    }
  });

  test('creates files 0600, never follows a symlink, refuses to overwrite unless asked, and then only regular files', () => {
    const old = process.umask(0);
    try {
      const file = tmpFile('mode.pcapng');
      new CaptureFileWriter(file, 'pcapng', [{ linktype: 1 }]).close();
      assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    } finally {
      process.umask(old);
    }

    const target = tmpFile('target.txt', 'precious');
    const link = path.join(tmp, 'link.pcap');
    fs.symlinkSync(target, link);
    assert.throws(() => new CaptureFileWriter(link, 'pcap', [{ linktype: 1 }]), /symbolic link \(refusing to follow it\)/);
    assert.throws(() => new CaptureFileWriter(link, 'pcap', [{ linktype: 1 }], true), /symbolic link/);
    assert.equal(fs.readFileSync(target, 'utf8'), 'precious');
    const dangling = path.join(tmp, 'dangling.pcap');
    const nowhere = path.join(tmp, 'nowhere.pcap');
    fs.symlinkSync(nowhere, dangling);
    assert.throws(() => new CaptureFileWriter(dangling, 'pcap', [{ linktype: 1 }]), /symbolic link \(refusing to follow it\)/);
    assert.throws(() => new CaptureFileWriter(dangling, 'pcap', [{ linktype: 1 }], true), /symbolic link/);
    assert.equal(fs.existsSync(nowhere), false);

    const existing = tmpFile('existing.pcap', 'x'.repeat(10000));
    assert.throws(() => new CaptureFileWriter(existing, 'pcap', [{ linktype: 1 }]), /^Error: cannot create .*: it exists \(not replaced\)$/);
    assert.equal(fs.statSync(existing).size, 10000);
    const w = new CaptureFileWriter(existing, 'pcap', [{ linktype: 1 }], true);
    w.write(0, 1n, Buffer.alloc(60));
    w.close();
    assert.equal(fs.statSync(existing).size, 24 + 16 + 60);
    assert.equal(read(existing).frames.length, 1);

    assert.throws(() => new CaptureFileWriter('/dev/null', 'pcap', [{ linktype: 1 }], true), /not a regular file/);
    const fifo = path.join(tmp, 'fifo');
    execFileSync('mkfifo', [fifo]);
    assert.throws(() => new CaptureFileWriter(fifo, 'pcap', [{ linktype: 1 }], true), /cannot create|not a regular file/);
    assert.throws(() => new CaptureFileWriter(path.join(tmp, 'no', 'such', 'dir.pcap'), 'pcap', [{ linktype: 1 }]), /No such file or directory/);
  });

  test('each record goes out in one write(2), header included (strace)', { skip: haveTool('strace') ? false : 'strace not installed' }, (t) => {
    const sizes = [0, 1, 61, 1514, 9000, 65535, 200000];
    for (const format of ['pcap', 'pcapng'] as const) {
      const file = tmpFile(`strace.${format}`);
      const trace = tmpFile('strace.txt');
      const script = `
        const { CaptureFileWriter } = require(${JSON.stringify(MODULE_PATH)});
        const w = new CaptureFileWriter(${JSON.stringify(file)}, ${JSON.stringify(format)}, [{ linktype: 1, name: 'eth0' }]);
        for (const n of ${JSON.stringify(sizes)}) w.write(0, 1700000000000000000n + BigInt(n), Buffer.alloc(n, 7));
        w.close();
      `;
      const r = spawnSync('strace', ['-f', '-y', '-e', 'trace=write', '-o', trace, process.execPath, '-e', script], { encoding: 'utf8', timeout: 60_000 });
      if (r.status !== 0 && /ptrace|not permitted/i.test(r.stderr)) {
        t.skip(`strace cannot trace here: ${r.stderr.trim()}`);
        return;
      }
      assert.equal(r.status, 0, r.stderr);
      const writes = fs
        .readFileSync(trace, 'utf8')
        .split('\n')
        .filter((l) => l.includes(`<${file}>`))
        .map((l) => Number(/\) = (-?\d+)$/.exec(l)?.[1]));
      const records = sizes.map((n) => (format === 'pcap' ? 16 + n : 32 + ((n + 3) & ~3)));
      assert.equal(writes.length, 1 + sizes.length, `${format}: one write for the header, one per record`);
      assert.deepEqual(writes.slice(1), records, format);
      assert.equal(
        writes.reduce((a, b) => a + b, 0),
        fs.statSync(file).size,
      );
      assert.equal(read(file).frames.length, sizes.length);
    }
  });

  test('argument errors', () => {
    assert.throws(() => new CaptureFileWriter(tmpFile('two.pcap'), 'pcap', [{ linktype: 1 }, { linktype: 1 }]), /exactly one link type/);
    assert.throws(() => new CaptureFileWriter(tmpFile('none.pcapng'), 'pcapng', []), /at least one interface/);
    const file = tmpFile('args.pcap');
    const w = new CaptureFileWriter(file, 'pcap', [{ linktype: 1 }]);
    assert.throws(() => w.write(1, 1n, Buffer.alloc(10)), /interface 1 does not exist/);
    assert.throws(() => w.write(0, 1n, Buffer.alloc(10), 5), /original length 5 is less than the captured length 10/);
    assert.throws(() => w.write(0, 1n << 63n, Buffer.alloc(10)), /32-bit seconds/);
    assert.throws(() => w.write(0, 1n, Buffer.alloc(262145)), /exceeds 262144/);
    w.write(0, 1n, Buffer.alloc(262144));
    w.close();
    assert.equal(read(file).frames[0].caplen, 262144);
  });
});

// ---------------------------------------------------------------------------------------

describe('memory', () => {
  test('reading a ~300 MB pcap keeps the max RSS flat (child process)', () => {
    const file = path.join(tmp, 'big.pcap');
    // One ~1 MiB chunk of whole records, written 300 times.
    const recs: Buffer[] = [];
    let chunkSize = 0;
    let perChunk = 0;
    for (let i = 0; chunkSize < 1 << 20; i++) {
      const n = [60, 1514, 590, 9000, 128, 1500, 64000][i % 7];
      const rec = pcapRecord(true, 1_700_000_000 + i, i, Buffer.alloc(n, i & 0xff));
      recs.push(rec);
      chunkSize += rec.length;
      perChunk++;
    }
    const chunk = Buffer.concat(recs);
    const chunks = 300;
    const fd = fs.openSync(file, 'w');
    try {
      fs.writeSync(fd, pcapHeader(true, true, 1, 65535));
      for (let i = 0; i < chunks; i++) fs.writeSync(fd, chunk);
    } finally {
      fs.closeSync(fd);
    }
    try {
      const size = fs.statSync(file).size;
      assert.ok(size > 300_000_000, `file of ${size} bytes`);
      const script = `
        const { CaptureFileReader } = require(${JSON.stringify(MODULE_PATH)});
        const start = process.resourceUsage().maxRSS;
        const r = new CaptureFileReader(${JSON.stringify(file)});
        const d = r.drain();
        r.close();
        const hwm = Number(/VmHWM:\\s+(\\d+) kB/.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'))[1]);
        process.stdout.write(JSON.stringify({ start, end: process.resourceUsage().maxRSS, hwm, frames: d.frames, bytes: d.bytes, result: d.end }));
      `;
      // Linux carries the RSS high-water mark of a process over fork+exec into the new
      // program's ru_maxrss, so a child forked straight from this (large) test process
      // would report our RSS. A shell in between (it forks node, then runs `exit`)
      // gives the reader a clean slate.
      const t0 = Date.now();
      const child = spawnSync('/bin/sh', ['-c', '"$0" -e "$1"; exit $?', process.execPath, script], { encoding: 'utf8', timeout: 60_000 });
      const elapsed = Date.now() - t0;
      assert.equal(child.status, 0, child.stderr);
      const res = JSON.parse(child.stdout) as { start: number; end: number; hwm: number; frames: number; bytes: number; result: unknown };
      assert.equal(res.frames, perChunk * chunks);
      assert.equal(res.bytes, (chunk.length - perChunk * 16) * chunks);
      assert.deepEqual(res.result, { status: 'eof' });
      // maxRSS is in KiB.
      assert.ok(res.end < 80 * 1024, `max RSS ${Math.round(res.end / 1024)} MiB`);
      assert.ok(res.hwm < 80 * 1024, `VmHWM ${Math.round(res.hwm / 1024)} MiB`);
      assert.ok(res.end - res.start < 16 * 1024, `max RSS grew by ${Math.round((res.end - res.start) / 1024)} MiB while reading`);
      assert.ok(elapsed < 30_000, `took ${elapsed} ms`);
    } finally {
      fs.rmSync(file, { force: true });
    }
  });
});
