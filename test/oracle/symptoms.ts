/**
 * Test oracle only (issue 14): the JavaScript implementation the native transaction
 * tables (native/flow/dns_txns.h, syn_txns.h, sends.h, txn_table.h) replaced, kept for the
 * differential tests of test/unit/native-txns.test.ts. Not used by csumtop.
 *
 * Attribution shared by the DNS and SYN trackers: when a query, answer or SYN travelled
 * in a carrier with a bad checksum, that carrier is the likely reason it went
 * unanswered (the receiving kernel drops it in UDP input before decapsulation).
 * Only carriers are attributed: the report says "carrier from <node>", and a packet
 * without a tunnel has pod addresses where a carrier has node addresses.
 */
import type { Attribution } from '../../src/model/correlation.js';
import { PACKET_OUTGOING, type EventBatch, type EventFlags } from '../../src/native/events.js';
import type { InterfaceDirectory } from '../../src/correlate/context.js';

export function badChecksumsOf(flags: number, F: EventFlags): string[] {
  const out: string[] = [];
  if (flags & F.badIpv4) out.push('ipv4');
  if (flags & F.badOuter) out.push('outer/l4');
  if (flags & F.badInner) out.push('inner/l4');
  return out;
}

export function isBad(flags: number, F: EventFlags): boolean {
  return (flags & (F.badOuter | F.badInner | F.badIpv4)) !== 0;
}

/** Adds event i (a bad frame) to an attribution, creating it when null, if it is a carrier. */
export function attribute(a: Attribution | null, ev: EventBatch, i: number, F: EventFlags, dir: InterfaceDirectory): Attribution | null {
  if (!(ev.flags(i) & F.carrier)) return a;
  const o = ev.outer(i);
  const sent = ev.direction(i) === PACKET_OUTGOING;
  const out = a ?? {
    peer: sent ? o.dst : o.src,
    sender: o.src,
    receiver: o.dst,
    interface: dir(ev.iface(i))?.label ?? `#${ev.iface(i)}`,
    checksums: [],
    frames: [],
  };
  for (const c of badChecksumsOf(ev.flags(i), F)) if (!out.checksums.includes(c)) out.checksums.push(c);
  if (out.frames.length < 16) out.frames.push(ev.frameNumber(i));
  return out;
}

/** A copy for a snapshot: the trackers keep adding frames to an open transaction's attribution. */
export function copyAttribution(a: Attribution | null): Attribution | null {
  return a ? { ...a, checksums: [...a.checksums], frames: [...a.frames] } : null;
}
