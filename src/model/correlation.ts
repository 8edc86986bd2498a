/**
 * What the correlation pipeline (src/correlate/) derives from the batches of any source:
 * rates per interface, carrier flows tied to their inner flow, the underlay-vs-overlay
 * comparison per peer node, DNS and TCP SYN symptoms, and the kernel's counters. One
 * CorrelationSnapshot is emitted per interval; the report, the JSON lines, the dashboard
 * and the Prometheus exporter all read it.
 */
import type { BadFrameFlow, DecodedRecord } from './bad-frame.js';
import type { Blindness } from './blind.js';
import type { ChecksumCounterName } from './host-facts.js';
import type { Finding } from './findings.js';
import type { Endpoint } from './endpoint.js';
import type { TunnelName } from './verdict.js';

/**
 * A rate per second averaged over the last 1 s, 10 s and 60 s (less while warming up),
 * and the count since start: a fault every 4 s mostly reads 0 in the 1 s window (issue 19).
 */
export interface RateWindows {
  s1: number;
  s10: number;
  s60: number;
  total: number;
}

/** The windows of RateWindows, in the order the dashboard's `r` key cycles them. */
export const RATE_WINDOWS = ['s1', 's10', 's60', 'total'] as const;
export type RateWindowName = (typeof RATE_WINDOWS)[number];

export interface InterfaceRates {
  /** Label as in the report: "eth0", or "ns/eth0" outside the host namespace. */
  interface: string;
  namespace: string;
  packets: RateWindows;
  /**
   * Frames with at least one bad checksum that is not an offload artefact: a frame whose
   * every bad checksum holds only the pseudo-header sum is counted in `artefacts` instead.
   */
  badFrames: RateWindows;
  /** Bad checksums per second by where they sit: outer/inner x ipv4/udp/tcp/icmp/icmpv6
   * (offload artefacts left out). */
  badByChecksum: Record<string, RateWindows>;
  /**
   * Checksums that look bad but hold exactly the pseudo-header sum: what transmit offload
   * leaves in a packet captured before the device fills it in (from a file, or where the
   * kernel did not flag it), not errors on the wire.
   */
  artefacts: RateWindows;
  pending: RateWindows;
  validated: RateWindows;
  /** Bad frames in each of the last 60 seconds, oldest first (sparklines). */
  badHistory: number[];
}

/**
 * The underlay-vs-overlay comparison for one peer node, one direction, in one namespace:
 * what tcpdump on eth0 and on flannel.1 of the same node would show side by side.
 */
export interface PeerCarriers {
  namespace: string;
  /** Underlay interface the carriers were seen on. */
  underlay: string;
  /** Overlay (VXLAN/Geneve) interface matched against; null when none is captured. */
  overlay: string | null;
  /** The other node: outer source of received carriers, outer destination of sent ones. */
  peer: string;
  /** This node's underlay address in these carriers. */
  local: string;
  direction: 'from-peer' | 'to-peer';
  tunnel: TunnelName;
  vni: number | null;
  /** Carriers seen on the underlay. */
  carriers: number;
  badOuter: number;
  badInner: number;
  badIpv4: number;
  /**
   * from-peer: carriers whose inner packet then appeared on the overlay device;
   * to-peer: overlay packets that then left as carriers. null without an overlay.
   */
  delivered: number | null;
  /** Not seen on the other side within the match window (null without an overlay). */
  lost: number | null;
  /** Of the lost ones, how many had a bad checksum (the likely reason). */
  lostBad: number | null;
  /** Overlay packets with no carrier (to-peer: not encapsulated) -- from-peer: 0 expected. */
  unmatchedOverlay: number;
  /** Waiting for the match window to close. */
  inFlight: number;
  firstSeen: string;
  lastSeen: string;
}

/** A carrier flow tied to its inner flow (all carriers, not only bad ones). */
export interface CarrierFlow {
  interface: string;
  namespace: string;
  outer: Endpoint;
  tunnel: TunnelName;
  vni: number | null;
  inner: Endpoint;
  packets: number;
  bytes: number;
  badOuter: number;
  badInner: number;
  /** The DNS name queried in this flow, when it carries DNS. */
  dnsName: string | null;
  firstSeen: string;
  lastSeen: string;
}

/** Where a symptom's traffic was seen broken: the carrier(s) with bad checksums. */
export interface Attribution {
  /** The other node, as PeerCarriers.peer: the outer source of a received carrier, the
   * outer destination of one sent by the capturing host. */
  peer: string;
  /** The node that sent the (first) bad carrier: its outer source address. */
  sender: string;
  /** The node it was sent to: its outer destination address. */
  receiver: string;
  interface: string;
  /** "outer/udp", "inner/udp", ... */
  checksums: string[];
  /** Frame numbers (file) or capture sequence numbers (live) of the bad carriers. */
  frames: number[];
}

export interface DnsTransaction {
  client: string;
  clientPort: number;
  server: string;
  serverPort: number;
  id: number;
  name: string;
  /** "A", "AAAA", ... or the number. */
  qtype: string;
  /** Times the query with this id was sent (beyond the first: retries); copies of one send
   * on several interfaces count once (native/flow/sends.h). */
  queries: number;
  answered: boolean;
  /** "NOERROR", "NXDOMAIN", ...; null when unanswered. */
  rcode: string | null;
  latencyMs: number | null;
  firstSeen: string;
  attributedTo: Attribution | null;
}

export interface DnsSummary {
  queries: number;
  answered: number;
  unanswered: number;
  /** Queries sent again: the same id on an interface that already saw it, or a new id for
   * a name the same client just failed to resolve. */
  retries: number;
  /** Median and worst answer latency in ms (null when nothing was answered). */
  latencyP50Ms: number | null;
  latencyMaxMs: number | null;
  /** Unanswered ones, most recent first, bounded. */
  unansweredList: DnsTransaction[];
  /** Unanswered queries attributed to a bad carrier. */
  attributed: number;
}

export interface SynAttempt {
  client: string;
  clientPort: number;
  server: string;
  serverPort: number;
  /** SYNs sent for this connection (1 = no retransmission); copies of one SYN on several
   * interfaces count once (native/flow/sends.h). */
  syns: number;
  /** A SYN-ACK came back. */
  answered: boolean;
  /** A RST+ACK acknowledging the SYN came back (RFC 9293 3.5): nothing listens there. */
  refused: boolean;
  /** Seconds from the first SYN to the SYN-ACK or RST (1 s, 3 s, 7 s ... 63 s patterns). */
  delaySeconds: number | null;
  /** Retransmission pattern: seconds after the first SYN of each retransmission. */
  retransmitAt: number[];
  firstSeen: string;
  attributedTo: Attribution | null;
}

export interface SynSummary {
  connections: number;
  /** Answered by a SYN-ACK. */
  answered: number;
  /** Answered by a RST+ACK (connection refused): not unanswered, never attributed. */
  refused: number;
  /** Neither within the SYN timeout. */
  unanswered: number;
  /** Connections that needed at least one retransmitted SYN. */
  retransmitted: number;
  /** Answered after 1 s / 3 s / 7 s / 15 s / 31 s / 63 s of retransmissions: count per delay. */
  delayedBy: Record<string, number>;
  /** Slow, refused or unanswered attempts, most recent first, bounded. */
  slowList: SynAttempt[];
  /** Unanswered attempts attributed to a bad carrier. */
  attributed: number;
}

/** The kernel's checksum counters of one namespace: totals since start and per second. */
export interface KernelCounterView {
  namespace: string;
  perSecond: Partial<Record<ChecksumCounterName, number | null>>;
  /** Increase since csumtop started. */
  sinceStart: Partial<Record<ChecksumCounterName, number | null>>;
}

/**
 * The kernel's checksum and IPv4 header drop reasons csumtop follows (issue 18), named as
 * in include/net/dropreason-core.h without the SKB_DROP_REASON_ prefix.
 */
export const KERNEL_DROP_REASONS = ['UDP_CSUM', 'TCP_CSUM', 'IP_CSUM', 'IP_INHDR', 'SKB_CSUM', 'ICMP_CSUM'] as const;
export type KernelDropReason = (typeof KERNEL_DROP_REASONS)[number];

/**
 * What became of one kernel drop once csumtop looked for the frame it captured of the
 * same packet (native/kdrops/frame_match.h): seen with the checksum the kernel names
 * bad (csumtop agrees), seen with it verified good (csumtop disagrees), seen but that
 * checksum not verifiable by csumtop, or not seen and why: the device is not captured,
 * its capture ring dropped frames meanwhile, it was not there (a capture filter, -c, NAT
 * rewriting the packet before the drop), or the bounded tables overflowed so nothing can
 * be said. Same order as the native enum Outcome.
 */
export const KERNEL_DROP_OUTCOMES = ['seenBad', 'seenGood', 'seenUnverified', 'notCaptured', 'ringDrop', 'notSeen', 'tableFull'] as const;
export type KernelDropOutcome = (typeof KERNEL_DROP_OUTCOMES)[number];
export type KernelDropOutcomes = Record<KernelDropOutcome, number>;

/** Packets the kernel dropped for one reason, on one device, from one peer (kernel verdict). */
export interface KernelDropCount {
  /** The namespace label csumtop uses ("host", the netns name), or "netns:INODE" for one it does not capture. */
  namespace: string;
  /** The device's name, or "ifindex N" when csumtop does not know it. */
  device: string;
  reason: KernelDropReason;
  /** Outer source address (the sending node for a carrier); null when unreadable. */
  peer: string | null;
  /** Since csumtop started. */
  total: number;
  /** In the last interval. */
  interval: number;
  /** Of `total`, what csumtop's capture says of each (matched within `matchWindowMs`). */
  outcomes: KernelDropOutcomes;
  /** Of `total`, drops still waiting for their frame (in the closing report: when csumtop stopped). */
  pending: number;
  /** The captured frame (its `frame` number in the bad lines) the last matched drop was; null when none. */
  frame: number | null;
}

/**
 * The kernel's own verdict per dropped packet (eBPF on skb:kfree_skb, issue 18), counted
 * per (namespace, device, reason, peer). Bounded: past `keys.cap` keys a drop is counted
 * in `other` only.
 */
export interface KernelDropView {
  drops: KernelDropCount[];
  /** Drops since start not kept under their own key (the table was full). */
  other: number;
  /** What became of the drops counted in `other`, as far as resolved. */
  otherOutcomes: KernelDropOutcomes;
  /** How far before a drop csumtop looks for its captured frame (native FrameMatcher::kWindowNs). */
  matchWindowMs: number;
  /**
   * false: the capture backend does not hand its frames to the matcher (libpcap), so what
   * csumtop saw of the drops is not known: `outcomes` stay zero and nothing is claimed.
   */
  matching: boolean;
  keys: TableUse;
  /** Drops the kernel made that csumtop could not count: the eBPF ring buffer was full. */
  ringFull: number;
}

/**
 * A flow with bad checksums as the dashboard and the JSON lines show it while capture
 * runs (the native bad-flow table is only read at the end).
 */
/** The bad frames of one flow (BadFrameFlow) on one interface, for the dashboard. */
export interface BadFlowView extends BadFrameFlow {
  interface: string;
  namespace: string;
  /** The other node for carriers (outer source if received, destination if sent). */
  peer: string | null;
  /** The DNS query name when the flow carries DNS (the native DNS parse of its frames). */
  dnsName: string | null;
  count: number;
  /**
   * Of `count`, frames whose every bad checksum holds only the pseudo-header sum: offload
   * artefacts, not errors (issue 19). count - artefacts frames had a real error.
   */
  artefacts: number;
  /** "outer/udp", "inner/tcp", ... */
  badChecksums: string[];
  firstSeen: string;
  lastSeen: string;
  /** The most recent bad frame of the flow, with its bytes when the source kept them. */
  sample: BadFrameSample | null;
  /** The flow's latest bad frames, oldest first, at most RECENT_BAD_FRAMES (the flow detail lists them). */
  recent: RecentBadFrame[];
}

/** How many of a flow's latest bad frames it keeps for its detail view. */
export const RECENT_BAD_FRAMES = 8;

/** One of a flow's latest bad frames: when, which way, and its bad checksums (no bytes). */
export interface RecentBadFrame extends Pick<DecodedRecord, 'frame' | 'direction' | 'checksums'> {
  time: string;
}

/** A flow's most recent bad frame; `bytes` null when not kept (the source did not, or
 * the view dropped them: src/correlate/bad-flows.ts MAX_SAMPLED_BYTES_FLOWS). */
export interface BadFrameSample extends Pick<DecodedRecord, 'frame' | 'checksums' | 'bytes' | 'wirelen'> {
  time: string;
}

/**
 * How full one bounded table is (docs/design.md, "Bounded everything"): entries held
 * now, the most it holds, and what it did not keep since the start.
 */
export interface TableUse {
  size: number;
  cap: number;
  evicted: number;
}

/**
 * Every table that grows with traffic, with its cap (--max-flows N sets the flow tables;
 * the others are fixed, see src/correlate/limits.ts) and its eviction counter.
 */
export interface TableUses {
  /** Native bad-flow table, summed over capture threads (cap per thread): the first N
   * flows are kept; evicted counts the bad frames of flows not kept (>= flows not kept).
   * Live capture only. */
  badFlows?: TableUse;
  /** Carrier flows tied to their inner flow: least recently seen flow evicted. */
  carrierFlows: TableUse;
  /** Flows with bad checksums as the dashboard shows them: least recently seen evicted. */
  badFlowView: TableUse;
  /** Peer nodes per underlay and direction: past the cap a new peer's carriers are
   * counted under peer "other"; evicted counts those carriers. */
  peers: TableUse;
  /** Open DNS queries (until answered or 5 s): a query arriving when full is not tracked. */
  dnsTransactions: TableUse;
  /** SYNs waiting for a SYN-ACK (kept 130 s): a SYN arriving when full is not tracked. */
  synAttempts: TableUse;
  /** Packets waiting (1 s) for their other side of a decapsulation, all namespaces:
   * when full they are not matched (also counted in eventsDropped). */
  matcherPending: TableUse;
}

export interface CorrelationSnapshot {
  /** ISO 8601 of the interval's end (capture time for files). */
  time: string;
  rates: InterfaceRates[];
  peers: PeerCarriers[];
  flows: CarrierFlow[];
  badFlows: BadFlowView[];
  /** Flows dropped from the bounded flow table (least recently seen first). */
  flowsEvicted: number;
  /** Events that did not reach correlation (csumtop fell behind): correlation is a lower bound. */
  eventsDropped: number;
  /** Everything not seen so far (ring drops, events and bad-frame records dropped): every output says so. */
  blind: Blindness;
  /**
   * Overlay packets that never left as carriers and whose destination was never seen
   * behind a peer, so no peer's unmatchedOverlay counts them (src/correlate/matcher.ts).
   */
  overlayUnattributed: number;
  /** Sizes, caps and evictions of the bounded tables (always set by the pipeline). */
  tables?: TableUses;
  dns: DnsSummary;
  syn: SynSummary;
  kernel: KernelCounterView[];
  /** The kernel's drop verdicts; absent when that source is off (then `kernel`, the
   * /proc/net/snmp counters, is the only referee). */
  kernelDrops?: KernelDropView;
  findings: Finding[];
  /**
   * Each finding's cumulative evidence count by key (the measure its rule grows on: bad
   * carriers, artefacts, drops): the dashboard's per-finding counts since `c`. Not in the
   * JSON outputs, whose findings carry their evidence.
   */
  findingCounts?: Record<string, number>;
}
