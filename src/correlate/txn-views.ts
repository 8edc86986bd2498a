/**
 * What the DNS and SYN wrappers (dns.ts, syn.ts) share around the native transaction
 * tables (native/flow/dns_txns.h, syn_txns.h): the place pairs of a batch for callers
 * without a Correlator, and a native attribution record as the report shows it.
 */
import type { Attribution } from '../model/correlation.js';
import { endpointAt, type EndpointOffsets, type EventBatch } from '../native/events.js';
import type { AttributionLayout } from '../native/txns.js';
import type { InterfaceDirectory } from './context.js';
import type { Places } from './places.js';

/** Names of the checksum codes of a native attribution (native/flow/txn_attribution.h). */
const CHECKSUM_NAMES = ['ipv4', 'outer/l4', 'inner/l4'];

/**
 * The (id, place, flags) words of the interfaces of one batch, for callers that give
 * no place pairs (the Correlator does: it interns every listed interface once per batch).
 */
export function batchPlacePairs(ev: EventBatch, dir: InterfaceDirectory, places: Places): Uint32Array {
  const ids = new Set<number>();
  for (let i = 0; i < ev.count; i++) ids.add(ev.iface(i));
  const listed: [number, { label: string; namespace: string; overlay: boolean }][] = [];
  for (const id of ids) {
    const info = dir(id);
    if (info) listed.push([id, info]);
  }
  return places.pairs(listed);
}

/** A native attribution record at `off` of `buf` as the report shows it. */
export function attributionAt(view: DataView, buf: Buffer, off: number, A: AttributionLayout, E: EndpointOffsets, places: Places): Attribution {
  const o = endpointAt(buf, off + A.outer, E);
  const sent = buf[off + A.sent] !== 0;
  const checksums: string[] = [];
  for (let k = 0; k < buf[off + A.nChecksums]; k++) checksums.push(CHECKSUM_NAMES[buf[off + A.checksums + k]]);
  const frames: number[] = [];
  for (let k = 0; k < buf[off + A.nFrames]; k++) frames.push(view.getFloat64(off + A.frames + 8 * k, true));
  return {
    peer: sent ? o.dst : o.src,
    sender: o.src,
    receiver: o.dst,
    interface: places.at(view.getUint32(off + A.place, true)).label,
    checksums,
    frames,
  };
}
