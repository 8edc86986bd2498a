/**
 * Bad-frame records packed as the addon packs them (native/flow/analyzer.h BadFrameRecord),
 * from the model's records: the inverse of decodeRecords (src/native/records.ts), for tests
 * and benchmarks of what reads the packed form (the bad-flow view, the `bad` lines). A
 * checksum's layer is kept through its depth (inner at depth 1 when given depth 0).
 */
import type { DecodedRecord } from '../../src/model/bad-frame.js';
import type { Endpoint } from '../../src/model/endpoint.js';
import { KINDS, TUNNELS } from '../../src/model/verdict.js';
import { nativeLayout, type RecordLayout } from '../../src/native/analyzer.js';
import { EventBatch } from '../../src/native/events.js';
import { DIRECTIONS, PackedRecords } from '../../src/native/records.js';
import { ipAddr } from '../fixtures/lib/addr.js';

function putEndpoint(buf: Buffer, off: number, e: Endpoint, L: RecordLayout): void {
  buf[off + L.epFamily] = e.family;
  buf[off + L.epProto] = e.proto;
  if (e.sport !== null && e.dport !== null) {
    buf[off + L.epHasPorts] = 1;
    buf.writeUInt16LE(e.sport, off + L.epSport);
    buf.writeUInt16LE(e.dport, off + L.epDport);
  }
  Buffer.from(ipAddr(e.src)).copy(buf, off + L.epSrc);
  Buffer.from(ipAddr(e.dst)).copy(buf, off + L.epDst);
}

export function packRecords(records: readonly DecodedRecord[]): PackedRecords {
  const L = nativeLayout().record;
  const buf = Buffer.alloc(records.length * L.size);
  const parts: Buffer[] = [];
  let bytesAt = 0;
  records.forEach((r, k) => {
    const off = k * L.size;
    buf.writeBigUInt64LE(BigInt(r.frame), off + L.frameNumber);
    buf.writeBigUInt64LE(r.tsNs, off + L.tsNs);
    buf.writeUInt32LE(r.iface, off + L.iface);
    buf.writeUInt32LE(r.caplen, off + L.caplen);
    buf.writeUInt32LE(r.wirelen, off + L.wirelen);
    // GRE is two values: with a key (it reads back as the VNI) and without (frame.h Tunnel).
    const tunnel = r.tunnel === 'gre' ? (r.vni !== null ? 6 : 5) : Math.max(0, TUNNELS.indexOf(r.tunnel));
    const hasInner = r.inner !== null || tunnel !== 0;
    buf[off + L.hasInner] = hasInner ? 1 : 0;
    buf[off + L.tunnel] = tunnel;
    if (r.vni !== null) buf.writeUInt32LE(r.vni, off + L.vni);
    if (r.outer) putEndpoint(buf, off + L.outer, r.outer, L);
    if (r.inner) putEndpoint(buf, off + L.inner, r.inner, L);
    const n = Math.min(r.checksums.length, L.maxBad);
    buf[off + L.nBad] = n;
    for (let i = 0; i < n; i++) {
      const c = r.checksums[i];
      const b = off + L.bad + i * L.badSize;
      buf[b + L.bDepth] = c.layer === 'inner' && c.depth === 0 ? 1 : c.depth;
      buf[b + L.bKind] = KINDS.indexOf(c.protocol);
      buf[b + L.bLooksPartial] = c.looksLikeOffload ? 1 : 0;
      buf.writeUInt16LE(c.found, b + L.bFound);
      buf.writeUInt16LE(c.expected, b + L.bExpected);
      buf.writeUInt32LE(c.offset ?? 0, b + L.bOffset);
    }
    buf[off + L.direction] = r.direction === null ? 0xff : DIRECTIONS.indexOf(r.direction);
    if (r.bytes) {
      buf.writeUInt32LE(bytesAt, off + L.bytesOff);
      buf.writeUInt32LE(r.bytes.length, off + L.bytesLen);
      parts.push(Buffer.from(r.bytes));
      bytesAt += r.bytes.length;
    }
  });
  return new PackedRecords(buf, Buffer.concat(parts), L);
}

/** A batch of DNS query events only, one per [frame, name] (in frame order), for the names of records. */
export function dnsEvents(named: ReadonlyArray<readonly [number, string]>): EventBatch {
  const L = nativeLayout();
  const E = L.event;
  const buf = Buffer.alloc(named.length * E.size);
  const names = Buffer.from(named.map(([, n]) => n).join(''), 'latin1');
  let at = 0;
  named.forEach(([frame, name], k) => {
    const off = k * E.size;
    buf.writeBigUInt64LE(BigInt(frame), off + E.frameNumber);
    buf.writeUInt16LE(E.flagBits.dnsQuery, off + E.flagsAt);
    buf.writeUInt32LE(at, off + E.nameOff);
    buf.writeUInt16LE(name.length, off + E.nameLen);
    at += name.length;
  });
  return new EventBatch(buf, names, E, L.record, 0);
}
