/**
 * The correlation events of the addon (native/flow/events.h, FrameEvent) as a typed,
 * allocation-free view: one batch holds thousands of fixed-size records in one Buffer,
 * and the correlation operators read fields by index instead of building an object per
 * packet (docs/design.md, principle 1). Offsets come from the addon's own layout.
 */
import { formatAddress } from '../model/addr.js';
import type { Endpoint } from '../model/endpoint.js';
import { TUNNELS, type TunnelName } from '../model/verdict.js';

export interface EventLayout {
  size: number;
  match: number;
  flow: number;
  /** DNS query/answer or SYN/SYN-ACK transaction key (native/flow/events.h). */
  txn: number;
  tsNs: number;
  /** The newest frame's time (tsNs but for a coalesced carrier, native/flow/events.h). */
  lastTsNs: number;
  frameNumber: number;
  iface: number;
  wirelen: number;
  /** Frames the event stands for: 1, or more for a coalesced carrier (native/flow/events.h). */
  packets: number;
  vni: number;
  innerLen: number;
  tcpSeq: number;
  tcpAck: number;
  nameOff: number;
  nameLen: number;
  /** Offset of the flags field; the bit values are in flagBits. */
  flagsAt: number;
  ipId: number;
  dnsId: number;
  dnsFlags: number;
  dnsQtype: number;
  direction: number;
  tunnel: number;
  nLayers: number;
  outer: number;
  inner: number;
  flagBits: EventFlags;
}

export interface EventFlags {
  carrier: number;
  plain: number;
  dnsQuery: number;
  dnsAnswer: number;
  syn: number;
  synAck: number;
  /** TCP RST+ACK without SYN: the reset that may refuse a SYN (txn as for its SYN-ACK). */
  rst: number;
  badOuter: number;
  badInner: number;
  badIpv4: number;
  pending: number;
}

/** Offsets within FlowEndpoint (the same in records and events). */
export interface EndpointOffsets {
  epFamily: number;
  epProto: number;
  epHasPorts: number;
  epSport: number;
  epDport: number;
  epSrc: number;
  epDst: number;
  /** sizeof(FlowEndpoint). */
  epSize: number;
}

/** The FlowEndpoint at `off` of `buf` as an Endpoint. */
export function endpointAt(buf: Uint8Array, off: number, E: EndpointOffsets): Endpoint {
  const family = buf[off + E.epFamily] === 6 ? 6 : 4;
  const len = family === 4 ? 4 : 16;
  const hasPorts = buf[off + E.epHasPorts] !== 0;
  const u16 = (at: number): number => buf[at] | (buf[at + 1] << 8); // host order: little-endian (x86, arm64)
  // IPv4 formatted in place: two subarray objects per endpoint were a visible share of
  // the garbage with a new flow per frame (issue 14).
  const at = (o: number): string =>
    family === 4 ? `${buf[o]}.${buf[o + 1]}.${buf[o + 2]}.${buf[o + 3]}` : formatAddress(family, buf.subarray(o, o + len));
  return {
    family,
    src: at(off + E.epSrc),
    dst: at(off + E.epDst),
    proto: buf[off + E.epProto],
    sport: hasPorts ? u16(off + E.epSport) : null,
    dport: hasPorts ? u16(off + E.epDport) : null,
  };
}

/** sll_pkttype (linux/if_packet.h): 4 = PACKET_OUTGOING, sent by this host. */
export const PACKET_OUTGOING = 4;

/**
 * One batch of events. Every accessor takes the event's index (0 <= i < count).
 */
export class EventBatch {
  readonly count: number;
  private readonly view: DataView;

  constructor(
    private readonly buf: Buffer,
    private readonly names: Buffer,
    private readonly L: EventLayout,
    private readonly E: EndpointOffsets,
    /** Cumulative per capture thread: events not kept (batches JavaScript
     * could not take): correlation is a lower bound. */
    readonly dropped: number,
  ) {
    this.count = Math.floor(buf.length / L.size);
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.length);
  }

  /** The FrameEvent records (count x size bytes), for the native tables that fold a batch in one call. */
  get buffer(): Buffer {
    return this.buf;
  }
  /** The DNS names the records point into (nameOff, nameLen). */
  get namesBuffer(): Buffer {
    return this.names;
  }

  private o(i: number): number {
    return i * this.L.size;
  }
  flags(i: number): number {
    return this.view.getUint16(this.o(i) + this.L.flagsAt, true);
  }
  match(i: number): number {
    return this.view.getFloat64(this.o(i) + this.L.match, true);
  }
  flow(i: number): number {
    return this.view.getFloat64(this.o(i) + this.L.flow, true);
  }
  txn(i: number): number {
    return this.view.getFloat64(this.o(i) + this.L.txn, true);
  }
  tsNs(i: number): number {
    // Nanoseconds since the epoch exceed 2^53 by a factor of 200: as a number they are
    // exact to ~256 ns, plenty for windows of milliseconds. Two 32-bit reads instead of
    // getBigUint64: no BigInt allocated per packet.
    return this.u64(this.o(i) + this.L.tsNs);
  }
  /** The newest of the frames the event stands for (a coalesced carrier spans several). */
  lastTsNs(i: number): number {
    return this.u64(this.o(i) + this.L.lastTsNs);
  }
  frameNumber(i: number): number {
    return this.u64(this.o(i) + this.L.frameNumber);
  }
  private u64(off: number): number {
    return this.view.getUint32(off + 4, true) * 4294967296 + this.view.getUint32(off, true);
  }
  iface(i: number): number {
    return this.view.getUint32(this.o(i) + this.L.iface, true);
  }
  /** 1, or the number of carriers of one flow folded into this event (their wirelen summed). */
  packets(i: number): number {
    return this.view.getUint32(this.o(i) + this.L.packets, true);
  }
  wirelen(i: number): number {
    return this.view.getUint32(this.o(i) + this.L.wirelen, true);
  }
  vni(i: number): number {
    return this.view.getUint32(this.o(i) + this.L.vni, true);
  }
  innerLen(i: number): number {
    return this.view.getUint32(this.o(i) + this.L.innerLen, true);
  }
  tcpSeq(i: number): number {
    return this.view.getUint32(this.o(i) + this.L.tcpSeq, true);
  }
  tcpAck(i: number): number {
    return this.view.getUint32(this.o(i) + this.L.tcpAck, true);
  }
  ipId(i: number): number {
    return this.view.getUint16(this.o(i) + this.L.ipId, true);
  }
  dnsId(i: number): number {
    return this.view.getUint16(this.o(i) + this.L.dnsId, true);
  }
  dnsFlags(i: number): number {
    return this.view.getUint16(this.o(i) + this.L.dnsFlags, true);
  }
  dnsQtype(i: number): number {
    return this.view.getUint16(this.o(i) + this.L.dnsQtype, true);
  }
  direction(i: number): number {
    return this.view.getUint8(this.o(i) + this.L.direction);
  }
  tunnel(i: number): TunnelName {
    return TUNNELS[this.tunnelId(i)] ?? 'none';
  }
  /** The tunnel as the native enum (an index of TUNNELS). */
  tunnelId(i: number): number {
    return this.view.getUint8(this.o(i) + this.L.tunnel);
  }
  dnsName(i: number): string {
    const off = this.view.getUint32(this.o(i) + this.L.nameOff, true);
    const len = this.view.getUint16(this.o(i) + this.L.nameLen, true);
    return this.names.toString('latin1', off, off + len);
  }
  /** Bytes of the DNS query name (dnsName's length, one byte per character). */
  dnsNameLength(i: number): number {
    return this.view.getUint16(this.o(i) + this.L.nameLen, true);
  }
  /** Copies the DNS query name's bytes (at most `max`) into `dst` at `at`; the number copied. */
  copyDnsName(i: number, dst: Uint8Array, at: number, max: number): number {
    const off = this.view.getUint32(this.o(i) + this.L.nameOff, true);
    const len = Math.min(this.view.getUint16(this.o(i) + this.L.nameLen, true), max);
    const n = this.names;
    for (let k = 0; k < len; k++) dst[at + k] = n[off + k];
    return len;
  }
  /** The layout of the FlowEndpoint bytes copyInner() and copyEndpoints() copy. */
  get endpointOffsets(): EndpointOffsets {
    return this.E;
  }
  /** Copies the raw innermost endpoint (FlowEndpoint, epSize bytes) into `dst` at `at`. */
  copyInner(i: number, dst: Uint8Array, at: number): void {
    const b = this.buf;
    const o = this.o(i) + this.L.inner;
    for (let k = 0; k < this.E.epSize; k++) dst[at + k] = b[o + k];
  }
  /** The outer (layer 0) endpoint. */
  outer(i: number): Endpoint {
    return this.endpoint(this.o(i) + this.L.outer);
  }
  /** The innermost endpoint (the outer one for a packet without a tunnel). */
  inner(i: number): Endpoint {
    return this.endpoint(this.o(i) + this.L.inner);
  }
  /** IPv4 outer source as a number (cheap peer key); -1 for IPv6. */
  outerSrcV4(i: number): number {
    const b = this.o(i) + this.L.outer;
    if (this.view.getUint8(b + this.E.epFamily) !== 4) return -1;
    return this.view.getUint32(b + this.E.epSrc, false);
  }
  outerDstV4(i: number): number {
    const b = this.o(i) + this.L.outer;
    if (this.view.getUint8(b + this.E.epFamily) !== 4) return -1;
    return this.view.getUint32(b + this.E.epDst, false);
  }

  /**
   * Copies the raw outer and innermost endpoints (FlowEndpoint, 2 x epSize bytes)
   * into `dst` at `at`: a table keeps them as bytes and formats them only for display
   * (endpointAt), instead of two objects and four strings per flow.
   */
  copyEndpoints(i: number, dst: Uint8Array, at: number): void {
    const n = this.E.epSize;
    const b = this.buf;
    const o = this.o(i) + this.L.outer;
    const inn = this.o(i) + this.L.inner;
    for (let k = 0; k < n; k++) dst[at + k] = b[o + k];
    for (let k = 0; k < n; k++) dst[at + n + k] = b[inn + k];
  }

  private endpoint(off: number): Endpoint {
    return endpointAt(this.buf, off, this.E);
  }
}
