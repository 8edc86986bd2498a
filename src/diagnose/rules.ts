/**
 * Diagnosis rules (issue 4): each turns the correlation results and facts into findings
 * with evidence, a remedy for this host and the references behind it. A rule returns
 * candidates with a cumulative `strength` (the count of its evidence); the tracker
 * (tracker.ts) decides when a finding is active and when it clears.
 *
 * Findings say only what the evidence shows (issue 13): "dropped" / "never reached" and
 * severity critical (traffic lost now, src/model/findings.ts) need measured loss, either
 * carriers seen on the underlay and not on the captured overlay device (the matcher's
 * lostBad) or the kernel's checksum drop counters growing in that namespace. Bad
 * checksums without such a measurement are a warning that says what is known. A capture
 * file has no host: no host facts, no local device names, no kernel counters.
 */
import type { KernelDropCount, KernelDropReason, PeerCarriers } from '../model/correlation.js';
import { OUTCOME_WORDS, UNSEEN, matchText, sumMatch, unseenOf } from '../model/kernel-match.js';
import type { Evidence, Finding, RemedyStep, Severity } from '../model/findings.js';
import type { ChecksumCounterName } from '../model/host-facts.js';
import type { TunnelName } from '../model/verdict.js';
import type { DiagnosisInput, InterfaceDiagnosis, UncapturedLink } from './input.js';
import { KUBE_PROXY_UPGRADE, kernelUpgrade, peerCounterCheck, shellWord, tunnelSegmentationOff, txChecksumOff, txChecksumOffUnnamed } from './remedies.js';

/**
 * What the tracker needs to tell "fixed" from "quiet" once the evidence stops growing:
 * the count of the traffic the finding concerns (e.g. carriers from the peer) and how
 * to name it and its bad part in a sentence.
 */
export interface TrafficMeasure {
  count: number;
  /** "carriers from 192.168.56.11" */
  what: string;
  /** "bad carriers" */
  bad: string;
  /** "good outer checksums" */
  good: string;
}

export type Candidate = Omit<Finding, 'firstSeen' | 'lastSeen' | 'state'> & { strength: number; traffic?: TrafficMeasure };

const VARIANT_A_REFS = [
  'kubernetes/kubernetes#88986',
  'flannel-io/flannel#1279',
  'projectcalico/calico#3145',
  "linux ea64d8d6c675 (netfilter: nat: never update the UDP checksum when it's 0)",
  'kubernetes/kubernetes#92035',
];

const TUNNEL_WORD: Record<TunnelName, string> = { none: 'tunnel', vxlan: 'VXLAN', geneve: 'Geneve', ipip: 'IP-in-IP', ip6ip: 'IP-in-IPv6', gre: 'GRE' };

function overlayOf(input: DiagnosisInput, namespace: string, fallback: string | null): InterfaceDiagnosis | undefined {
  return (
    input.interfaces.find((i) => i.namespace === namespace && (i.role === 'vxlan' || i.role === 'geneve') && (fallback === null || i.label === fallback)) ??
    input.interfaces.find((i) => i.namespace === namespace && (i.role === 'vxlan' || i.role === 'geneve'))
  );
}

/** The increase of the named kernel counters in `namespace` since start; null when they
 * are not read there (a capture file, or a kernel without them). */
function kernelGrowth(input: DiagnosisInput, namespace: string, names: ChecksumCounterName[]): number | null {
  const k = input.kernel.find((v) => v.namespace === namespace);
  if (!k) return null;
  const values = names.map((n) => k.sinceStart[n]).filter((v): v is number => typeof v === 'number');
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0);
}

/**
 * The kernel's own verdict (issue 18): packets the kernel of `namespace` dropped since
 * start for one of `reasons`, from `peer` / on `device` when given. null when that source
 * is off: the rules then fall back to the per-namespace counters (kernelGrowth).
 */
function kernelVerdict(input: DiagnosisInput, namespace: string, reasons: KernelDropReason[], only: { peer?: string; device?: string } = {}): number | null {
  const rows = kernelVerdictRows(input, namespace, reasons, only);
  return rows === null ? null : rows.reduce((n, d) => n + d.total, 0);
}

/** The rows kernelVerdict() adds up, for what the capture saw of them (kernel-match.ts). */
function kernelVerdictRows(
  input: DiagnosisInput,
  namespace: string,
  reasons: KernelDropReason[],
  only: { peer?: string; device?: string } = {},
): KernelDropCount[] | null {
  const v = input.kernelDrops;
  if (!v) return null;
  return v.drops.filter(
    (d) =>
      d.namespace === namespace &&
      reasons.includes(d.reason) &&
      (only.peer === undefined || d.peer === only.peer) &&
      (only.device === undefined || d.device === only.device),
  );
}

/** ", all 6 seen by csumtop with a bad outer checksum" after a kernel verdict; '' without one. */
function seenText(rows: KernelDropCount[] | null, bad: string, matching: boolean): string {
  if (rows === null || !matching) return '';
  const m = sumMatch(rows);
  return m.total === 0 ? '' : `, ${matchText(m, bad)}`;
}

/** Evidence: the kernel's drops matched to csumtop's captured frames. */
function matchEvidence(rows: KernelDropCount[] | null, bad: string, matching: boolean): Evidence[] {
  if (rows === null || !matching) return [];
  const m = sumMatch(rows);
  if (m.total === 0) return [];
  const frames = rows.map((r) => r.frame).filter((f): f is number => f !== null);
  return [
    {
      name: `kernel drops seen by csumtop with ${bad}`,
      value: m.outcomes.seenBad,
      detail: `${matchText(m, bad)}${frames.length > 0 ? `; last matched frame ${frames.join(', ')}` : ''}`,
    },
  ];
}

/** "for UDP_CSUM" / "for TCP_CSUM or UDP_CSUM": the reasons as the kernel names them. */
function forReasons(reasons: KernelDropReason[]): string {
  return `for ${reasons.join(' or ')}`;
}

/** Transport checksum drops: what an inner packet with a bad checksum is counted in
 * after decapsulation (net/ipv4/udp.c csum_error, net/ipv4/tcp_ipv4.c csum_error). */
const TRANSPORT_CSUM: ChecksumCounterName[] = ['udpInCsumErrors', 'tcpInCsumErrors', 'icmpInCsumErrors', 'udp6InCsumErrors', 'icmp6InCsumErrors'];

function symptomsFrom(input: DiagnosisInput, peer: string): Evidence[] {
  const dns = input.dns.unansweredList.filter((d) => d.attributedTo?.peer === peer);
  // A refused SYN reached a TCP that said no: never a symptom of bad carriers.
  const syn = input.syn.slowList.filter((s) => s.attributedTo?.peer === peer && !s.answered && !s.refused);
  const out: Evidence[] = [];
  if (dns.length > 0) {
    out.push({
      name: 'DNS queries unanswered (their carriers were bad)',
      value: dns.length,
      detail: [...new Set(dns.map((d) => `${d.name} (${d.client} -> ${d.server})`))].slice(0, 5).join(', '),
    });
  }
  if (syn.length > 0) {
    out.push({
      name: 'TCP SYNs unanswered (their carriers were bad)',
      value: syn.length,
      detail: syn
        .slice(0, 5)
        .map((s) => `${s.client}:${s.clientPort} -> ${s.server}:${s.serverPort}`)
        .join(', '),
    });
  }
  return out;
}

function carrierEvidence(p: PeerCarriers, what: 'outer' | 'inner'): Evidence[] {
  const ev: Evidence[] = [
    { name: `carriers with a bad ${what} checksum`, value: what === 'outer' ? p.badOuter : p.badInner, detail: `${p.underlay}, ${p.direction} ${p.peer}` },
    { name: 'carriers', value: p.carriers, detail: p.underlay },
  ];
  if (p.delivered !== null) {
    ev.push({ name: `delivered to ${p.overlay}`, value: p.delivered });
    ev.push({ name: 'lost between underlay and overlay', value: p.lost, detail: `${p.lostBad ?? 0} of them with a bad checksum` });
  }
  return ev;
}

/** Where a remedy on the sending node of `p` runs: "peer X" (receiver's view) or, for
 * carriers this node sent, "this node" live and the sender's address in a capture file. */
function senderOf(input: DiagnosisInput, p: PeerCarriers): string {
  if (p.direction === 'from-peer') return `peer ${p.peer}`;
  return input.live ? 'this node' : `node ${p.local}`;
}

/**
 * The tunnel device remedies act on: its name when this host has it (live, or named in a
 * capture file for carriers the capturing node sent) and otherwise only its kind.
 */
function tunnelDevice(input: DiagnosisInput, p: PeerCarriers, overlay: InterfaceDiagnosis | undefined): string | null {
  if (input.live) return overlay?.name ?? 'flannel.1';
  // A file names the capturing node's devices: right for what it sent, not for a peer's.
  return p.direction === 'to-peer' && overlay ? overlay.name : null;
}

function txOff(where: string, dev: string | null, kind: string, why: string): RemedyStep {
  return dev !== null ? txChecksumOff(where, dev, why) : txChecksumOffUnnamed(where, kind, why);
}

/** Receiver's view of variant A: carriers from a peer arrive with a bad outer UDP checksum. */
export function outerBadFromPeer(input: DiagnosisInput): Candidate[] {
  return input.peers
    .filter((p) => p.direction === 'from-peer' && p.badOuter > 0)
    .map((p) => {
      const overlay = overlayOf(input, p.namespace, p.overlay);
      const tunnel = TUNNEL_WORD[p.tunnel];
      const dev = overlay?.name ?? (input.live ? 'flannel.1' : `the ${tunnel} device`);
      const kernel = kernelGrowth(input, p.namespace, ['udpInCsumErrors', 'udp6InCsumErrors']);
      // The kernel's verdict names the peer; the counters only the namespace.
      const verdictRows = kernelVerdictRows(input, p.namespace, ['UDP_CSUM'], { peer: p.peer });
      const verdict = kernelVerdict(input, p.namespace, ['UDP_CSUM'], { peer: p.peer });
      const verdictText = `the kernel of ${p.namespace} dropped ${verdict} carriers from ${p.peer} for UDP_CSUM (kernel verdict)${seenText(verdictRows, 'a bad outer checksum', input.kernelDrops?.matching === true)}`;
      const evidence = [...carrierEvidence(p, 'outer'), ...symptomsFrom(input, p.peer)];
      if (verdict !== null)
        evidence.push({ name: 'carriers the kernel dropped for UDP_CSUM (kernel verdict)', value: verdict, detail: `${verdictText}; eBPF on skb:kfree_skb` });
      evidence.push(...matchEvidence(verdictRows, 'a bad outer checksum', input.kernelDrops?.matching === true));
      if (kernel !== null) evidence.push({ name: 'Udp InCsumErrors since start', value: kernel, detail: `/proc/net/snmp of ${p.namespace}` });
      const head = `${p.badOuter} of ${p.carriers} carriers from node ${p.peer} on ${p.underlay} had a wrong outer UDP checksum; `;
      let fate: string;
      let severity: Severity = 'critical';
      if ((p.lostBad ?? 0) > 0) {
        fate = `${p.lostBad} of them never reached ${p.overlay} (seen on ${p.underlay}, not on ${p.overlay})${verdict !== null && verdict > 0 ? `; ${verdictText}` : ''}. `;
      } else if (verdict !== null && verdict > 0) {
        fate = `${verdictText}, so their inner packets never reached ${dev}. `;
      } else if (verdict === null && kernel !== null && kernel > 0) {
        fate = `the kernel of ${p.namespace} dropped ${kernel} UDP packets for a bad checksum since csumtop started (Udp InCsumErrors), so their inner packets never reached ${dev}. `;
      } else {
        severity = 'warning';
        fate =
          'a receiver that verifies the outer UDP checksum (a NIC, or the kernel) drops them, ' +
          (p.delivered !== null
            ? `but none was lost on the way to ${p.overlay}: this node did not verify it (a veth hands such packets on unverified). `
            : verdict !== null
              ? `but the kernel of ${p.namespace} dropped none of them (kernel verdict): this node did not drop them (the overlay device was not captured). `
              : kernel !== null
                ? `but Udp InCsumErrors of ${p.namespace} did not grow: this node did not drop them (the overlay device was not captured). `
                : 'but the overlay device was not captured and a capture file has no kernel counters, so whether they were dropped is not known. ');
      }
      const sender = senderOf(input, p);
      return {
        id: 'vxlan-outer-bad-from-peer' as const,
        key: `vxlan-outer-bad-from-peer/${p.namespace}/${p.peer}`,
        severity,
        title: `${tunnel} carriers from ${p.peer} arrive with bad outer UDP checksums`,
        summary:
          head +
          fate +
          'The checksum is broken on the sending node (variant A: NAT of the carrier with a zero outer checksum on an unfixed kernel, or with transmit checksum offload): fix it there.',
        subject: { peer: p.peer, interface: p.underlay, namespace: p.namespace },
        evidence,
        remedy: [
          txOff(
            sender,
            tunnelDevice(input, p, overlay),
            tunnel,
            'the sender then computes the inner checksum in software and NAT of the carrier no longer breaks the outer one; this works whether or not its device sends an outer checksum (udpcsum)',
          ),
          // The sender's kernel and udpcsum setting cannot be seen from here.
          kernelUpgrade(sender, 'conditional'),
          KUBE_PROXY_UPGRADE,
          // Live, this node's counter is read already; a file's receiver is the node that captured it.
          ...(input.live ? [] : [peerCounterCheck(`node ${p.local}`, 'Udp')]),
        ],
        references: VARIANT_A_REFS,
        strength: p.badOuter,
        traffic: { count: p.carriers, what: `carriers from ${p.peer}`, bad: 'bad carriers', good: 'good outer checksums' },
      };
    });
}

/** Sender's view: carriers this node emits whose outer checksum is wrong once completed. */
export function outerBadSent(input: DiagnosisInput): Candidate[] {
  return input.peers
    .filter((p) => p.direction === 'to-peer' && p.badOuter > 0)
    .map((p) => {
      const overlay = overlayOf(input, p.namespace, p.overlay);
      const tunnel = TUNNEL_WORD[p.tunnel];
      const device = tunnelDevice(input, p, overlay);
      const dev = device ?? `the ${tunnel} device`;
      const where = senderOf(input, p);
      const evidence: Evidence[] = carrierEvidence(p, 'outer');
      const remedy: RemedyStep[] = [];
      const causes: string[] = [];
      // Both udpcsum settings contribute, in different ways, so the setting is evidence
      // either way. noudpcsum: the outer checksum is 0 and nf_nat on a kernel without
      // ea64d8d6c675 "updates" it into a wrong value (variant A, docs/domain.md). udpcsum: the
      // outer checksum is complete at encapsulation while the skb stays CHECKSUM_PARTIAL
      // for the inner one (local checksum offload, udp_set_csum/lco_csum), and nf_nat's
      // port rewrite skips the update for a CHECKSUM_PARTIAL skb (nf_nat_proto.c
      // __udp_manip_pkt -> inet_proto_csum_replace2(..., false)): wrong on any kernel
      // (test/lab/diagnosis-rules.test.ts creates this on 6.18), so the kernel upgrade is
      // no remedy for it.
      const udpCsum = overlay?.vxlan?.udpCsum ?? null;
      if (udpCsum === false)
        evidence.push({
          name: `${dev} udpcsum`,
          value: false,
          detail: 'noudpcsum: outer checksum 0, which NAT on unfixed kernels rewrites into a wrong value (variant A)',
        });
      if (udpCsum === true) {
        evidence.push({
          name: `${dev} udpcsum`,
          value: true,
          detail: 'outer checksum computed at encapsulation while the inner one is offloaded: a NAT port rewrite of the carrier leaves it wrong on any kernel',
        });
      }
      const offload = overlay?.txChecksumOffload ?? null;
      if (offload !== null)
        evidence.push({
          name: `${dev} tx-checksum-ip-generic`,
          value: offload,
          detail: offload ? 'transmit checksum offload on' : 'transmit checksum offload off',
        });
      if (offload === false) {
        causes.push(`Transmit checksum offload is already off on ${dev}, so turning it off is no remedy here.`);
      } else {
        remedy.push(txOff(where, device, tunnel, 'the inner checksum is then computed before encapsulation, so NAT cannot corrupt the outer one'));
        causes.push(`Turn off transmit checksum offload on ${dev}${input.live ? ' here' : ` on ${p.local}`}.`);
      }
      const nat = input.facts.nat[p.namespace] ?? null;
      if (nat) {
        evidence.push({ name: 'MASQUERADE --random-fully', value: nat.masqueradeRandomFully, detail: 'iptables/nft nat rules' });
        evidence.push({ name: 'kube-proxy mark fix (--xor-mark 0x4000)', value: nat.kubeMarkFix, detail: 'kubernetes/kubernetes#92035' });
        if (nat.masqueradeRandomFully && !nat.kubeMarkFix) remedy.push(KUBE_PROXY_UPGRADE);
      } else if (!input.live) {
        remedy.push(KUBE_PROXY_UPGRADE);
      }
      const k = input.facts.kernel;
      if (k) evidence.push({ name: 'kernel', value: k.release, detail: `variant A fix: ${k.variantA.status} (${k.variantA.reason})` });
      if (udpCsum === true) {
        causes.push(
          `${dev} sends an outer checksum (udpcsum): the kernel fix for zero checksums (ea64d8d6c675) does not cover this case, so a kernel upgrade is no remedy.`,
        );
      } else if (k?.variantA.status === 'affected') {
        remedy.push(kernelUpgrade(where, 'needed'));
      } else if (!k || k.variantA.status === 'unknown') {
        remedy.push(kernelUpgrade(where, 'conditional'));
      }
      remedy.push(peerCounterCheck(`peer ${p.peer}`, 'Udp'));
      return {
        id: 'vxlan-outer-bad-sent' as const,
        // One per peer: the tracker keys on it, and two peers must not overwrite each other.
        key: `vxlan-outer-bad-sent/${p.underlay}/${p.peer}`,
        // The sender cannot see the receiver drop anything: never "lost now" from here.
        severity: 'warning' as const,
        title: input.live
          ? `This node sends ${tunnel} carriers with wrong outer checksums on ${p.underlay}`
          : `Node ${p.local} sends ${tunnel} carriers with wrong outer checksums on ${p.underlay}`,
        summary:
          `${p.badOuter} of ${p.carriers} carriers sent to ${p.peer} will carry a wrong outer UDP checksum on the wire (verified after completing the offloaded checksum); ` +
          `a receiver that verifies it (a NIC, or the kernel) drops them, which only ${p.peer}'s Udp InCsumErrors can show. ` +
          causes.join(' '),
        subject: { peer: p.peer, interface: p.underlay, namespace: p.namespace },
        evidence,
        remedy,
        references: VARIANT_A_REFS,
        strength: p.badOuter,
        traffic: { count: p.carriers, what: `carriers to ${p.peer}`, bad: 'bad carriers', good: 'good outer checksums' },
      };
    });
}

/** Bad inner checksums in carriers from a peer; VMware/vmxnet3 facts point at variant C. */
export function innerBadFromPeer(input: DiagnosisInput): Candidate[] {
  return input.peers
    .filter((p) => p.direction === 'from-peer' && p.badInner > 0)
    .map((p) => {
      const underlay = input.interfaces.find((i) => i.namespace === p.namespace && i.label === p.underlay);
      const vmware = input.facts.hypervisor?.kind === 'vmware' || underlay?.driver === 'vmxnet3';
      const overlay = overlayOf(input, p.namespace, p.overlay);
      const tunnel = TUNNEL_WORD[p.tunnel];
      const kernel = kernelGrowth(input, p.namespace, TRANSPORT_CSUM);
      const evidence = [...carrierEvidence(p, 'inner'), ...symptomsFrom(input, p.peer)];
      if (kernel !== null)
        evidence.push({ name: 'transport InCsumErrors since start (Udp+Tcp+Icmp, v4 and v6)', value: kernel, detail: `/proc/net/snmp of ${p.namespace}` });
      if (vmware)
        evidence.push({
          name: 'hypervisor / driver',
          value: `${input.facts.hypervisor?.kind ?? 'unknown'} / ${underlay?.driver ?? 'unknown'}`,
          detail: 'variant C: vmxnet3 VXLAN offloads',
        });
      // Decapsulation does not verify the inner checksum; the stack that receives the
      // inner packet does, and counts the drop in this namespace's InCsumErrors.
      // The kernel's verdict on the tunnel device: the inner packets are dropped there,
      // after decapsulation (skb->dev is then the VXLAN/Geneve device).
      const innerReasons: KernelDropReason[] = ['TCP_CSUM', 'UDP_CSUM', 'ICMP_CSUM'];
      const verdict = overlay ? kernelVerdict(input, p.namespace, innerReasons, { device: overlay.name }) : null;
      const verdictRows = overlay ? kernelVerdictRows(input, p.namespace, innerReasons, { device: overlay.name }) : null;
      if (verdict !== null && overlay)
        evidence.push({
          name: `inner packets the kernel dropped on ${overlay.name} ${forReasons(innerReasons)} (kernel verdict)`,
          value: verdict,
          detail: `eBPF on skb:kfree_skb in ${p.namespace}`,
        });
      evidence.push(...matchEvidence(verdictRows, `a bad checksum on ${overlay?.name ?? 'the tunnel device'}`, input.kernelDrops?.matching === true));
      const measured = verdict !== null ? verdict > 0 : kernel !== null && kernel > 0;
      const fate =
        verdict !== null && verdict > 0
          ? `the kernel of ${p.namespace} dropped ${verdict} inner packets on ${overlay!.name} ${forReasons(innerReasons)} (kernel verdict)${seenText(verdictRows, 'a bad checksum there', input.kernelDrops?.matching === true)}. `
          : verdict !== null
            ? `a stack that verifies the inner checksum after decapsulation drops them, but the kernel of ${p.namespace} dropped none on ${overlay!.name} (kernel verdict): this node did not drop them. `
            : measured
              ? `the kernel of ${p.namespace} dropped ${kernel} packets for a bad transport checksum since csumtop started (InCsumErrors), the inner packets among them. `
              : kernel !== null
                ? `a stack that verifies the inner checksum after decapsulation drops them, but no InCsumErrors grew in ${p.namespace}: this node did not drop them. `
                : 'a stack that verifies the inner checksum after decapsulation drops them; a capture file has no kernel counters, so whether they were dropped is not known. ';
      const sender = senderOf(input, p);
      const dev = tunnelDevice(input, p, overlay);
      const nic = input.live ? (underlay?.name ?? null) : null;
      return {
        id: 'inner-bad-from-peer' as const,
        key: `inner-bad-from-peer/${p.namespace}/${p.peer}`,
        severity: measured ? ('critical' as const) : ('warning' as const),
        title: vmware ? `Inner checksums in ${tunnel} from ${p.peer} are bad (VMware vmxnet3 offload)` : `Inner checksums in ${tunnel} from ${p.peer} are bad`,
        summary:
          `${p.badInner} of ${p.carriers} carriers from ${p.peer} held an inner packet with a wrong checksum; ` +
          fate +
          (vmware
            ? 'This is a VMware host: vmxnet3 VXLAN offloads are the known cause (variant C).'
            : 'The sender filled in the inner checksum wrongly (offload).'),
        subject: { peer: p.peer, interface: p.underlay, namespace: p.namespace },
        evidence,
        remedy: vmware
          ? [
              nic !== null ? tunnelSegmentationOff(sender, nic) : tunnelSegmentationOff(sender, null),
              txOff(sender, dev, tunnel, 'the inner checksum is computed in software'),
            ]
          : [txOff(sender, dev, tunnel, 'the inner checksum is computed in software')],
        references: vmware
          ? ['projectcalico/calico#4727', 'k3s-io/k3s#5013', 'projectcalico/calico#7040', 'cilium/cilium#21801']
          : ['projectcalico/calico#7040'],
        strength: p.badInner,
        traffic: { count: p.carriers, what: `carriers from ${p.peer}`, bad: 'carriers with a bad inner checksum', good: 'good inner checksums' },
      };
    });
}

/** IPv4 header checksum corruption on any interface. */
export function ipv4HeaderBad(input: DiagnosisInput): Candidate[] {
  return input.interfaces
    .filter((i) => i.badIpv4 > 0)
    .map((i) => {
      // Linux verifies every IPv4 header checksum in software (net/ipv4/ip_input.c
      // ip_rcv_core) and counts the drop in Ip InHdrErrors of the namespace.
      const kernel = kernelGrowth(input, i.namespace, ['ipInHdrErrors']);
      const reasons: KernelDropReason[] = ['IP_CSUM', 'IP_INHDR'];
      // Namespace-wide: a bad inner header is dropped on the tunnel device, not on i.
      const verdict = kernelVerdict(input, i.namespace, reasons);
      const verdictRows = kernelVerdictRows(input, i.namespace, reasons);
      const measured = verdict !== null ? verdict > 0 : kernel !== null && kernel > 0;
      const fate =
        verdict !== null && verdict > 0
          ? `the kernel of ${i.namespace} dropped ${verdict} IPv4 packets ${forReasons(reasons)} since csumtop started (kernel verdict)${seenText(verdictRows, 'a bad IPv4 header', input.kernelDrops?.matching === true)}.`
          : verdict !== null
            ? `the kernel of ${i.namespace} dropped none ${forReasons(reasons)} (kernel verdict): this node did not drop them (they may be packets it sent); any receiving IPv4 stack drops them.`
            : measured
              ? `the kernel of ${i.namespace} dropped ${kernel} IPv4 packets for a bad header since csumtop started (Ip InHdrErrors).`
              : kernel !== null
                ? `Ip InHdrErrors of ${i.namespace} did not grow: this node did not drop them (they may be packets it sent); any receiving IPv4 stack drops them.`
                : 'any receiving IPv4 stack drops them (Linux: ip_rcv_core, Ip InHdrErrors); a capture file has no kernel counters, so whether they were dropped is not known.';
      const evidence: Evidence[] = [
        { name: 'bad IPv4 header checksums', value: i.badIpv4, detail: i.label },
        { name: 'frames', value: i.frames, detail: i.label },
      ];
      if (verdict !== null)
        evidence.push({
          name: `IPv4 packets the kernel dropped ${forReasons(reasons)} (kernel verdict)`,
          value: verdict,
          detail: `eBPF on skb:kfree_skb in ${i.namespace}`,
        });
      evidence.push(...matchEvidence(verdictRows, 'a bad IPv4 header', input.kernelDrops?.matching === true));
      if (kernel !== null) evidence.push({ name: 'Ip InHdrErrors since start', value: kernel, detail: `/proc/net/snmp of ${i.namespace}` });
      if (i.driver !== null) evidence.push({ name: 'driver', value: i.driver });
      return {
        id: 'ipv4-header-bad' as const,
        key: `ipv4-header-bad/${i.label}`,
        severity: measured ? ('critical' as const) : ('warning' as const),
        title: `IPv4 header checksums are bad on ${i.label}`,
        summary:
          `${i.badIpv4} IPv4 headers on ${i.label} had a wrong header checksum. No offload leaves the IPv4 header checksum unset in a capture, ` +
          `so these packets were corrupted in flight (NIC, driver or a middlebox); ${fate}`,
        subject: { interface: i.label, namespace: i.namespace },
        evidence,
        remedy: [
          input.live
            ? {
                where: 'this node',
                command: `ethtool -S ${shellWord(i.name)} | grep -i -E 'err|csum'`,
                why: 'NIC error counters show whether the device itself corrupts frames',
                persist: null,
              }
            : {
                where: 'the node that captured the file',
                command: `ethtool -S <the NIC it captured on> | grep -i -E 'err|csum'`,
                why: 'NIC error counters show whether the device itself corrupts frames',
                persist: null,
              },
          { where: 'the sender', command: `ethtool -K <sending NIC> tx off`, why: "rules out the sender's checksum offload as the source", persist: null },
        ],
        references: ['RFC 791 section 3.1 (header checksum)', 'RFC 1624'],
        strength: i.badIpv4,
      };
    });
}

/** Informational: frames tcpdump -vv would flag that are offload artifacts. */
export function offloadArtifacts(input: DiagnosisInput): Candidate[] {
  const pending = input.interfaces.reduce((s, i) => s + i.pending, 0);
  const validated = input.interfaces.reduce((s, i) => s + i.validated, 0);
  const partial = input.interfaces.reduce((s, i) => s + i.looksPartial, 0);
  const flagged = pending + partial;
  if (flagged === 0) return [];
  const top = [...input.interfaces].sort((a, b) => b.pending + b.looksPartial - (a.pending + a.looksPartial)).slice(0, 4);
  return [
    {
      id: 'offload-artifacts',
      key: 'offload-artifacts',
      severity: 'info',
      title: `${flagged} checksums tcpdump -vv would call bad are offload artifacts`,
      summary:
        `These packets were captured before the NIC (or a veth/VXLAN device) filled in the checksum: the field holds only the pseudo-header sum. ` +
        `They are not errors; tcpdump's man page says so ("all outgoing TCP checksums will be flagged as bad"). ` +
        (input.guessesOffload
          ? 'This source has no kernel checksum status, so these are recognised by their value (a guess).'
          : 'The kernel marked each one CHECKSUM_PARTIAL.'),
      subject: {},
      evidence: [
        { name: 'pending (completed and verified by csumtop)', value: pending },
        { name: 'bad-looking but equal to the pseudo-header sum', value: partial },
        { name: 'validated by the kernel/NIC', value: validated },
        ...top.map((i) => ({ name: `pending on ${i.label}`, value: i.pending + i.looksPartial })),
      ],
      remedy: [],
      references: ['tcpdump(8) -K', 'net/packet/af_packet.c TP_STATUS_CSUMNOTREADY'],
      strength: flagged,
    },
  ];
}

/** At most this many interfaces are named in kernel-drops-unseen's command; more: -i '*'. */
const MAX_NAMED_ADDITIONS = 8;

/**
 * Where bad checksums the kernel counted most likely came in: physical NICs (no kind)
 * first, then tunnel devices, then the rest (veths, bridges).
 */
function additionOrder(l: UncapturedLink): number {
  if (l.kind === null) return 0;
  if (l.kind === 'vxlan' || l.kind === 'geneve' || l.kind === 'ipip' || l.kind === 'ip6tnl') return 1;
  return 2;
}

/**
 * The step capturing `captured` plus `adding` in `namespace`: the names listed, or every
 * interface (-i '*') when there are none to add, too many, or one -i cannot take.
 */
function captureMoreStep(namespace: string, captured: string[], adding: UncapturedLink[]): RemedyStep {
  const where = namespace === 'host' ? 'csumtop' : `csumtop --netns ${shellWord(namespace)}`;
  const names = [...captured, ...adding.map((l) => l.name)];
  // -i splits its list on commas (src/cli/args.ts): such a name cannot be listed.
  const listable = adding.length > 0 && adding.length <= MAX_NAMED_ADDITIONS && names.every((n) => !n.includes(','));
  return listable
    ? {
        where: 'this node',
        command: `${where} -i ${shellWord(names.join(','))}`,
        why: 'capture the interfaces that are up and not captured as well',
        persist: null,
      }
    : { where: 'this node', command: `${where} -i '*'`, why: 'capture every interface of the namespace', persist: null };
}

/** "vlb UDP_CSUM: 2, flannel.1 UDP_CSUM: 3": drops per device and reason. */
function perDeviceReason(rows: readonly KernelDropCount[], count: (d: KernelDropCount) => number): string {
  const n = new Map<string, number>();
  for (const d of rows) {
    const c = count(d);
    if (c > 0) n.set(`${d.device} ${d.reason}`, (n.get(`${d.device} ${d.reason}`) ?? 0) + c);
  }
  return [...n].map(([what, k]) => `${what}: ${k}`).join(', ') || 'none';
}

const UNSEEN_EVIDENCE: Record<(typeof UNSEEN)[number], string> = {
  notCaptured: 'drops on devices not captured (kernel verdict)',
  ringDrop: 'drops not seen while the capture ring dropped frames (kernel verdict)',
  notSeen: 'drops not seen on captured devices (kernel verdict)',
  tableFull: 'drops csumtop could not match: its tables overflowed (kernel verdict)',
};

/**
 * With the kernel's verdicts each drop was looked for among the captured frames
 * (kernel-match.ts): the ones not seen, per namespace, by why. Drops still waiting for
 * their frame are not counted here (they may yet be seen).
 */
function kernelDropsUnseenByVerdict(input: DiagnosisInput, drops: readonly KernelDropCount[]): Candidate[] {
  const out: Candidate[] = [];
  // The namespaces csumtop captures: the program sees every namespace of the host, and
  // drops in one csumtop was not asked to watch are listed (JSON, report), not warned of.
  const watched = new Set(input.interfaces.map((i) => i.namespace));
  for (const ns of [...new Set(drops.map((d) => d.namespace))].filter((n) => watched.has(n))) {
    const rows = drops.filter((d) => d.namespace === ns);
    const m = sumMatch(rows);
    const unseen = unseenOf(m);
    if (unseen === 0) continue;
    const here = input.interfaces.filter((i) => i.namespace === ns);
    const captured = here.map((i) => i.name);
    const evidence: Evidence[] = [];
    // The namespace's counters too, as read one evaluation ago (see kernelDropsUnseen).
    const k = input.kernelBefore?.find((x) => x.namespace === ns);
    if (k) {
      const kernel =
        (k.sinceStart.udpInCsumErrors ?? 0) + (k.sinceStart.tcpInCsumErrors ?? 0) + (k.sinceStart.udp6InCsumErrors ?? 0) + (k.sinceStart.icmpInCsumErrors ?? 0);
      evidence.push({ name: 'kernel checksum errors (Udp+Tcp+Udp6+Icmp InCsumErrors)', value: kernel, detail: `/proc/net/snmp of ${ns}` });
      evidence.push({ name: 'bad checksums received on captured interfaces', value: here.reduce((s, i) => s + i.badReceivedL4, 0) });
    }
    evidence.push(
      ...UNSEEN.filter((o) => m.outcomes[o] > 0).map((o) => ({
        name: UNSEEN_EVIDENCE[o],
        value: m.outcomes[o],
        detail: perDeviceReason(rows, (d) => d.outcomes[o]),
      })),
    );
    evidence.push({ name: 'captured interfaces', value: captured.join(', ') || 'none' });
    const adding = input.facts.uncaptured
      ?.filter((l) => l.namespace === ns)
      .sort((a, b) => additionOrder(a) - additionOrder(b) || a.name.localeCompare(b.name));
    if (adding)
      evidence.push({ name: 'interfaces up and not captured', value: adding.map((l) => (l.kind ? `${l.name} (${l.kind})` : l.name)).join(', ') || 'none' });
    const remedy: RemedyStep[] = [];
    if (m.outcomes.notCaptured > 0) {
      // The devices the kernel named, when csumtop knows them; else every uncaptured link.
      const named = new Set(rows.filter((d) => d.outcomes.notCaptured > 0).map((d) => d.device));
      const known = (adding ?? []).filter((l) => named.has(l.name));
      remedy.push(captureMoreStep(ns, captured, known.length > 0 ? known : (adding ?? [])));
    }
    if (m.outcomes.ringDrop > 0)
      remedy.push({ where: 'this node', command: 'csumtop --ring-mb 64 --threads 2 ...', why: 'a larger ring and more capture threads', persist: null });
    out.push({
      id: 'kernel-drops-unseen',
      key: `kernel-drops-unseen/${ns}`,
      severity: 'warning',
      // "Did not see" only of drops known unseen; a table overflow means csumtop cannot tell.
      title:
        unseen > m.outcomes.tableFull
          ? `The kernel in ${ns} dropped ${unseen - m.outcomes.tableFull} packets for bad checksums csumtop did not see`
          : `csumtop could not tell whether it saw ${unseen} packets the kernel in ${ns} dropped for bad checksums (its match tables overflowed)`,
      summary: `Of the ${m.total} packets the kernel of ${ns} dropped for a checksum or IPv4 header reason since csumtop started (kernel verdict), ${matchText(m, 'the checksum the kernel names bad')}.`,
      subject: { namespace: ns },
      evidence,
      remedy,
      references: ['docs/kernel-drops.md: Matching drops to captured frames'],
      strength: unseen,
    });
  }
  return out;
}

/**
 * Drops the kernel made for a checksum csumtop verified good in the frame it captured of
 * the same packet: one of the two is wrong about that packet (or the packet changed
 * between the capture and the drop: NAT, decapsulation).
 */
export function kernelDropsDisagree(input: DiagnosisInput): Candidate[] {
  const out: Candidate[] = [];
  const drops = input.kernelDrops?.matching ? input.kernelDrops.drops : [];
  for (const ns of [...new Set(drops.map((d) => d.namespace))]) {
    const rows = drops.filter((d) => d.namespace === ns && d.outcomes.seenGood > 0);
    const n = rows.reduce((s, d) => s + d.outcomes.seenGood, 0);
    if (n === 0) continue;
    const frames = rows.map((d) => d.frame).filter((f): f is number => f !== null);
    out.push({
      id: 'kernel-drops-disagree',
      key: `kernel-drops-disagree/${ns}`,
      severity: 'warning',
      title: `The kernel in ${ns} dropped ${n} packets for a bad checksum csumtop verified good (kernel verdict)`,
      summary:
        `csumtop captured these packets and verified the checksum the kernel's drop reason names as good: ${perDeviceReason(rows, (d) => d.outcomes.seenGood)}. ` +
        'The packet may have changed between the capture and the drop (NAT, decapsulation), or one of the two verifies it wrongly: keep the frames (-w) and compare.',
      subject: { namespace: ns },
      evidence: [
        {
          name: 'drops whose checksum csumtop verified good (kernel verdict)',
          value: n,
          detail: `${perDeviceReason(rows, (d) => d.outcomes.seenGood)}${frames.length > 0 ? `; last matched frame ${frames.join(', ')}` : ''}`,
        },
        ...rows.map((d) => ({ name: `${d.device} ${d.reason} from ${d.peer ?? 'unknown'}`, value: d.outcomes.seenGood, detail: OUTCOME_WORDS.seenGood })),
      ],
      remedy: [{ where: 'this node', command: 'csumtop -w bad.pcap ...', why: 'keep the bad frames to compare with what the kernel dropped', persist: null }],
      references: ['docs/kernel-drops.md: Matching drops to captured frames'],
      strength: n,
    });
  }
  return out;
}

/** The kernel counted checksum drops the capture did not see. */
export function kernelDropsUnseen(input: DiagnosisInput): Candidate[] {
  // The kernel's verdicts say it per drop (when the capture matches them to its frames);
  // the counters below only per namespace.
  if (input.kernelDrops?.matching) return kernelDropsUnseenByVerdict(input, input.kernelDrops.drops);
  const out: Candidate[] = [];
  // The counters as read one evaluation ago (null at the first): the capture has had a
  // whole interval to deliver the events of the packets they count. Today's counters
  // against today's events would race the delivery (a drop counted in softirq, its event
  // still in a ring or a batch), most visibly at start-up.
  for (const k of input.kernelBefore ?? []) {
    const kernel =
      (k.sinceStart.udpInCsumErrors ?? 0) + (k.sinceStart.tcpInCsumErrors ?? 0) + (k.sinceStart.udp6InCsumErrors ?? 0) + (k.sinceStart.icmpInCsumErrors ?? 0);
    const here = input.interfaces.filter((i) => i.namespace === k.namespace);
    const seen = here.reduce((s, i) => s + i.badReceivedL4, 0);
    if (kernel <= seen) continue;
    const gap = kernel - seen;
    const captured = here.map((i) => i.name);
    const evidence: Evidence[] = [
      { name: 'kernel checksum errors (Udp+Tcp+Udp6+Icmp InCsumErrors)', value: kernel, detail: `/proc/net/snmp of ${k.namespace}` },
      { name: 'bad checksums received on captured interfaces', value: seen },
      { name: 'captured interfaces', value: captured.join(', ') || 'none' },
    ];
    // csumtop itself lost reports (it fell behind): the packets may well have been
    // captured here, so an uncaptured interface is not to be blamed.
    const ownLoss = input.eventsDropped + input.recordsDropped;
    if (ownLoss > 0) {
      evidence.push({
        name: 'events and bad-frame records csumtop dropped',
        value: ownLoss,
        detail: `${input.eventsDropped} events, ${input.recordsDropped} records`,
      });
      out.push({
        id: 'kernel-drops-unseen',
        key: `kernel-drops-unseen/${k.namespace}`,
        severity: 'warning',
        title: `csumtop dropped ${ownLoss} events and records; the kernel in ${k.namespace} counted ${gap} more checksum drops than it reported`,
        summary:
          `Since csumtop started, /proc/net/snmp of ${k.namespace} counts ${kernel} transport checksum errors and ${seen} bad checksums were reported on the interfaces captured there, ` +
          `but csumtop's own pipeline dropped ${ownLoss} events and bad-frame records because it fell behind: the missing ones may have been captured and lost inside csumtop, ` +
          'so this does not show an interface left uncaptured.',
        subject: { namespace: k.namespace },
        evidence,
        remedy: [
          {
            where: 'this node',
            command: 'csumtop --ring-mb 64 --threads 2 ...',
            why: 'more capture threads keep up with more traffic; fewer interfaces or a filter lowers the load',
            persist: null,
          },
        ],
        references: ['docs/domain.md: Counters the kernel keeps'],
        strength: gap,
      });
      continue;
    }
    // The kernel's counters are per namespace, not per device (/proc/net/snmp): every
    // uncaptured link that is up is a candidate.
    const adding = input.facts.uncaptured
      ?.filter((l) => l.namespace === k.namespace)
      .sort((a, b) => additionOrder(a) - additionOrder(b) || a.name.localeCompare(b.name));
    if (adding)
      evidence.push({ name: 'interfaces up and not captured', value: adding.map((l) => (l.kind ? `${l.name} (${l.kind})` : l.name)).join(', ') || 'none' });
    out.push({
      id: 'kernel-drops-unseen',
      key: `kernel-drops-unseen/${k.namespace}`,
      severity: 'warning',
      title: `The kernel in ${k.namespace} dropped ${gap} packets for bad checksums csumtop did not see`,
      summary:
        `Since csumtop started, /proc/net/snmp of ${k.namespace} counts ${kernel} transport checksum errors, but only ${seen} bad checksums arrived on the interfaces captured there. ` +
        (adding && adding.length > 0
          ? `The rest came in through an interface not being captured: ${adding
              .slice(0, MAX_NAMED_ADDITIONS)
              .map((l) => l.name)
              .join(', ')}${adding.length > MAX_NAMED_ADDITIONS ? ` and ${adding.length - MAX_NAMED_ADDITIONS} more` : ''}.`
          : adding
            ? 'Every interface up there is captured: the rest came in on one that has gone down or away since, or before it was attached.'
            : 'The rest came in through an interface not being captured: add it.'),
      subject: { namespace: k.namespace },
      evidence,
      remedy: [captureMoreStep(k.namespace, captured, adding ?? [])],
      references: ['docs/domain.md: Counters the kernel keeps'],
      strength: gap,
    });
  }
  return out;
}

/** Capture loss large enough to weaken a conclusion (1% of the frames or more). */
export function captureLoss(input: DiagnosisInput): Candidate[] {
  return input.interfaces
    .filter((i) => i.captureDrops > 0 && i.captureDrops >= 0.01 * (i.frames + i.captureDrops))
    .map((i) => ({
      id: 'capture-loss' as const,
      key: `capture-loss/${i.label}`,
      severity: 'warning' as const,
      title: `Capture on ${i.label} lost ${i.captureDrops} frames`,
      summary:
        `The kernel dropped ${i.captureDrops} frames of ${i.frames + i.captureDrops} on ${i.label} because the capture ring was full: counts and matches there are lower bounds, ` +
        'and a "lost between underlay and overlay" may be capture loss instead.',
      subject: { interface: i.label, namespace: i.namespace },
      evidence: [
        { name: 'ring drops (PACKET_STATISTICS)', value: i.captureDrops },
        { name: 'frames captured', value: i.frames },
      ],
      remedy: [{ where: 'this node', command: 'csumtop --ring-mb 64 --threads 2 ...', why: 'a larger ring and more capture threads', persist: null }],
      references: ['net/packet/af_packet.c tpacket_rcv (tp_drops)'],
      strength: i.captureDrops,
    }));
}

export const RULES: Array<(input: DiagnosisInput) => Candidate[]> = [
  outerBadFromPeer,
  outerBadSent,
  innerBadFromPeer,
  ipv4HeaderBad,
  offloadArtifacts,
  kernelDropsUnseen,
  kernelDropsDisagree,
  captureLoss,
];
