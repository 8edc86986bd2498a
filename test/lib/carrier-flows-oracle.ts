/**
 * TEST ORACLE: the JavaScript carrier-flow table csumtop used until the table moved into
 * the addon (native/flow/carrier_flows.h, issue 14 step 1), kept unchanged but for its
 * imports, for test/unit/carrier-flows.test.ts to run random batches through both. Its
 * policy is checked against LruMap in test/unit/slot-table.test.ts.
 *
 * Per-flow aggregates that tie each VXLAN/Geneve carrier to its inner flow, in a table
 * bounded by `maxFlows` ("Bounded everything"): when full, the flow seen least recently
 * is evicted and counted. Keys are the native 53-bit flow keys.
 *
 * No JavaScript object per flow (issue 14): a SlotTable hands out slots, and a flow's
 * values live in typed arrays at its slot, its endpoints as the raw FlowEndpoint bytes of
 * the event that created it. Objects are made only for the `top()` rows a snapshot shows.
 * With a new carrier flow per frame this table and its LruMap were a third of the CPU of
 * `csumtop -r`, and most of its garbage collection (bench/RESULTS.md).
 *
 * Memory: CARRIER_FLOW_BYTES_PER_ENTRY x maxFlows, allocated once, plus the DNS name of
 * flows that carry DNS queries (one string each, at most 255 characters of a name in
 * dotted form, RFC 1035 2.3.4, with non-printable bytes escaped).
 */
import type { CarrierFlow, TableUse } from '../../src/model/correlation.js';
import { TUNNELS } from '../../src/model/verdict.js';
import { endpointAt, type EndpointOffsets, type EventBatch, type EventFlags } from '../../src/native/events.js';
import { isoOf, type InterfaceDirectory, type InterfaceInfo } from '../../src/correlate/context.js';
import { SLOT_TABLE_BYTES_PER_ENTRY, SlotTable } from './slot-table.js';

/** Typed-array bytes per flow besides its endpoints: packets, bytes, first and last time (4 x 8), bad outer and inner, interface (3 x 4), VNI (4), tunnel (1). */
const VALUE_BYTES = 4 * 8 + 3 * 4 + 4 + 1;

/** Bytes per carrier flow for FlowEndpoint of `epSize` bytes (two of them per flow), the DNS name string aside. */
export function carrierFlowBytesPerEntry(epSize: number): number {
  return SLOT_TABLE_BYTES_PER_ENTRY + VALUE_BYTES + 2 * epSize;
}

export class JsCarrierFlowTable {
  private readonly slots: SlotTable;
  private readonly packets: Float64Array;
  private readonly bytes: Float64Array;
  private readonly firstNs: Float64Array;
  private readonly lastNs: Float64Array;
  private readonly badOuter: Uint32Array;
  private readonly badInner: Uint32Array;
  /** Index into `places`: the interface's label and namespace when the flow was first seen. */
  private readonly place: Uint32Array;
  private readonly vni: Uint32Array;
  private readonly tunnel: Uint8Array;
  /** Outer then inner FlowEndpoint, 2 x epSize bytes per slot. */
  private readonly endpoints: Uint8Array;
  private readonly dnsName: (string | null)[];
  /** Distinct (label, namespace) pairs flows were seen on: as many as interfaces, not flows. */
  private readonly places: { label: string; namespace: string }[] = [];
  private readonly placeIndex = new Map<string, number>();
  private lastInfo: InterfaceInfo | undefined | null = null;
  private lastIface = -1;
  private lastPlace = 0;

  constructor(
    private readonly maxFlows: number,
    private readonly F: EventFlags,
    private readonly E: EndpointOffsets,
  ) {
    this.slots = new SlotTable(maxFlows);
    this.packets = new Float64Array(maxFlows);
    this.bytes = new Float64Array(maxFlows);
    this.firstNs = new Float64Array(maxFlows);
    this.lastNs = new Float64Array(maxFlows);
    this.badOuter = new Uint32Array(maxFlows);
    this.badInner = new Uint32Array(maxFlows);
    this.place = new Uint32Array(maxFlows);
    this.vni = new Uint32Array(maxFlows);
    this.tunnel = new Uint8Array(maxFlows);
    this.endpoints = new Uint8Array(maxFlows * 2 * E.epSize);
    this.dnsName = new Array<string | null>(maxFlows).fill(null);
    // Written once now: the zeroed pages of a new typed array join the resident set only
    // when first written, so a table filling up under new flows would read as memory
    // growing for minutes (the hostile lab's flat-memory test). Paid at start, the
    // bound of docs/line-rate.md is the resident cost from the first second.
    for (const a of [this.packets, this.bytes, this.firstNs, this.lastNs, this.badOuter, this.badInner, this.place, this.vni, this.tunnel, this.endpoints])
      a.fill(0);
  }

  get evicted(): number {
    return this.slots.evicted;
  }

  /** Bytes of the typed arrays (carrierFlowBytesPerEntry x maxFlows). */
  get tableBytes(): number {
    return (
      this.slots.bytes +
      this.packets.byteLength +
      this.bytes.byteLength +
      this.firstNs.byteLength +
      this.lastNs.byteLength +
      this.badOuter.byteLength +
      this.badInner.byteLength +
      this.place.byteLength +
      this.vni.byteLength +
      this.tunnel.byteLength +
      this.endpoints.byteLength
    );
  }

  /** The interface's place (label, namespace) as an index: one lookup per interface change, not per flow. */
  private placeOf(iface: number, info: InterfaceInfo | undefined): number {
    if (info === this.lastInfo && iface === this.lastIface) return this.lastPlace;
    const label = info?.label ?? `#${iface}`;
    const namespace = info?.namespace ?? '';
    const key = `${label}\0${namespace}`;
    let p = this.placeIndex.get(key);
    if (p === undefined) {
      p = this.places.length;
      this.places.push({ label, namespace });
      this.placeIndex.set(key, p);
    }
    this.lastInfo = info;
    this.lastIface = iface;
    this.lastPlace = p;
    return p;
  }

  add(ev: EventBatch, dir: InterfaceDirectory): void {
    const F = this.F;
    for (let i = 0; i < ev.count; i++) {
      const flags = ev.flags(i);
      if (!(flags & F.carrier)) continue;
      const key = ev.flow(i);
      const ts = ev.tsNs(i);
      let s = this.slots.get(key);
      if (s < 0) {
        s = this.slots.add(key);
        const iface = ev.iface(i);
        this.place[s] = this.placeOf(iface, dir(iface));
        ev.copyEndpoints(i, this.endpoints, s * 2 * this.E.epSize);
        this.tunnel[s] = ev.tunnelId(i);
        this.vni[s] = ev.vni(i);
        this.packets[s] = 0;
        this.bytes[s] = 0;
        this.badOuter[s] = 0;
        this.badInner[s] = 0;
        this.dnsName[s] = null;
        this.firstNs[s] = ts;
        this.lastNs[s] = ev.lastTsNs(i);
      }
      this.packets[s] += ev.packets(i);
      this.bytes[s] += ev.wirelen(i);
      if (flags & F.badOuter) this.badOuter[s]++;
      if (flags & F.badInner) this.badInner[s]++;
      if (this.dnsName[s] === null && flags & F.dnsQuery) this.dnsName[s] = ev.dnsName(i);
      if (ev.lastTsNs(i) > this.lastNs[s]) this.lastNs[s] = ev.lastTsNs(i);
    }
  }

  get size(): number {
    return this.slots.size;
  }

  tableUse(): TableUse {
    return { size: this.slots.size, cap: this.maxFlows, evicted: this.evicted };
  }

  /** The `limit` flows with the most bad carriers, then the most packets (ties: least recently seen first). */
  top(limit: number): CarrierFlow[] {
    const all: number[] = [];
    this.slots.forEach((s) => all.push(s));
    const bad = (s: number): number => this.badOuter[s] + this.badInner[s];
    all.sort((a, b) => bad(b) - bad(a) || this.packets[b] - this.packets[a]);
    return all.slice(0, limit).map((s) => this.view(s));
  }

  private view(s: number): CarrierFlow {
    const n = this.E.epSize;
    const at = s * 2 * n;
    const tunnel = TUNNELS[this.tunnel[s]] ?? 'none';
    const { label, namespace } = this.places[this.place[s]];
    return {
      interface: label,
      namespace,
      outer: endpointAt(this.endpoints, at, this.E),
      tunnel,
      vni: tunnel === 'vxlan' || tunnel === 'geneve' ? this.vni[s] : null,
      inner: endpointAt(this.endpoints, at + n, this.E),
      packets: this.packets[s],
      bytes: this.bytes[s],
      badOuter: this.badOuter[s],
      badInner: this.badInner[s],
      dnsName: this.dnsName[s],
      firstSeen: isoOf(this.firstNs[s]),
      lastSeen: isoOf(this.lastNs[s]),
    };
  }
}
