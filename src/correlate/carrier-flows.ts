/**
 * Per-flow aggregates that tie each VXLAN/Geneve carrier to its inner flow, in a table
 * bounded by `maxFlows` ("Bounded everything"): when full, the flow seen least recently
 * is evicted and counted. Keys are the native 53-bit flow keys.
 *
 * The table lives in the addon (native/flow/carrier_flows.h, issue 14 step 1 of
 * docs/line-rate.md): a batch's carrier events are folded in one native call, and
 * objects are made only for the `top()` rows a snapshot shows. With a new carrier flow
 * per frame the JavaScript table was still ~14% of the CPU of `csumtop -r` as typed
 * arrays, a third of it with objects (bench/RESULTS.md).
 *
 * Memory: carrierFlowBytesPerEntry() x maxFlows, allocated once, plus the DNS name of the
 * rare flow whose first query name is over 64 bytes (native/flow/carrier_flows.h).
 */
import type { CarrierFlow, TableUse } from '../model/correlation.js';
import { TUNNELS } from '../model/verdict.js';
import { carrierFlowLayout, newCarrierFlows, type NativeCarrierFlows } from '../native/carrier-flows.js';
import { endpointAt, type EndpointOffsets, type EventBatch } from '../native/events.js';
import { isoOf } from './context.js';
import type { Places } from './places.js';

/** Bytes per carrier flow of the cap (slot and index), the rare long DNS name aside. */
export function carrierFlowBytesPerEntry(): number {
  return carrierFlowLayout().bytesPerEntry;
}

export class CarrierFlowTable {
  private readonly table: NativeCarrierFlows;

  constructor(
    private readonly maxFlows: number,
    /** Where the places of the pairs given to add() turn back into label and namespace. */
    private readonly places: Places,
    private readonly E: EndpointOffsets,
    /** As DnsOptions.resident (src/correlate/dns.ts). */
    resident = true,
  ) {
    this.table = newCarrierFlows(maxFlows, resident);
  }

  get evicted(): number {
    return this.table.evicted;
  }

  /** Bytes the native table allocated (at most carrierFlowBytesPerEntry() x maxFlows). */
  get tableBytes(): number {
    return this.table.tableBytes;
  }

  /** Folds the batch's carrier events; placePairs: `places.pairs()` of the batch's interfaces. */
  add(ev: EventBatch, placePairs: Uint32Array): void {
    if (ev.count > 0) this.table.add(ev.buffer, ev.namesBuffer, placePairs);
  }

  get size(): number {
    return this.table.size;
  }

  tableUse(): TableUse {
    return { size: this.table.size, cap: this.maxFlows, evicted: this.evicted };
  }

  /** The `limit` flows with the most bad carriers, then the most packets (ties: least recently seen first). */
  top(limit: number): CarrierFlow[] {
    const buf = this.table.top(limit);
    const C = carrierFlowLayout();
    const n = buf.readUInt32LE(C.count);
    const u64 = (at: number): number => buf.readUInt32LE(at + 4) * 4294967296 + buf.readUInt32LE(at);
    const out: CarrierFlow[] = [];
    for (let r = 0, at = C.rows; r < n; r++, at += C.size) {
      const tunnel = TUNNELS[buf[at + C.tunnel]] ?? 'none';
      const { label, namespace } = this.places.at(buf.readUInt32LE(at + C.place));
      const nameOff = buf.readUInt32LE(at + C.nameOff);
      out.push({
        interface: label,
        namespace,
        outer: endpointAt(buf, at + C.outer, this.E),
        tunnel,
        vni: tunnel === 'vxlan' || tunnel === 'geneve' ? buf.readUInt32LE(at + C.vni) : null,
        inner: endpointAt(buf, at + C.inner, this.E),
        packets: u64(at + C.packets),
        bytes: u64(at + C.bytes),
        badOuter: buf.readUInt32LE(at + C.badOuter),
        badInner: buf.readUInt32LE(at + C.badInner),
        dnsName: buf[at + C.hasName] ? buf.toString('latin1', nameOff, nameOff + buf.readUInt16LE(at + C.nameLen)) : null,
        firstSeen: isoOf(u64(at + C.firstNs)),
        lastSeen: isoOf(u64(at + C.lastNs)),
      });
    }
    return out;
  }
}
