/**
 * csumtop's Prometheus metrics (issue 6), built on prom-client.
 *
 * Naming follows prometheus.io/docs/practices/naming/: one application prefix
 * (`csumtop_`), `_total` on every counter, units in the name where there is one
 * (`_bytes_total`), and labels for dimensions whose values are few and known (layer,
 * protocol, verdict, direction, reason) or capped here (interface: 512, peer:
 * --metrics-max-peers, see label-folder.ts). `csumtop_build_info` is the "info" pattern
 * (prometheus.io/docs/instrumenting/writing_exporters/#target-labels-not-static-scraped-labels).
 *
 * Nothing here runs per packet: the native capture thread keeps cumulative counters per
 * interface (docs/design.md, principle 1); observeInterfaces() turns them into counter
 * increments once per scrape, update() turns the correlation pipeline's
 * CorrelationSnapshot into increments once per interval, observeKernel() the kernel's
 * counters once a second.
 *
 * Counters only ever go up: every source value is turned into a delta against the last
 * value seen for the same source (a source that went down restarted, so its new value is
 * the delta). When an interface vanishes its series are removed, never reset to 0
 * (a reset would read as a counter reset to rate()/increase() and hide the last counts;
 * a removed series ends, and Prometheus marks it stale).
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

import {
  KERNEL_DROP_OUTCOMES,
  type CorrelationSnapshot,
  type KernelDropCount,
  type KernelDropOutcome,
  type KernelDropOutcomes,
  type PeerCarriers,
} from '../../model/correlation.js';
import type { Finding } from '../../model/findings.js';
import { interfaceLabel, type InterfaceFacts } from '../../model/interface.js';
import { CHECKSUM_COUNTERS, type ChecksumCounterName } from '../../model/host-facts.js';
import { KINDS, LAYERS, MALFORMED_REASONS, STATUSES } from '../../model/verdict.js';
import type { NativeLayout } from '../../native/analyzer.js';
import { csumSlot } from '../../native/counters.js';
import { kernelCounterName } from '../../host/snmp.js';
import { LabelFolder, OTHER } from './label-folder.js';
import { DEFAULT_MAX_INTERFACES, DEFAULT_MAX_PEERS } from './limits.js';
import { NOT_BLIND, type Blindness } from '../../model/blind.js';
import { MAX_VANISHED } from '../../capture/vanished.js';

/** Namespaces with their own `netns` label in csumtop_kernel_drops_total; more fold into "other". */
const KERNEL_DROP_MAX_NETNS = 64;

/**
 * csumtop_kernel_drop_matches_total's `outcome` per match outcome (model/correlation.ts
 * KERNEL_DROP_OUTCOMES), in the snake case of Prometheus label values.
 */
const KERNEL_DROP_OUTCOME_LABELS: Record<KernelDropOutcome, string> = {
  seenBad: 'seen_bad',
  seenGood: 'seen_good',
  seenUnverified: 'seen_unverified',
  notCaptured: 'not_captured',
  ringDrop: 'ring_drop',
  notSeen: 'not_seen',
  tableFull: 'table_full',
};

/** csumtop_blind_total's `what` per kind of drop. */
const BLIND_LABELS = new Map<keyof Blindness, string>([
  ['ringDrops', 'ring_drops'],
  ['eventsDropped', 'events_dropped'],
  ['recordsDropped', 'records_dropped'],
]);

export { DEFAULT_MAX_INTERFACES, DEFAULT_MAX_PEERS } from './limits.js';

/**
 * The kernel counters exported as csumtop_kernel_checksum_errors_total: only those that
 * count checksum failures and nothing else (Udp InErrors also counts full receive
 * buffers, Ip InHdrErrors bad versions and lengths), so a rise means a checksum.
 */
export const KERNEL_CHECKSUM_COUNTERS: readonly ChecksumCounterName[] = CHECKSUM_COUNTERS.filter((k) => k.endsWith('InCsumErrors'));

/** The part of the native counter layout the exporter reads. */
export type CounterLayout = Pick<
  NativeLayout,
  'counterStride' | 'slots' | 'malformedBase' | 'csumBase' | 'numLayers' | 'numKinds' | 'numStatus' | 'numMalformed'
>;

/**
 * One captured interface as the live capture knows it at scrape time: who it is
 * (src/model/interface.ts; the id is never reused, so a recreated interface is a new
 * sample) and what it counted.
 */
export interface InterfaceSample extends Pick<InterfaceFacts, 'id' | 'name' | 'namespace'> {
  attached: boolean;
  /** Cumulative counters, one stride of the native layout. */
  counters: Float64Array;
  /** Cumulative frames the kernel dropped because the ring was full. */
  captureDrops: number;
  /** The row older vanished interfaces are folded into: how many (src/capture/vanished.ts). */
  folded?: number;
}

export interface ExporterOptions {
  version: string;
  checksumPath: string;
  /** "afpacket" or "libpcap". */
  backend: string;
  layout: CounterLayout;
  maxPeers?: number;
  maxInterfaces?: number;
}

type Labels = Record<string, string>;

/** One per-interface value: which counter, its fixed labels, how to read it. */
interface Slot {
  counter: Counter<string>;
  labels: Labels;
  /** Created at 0 with the interface, so increase() sees the first event (see below). */
  eager: boolean;
  read: (c: Float64Array, drops: number) => number;
}

interface InterfaceTrack {
  key: string;
  label: string;
  namespace: string;
  /** Last raw value of each slot. */
  last: Float64Array;
  /** Series removed (vanished) or never published. */
  done: boolean;
  /** Published at 0, its counts wait for the next scrape (see firstSample below). */
  fresh: boolean;
}

interface PeerRaw {
  carriers: number;
  badOuter: number;
  badInner: number;
  badIpv4: number;
  lost: number | null;
}

interface PeerEntry {
  /** Values already added to the series. */
  applied: PeerRaw;
  /** Scrape count when the entry appeared: its counts wait until a scrape showed the 0. */
  bornAt: number;
}

function seriesKey(name: string, labels: Labels): string {
  return `${name}\u0000${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join('\u0000')}`;
}

function interfaceKey(namespace: string, name: string): string {
  return `${namespace}\u0000${name}`;
}

export class MetricsExporter {
  readonly registry = new Registry();
  private readonly packets: Counter<string>;
  private readonly bytes: Counter<string>;
  private readonly checksums: Counter<string>;
  private readonly malformed: Counter<string>;
  private readonly drops: Counter<string>;
  private readonly kernel: Counter<string>;
  private readonly peerCarriers: Counter<string>;
  private readonly kernelDrops: Counter<string>;
  private readonly kernelDropMatches: Counter<string>;
  /** csumtop_kernel_drops_total's own label caps: its devices and namespaces include ones
   * csumtop does not capture (every pod's), so they are folded apart from `interface`. */
  private readonly kernelDropDevices = new LabelFolder(DEFAULT_MAX_INTERFACES);
  private readonly kernelDropNetns = new LabelFolder(KERNEL_DROP_MAX_NETNS);
  /** Per key of KernelDropView (bounded by its cap): the total and outcomes already added. */
  private readonly kernelDropsApplied = new Map<string, { applied: number; outcomes: KernelDropOutcomes; bornAt: number }>();
  private readonly finding: Gauge<string>;
  private readonly blind: Counter<string>;
  private blindApplied: Blindness = NOT_BLIND;
  private readonly interfacesGauge: Gauge<string>;
  private readonly slots: Slot[];

  private readonly interfaceLabels: LabelFolder;
  private readonly peerLabels: LabelFolder;
  private readonly tracks = new Map<number, InterfaceTrack>();
  /** Interface key -> capture ids that publish under it while attached. */
  private readonly members = new Map<string, Set<number>>();
  /** Interface key -> series published for it (removed together when it vanishes). */
  private readonly seriesOf = new Map<string, Map<string, { counter: Counter<string>; labels: Labels }>>();
  /** Interface keys whose interface vanished: correlation results on them are not published. */
  private readonly vanished = new Set<string>();
  private readonly peers = new Map<string, PeerEntry>();
  /** text() calls so far: a series first published at 0 gets its counts after one. */
  private scrapes = 0;
  private readonly findingSeries = new Map<string, Labels>();
  private readonly names = new Map<Counter<string>, string>();

  constructor(opts: ExporterOptions) {
    const r = this.registry;
    // node_exporter's names: `device` for an interface (so `on(instance, device)` joins
    // node_network_*), and `netns`, not `namespace`, which the Prometheus Operator's target
    // label (the pod's Kubernetes namespace) would overwrite into `exported_namespace`.
    const ifLabels = ['device', 'netns'];
    this.packets = new Counter({
      name: 'csumtop_packets_total',
      help: 'Frames captured per interface; direction "sent" is what this host sent (PACKET_OUTGOING), "received" everything else.',
      labelNames: [...ifLabels, 'direction'],
      registers: [r],
    });
    this.bytes = new Counter({
      name: 'csumtop_bytes_total',
      help: 'Bytes of the frames captured per interface (length on the wire).',
      labelNames: ifLabels,
      registers: [r],
    });
    this.checksums = new Counter({
      name: 'csumtop_checksums_total',
      help: 'Checksums verified per interface, layer (outer, inner = inside a tunnel), protocol and verdict; only verdict="bad" is an error (pending/validated: the kernel says offload).',
      labelNames: [...ifLabels, 'layer', 'protocol', 'verdict'],
      registers: [r],
    });
    this.malformed = new Counter({
      name: 'csumtop_malformed_frames_total',
      help: 'Frames whose headers could not be decoded, per interface and reason.',
      labelNames: [...ifLabels, 'reason'],
      registers: [r],
    });
    this.drops = new Counter({
      name: 'csumtop_capture_drops_total',
      help: 'Frames the kernel dropped because the capture ring was full (PACKET_STATISTICS): the other counts are a lower bound while this rises.',
      labelNames: ifLabels,
      registers: [r],
    });
    this.kernel = new Counter({
      name: 'csumtop_kernel_checksum_errors_total',
      help: "The kernel's own checksum error counters (/proc/net/snmp, netstat, snmp6) per network namespace, increase since csumtop started; counter is the kernel's name (Udp_InCsumErrors).",
      labelNames: ['netns', 'counter'],
      registers: [r],
    });
    this.peerCarriers = new Counter({
      name: 'csumtop_vxlan_peer_carriers_total',
      help: 'Tunnel carriers exchanged with each peer node on an underlay interface: verdict ok, bad_outer, bad_inner, bad_ipv4 (checksum bad), lost (not seen on the other side of the tunnel device).',
      labelNames: [...ifLabels, 'peer', 'direction', 'verdict'],
      registers: [r],
    });
    this.kernelDrops = new Counter({
      name: 'csumtop_kernel_drops_total',
      help: "Packets the kernel dropped for a checksum or IPv4 header reason, by its own verdict (eBPF on skb:kfree_skb; absent with --no-kernel-drops or without CAP_BPF): reason is the kernel's (UDP_CSUM, TCP_CSUM, IP_CSUM, IP_INHDR, SKB_CSUM, ICMP_CSUM), peer the packet's outer source address (capped like csumtop_vxlan_peer_carriers_total), device and netns the ones it was dropped on.",
      labelNames: ['netns', 'device', 'reason', 'peer'],
      registers: [r],
    });
    // The outcomes in a counter of their own, without `peer`: an `outcome` label on
    // csumtop_kernel_drops_total would multiply its peer series by seven.
    this.kernelDropMatches = new Counter({
      name: 'csumtop_kernel_drop_matches_total',
      help: "What csumtop's capture saw of the packets in csumtop_kernel_drops_total (docs/kernel-drops.md): outcome seen_bad (captured, that checksum bad: csumtop agrees), seen_good (verified good: csumtop disagrees), seen_unverified, not_captured (device not captured), ring_drop (the capture ring dropped frames then), not_seen (a filter, -c or NAT), table_full (csumtop cannot tell); per netns, device and reason; absent with --backend libpcap. Drops still waiting for their frame are not counted yet.",
      labelNames: ['netns', 'device', 'reason', 'outcome'],
      registers: [r],
    });
    this.finding = new Gauge({
      name: 'csumtop_finding',
      help: 'A diagnosis finding that holds now (1); the series is removed when it no longer holds.',
      labelNames: ['id', 'severity', 'subject'],
      registers: [r],
    });
    this.blind = new Counter({
      name: 'csumtop_blind_total',
      help: 'What csumtop did not see (src/model/blind.ts): what="ring_drops" frames the kernel dropped (ring full), "events_dropped" packets counted but not correlated (csumtop fell behind: findings may be incomplete), "records_dropped" bad frames counted but not reported one by one. Alert on any increase.',
      labelNames: ['what'],
      registers: [r],
    });
    for (const what of BLIND_LABELS.values()) this.blind.inc({ what }, 0);
    const buildInfo = new Gauge({
      name: 'csumtop_build_info',
      help: 'Always 1; the labels say which csumtop runs: version, checksum engine, capture backend.',
      labelNames: ['version', 'checksum_path', 'backend'],
      registers: [r],
    });
    buildInfo.set({ version: opts.version, checksum_path: opts.checksumPath, backend: opts.backend }, 1);
    this.interfacesGauge = new Gauge({
      name: 'csumtop_interfaces',
      help: 'Interfaces captured on now (state="attached") and that vanished since csumtop started (state="detached").',
      labelNames: ['state'],
      registers: [r],
    });
    this.interfacesGauge.set({ state: 'attached' }, 0);
    this.interfacesGauge.set({ state: 'detached' }, 0);
    // prom-client's process metrics (process_resident_memory_bytes, open fds, CPU seconds,
    // event-loop lag), read at scrape time: csumtop's RSS against the DaemonSet's memory
    // limit is what tells an OOM kill coming (deploy/prometheus/rules.yml).
    collectDefaultMetrics({ register: r });

    this.interfaceLabels = new LabelFolder(opts.maxInterfaces ?? DEFAULT_MAX_INTERFACES);
    this.peerLabels = new LabelFolder(opts.maxPeers ?? DEFAULT_MAX_PEERS);
    this.slots = this.slotTable(opts.layout);
  }

  /**
   * Every value published per interface. The "bad" verdicts, packets, bytes and drops
   * exist from the moment an interface is attached, at 0: increase() and rate() need a
   * sample before the first event, or the first burst of bad checksums would be invisible
   * to an alert (Prometheus 2 has no created timestamps). For the same reason an
   * interface's (and a peer entry's) first sample is all zeros, and what it had counted
   * before is added from the next scrape on ("firstSample"). The other verdicts and the
   * malformed reasons appear when first non-zero, which keeps an idle interface at
   * 15 series instead of 80.
   */
  private slotTable(L: CounterLayout): Slot[] {
    const slots: Slot[] = [];
    slots.push({ counter: this.packets, labels: { direction: 'sent' }, eager: true, read: (c) => c[L.slots.outgoing] });
    slots.push({
      counter: this.packets,
      labels: { direction: 'received' },
      eager: true,
      read: (c) => c[L.slots.frames] - c[L.slots.outgoing],
    });
    slots.push({ counter: this.bytes, labels: {}, eager: true, read: (c) => c[L.slots.bytes] });
    slots.push({ counter: this.drops, labels: {}, eager: true, read: (_c, drops) => drops });
    for (let layer = 0; layer < L.numLayers; layer++) {
      for (let kind = 0; kind < L.numKinds; kind++) {
        for (let status = 0; status < L.numStatus; status++) {
          const slot = csumSlot(L, layer, kind, status);
          slots.push({
            counter: this.checksums,
            labels: { layer: LAYERS[layer], protocol: KINDS[kind], verdict: STATUSES[status] },
            eager: STATUSES[status] === 'bad',
            read: (c) => c[slot],
          });
        }
      }
    }
    // Reason 0 is "none".
    for (let reason = 1; reason < L.numMalformed; reason++) {
      slots.push({
        counter: this.malformed,
        labels: { reason: MALFORMED_REASONS[reason] ?? `reason-${reason}` },
        eager: false,
        read: (c) => c[L.malformedBase + reason],
      });
    }
    return slots;
  }

  private nameOf(counter: Counter<string>): string {
    let name = this.names.get(counter);
    if (name === undefined) {
      // prom-client keeps the name on the object but does not type it.
      name = String((counter as unknown as { name: unknown }).name);
      this.names.set(counter, name);
    }
    return name;
  }

  /** Adds `delta` to a series published for interface key `ifKey` (tracked for removal). */
  private add(ifKey: string, counter: Counter<string>, labels: Labels, delta: number, create: boolean): void {
    if (delta <= 0 && !create) return;
    let series = this.seriesOf.get(ifKey);
    if (!series) {
      series = new Map();
      this.seriesOf.set(ifKey, series);
    }
    const key = seriesKey(this.nameOf(counter), labels);
    if (delta <= 0 && series.has(key)) return;
    series.set(key, { counter, labels });
    counter.inc(labels, Math.max(0, delta));
  }

  /** Removes every series published under interface key `ifKey`. */
  private removeInterfaceSeries(ifKey: string): void {
    const series = this.seriesOf.get(ifKey);
    if (series) for (const s of series.values()) s.counter.remove(s.labels);
    this.seriesOf.delete(ifKey);
  }

  /**
   * The live capture's interfaces and their cumulative counters, called before every
   * scrape. An interface publishes from the first call that sees it attached; once it is
   * seen detached its series are removed (unless it was folded into "other", whose totals
   * keep what it counted).
   */
  observeInterfaces(samples: readonly InterfaceSample[]): void {
    let attached = 0;
    let detached = 0;
    for (const s of samples) {
      if (s.attached) attached++;
      else detached += s.folded ?? 1;
      let t = this.tracks.get(s.id);
      if (!t) {
        if (!s.attached) continue; // vanished before it was ever published
        const key = interfaceKey(s.namespace, s.name);
        t = {
          key,
          label: this.interfaceLabels.acquire(key, s.name),
          namespace: s.namespace,
          last: new Float64Array(this.slots.length),
          done: false,
          fresh: true,
        };
        this.tracks.set(s.id, t);
        this.vanished.delete(key);
        if (t.label !== OTHER) {
          let m = this.members.get(key);
          if (!m) {
            m = new Set();
            this.members.set(key, m);
          }
          m.add(s.id);
        }
      }
      if (t.done) continue;
      const group = t.label === OTHER ? interfaceKey(t.namespace, OTHER) : t.key;
      const base = { device: t.label, netns: t.namespace };
      // First sample: the series at 0, the counts from the next scrape on (firstSample).
      const first = t.fresh;
      t.fresh = false;
      for (let j = 0; j < this.slots.length; j++) {
        const slot = this.slots[j];
        if (first) {
          this.add(group, slot.counter, { ...base, ...slot.labels }, 0, slot.eager);
          continue;
        }
        const raw = slot.read(s.counters, s.captureDrops);
        const prev = t.last[j];
        const delta = raw >= prev ? raw - prev : raw;
        t.last[j] = raw;
        this.add(group, slot.counter, { ...base, ...slot.labels }, delta, slot.eager);
      }
      if (!s.attached) this.retire(s.id, t);
    }
    // Interfaces no longer listed (folded into the vanished-interfaces row,
    // src/capture/vanished.ts) are forgotten. One folded before a scrape saw it detached (more
    // than 256 vanished between two scrapes) ends here: its series are removed without the
    // counts of its last seconds, which the folded row (not exported) holds.
    if (this.tracks.size > samples.length) {
      const listed = new Set(samples.map((s) => s.id));
      for (const [id, t] of this.tracks) {
        if (listed.has(id)) continue;
        if (!t.done) this.retire(id, t);
        this.tracks.delete(id);
      }
    }
    this.interfacesGauge.set({ state: 'attached' }, attached);
    this.interfacesGauge.set({ state: 'detached' }, detached);
  }

  /** An interface seen vanished: its series end (unless it counts under "other"). */
  private retire(id: number, t: InterfaceTrack): void {
    t.done = true;
    if (t.label === OTHER) return;
    const m = this.members.get(t.key);
    m?.delete(id);
    if (!m || m.size === 0) {
      this.members.delete(t.key);
      this.removeInterfaceSeries(t.key);
      this.interfaceLabels.release(t.key);
      this.vanished.add(t.key);
      // The newest keys only, as the capture keeps the newest vanished interfaces (a Set
      // iterates oldest first): pods churning for weeks must not grow it.
      if (this.vanished.size > MAX_VANISHED) this.vanished.delete(this.vanished.values().next().value!);
    }
  }

  /**
   * One interval of a namespace's kernel counters: `delta` is what CounterSampler.sample()
   * returned (null for a counter this kernel lacks or that went down; nothing is added).
   * A counter with a delta, even 0, is published from then on.
   */
  observeKernel(namespace: string, delta: Partial<Record<ChecksumCounterName, number | null>>): void {
    for (const key of KERNEL_CHECKSUM_COUNTERS) {
      const d = delta[key];
      if (d === null || d === undefined || d < 0) continue;
      this.kernel.inc({ netns: namespace, counter: kernelCounterName(key) }, d);
    }
  }

  /**
   * The correlation pipeline's view of one interval: carriers per peer (cumulative per
   * entry, turned into deltas here) and the findings that hold now.
   */
  update(snapshot: CorrelationSnapshot): void {
    for (const [key, what] of BLIND_LABELS) {
      const d = snapshot.blind[key] - this.blindApplied[key];
      if (d > 0) this.blind.inc({ what }, d);
    }
    this.blindApplied = snapshot.blind;
    for (const p of snapshot.peers) this.updatePeer(p);
    const matching = snapshot.kernelDrops?.matching ?? false;
    for (const d of snapshot.kernelDrops?.drops ?? []) this.updateKernelDrop(d, matching);
    this.updateFindings(snapshot.findings);
  }

  /**
   * One (namespace, device, reason, peer) of the kernel's verdicts: its cumulative total
   * turned into increments. A new one is published at 0 and counts from the next update
   * after a scrape saw the 0, like a new peer entry (increase() needs the 0).
   */
  private updateKernelDrop(d: KernelDropCount, matching: boolean): void {
    const netns = this.kernelDropNetns.acquire(d.namespace, d.namespace);
    const device = this.kernelDropDevices.acquire(`${d.namespace}\u0000${d.device}`, d.device);
    const peer = d.peer === null ? 'unknown' : this.peerLabels.acquire(d.peer, d.peer);
    const labels = { netns, device, reason: d.reason, peer };
    const matchLabels = (o: KernelDropOutcome): Labels => ({ netns, device, reason: d.reason, outcome: KERNEL_DROP_OUTCOME_LABELS[o] });
    const key = [d.namespace, d.device, d.reason, d.peer ?? ''].join('\u0000');
    const e = this.kernelDropsApplied.get(key);
    if (!e) {
      const outcomes = Object.fromEntries(KERNEL_DROP_OUTCOMES.map((o) => [o, 0])) as KernelDropOutcomes;
      this.kernelDropsApplied.set(key, { applied: 0, outcomes, bornAt: this.scrapes });
      this.kernelDrops.inc(labels, 0);
      // Every outcome at 0 from the start: increase(...{outcome="table_full"}) needs it.
      if (matching) for (const o of KERNEL_DROP_OUTCOMES) this.kernelDropMatches.inc(matchLabels(o), 0);
      return;
    }
    if (this.scrapes <= e.bornAt) return;
    if (d.total > e.applied) {
      this.kernelDrops.inc(labels, d.total - e.applied);
      e.applied = d.total;
    }
    // Without matching (libpcap) the outcomes say nothing (model/correlation.ts): none published.
    if (!matching) return;
    for (const o of KERNEL_DROP_OUTCOMES) {
      if (d.outcomes[o] <= e.outcomes[o]) continue;
      this.kernelDropMatches.inc(matchLabels(o), d.outcomes[o] - e.outcomes[o]);
      e.outcomes[o] = d.outcomes[o];
    }
  }

  private updatePeer(p: PeerCarriers): void {
    // PeerCarriers.underlay is the device name; accept the report's "ns/dev" form too.
    const name = p.underlay.startsWith(`${p.namespace}/`) ? p.underlay.slice(p.namespace.length + 1) : p.underlay;
    const key = interfaceKey(p.namespace, name);
    if (this.vanished.has(key)) return;
    const ifLabel = this.interfaceLabels.peek(key) ?? this.interfaceLabels.acquire(key, name);
    const group = ifLabel === OTHER ? interfaceKey(p.namespace, OTHER) : key;
    const peer = this.peerLabels.acquire(p.peer, p.peer);
    const direction = p.direction === 'from-peer' ? 'received' : 'sent';
    const entry = [p.namespace, name, p.peer, p.direction, p.tunnel, String(p.vni)].join('\u0000');
    const now: PeerRaw = { carriers: p.carriers, badOuter: p.badOuter, badInner: p.badInner, badIpv4: p.badIpv4, lost: p.lost };
    const zero: PeerRaw = { carriers: 0, badOuter: 0, badInner: 0, badIpv4: 0, lost: now.lost === null ? null : 0 };
    const labels = (verdict: string): Labels => ({ device: ifLabel, netns: p.namespace, peer, direction, verdict });
    const verdicts = ['ok', 'bad_outer', 'bad_inner', 'bad_ipv4', ...(now.lost !== null ? ['lost'] : [])];
    const e = this.peers.get(entry);
    if (!e) {
      // A new peer entry usually arrives with counts already: publish it at 0 and add
      // them once a scrape has seen the 0 (firstSample).
      this.peers.set(entry, { applied: zero, bornAt: this.scrapes });
      for (const v of verdicts) this.add(group, this.peerCarriers, labels(v), 0, true);
      return;
    }
    if (this.scrapes <= e.bornAt) return;
    let prev = e.applied;
    // Fewer carriers than last time: the pipeline evicted the entry and started it again.
    if (now.carriers < prev.carriers) prev = zero;
    e.applied = now;
    const d = (a: number, b: number): number => Math.max(0, a - b);
    const dBadOuter = d(now.badOuter, prev.badOuter);
    const dBadInner = d(now.badInner, prev.badInner);
    const dBadIpv4 = d(now.badIpv4, prev.badIpv4);
    // ok: carriers with no bad checksum. A carrier bad at two places counts in both bad
    // verdicts, so this can run a little low, never high.
    const dOk = d(d(now.carriers, prev.carriers), dBadOuter + dBadInner + dBadIpv4);
    this.add(group, this.peerCarriers, labels('ok'), dOk, false);
    this.add(group, this.peerCarriers, labels('bad_outer'), dBadOuter, false);
    this.add(group, this.peerCarriers, labels('bad_inner'), dBadInner, false);
    this.add(group, this.peerCarriers, labels('bad_ipv4'), dBadIpv4, false);
    if (now.lost !== null) this.add(group, this.peerCarriers, labels('lost'), d(now.lost, prev.lost ?? 0), prev.lost === null);
  }

  /** What a finding is about, as one label value (peers and interfaces folded like their own labels). */
  private subjectOf(f: Finding): string {
    const s = f.subject;
    if (s.peer !== undefined) return this.peerLabels.acquire(s.peer, s.peer);
    if (s.interface !== undefined) {
      const ns = s.namespace ?? 'host';
      // The pipeline names interfaces as the report does ("ns/dev"): the device is the part after.
      const dev = s.interface.startsWith(`${ns}/`) ? s.interface.slice(ns.length + 1) : s.interface;
      const key = interfaceKey(ns, dev);
      const label = this.interfaceLabels.peek(key) ?? this.interfaceLabels.acquire(key, dev);
      return interfaceLabel(ns, label);
    }
    return s.namespace ?? '';
  }

  private updateFindings(findings: readonly Finding[]): void {
    const active = new Map<string, Labels>();
    for (const f of findings) {
      const labels = { id: f.id, severity: f.severity, subject: this.subjectOf(f) };
      active.set(seriesKey('finding', labels), labels);
    }
    for (const [key, labels] of this.findingSeries) if (!active.has(key)) this.finding.remove(labels);
    for (const labels of active.values()) this.finding.set(labels, 1);
    this.findingSeries.clear();
    for (const [key, labels] of active) this.findingSeries.set(key, labels);
  }

  /** How many interfaces and peers were folded into "other" (the caps were reached). */
  folded(): { interfaces: number; peers: number } {
    return { interfaces: this.interfaceLabels.foldedCount, peers: this.peerLabels.foldedCount };
  }

  /** The exposition text (Prometheus text format 0.0.4). */
  text(): Promise<string> {
    const text = this.registry.metrics();
    this.scrapes++;
    return text;
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
