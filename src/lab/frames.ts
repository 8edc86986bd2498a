/**
 * A small frame builder for the namespace lab (`csumtop --demo` and the lab tests):
 * Ethernet / IPv4 / UDP|TCP, optionally inside VXLAN, with every checksum correct unless
 * one is asked to be wrong. The fixtures have a full builder (test/fixtures/lib); shipped
 * code cannot import tests, and the lab needs only these shapes.
 *
 * Each frame comes with where its checksum fields sit and what they should hold, so a
 * caller can ask for "the expected value plus something" without re-deriving it.
 */

/** RFC 1071 ones-complement sum of `b` (16-bit big-endian words), folded. */
export function onesSum(b: Uint8Array, start = 0, end = b.length, initial = 0): number {
  let s = initial;
  let i = start;
  for (; i + 1 < end; i += 2) s += (b[i] << 8) | b[i + 1];
  if (i < end) s += b[i] << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

function ip4(text: string): number[] {
  const parts = text.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${text}`);
  return parts;
}

function macBytes(text: string): number[] {
  const parts = text.split(':').map((p) => parseInt(p, 16));
  if (parts.length !== 6 || parts.some((p) => Number.isNaN(p))) throw new Error(`not a MAC address: ${text}`);
  return parts;
}

/** What to write in a checksum field: the right value, 0 (UDP "no checksum"), or exactly this number. */
export type Csum = 'correct' | 'zero' | number;

/** Where one checksum field sits in the finished frame and the value it should hold. */
export interface ChecksumField {
  /** 0 outer, 1 inside the tunnel. */
  depth: number;
  kind: 'ipv4' | 'udp' | 'tcp';
  offset: number;
  expected: number;
  found: number;
  /** Start of the header that holds it (csum_start for offload). */
  headerStart: number;
}

export interface L4Spec {
  proto: 'udp' | 'tcp';
  sport: number;
  dport: number;
  payload?: Uint8Array;
  /** TCP only. */
  tcp?: { flags: number; seq: number; window: number; options?: Uint8Array };
  csum?: Csum;
}

export interface Ipv4Spec {
  src: string;
  dst: string;
  id: number;
  ttl?: number;
  df?: boolean;
  csum?: Csum;
}

export interface EthSpec {
  src: string;
  dst: string;
}

function pick(c: Csum | undefined, correct: number): number {
  if (c === undefined || c === 'correct') return correct;
  if (c === 'zero') return 0;
  return c & 0xffff;
}

/** An Ethernet/IPv4/L4 frame; the L4 payload may itself be a frame (VXLAN carries one). */
function ipv4Frame(eth: EthSpec, ip: Ipv4Spec, l4: L4Spec, depth: number, fields: ChecksumField[], base: number): Buffer {
  const payload = Buffer.from(l4.payload ?? new Uint8Array(0));
  const tcpOpts = Buffer.from(l4.tcp?.options ?? new Uint8Array(0));
  const l4hlen = l4.proto === 'udp' ? 8 : 20 + Math.ceil(tcpOpts.length / 4) * 4;
  const l4len = l4hlen + payload.length;
  const frame = Buffer.alloc(14 + 20 + l4len);
  Buffer.from(macBytes(eth.dst)).copy(frame, 0);
  Buffer.from(macBytes(eth.src)).copy(frame, 6);
  frame.writeUInt16BE(0x0800, 12);
  const h = 14;
  frame[h] = 0x45;
  frame.writeUInt16BE(20 + l4len, h + 2);
  frame.writeUInt16BE(ip.id & 0xffff, h + 4);
  frame.writeUInt16BE(ip.df ? 0x4000 : 0, h + 6);
  frame[h + 8] = ip.ttl ?? 64;
  frame[h + 9] = l4.proto === 'udp' ? 17 : 6;
  Buffer.from(ip4(ip.src)).copy(frame, h + 12);
  Buffer.from(ip4(ip.dst)).copy(frame, h + 16);
  const ipCorrect = ~onesSum(frame, h, h + 20) & 0xffff;
  const ipFound = pick(ip.csum, ipCorrect);
  frame.writeUInt16BE(ipFound, h + 10);
  fields.push({ depth, kind: 'ipv4', offset: base + h + 10, expected: ipCorrect, found: ipFound, headerStart: base + h });

  const t = h + 20;
  frame.writeUInt16BE(l4.sport, t);
  frame.writeUInt16BE(l4.dport, t + 2);
  let csumAt: number;
  if (l4.proto === 'udp') {
    frame.writeUInt16BE(l4len, t + 4);
    csumAt = t + 6;
  } else {
    const spec = l4.tcp ?? { flags: 0x02, seq: 1, window: 64240 };
    frame.writeUInt32BE(spec.seq >>> 0, t + 4);
    frame[t + 12] = (l4hlen / 4) << 4;
    frame[t + 13] = spec.flags;
    frame.writeUInt16BE(spec.window, t + 14);
    tcpOpts.copy(frame, t + 20);
    csumAt = t + 16;
  }
  payload.copy(frame, t + l4hlen);
  // Pseudo-header (RFC 768, RFC 793 section 3.1): addresses, protocol, length.
  const pseudo = onesSum(frame, h + 12, h + 20) + frame[h + 9] + l4len;
  let correct = ~onesSum(frame, t, t + l4len, pseudo) & 0xffff;
  // A computed UDP checksum of 0 is sent as 0xffff (RFC 768).
  if (l4.proto === 'udp' && correct === 0) correct = 0xffff;
  const found = pick(l4.csum, correct);
  frame.writeUInt16BE(found, csumAt);
  fields.push({ depth, kind: l4.proto, offset: base + csumAt, expected: correct, found, headerStart: base + t });
  return frame;
}

export interface BuiltFrame {
  bytes: Uint8Array;
  checksums: ChecksumField[];
}

/**
 * A VXLAN carrier (RFC 7348 section 5: flags 0x08, VNI) around an inner frame. The
 * outer UDP checksum covers the inner frame exactly as given.
 */
export function buildVxlan(
  outer: { eth: EthSpec; ip: Ipv4Spec; sport: number; dport: number; vni: number; csum?: Csum },
  inner: { eth: EthSpec; ip: Ipv4Spec; l4: L4Spec },
): BuiltFrame {
  const innerFields: ChecksumField[] = [];
  // 14 + 20 + 8 + 8: where the inner frame starts in the carrier.
  const innerBytes = ipv4Frame(inner.eth, inner.ip, inner.l4, 1, innerFields, 50);
  const vx = Buffer.alloc(8);
  vx[0] = 0x08;
  vx.writeUInt32BE(((outer.vni & 0xffffff) << 8) >>> 0, 4);
  const outerFields: ChecksumField[] = [];
  const bytes = ipv4Frame(
    outer.eth,
    outer.ip,
    { proto: 'udp', sport: outer.sport, dport: outer.dport, payload: Buffer.concat([vx, innerBytes]), csum: outer.csum },
    0,
    outerFields,
    0,
  );
  return { bytes, checksums: [...outerFields, ...innerFields] };
}

/** SYN options as Linux sends them: MSS, SACK permitted, timestamps, NOP, window scale. */
export function synOptions(mss: number, tsval = 1000, wscale = 7): Uint8Array {
  const b = Buffer.alloc(20);
  b[0] = 2;
  b[1] = 4;
  b.writeUInt16BE(mss, 2);
  b[4] = 4;
  b[5] = 2;
  b[6] = 8;
  b[7] = 10;
  b.writeUInt32BE(tsval >>> 0, 8);
  b[16] = 1;
  b[17] = 3;
  b[18] = 3;
  b[19] = wscale;
  return b;
}
