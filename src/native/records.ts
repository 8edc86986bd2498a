/**
 * Decodes the packed bad-frame records of the addon (native/flow/analyzer.h,
 * BadFrameRecord) and the flow table's checksums into the model's shapes
 * (src/model/bad-frame.ts, src/model/endpoint.ts). Offsets come from the addon's own
 * layout, never from constants repeated here.
 */
import type { BadChecksum, DecodedRecord, Direction } from '../model/bad-frame.js';
import type { Endpoint } from '../model/endpoint.js';
import { KINDS, LAYERS, TUNNELS } from '../model/verdict.js';
import type { NativeBadChecksum, RecordLayout } from './analyzer.js';
import { endpointAt } from './events.js';

/** sll_pkttype (linux/if_packet.h) values 0-4, in order. */
export const DIRECTIONS: readonly Direction[] = ['received', 'broadcast', 'multicast', 'other-host', 'sent'];

export function badChecksumFromNative(b: NativeBadChecksum & { offset?: number }): BadChecksum {
  return {
    layer: LAYERS[b.depth === 0 ? 0 : 1],
    depth: b.depth,
    protocol: KINDS[b.kind],
    found: b.found,
    expected: b.expected,
    looksLikeOffload: b.looksPartial,
    ...(b.offset !== undefined ? { offset: b.offset } : {}),
  };
}

/** A record's endpoint (one decoder with the events', native/events.ts); null when the layer has no IP. */
function recordEndpointAt(buf: Buffer, off: number, L: RecordLayout): Endpoint | null {
  const family = buf[off + L.epFamily];
  return family === 4 || family === 6 ? endpointAt(buf, off, L) : null;
}

/** The records are little-endian structs written by this host: read them as such. */
export function decodeRecords(buf: Buffer, L: RecordLayout, bytes?: Buffer): DecodedRecord[] {
  const out: DecodedRecord[] = [];
  for (let off = 0; off + L.size <= buf.length; off += L.size) {
    const hasInner = buf.readUInt8(off + L.hasInner) !== 0;
    const nBad = Math.min(buf.readUInt8(off + L.nBad), L.maxBad);
    const checksums: BadChecksum[] = [];
    for (let i = 0; i < nBad; i++) {
      const b = off + L.bad + i * L.badSize;
      checksums.push(
        badChecksumFromNative({
          depth: buf.readUInt8(b + L.bDepth),
          kind: buf.readUInt8(b + L.bKind),
          looksPartial: buf.readUInt8(b + L.bLooksPartial) !== 0,
          found: buf.readUInt16LE(b + L.bFound),
          expected: buf.readUInt16LE(b + L.bExpected),
          offset: buf.readUInt32LE(b + L.bOffset),
        }),
      );
    }
    out.push({
      frame: Number(buf.readBigUInt64LE(off + L.frameNumber)),
      tsNs: buf.readBigUInt64LE(off + L.tsNs),
      iface: buf.readUInt32LE(off + L.iface),
      caplen: buf.readUInt32LE(off + L.caplen),
      wirelen: buf.readUInt32LE(off + L.wirelen),
      outer: recordEndpointAt(buf, off + L.outer, L),
      tunnel: hasInner ? TUNNELS[buf.readUInt8(off + L.tunnel)] ?? 'none' : 'none',
      vni: hasInner && isVniTunnel(buf.readUInt8(off + L.tunnel)) ? buf.readUInt32LE(off + L.vni) : null,
      inner: hasInner ? recordEndpointAt(buf, off + L.inner, L) : null,
      checksums,
      direction: DIRECTIONS[buf.readUInt8(off + L.direction)] ?? null,
      bytes: recordBytes(buf, off, L, bytes),
    });
  }
  return out;
}

/**
 * One batch's bad-frame records as the addon packed them (native BadFrameRecords) and the
 * bytes they point into, decoded only where objects are needed: the live `bad` lines and
 * the bad-flow view read the packed form in the addon (src/native/bad-lines.ts,
 * src/correlate/bad-flows.ts), so a flood of bad frames makes no object per frame
 * (issue 14).
 */
export class PackedRecords {
  readonly count: number;

  constructor(
    /** count x L.size bytes. */
    readonly buf: Buffer,
    /** The records' bytes (bytes_off/bytes_len point here); empty when they have none. */
    readonly bytes: Buffer,
    private readonly L: RecordLayout,
  ) {
    this.count = Math.floor(buf.length / L.size);
  }

  /** Whether record i carries bytes (decode() gives them). */
  hasBytes(i: number): boolean {
    return hasRecordBytes(this.buf, i * this.L.size, this.L, this.bytes);
  }

  /** Records from..to-1 as objects. */
  decode(from = 0, to = this.count): DecodedRecord[] {
    return decodeRecords(this.buf.subarray(from * this.L.size, to * this.L.size), this.L, this.bytes);
  }
}

/**
 * A view of the record's bytes in the batch's byte buffer, not a copy (DecodedRecord.bytes:
 * whatever keeps them past the batch copies them; test/unit/records-bytes.test.ts). A copy
 * per record was 85% of decoding a record (4.0 against 0.6 µs in a loop over the records of
 * bench's 200,000-frame high-cardinality file) and, as fresh
 * ArrayBuffers, set off collections: live, a flood of bad frames decodes 25,000 records a
 * second, of which the bad-flow view keeps the bytes of at most 512 (issue 14).
 */
function recordBytes(buf: Buffer, off: number, L: RecordLayout, bytes: Buffer | undefined): Uint8Array | null {
  if (!bytes || !hasRecordBytes(buf, off, L, bytes)) return null;
  const start = buf.readUInt32LE(off + L.bytesOff);
  return bytes.subarray(start, start + buf.readUInt32LE(off + L.bytesLen));
}

/** The record at `off` has bytes, and they lie within `bytes` (none past it). */
function hasRecordBytes(buf: Buffer, off: number, L: RecordLayout, bytes: Buffer): boolean {
  const len = buf.readUInt32LE(off + L.bytesLen);
  return len !== 0 && buf.readUInt32LE(off + L.bytesOff) + len <= bytes.length;
}

/** VXLAN and Geneve carry a VNI, GRE with a key field its key (native kTunnelGreKey, 6); IP-in-IP nothing. */
export function isVniTunnel(tunnel: number): boolean {
  return TUNNELS[tunnel] === 'vxlan' || TUNNELS[tunnel] === 'geneve' || tunnel === GRE_KEYED;
}

/** The native Tunnel value of GRE with a key (frame.h kTunnelGreKey). */
const GRE_KEYED = 6;
