/**
 * The bad-flow view as it was before it kept flows compactly (src/correlate/bad-flows.ts,
 * 2026-12-07): an object per flow with its times as text and a sample object per frame.
 * Kept as the oracle of test/unit/bad-flows.test.ts, which requires the same views from
 * both on random records.
 */
import { RECENT_BAD_FRAMES, type BadFlowView, type TableUse } from '../../src/model/correlation.js';
import type { DecodedRecord } from '../../src/model/bad-frame.js';
import { formatTimeNs } from '../../src/model/addr.js';
import type { InterfaceDirectory } from '../../src/correlate/context.js';
import type { EventBatch, EventFlags } from '../../src/native/events.js';
import { LruMap } from '../../src/correlate/lru.js';
import { MAX_SAMPLED_BYTES_FLOWS } from '../../src/correlate/bad-flows.js';

function endpointKey(e: DecodedRecord['outer']): string {
  return e ? `${e.src}>${e.dst}/${e.proto}/${e.sport}/${e.dport}` : '-';
}

export class ReferenceBadFlowTracker {
  private readonly flows: LruMap<string, BadFlowView>;
  /** Samples that hold bytes, oldest first (a flow sampled again leaves a stale entry). */
  private withBytes: Array<NonNullable<BadFlowView['sample']>> = [];

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
    for (const r of records) {
      const key = `${r.iface}|${endpointKey(r.outer)}|${r.tunnel}|${r.vni}|${endpointKey(r.inner)}`;
      let f = this.flows.get(key);
      const time = formatTimeNs(r.tsNs);
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
          badChecksums: [],
          firstSeen: time,
          lastSeen: time,
          sample: null,
          recent: [],
        };
        this.flows.set(key, f);
      }
      f.count++;
      if (this.partialIsOffload && r.checksums.length > 0 && r.checksums.every((c) => c.looksLikeOffload)) f.artefacts++;
      f.lastSeen = time;
      f.dnsName ??= names(r.frame);
      for (const c of r.checksums) {
        const name = `${c.layer}/${c.protocol}`;
        if (!f.badChecksums.includes(name)) f.badChecksums.push(name);
      }
      f.sample = { frame: r.frame, time, checksums: r.checksums, bytes: r.bytes, wirelen: r.wirelen };
      // The flow's latest frames for its detail (time, direction, verdicts), as termshark
      // lists a conversation's packets (issue 19); bounded per flow.
      if (f.recent.length === RECENT_BAD_FRAMES) f.recent.shift();
      f.recent.push({ frame: r.frame, time, direction: r.direction, checksums: r.checksums });
      if (r.bytes) this.keepBytes(f.sample);
    }
  }

  /**
   * Keeps the bytes of the newest samples: between MAX_SAMPLED_BYTES_FLOWS and twice that
   * (trimmed in one pass when it doubles, so a flood costs no work per record).
   */
  private keepBytes(sample: NonNullable<BadFlowView['sample']>): void {
    this.withBytes.push(sample);
    if (this.withBytes.length <= 2 * MAX_SAMPLED_BYTES_FLOWS) return;
    const drop = this.withBytes.length - MAX_SAMPLED_BYTES_FLOWS;
    for (let k = 0; k < drop; k++) this.withBytes[k].bytes = null;
    this.withBytes = this.withBytes.slice(drop);
  }

  /** Most frames first; copies, so a snapshot never changes after it is handed out. */
  top(limit: number): BadFlowView[] {
    return [...this.flows.values()]
      .sort((a, b) => b.count - a.count)
      .slice(0, limit)
      .map((f) => ({ ...f, badChecksums: [...f.badChecksums], recent: [...f.recent] }));
  }

  clear(): void {
    this.flows.clear();
  }

  tableUse(): TableUse {
    return { size: this.flows.size, cap: this.maxFlows, evicted: this.evicted };
  }
}

/**
 * (The names source the view had, kept with it.) The DNS query name of each DNS frame of a batch, by frame number: a bad flow that
 * carries DNS is named after it in the dashboard's flow pane (issue 19). The names come
 * from the native DNS parse of the same frames (native/flow/events.cc).
 *
 * A batch's events are in the order their frames were taken, so their frame numbers never
 * decrease (EventBuffer::observe appends; a coalesced carrier keeps its first frame's
 * number): each bad frame's events are found by binary search. Walking every event of the
 * batch for the 1% of bad frames was ~4% of `csumtop -r`'s JavaScript thread (issue 14).
 */
export function dnsNames(events: EventBatch, F: EventFlags, records: DecodedRecord[]): (frame: number) => string | null {
  const names = new Map<number, string>();
  for (const r of records) {
    let lo = 0;
    let hi = events.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (events.frameNumber(mid) < r.frame) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < events.count && events.frameNumber(i) === r.frame; i++) {
      if (!(events.flags(i) & (F.dnsQuery | F.dnsAnswer)) || events.dnsNameLength(i) === 0) continue;
      names.set(r.frame, events.dnsName(i));
    }
  }
  return (frame) => names.get(frame) ?? null;
}
