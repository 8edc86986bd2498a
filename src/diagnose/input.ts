/**
 * Everything the diagnosis rules weigh: the correlation results, per-interface facts
 * and totals, the kernel's counters and the host facts. Built by the pipeline
 * (src/correlate/pipeline.ts); the rules never read the system themselves.
 */
import type { DnsSummary, KernelCounterView, KernelDropView, PeerCarriers, SynSummary } from '../model/correlation.js';
import type { HypervisorFacts, KernelFacts, NatRulesAnalysis } from '../model/host-facts.js';
import type { InterfaceFacts, VxlanParams } from '../model/interface.js';

/**
 * What the rules read of an interface's facts (src/model/interface.ts): who it is and how
 * it is set up; of a VXLAN device only its port and udpCsum (false is flannel's `noudpcsum`).
 */
export type DiagnosedInterface = Pick<InterfaceFacts, 'label' | 'name' | 'namespace' | 'role' | 'kind' | 'driver' | 'txChecksumOffload'> & {
  vxlan: Pick<VxlanParams, 'port' | 'udpCsum'> | null;
};

/** An interface's facts and its totals, for the rules. */
export interface InterfaceDiagnosis extends DiagnosedInterface {
  frames: number;
  captureDrops: number;
  /** Bad IPv4 header checksums (all layers), received and sent. */
  badIpv4: number;
  /** Bad transport checksums in frames this host received (not PACKET_OUTGOING). */
  badReceivedL4: number;
  pending: number;
  validated: number;
  /** Bad checksums whose field holds the pseudo-header sum (a guess of offload). */
  looksPartial: number;
}

/** A link of a captured namespace that csumtop does not capture (up, not loopback). */
export interface UncapturedLink {
  namespace: string;
  name: string;
  kind: string | null;
  /** Its ifindex in that namespace (names the device of a kernel drop verdict). */
  ifindex?: number;
}

export interface DiagnosisFacts {
  kernel: KernelFacts | null;
  hypervisor: HypervisorFacts | null;
  /** kube-proxy / flannel NAT rules per namespace label ("host" for the root one). */
  nat: Record<string, NatRulesAnalysis | null>;
  /** Links up and not captured, when the source knows them (live AF_PACKET): what
   * kernel-drops-unseen tells the operator to add. */
  uncaptured?: UncapturedLink[];
}

export interface DiagnosisInput {
  /** Capture time of this evaluation (ns). */
  nowNs: number;
  live: boolean;
  peers: PeerCarriers[];
  interfaces: InterfaceDiagnosis[];
  kernel: KernelCounterView[];
  /**
   * The kernel's counters as read at the previous evaluation (null at the first): the
   * capture has had a whole interval to deliver the events of the packets those counted,
   * so comparing them with what was seen cannot race the delivery (kernel-drops-unseen).
   */
  kernelBefore: KernelCounterView[] | null;
  /** The kernel's own verdict per dropped packet (eBPF on skb:kfree_skb, issue 18): which
   * namespace, device, reason and peer. null when that source is off: the rules then
   * infer from `kernel` (per-namespace counters) as before. */
  kernelDrops?: KernelDropView | null;
  /** Events csumtop's own pipeline dropped since start (batches full, matcher full):
   * evidence that went missing here, not on the wire. */
  eventsDropped: number;
  /** Bad-frame records csumtop dropped since start (counted, not reported one by one):
   * the "bad checksums received" counts miss them. */
  recordsDropped: number;
  dns: DnsSummary;
  syn: SynSummary;
  facts: DiagnosisFacts;
  /** The source guesses offload (libpcap, files): pending counts are guesses. */
  guessesOffload: boolean;
}
