/**
 * Flows with bad checksums while capture runs, from the bad-frame records of each batch
 * (the native bad-flow table is read only at the end): what the dashboard's flow pane
 * and the JSON lines show, each with its latest frame as a sample (bytes and checksum
 * offsets for the hex dump) and its RECENT_BAD_FRAMES latest frames without bytes.
 * Bounded; the least recently seen flow goes first.
 *
 * A flow is kept in a compact form and made a BadFlowView only when `top` hands it out
 * (at most a few hundred per interval): times stay numbers, the sample is the latest of
 * the recent frames. On a flood where every bad frame is a new flow, most flows are
 * evicted before any snapshot shows them, and each object made per frame outlived a
 * scavenge or two (a flow lives for the next 4096 bad flows): the view was the largest
 * part of the JavaScript thread's time, most of it collection (bench/RESULTS-live.md).
 */
import { RECENT_BAD_FRAMES, type BadFlowView, type TableUse } from '../model/correlation.js';
import type { DecodedRecord } from '../model/bad-frame.js';
import { formatTimeNs } from '../model/addr.js';
import type { InterfaceDirectory } from './context.js';
import { LruMap } from './lru.js';

function endpointKey(e: DecodedRecord['outer']): string {
  return e ? `${e.src}>${e.dst}/${e.proto}/${e.sport}/${e.dport}` : '-';
}

/**
 * Flows whose sample keeps its frame bytes (up to 4096 each): the most recently sampled.
 * The others keep their sample's verdicts and time only. Without this bound the table
 * (4096 flows) could hold 16 MB of frame bytes, and hostile traffic, whose every bad frame
 * is a new flow, grew resident memory for as long as it took to fill it.
 */
export const MAX_SAMPLED_BYTES_FLOWS = 256;

/** One of a flow's latest frames as kept (its time shown only when handed out). */
type KeptFrame = Pick<DecodedRecord, 'frame' | 'tsNs' | 'direction' | 'checksums' | 'wirelen'>;

interface Flow extends Pick<BadFlowView, 'interface' | 'namespace' | 'peer' | 'outer' | 'tunnel' | 'vni' | 'inner'> {
  dnsName: string | null;
  count: number;
  artefacts: number;
  badChecksums: string[];
  firstNs: bigint;
  /** Oldest first; the last one is the sample. */
  recent: KeptFrame[];
  /** The sample's bytes while it is among the newest sampled (MAX_SAMPLED_BYTES_FLOWS). */
  bytes: Uint8Array | null;
  /** Which keepBytes entry holds `bytes` (an older entry of the flow must not drop them). */
  bytesStamp: number;
}

/** "outer/udp", ...: made once per layer and protocol, not per frame. */
const nameOf = new Map<string, Map<string, string>>();
function checksumName(layer: string, protocol: string): string {
  let byProtocol = nameOf.get(layer);
  if (byProtocol === undefined) nameOf.set(layer, (byProtocol = new Map()));
  let name = byProtocol.get(protocol);
  if (name === undefined) byProtocol.set(protocol, (name = `${layer}/${protocol}`));
  return name;
}

/** The names of a frame's bad checksums, each once, in order. */
function checksumNames(checksums: DecodedRecord['checksums']): string[] {
  if (checksums.length === 1) return [checksumName(checksums[0].layer, checksums[0].protocol)];
  const out: string[] = [];
  for (const c of checksums) {
    const name = checksumName(c.layer, c.protocol);
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

export class BadFlowTracker {
  private readonly flows: LruMap<string, Flow>;
  /** Flows whose sample held bytes, oldest first, and the stamp each was given then. */
  private withBytes: Flow[] = [];
  private stamps: number[] = [];
  private stamp = 0;

  /** `partialIsOffload`: as RateTracker's (src/correlate/rates.ts): a file or libpcap. */
  constructor(
    private readonly maxFlows = 4096,
    private readonly partialIsOffload = false,
  ) {
    this.flows = new LruMap(maxFlows);
  }

  get evicted(): number {
    return this.flows.evicted;
  }

  add(records: DecodedRecord[], dir: InterfaceDirectory, names: (id: number) => string | null = () => null): void {
    const firstStamp = this.stamp;
    for (const r of records) {
      const key = `${r.iface}|${endpointKey(r.outer)}|${r.tunnel}|${r.vni}|${endpointKey(r.inner)}`;
      const kept: KeptFrame = { frame: r.frame, tsNs: r.tsNs, direction: r.direction, checksums: r.checksums, wirelen: r.wirelen };
      let f = this.flows.get(key);
      if (!f) {
        const info = dir(r.iface);
        const sent = r.direction === 'sent';
        f = {
          interface: info?.label ?? `#${r.iface}`,
          namespace: info?.namespace ?? '',
          peer: r.inner && r.outer ? (sent ? r.outer.dst : r.outer.src) : null,
          outer: r.outer,
          tunnel: r.tunnel,
          vni: r.vni,
          inner: r.inner,
          dnsName: null,
          count: 0,
          artefacts: 0,
          // Made whole, not pushed to: an array grown by push reserves 17 slots, and most
          // flows of a flood never see a second frame.
          badChecksums: checksumNames(r.checksums),
          firstNs: r.tsNs,
          recent: [kept],
          bytes: null,
          bytesStamp: -1,
        };
        this.flows.set(key, f);
      } else {
        for (const c of r.checksums) {
          const name = checksumName(c.layer, c.protocol);
          if (!f.badChecksums.includes(name)) f.badChecksums.push(name);
        }
        // The flow's latest frames for its detail (time, direction, verdicts), as termshark
        // lists a conversation's packets (issue 19); bounded per flow.
        if (f.recent.length === RECENT_BAD_FRAMES) f.recent.shift();
        f.recent.push(kept);
      }
      f.count++;
      if (this.partialIsOffload && r.checksums.length > 0 && r.checksums.every((c) => c.looksLikeOffload)) f.artefacts++;
      f.dnsName ??= names(r.frame);
      f.bytes = r.bytes;
      if (r.bytes) this.keepBytes(f);
    }
    this.ownBytes(firstStamp);
  }

  /**
   * The samples given bytes since `firstStamp` that still hold them are copied: a record's
   * bytes are a view of its batch (src/native/records.ts). Only these (at most
   * 2 x MAX_SAMPLED_BYTES_FLOWS per call), not one copy per bad frame.
   */
  private ownBytes(firstStamp: number): void {
    for (let k = this.withBytes.length - 1; k >= 0 && this.stamps[k] >= firstStamp; k--) {
      const f = this.withBytes[k];
      // A copy (a Buffer's slice() would be another view).
      if (f.bytesStamp === this.stamps[k] && f.bytes) f.bytes = new Uint8Array(f.bytes);
    }
  }

  /**
   * Keeps the bytes of the newest samples: between MAX_SAMPLED_BYTES_FLOWS and twice that
   * (trimmed in one pass when it doubles, so a flood costs no work per record).
   */
  private keepBytes(f: Flow): void {
    f.bytesStamp = this.stamp;
    this.withBytes.push(f);
    this.stamps.push(this.stamp++);
    if (this.withBytes.length <= 2 * MAX_SAMPLED_BYTES_FLOWS) return;
    const drop = this.withBytes.length - MAX_SAMPLED_BYTES_FLOWS;
    for (let k = 0; k < drop; k++) {
      const old = this.withBytes[k];
      if (old.bytesStamp === this.stamps[k]) old.bytes = null;
    }
    this.withBytes = this.withBytes.slice(drop);
    this.stamps = this.stamps.slice(drop);
  }

  /** Most frames first; new objects, so a snapshot never changes after it is handed out. */
  top(limit: number): BadFlowView[] {
    return [...this.flows.values()]
      .sort((a, b) => b.count - a.count)
      .slice(0, limit)
      .map((f) => {
        const last = f.recent[f.recent.length - 1];
        const lastSeen = formatTimeNs(last.tsNs);
        return {
          interface: f.interface,
          namespace: f.namespace,
          peer: f.peer,
          outer: f.outer,
          tunnel: f.tunnel,
          vni: f.vni,
          inner: f.inner,
          dnsName: f.dnsName,
          count: f.count,
          artefacts: f.artefacts,
          badChecksums: [...f.badChecksums],
          firstSeen: formatTimeNs(f.firstNs),
          lastSeen,
          sample: { frame: last.frame, time: lastSeen, checksums: last.checksums, bytes: f.bytes, wirelen: last.wirelen },
          recent: f.recent.map((k) => ({ frame: k.frame, time: formatTimeNs(k.tsNs), direction: k.direction, checksums: k.checksums })),
        };
      });
  }

  clear(): void {
    this.flows.clear();
  }

  tableUse(): TableUse {
    return { size: this.flows.size, cap: this.maxFlows, evicted: this.evicted };
  }
}
