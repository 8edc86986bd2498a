/**
 * What the diagnosis rules (src/diagnose/) conclude: findings with their evidence, the
 * remedy as exact commands for this host, and the public references behind the rule.
 * Shared by the report, the JSON line stream, the dashboard and the Prometheus exporter.
 */

/**
 * critical: traffic is being lost now because of checksums, as measured (carriers not
 * delivered to a captured overlay device, or the kernel's checksum drop counters
 * growing); warning: a condition that breaks traffic where it is checked (bad checksums
 * whose loss was not measured) or weakens a conclusion; info: an explanation (offload
 * artifacts), or a live finding whose traffic has flowed clean for its hold (fixed), not
 * an error. The healthy lab yields nothing above info. (Issue 13; the dashboard's help.)
 */
export const SEVERITIES = ['critical', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Stable rule ids: tests, alerts and dashboards key on them. */
export const FINDING_IDS = [
  /** Receiver's view of variant A: carriers from a peer arrive with a bad outer UDP checksum. */
  'vxlan-outer-bad-from-peer',
  /** Sender's view: this node emits carriers whose outer checksum will be wrong on the wire. */
  'vxlan-outer-bad-sent',
  /** Inner (decapsulated) checksums bad in carriers from a peer; variant C when the facts say VMware. */
  'inner-bad-from-peer',
  /** IPv4 header checksums bad (any layer). */
  'ipv4-header-bad',
  /** Informational: frames tcpdump -vv would flag that are offload artifacts. */
  'offload-artifacts',
  /** The kernel counted checksum drops the capture did not see. */
  'kernel-drops-unseen',
  /** The kernel dropped packets for a checksum csumtop verified good in the captured frame. */
  'kernel-drops-disagree',
  /** Capture loss large enough to weaken a conclusion. */
  'capture-loss',
] as const;
export type FindingId = (typeof FINDING_IDS)[number];

/** One piece of evidence: a named number or fact, with where it came from. */
export interface Evidence {
  /** Short name: "bad outer UDP checksums", "Udp InCsumErrors (ns B)", "udpcsum". */
  name: string;
  value: string | number | boolean | null;
  /** Where the value came from or what it covers: "eth0, last 10 s", "/proc/net/snmp". */
  detail?: string;
}

/** One step of a remedy: a command to run on a named node, and how it survives a reboot. */
export interface RemedyStep {
  /** "this node" or "peer 192.168.189.5". */
  where: string;
  /** The exact command with this host's interface names. */
  command: string;
  why: string;
  /** How to make it persistent (udev rule, config key); null when the command is. */
  persist: string | null;
}

export interface Finding {
  id: FindingId;
  /** id plus subject: one finding per (rule, peer/interface), e.g. "vxlan-outer-bad-from-peer/10.0.0.1". */
  key: string;
  severity: Severity;
  title: string;
  /** Two or three sentences: what is wrong, the consequence, what to do. */
  summary: string;
  subject: { peer?: string; interface?: string; namespace?: string };
  evidence: Evidence[];
  remedy: RemedyStep[];
  /** Issues and commits the rule rests on ("kubernetes/kubernetes#88986", "linux ea64d8d6c675"). */
  references: string[];
  /** ISO 8601: when the evidence first and last held. */
  firstSeen: string;
  lastSeen: string;
  /**
   * Live only, set once the evidence has stopped growing (src/diagnose/tracker.ts):
   * whether the traffic it concerns went on without it (a remedy worked?) or stopped.
   */
  state?: FindingState;
}

/**
 * What happened since a live finding's evidence last grew, so an operator can check a
 * remedy. fixed: the traffic the finding concerns kept flowing with no new bad checksum
 * (a question, not a verdict: "fixed at 10:21:07? 0 bad carriers in the 40 s since").
 * quiet: that traffic stopped too, so nothing can be said ("no carriers from X since").
 * Never set while csumtop or its capture rings dropped anything since: an evidence that
 * stopped arriving through a lossy path is not a fix.
 */
export interface FindingState {
  kind: 'fixed' | 'quiet';
  /** ISO 8601: when the evidence last grew. */
  since: string;
  /** Whole seconds from `since` to this evaluation. */
  seconds: number;
  /** The traffic the finding concerns seen since (e.g. good carriers from the peer). */
  trafficSince: number;
  /** One sentence for the operator. */
  text: string;
}

export const SEVERITY_SYMBOL: Record<Severity, string> = { critical: '!!', warning: '!', info: 'i' };
