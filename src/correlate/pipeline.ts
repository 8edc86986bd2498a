/**
 * The correlation pipeline over the batches of any source (live or file): rates,
 * carrier flows, cross-interface matching, DNS and SYN symptoms, bad flows, kernel
 * counters and the diagnosis, folded into one CorrelationSnapshot per tick.
 *
 * Per-packet work stays native (events are fixed records, keys are precomputed); here
 * each batch costs one pass over its events with Map lookups keyed by numbers.
 * A snapshot is made of copies: the pipeline never changes it after handing it out (a
 * paused dashboard holds on to one).
 */
import type { Blindness } from '../model/blind.js';
import type { CorrelationSnapshot, TableUse } from '../model/correlation.js';
import type { NativeLayout } from '../native/analyzer.js';
import { csumSlot, statusTotal } from '../native/counters.js';
import { KINDS, STATUS } from '../model/verdict.js';
import type { EventBatch } from '../native/events.js';
import type { PackedRecords } from '../native/records.js';
import type { DiagnosisFacts, DiagnosisInput, InterfaceDiagnosis } from '../diagnose/input.js';
import { isOverlayRole, type InterfaceFacts } from '../model/interface.js';
import { FindingTracker } from '../diagnose/tracker.js';
import { BadFlowTracker } from './bad-flows.js';
import { CarrierFlowTable } from './carrier-flows.js';
import { isoOf, type InterfaceDirectory, type InterfaceInfo } from './context.js';
import { DnsTracker } from './dns.js';
import type { KernelCounterTracker } from './kernel.js';
import type { KernelDropTracker } from './kernel-drops.js';
import { correlationLimits } from './limits.js';
import { CarrierMatcher } from './matcher.js';
import { Places } from './places.js';
import { RateTracker, type CounterSample } from './rates.js';
import { SynTracker } from './syn.js';

/** An interface as the pipeline sees it: its facts (ids are the source's) and how its
 * capture stands now. */
export interface PipelineInterface extends InterfaceFacts {
  /** Frames the kernel dropped because the ring was full, so far (0 for files). */
  captureDrops: number;
  /** Live: false once the interface vanished (its totals stay; rates end, see RATES_AFTER_DETACH_NS). */
  attached?: boolean;
  /** Live: only on the row older vanished interfaces are folded into, how many (src/capture/vanished.ts). */
  folded?: number;
}

/**
 * How long a vanished interface keeps its rate windows (and its dashboard row): its 60 s
 * sparkline drains to zero, then it is dropped, so per-tick work and memory follow the
 * interfaces that exist, not every pod veth ever seen (measured by test/lab/soak.test.ts:
 * with a veth pair and a VXLAN device created and deleted every 3 s, RSS grew ~200 KB
 * per vanished interface while all of them were kept).
 */
export const RATES_AFTER_DETACH_NS = 60e9;

export interface PipelineContext {
  layout: NativeLayout;
  interfaces: () => PipelineInterface[];
  counters: (id: number) => Float64Array;
  kernel: KernelCounterTracker | null;
  /** The kernel's drop verdicts (eBPF, issue 18); null or absent when that source is off. */
  kernelDrops?: KernelDropTracker | null;
  facts: DiagnosisFacts;
  live: boolean;
  guessesOffload: boolean;
  /** --max-flows: caps every per-flow table (src/correlate/limits.ts). */
  maxFlows: number;
  /** Live: bad frames counted natively but not reported one by one (summed over capture threads). */
  recordsDropped?: () => number;
  /** Live: the native bad-flow tables (summed over capture threads). */
  nativeBadFlows?: () => TableUse;
  /** Carrier/overlay match window (default 1 s). */
  matchWindowNs?: number;
  dnsTimeoutNs?: number;
  synTimeoutNs?: number;
  /** How long a finding stays after its evidence stopped growing (default 10 s). */
  holdNs?: number;
}

export class Correlator {
  private readonly rates: RateTracker;
  private readonly flows: CarrierFlowTable;
  private readonly matcher: CarrierMatcher;
  private readonly dns: DnsTracker;
  private readonly syn: SynTracker;
  private readonly bad: BadFlowTracker;
  private readonly findings: FindingTracker;
  /** Cumulative drop counts per capture thread (each batch carries its thread's). */
  private readonly droppedByEngine = new Map<number, number>();
  /** The same for bad-frame records (DiagnosisInput.recordsDropped). */
  private readonly recordsDroppedByEngine = new Map<number, number>();
  private lastNs = 0;
  /** The kernel's counters at the previous tick (DiagnosisInput.kernelBefore). */
  private kernelBefore: CorrelationSnapshot['kernel'] | null = null;
  /** When each vanished interface was first seen detached (tick time); ids past the window go to ratesEnded. */
  private readonly detachedAt = new Map<number, number>();
  private readonly ratesEnded = new Set<number>();
  private readonly places = new Places();
  private placePairs = new Uint32Array(0);

  constructor(private readonly ctx: PipelineContext) {
    const F = ctx.layout.event.flagBits;
    const caps = correlationLimits(ctx.maxFlows);
    // Live, the tables' memory is in use from the start, so that it stays flat while they
    // fill (what the hostile lab's memory test and a DaemonSet's limit need). A file has an
    // end and most have few flows: its tables take memory as they are written, and a small
    // file does not pay ~45 MB and ~65 ms at the default --max-flows for tables it barely
    // uses (native/flow/table_memory.h, Residency::kAsUsed; docs/line-rate.md).
    const resident = ctx.live;
    this.rates = new RateTracker(ctx.layout, ctx.guessesOffload);
    this.flows = new CarrierFlowTable(caps.carrierFlows, this.places, ctx.layout.record, resident);
    this.bad = new BadFlowTracker(caps.badFlowView, ctx.guessesOffload, resident);
    const windowNs = ctx.matchWindowNs ?? 1e9;
    this.matcher = new CarrierMatcher(F, { windowNs, maxPending: caps.pending, maxPeers: caps.peers });
    // One window for "the same packet on another interface", here and in the matcher.
    this.dns = new DnsTracker(
      F,
      { timeoutNs: ctx.dnsTimeoutNs ?? 5e9, maxTransactions: caps.dnsTransactions, maxListed: 100, copyWindowNs: windowNs, resident },
      this.places,
    );
    this.syn = new SynTracker(
      F,
      { timeoutNs: ctx.synTimeoutNs ?? 3.5e9, maxAttempts: caps.synAttempts, maxListed: 100, copyWindowNs: windowNs, resident },
      this.places,
    );
    this.findings = new FindingTracker(ctx.holdNs ?? 10e9);
  }

  private directory(): InterfaceDirectory {
    // One info object per interface per batch: the operators look one up per event.
    const byId = new Map<number, InterfaceInfo>();
    for (const i of this.ctx.interfaces()) {
      const overlay = isOverlayRole(i.role);
      if (overlay) this.matcher.setOverlay(i.namespace, i.label);
      byId.set(i.id, { label: i.label, namespace: i.namespace, overlay });
    }
    this.placePairs = this.places.pairs(byId);
    return (id) => byId.get(id);
  }

  /** One batch's events and bad-frame records; `engine`: the capture thread that cut it;
   * `recordsDropped`: that thread's records dropped so far (cumulative, as events.dropped). */
  add(events: EventBatch, records: PackedRecords, engine = 0, recordsDropped = 0): void {
    const dir = this.directory();
    this.droppedByEngine.set(engine, events.dropped);
    this.recordsDroppedByEngine.set(engine, recordsDropped);
    this.matcher.add(events, dir);
    this.flows.add(events, this.placePairs);
    this.dns.add(events, dir, this.placePairs);
    this.syn.add(events, dir, this.placePairs);
    this.bad.add(records, events, dir);
    if (events.count > 0) this.lastNs = Math.max(this.lastNs, events.lastTsNs(events.count - 1));
  }

  private diagnosisInterfaces(): InterfaceDiagnosis[] {
    const L = this.ctx.layout;
    // Not the folded row of older vanished interfaces: each was diagnosed while it had a row
    // of its own (the findings that held stay), and a remedy on a sum of devices that no
    // longer exist (`ethtool -S '(N older vanished interfaces)'`) would be false.
    return this.ctx
      .interfaces()
      .filter((i) => i.folded === undefined)
      .map((i) => {
        const c = this.ctx.counters(i.id);
        let badIpv4 = 0;
        for (let layer = 0; layer < L.numLayers; layer++) badIpv4 += c[csumSlot(L, layer, KINDS.indexOf('ipv4'), STATUS.bad)];
        return {
          ...i,
          frames: c[L.slots.frames],
          badIpv4,
          // From the native counters, which saw every frame: the records are dropped when
          // JavaScript falls behind, and "the kernel dropped what csumtop did not see" must
          // not come from csumtop's own drops (issue 13 s.3).
          badReceivedL4: c[L.slots.badReceivedL4],
          pending: statusTotal(c, L, STATUS.pending),
          validated: statusTotal(c, L, STATUS.validated),
          looksPartial: c[L.slots.looksPartial],
        };
      });
  }

  /**
   * Closes a tick at `nowNs` (wall clock live, capture time for files): windows close,
   * timeouts fire, rules run. `final`: the capture ended; everything waiting is decided
   * and the findings are all that ever held.
   */
  tick(nowNs: number, final = false): CorrelationSnapshot {
    const t = this.close(nowNs, final);
    return {
      time: isoOf(nowNs),
      rates: t.rates,
      peers: t.peers,
      flows: this.flows.top(200),
      badFlows: this.bad.top(200),
      flowsEvicted: this.flows.evicted,
      eventsDropped: t.eventsDropped,
      blind: t.blind,
      overlayUnattributed: this.matcher.unmatchedUnattributed,
      tables: this.tableUse(),
      dns: t.dns,
      syn: t.syn,
      kernel: t.kernel,
      ...(t.kernelDrops ? { kernelDrops: t.kernelDrops } : {}),
      findings: final ? this.findings.all() : t.active,
      findingCounts: this.findings.counts(),
    };
  }

  /**
   * The same tick as tick() when nobody reads its snapshot (a capture file's ticks but the
   * last): windows close, timeouts fire and rules run alike, but the flow lists are not
   * sorted nor their rows made. Those were ~7% of `csumtop -r`'s JavaScript thread on the
   * high-cardinality file (65536 carrier flows sorted per second of capture time, issue 14).
   */
  advance(nowNs: number): void {
    this.close(nowNs, false);
  }

  /** What every tick does to the state: see tick(). */
  private close(nowNs: number, final: boolean) {
    if (final) {
      this.matcher.flush();
      this.dns.flush();
      this.syn.flush();
    } else {
      this.matcher.advance(nowNs);
      this.dns.advance(nowNs);
      this.syn.advance(nowNs);
    }
    const ifaces = this.ctx.interfaces();
    // The folded row carries no traffic (its interfaces are gone); its counters grow only
    // when one more is folded in, which is not a rate: its rates are zeros.
    const samples: CounterSample[] = this.withRates(ifaces, nowNs).map((i) => ({
      ...i,
      counters: i.folded !== undefined ? this.noTraffic() : this.ctx.counters(i.id),
    }));
    const rates = this.rates.update({ second: Math.floor(nowNs / 1e9), samples });
    const kernel = this.ctx.kernel ? this.ctx.kernel.sample() : [];
    const kernelDrops = this.ctx.kernelDrops ? this.ctx.kernelDrops.sample() : null;
    const peers = this.matcher.snapshot();
    const dns = this.dns.summary();
    const syn = this.syn.summary();
    const eventsDropped = [...this.droppedByEngine.values()].reduce((a, b) => a + b, 0) + this.matcher.overflow;
    // Bad frames counted natively but not reported one by one. Live, from the capture's
    // own totals (LiveState sums the same per-thread cumulative counts, from every batch
    // as it arrives); from a file, from the batches this pipeline was given.
    const recordsDropped = this.ctx.recordsDropped ? this.ctx.recordsDropped() : [...this.recordsDroppedByEngine.values()].reduce((a, b) => a + b, 0);
    const input: DiagnosisInput = {
      nowNs,
      live: this.ctx.live,
      peers,
      interfaces: this.diagnosisInterfaces(),
      kernel,
      kernelBefore: this.kernelBefore,
      kernelDrops,
      eventsDropped,
      recordsDropped,
      dns,
      syn,
      facts: this.ctx.facts,
      guessesOffload: this.ctx.guessesOffload,
    };
    const blind: Blindness = {
      ringDrops: ifaces.reduce((s, i) => s + i.captureDrops, 0),
      eventsDropped,
      recordsDropped,
    };
    // Findings whose evidence stopped growing while csumtop was dropping are held, not
    // cleared (issue 13 s.3): the tracker reads the drops from the input.
    const active = this.findings.evaluate(input);
    this.kernelBefore = kernel;
    return { rates, kernel, kernelDrops, peers, dns, syn, eventsDropped, blind, active };
  }

  /** Interfaces that get rate windows: attached ones, and vanished ones for RATES_AFTER_DETACH_NS. */
  private noTraffic(): Float64Array {
    return new Float64Array(this.ctx.layout.counterStride);
  }

  private withRates(ifaces: PipelineInterface[], nowNs: number): PipelineInterface[] {
    // Interfaces no longer listed (folded into the vanished row) are forgotten here too.
    if (this.detachedAt.size + this.ratesEnded.size > 0) {
      const listed = new Set(ifaces.map((i) => i.id));
      for (const id of this.detachedAt.keys()) if (!listed.has(id)) this.detachedAt.delete(id);
      for (const id of this.ratesEnded) if (!listed.has(id)) this.ratesEnded.delete(id);
    }
    return ifaces.filter((i) => {
      if (i.attached !== false || i.folded !== undefined) return true;
      if (this.ratesEnded.has(i.id)) return false;
      const since = this.detachedAt.get(i.id);
      if (since === undefined) {
        this.detachedAt.set(i.id, nowNs);
        return true;
      }
      if (nowNs - since < RATES_AFTER_DETACH_NS) return true;
      this.detachedAt.delete(i.id);
      this.ratesEnded.add(i.id);
      return false;
    });
  }

  private tableUse(): NonNullable<CorrelationSnapshot['tables']> {
    const m = this.matcher.tableUse();
    return {
      ...(this.ctx.nativeBadFlows ? { badFlows: this.ctx.nativeBadFlows() } : {}),
      carrierFlows: this.flows.tableUse(),
      badFlowView: this.bad.tableUse(),
      peers: m.peers,
      dnsTransactions: this.dns.tableUse(),
      synAttempts: this.syn.tableUse(),
      matcherPending: m.pending,
    };
  }

  /** Capture time of the newest event seen (files tick on it). */
  get newestNs(): number {
    return this.lastNs;
  }
}
