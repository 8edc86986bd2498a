/**
 * Per-flow aggregates that tie each VXLAN/Geneve carrier to its inner flow, in a table
 * bounded by `maxFlows` (architecture.md, "Bounded everything"): when full, the flow seen
 * least recently is evicted and counted (LruMap, O(1)). Keys are the native 53-bit flow
 * keys, so a packet costs one Map lookup and no string.
 */
import type { CarrierFlow, TableUse } from '../model/correlation.js';
import type { EventBatch } from '../native/events.js';
import type { EventFlags } from '../native/events.js';
import { isoOf, type InterfaceDirectory } from './context.js';
import { LruMap } from './lru.js';

interface FlowAgg {
  view: CarrierFlow;
  firstNs: number;
  lastNs: number;
}

export class CarrierFlowTable {
  private readonly flows: LruMap<number, FlowAgg>;

  constructor(
    private readonly maxFlows: number,
    private readonly F: EventFlags,
  ) {
    this.flows = new LruMap(maxFlows);
  }

  get evicted(): number {
    return this.flows.evicted;
  }

  add(ev: EventBatch, dir: InterfaceDirectory): void {
    const F = this.F;
    for (let i = 0; i < ev.count; i++) {
      const flags = ev.flags(i);
      if (!(flags & F.carrier)) continue;
      const key = ev.flow(i);
      const ts = ev.tsNs(i);
      let f = this.flows.get(key);
      if (!f) {
        const info = dir(ev.iface(i));
        f = {
          view: {
            interface: info?.label ?? `#${ev.iface(i)}`,
            namespace: info?.namespace ?? '',
            outer: ev.outer(i),
            tunnel: ev.tunnel(i),
            vni: ev.tunnel(i) === 'vxlan' || ev.tunnel(i) === 'geneve' ? ev.vni(i) : null,
            inner: ev.inner(i),
            packets: 0,
            bytes: 0,
            badOuter: 0,
            badInner: 0,
            dnsName: null,
            firstSeen: '',
            lastSeen: '',
          },
          firstNs: ts,
          lastNs: ts,
        };
        this.flows.set(key, f);
      }
      f.view.packets += ev.packets(i);
      f.view.bytes += ev.wirelen(i);
      if (flags & F.badOuter) f.view.badOuter++;
      if (flags & F.badInner) f.view.badInner++;
      if (f.view.dnsName === null && flags & F.dnsQuery) f.view.dnsName = ev.dnsName(i);
      if (ts > f.lastNs) f.lastNs = ts;
    }
  }

  get size(): number {
    return this.flows.size;
  }

  tableUse(): TableUse {
    return { size: this.flows.size, cap: this.maxFlows, evicted: this.evicted };
  }

  /** The `limit` flows with the most bad carriers, then the most packets. */
  top(limit: number): CarrierFlow[] {
    const all = [...this.flows.values()];
    all.sort((a, b) => b.view.badOuter + b.view.badInner - (a.view.badOuter + a.view.badInner) || b.view.packets - a.view.packets);
    return all.slice(0, limit).map((f) => ({ ...f.view, firstSeen: isoOf(f.firstNs), lastSeen: isoOf(f.lastNs) }));
  }
}
