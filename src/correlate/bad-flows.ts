/**
 * Flows with bad checksums while capture runs, from the bad-frame records of each batch:
 * what the dashboard's flow pane and the JSON lines show, each with its latest frame as a
 * sample (bytes and checksum offsets for the hex dump) and its RECENT_BAD_FRAMES latest
 * frames without bytes. Bounded; the least recently seen flow goes first.
 *
 * The flows are kept in the addon (native/flow/bad_flow_view.h says how, and why: on a
 * flood where every bad frame is a new flow, the flows and records this view kept as
 * objects outlived scavenges and were half of the live collector's time, issue 14). A
 * BadFlowView object is made only when `top` hands a flow out, at most a few hundred per
 * interval. The policy is the one the JavaScript view had, kept as the oracle
 * test/lib/bad-flows-reference.ts (test/unit/bad-flows.test.ts).
 */
import { RECENT_BAD_FRAMES, type BadFlowView, type TableUse } from '../model/correlation.js';
import { formatTimeNs } from '../model/addr.js';
import { KINDS, LAYERS } from '../model/verdict.js';
import { nativeLayout } from '../native/analyzer.js';
import { badFlowViewLayout, newBadFlowView, type NativeBadFlowView } from '../native/bad-flow-view.js';
import type { EventBatch } from '../native/events.js';
import { PackedRecords } from '../native/records.js';
import type { InterfaceDirectory, InterfaceInfo } from './context.js';

/**
 * Flows whose sample keeps its frame bytes (up to 4096 each): the most recently sampled.
 * The others keep their sample's verdicts and time only. Without this bound the view
 * (4096 flows) could hold 16 MB of frame bytes, and hostile traffic, whose every bad frame
 * is a new flow, grew resident memory for as long as it took to fill it.
 */
export const MAX_SAMPLED_BYTES_FLOWS = 256;

/** "outer/udp", ...: made once per layer and protocol, not per flow. */
const CHECKSUM_NAMES = new Map<number, string>();
function checksumName(code: number): string {
  let name = CHECKSUM_NAMES.get(code);
  if (name === undefined) CHECKSUM_NAMES.set(code, (name = `${LAYERS[code >> 4]}/${KINDS[code & 15]}`));
  return name;
}

export class BadFlowTracker {
  private readonly view: NativeBadFlowView;
  /**
   * Each interface's label and namespace as they were when the view first saw it (a flow
   * shows the interface as it was when the flow began, also after the interface vanished
   * and was folded); kept while a flow of it is, pruned at each top().
   */
  private readonly labels = new Map<number, InterfaceInfo>();
  /** The directory of the latest batch: for an interface that was not known when first seen. */
  private dir: InterfaceDirectory = () => undefined;

  /** `partialIsOffload`: as RateTracker's (src/correlate/rates.ts): a file or libpcap;
   * `resident`: as DnsOptions.resident (src/correlate/dns.ts). */
  constructor(
    private readonly maxFlows = 4096,
    partialIsOffload = false,
    resident = true,
  ) {
    this.view = newBadFlowView(maxFlows, RECENT_BAD_FRAMES, MAX_SAMPLED_BYTES_FLOWS, partialIsOffload, resident);
  }

  get evicted(): number {
    return this.view.evicted;
  }

  /** One batch's records; its events give the DNS names of their frames. */
  add(records: PackedRecords, events: EventBatch, dir: InterfaceDirectory): void {
    if (records.count === 0) return;
    this.dir = dir;
    const L = nativeLayout().record;
    const buf = records.buf;
    let last = -1;
    for (let k = 0; k < records.count; k++) {
      const id = buf.readUInt32LE(k * L.size + L.iface);
      if (id === last) continue;
      last = id;
      if (this.labels.has(id)) continue;
      // Not kept while unknown: a flow then shows the label as soon as the directory has it.
      const info = dir(id);
      if (info) this.labels.set(id, info);
    }
    this.view.add(buf, records.bytes, events.buffer, events.namesBuffer);
  }

  /** Most frames first (ties least recently seen first); new objects, so a snapshot never changes after it is handed out. */
  top(limit: number): BadFlowView[] {
    const t = this.view.top(limit);
    const R = badFlowViewLayout();
    const L = nativeLayout().record;
    const records = new PackedRecords(t.records, t.bytes, L);
    const out: BadFlowView[] = [];
    let at = 0;
    for (let row = 0; row + R.size <= t.rows.length; row += R.size) {
      const n = t.rows[row + R.nRecent];
      const recent = records.decode(at, at + n);
      at += n;
      const last = recent[recent.length - 1];
      const iface = t.rows.readUInt32LE(row + R.iface);
      const info = this.labelOf(iface);
      const peer = t.rows[row + R.peer];
      const dnsOff = t.rows.readUInt32LE(row + R.dnsOff);
      const names: string[] = [];
      for (let k = 0; k < t.rows[row + R.nNames]; k++) names.push(checksumName(t.rows[row + R.names + k]));
      const lastSeen = formatTimeNs(last.tsNs);
      out.push({
        interface: info?.label ?? `#${iface}`,
        namespace: info?.namespace ?? '',
        peer: peer === 0 || !last.outer ? null : peer === 2 ? last.outer.dst : last.outer.src,
        outer: last.outer,
        tunnel: last.tunnel,
        vni: last.vni,
        inner: last.inner,
        dnsName: t.rows[row + R.hasDns] ? t.names.toString('latin1', dnsOff, dnsOff + t.rows.readUInt16LE(row + R.dnsLen)) : null,
        count: Number(t.rows.readBigUInt64LE(row + R.count)),
        artefacts: Number(t.rows.readBigUInt64LE(row + R.artefacts)),
        badChecksums: names,
        firstSeen: formatTimeNs(t.rows.readBigUInt64LE(row + R.firstNs)),
        lastSeen,
        sample: {
          frame: last.frame,
          time: lastSeen,
          checksums: last.checksums,
          // A view of top()'s own buffer, made for this call: nothing else writes it.
          bytes: last.bytes,
          wirelen: last.wirelen,
        },
        recent: recent.map((k) => ({ frame: k.frame, time: formatTimeNs(k.tsNs), direction: k.direction, checksums: k.checksums })),
      });
    }
    this.pruneLabels();
    return out;
  }

  private labelOf(iface: number): InterfaceInfo | undefined {
    let info = this.labels.get(iface);
    if (info === undefined && (info = this.dir(iface)) !== undefined) this.labels.set(iface, info);
    return info;
  }

  /** Labels of interfaces no flow of the view is on any more are dropped. */
  private pruneLabels(): void {
    const kept = new Set(this.view.interfaces());
    for (const id of this.labels.keys()) if (!kept.has(id)) this.labels.delete(id);
  }

  tableUse(): TableUse {
    return { size: this.view.size, cap: this.maxFlows, evicted: this.evicted };
  }
}
