/**
 * Diagnosis rules (issue 4): each turns the correlation results and facts into findings
 * with evidence, a remedy for this host and the references behind it. A rule returns
 * candidates with a cumulative `strength` (the count of its evidence); the tracker
 * (tracker.ts) decides when a finding is active and when it clears.
 */
import type { PeerCarriers } from '../model/correlation.js';
import type { Evidence, Finding, RemedyStep } from '../model/findings.js';
import type { DiagnosisInput, InterfaceDiagnosis, UncapturedLink } from './input.js';
import { KERNEL_UPGRADE, KUBE_PROXY_UPGRADE, shellWord, tunnelSegmentationOff, txChecksumOff } from './remedies.js';

export type Candidate = Omit<Finding, 'firstSeen' | 'lastSeen'> & { strength: number };

const VARIANT_A_REFS = [
  'kubernetes/kubernetes#88986',
  'flannel-io/flannel#1279',
  'projectcalico/calico#3145',
  'linux ea64d8d6c675 (netfilter: nat: never update the UDP checksum when it\'s 0)',
  'kubernetes/kubernetes#92035',
];

function overlayOf(input: DiagnosisInput, namespace: string, fallback: string | null): InterfaceDiagnosis | undefined {
  return input.interfaces.find((i) => i.namespace === namespace && (i.role === 'vxlan' || i.role === 'geneve') && (fallback === null || i.label === fallback))
    ?? input.interfaces.find((i) => i.namespace === namespace && (i.role === 'vxlan' || i.role === 'geneve'));
}

function kernelUdpErrors(input: DiagnosisInput, namespace: string): number | null {
  const k = input.kernel.find((v) => v.namespace === namespace);
  return k?.sinceStart.udpInCsumErrors ?? null;
}

function symptomsFrom(input: DiagnosisInput, peer: string): Evidence[] {
  const dns = input.dns.unansweredList.filter((d) => d.attributedTo?.peer === peer);
  // A refused SYN reached a TCP that said no: never a symptom of bad carriers.
  const syn = input.syn.slowList.filter((s) => s.attributedTo?.peer === peer && !s.answered && !s.refused);
  const out: Evidence[] = [];
  if (dns.length > 0) {
    out.push({ name: 'DNS queries unanswered (their carriers were bad)', value: dns.length, detail: [...new Set(dns.map((d) => `${d.name} (${d.client} -> ${d.server})`))].slice(0, 5).join(', ') });
  }
  if (syn.length > 0) {
    out.push({ name: 'TCP SYNs unanswered (their carriers were bad)', value: syn.length, detail: syn.slice(0, 5).map((s) => `${s.client}:${s.clientPort} -> ${s.server}:${s.serverPort}`).join(', ') });
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

/** Receiver's view of variant A: carriers from a peer arrive with a bad outer UDP checksum. */
export function outerBadFromPeer(input: DiagnosisInput): Candidate[] {
  return input.peers
    .filter((p) => p.direction === 'from-peer' && p.badOuter > 0)
    .map((p) => {
      const overlay = overlayOf(input, p.namespace, p.overlay);
      const dev = overlay?.name ?? 'flannel.1';
      const kernel = kernelUdpErrors(input, p.namespace);
      const evidence = [...carrierEvidence(p, 'outer'), ...symptomsFrom(input, p.peer)];
      if (kernel !== null) evidence.push({ name: 'Udp InCsumErrors since start', value: kernel, detail: `/proc/net/snmp of ${p.namespace}` });
      return {
        id: 'vxlan-outer-bad-from-peer' as const,
        key: `vxlan-outer-bad-from-peer/${p.namespace}/${p.peer}`,
        severity: 'critical' as const,
        title: `VXLAN carriers from ${p.peer} arrive with bad outer UDP checksums`,
        summary:
          `${p.badOuter} of ${p.carriers} carriers from node ${p.peer} on ${p.underlay} had a wrong outer UDP checksum; ` +
          `this kernel drops them in UDP input, so their inner packets never reach ${dev}. ` +
          `The checksum is broken on the sending node (variant A: NAT of a zero outer checksum, or transmit offload): fix it there.`,
        subject: { peer: p.peer, interface: p.underlay, namespace: p.namespace },
        evidence,
        remedy: [
          txChecksumOff(`peer ${p.peer}`, dev, 'the sender then computes the inner checksum in software and NAT of the carrier no longer breaks the outer one'),
          KERNEL_UPGRADE,
          KUBE_PROXY_UPGRADE,
        ],
        references: VARIANT_A_REFS,
        strength: p.badOuter,
      };
    });
}

/** Sender's view: carriers this node emits whose outer checksum is wrong once completed. */
export function outerBadSent(input: DiagnosisInput): Candidate[] {
  return input.peers
    .filter((p) => p.direction === 'to-peer' && p.badOuter > 0)
    .map((p) => {
      const overlay = overlayOf(input, p.namespace, p.overlay);
      const dev = overlay?.name ?? 'flannel.1';
      const evidence: Evidence[] = carrierEvidence(p, 'outer');
      const remedy: RemedyStep[] = [txChecksumOff('this node', dev, 'the inner checksum is then computed before encapsulation, so NAT cannot corrupt the outer one')];
      // Both udpcsum settings contribute, in different ways, so the setting is evidence
      // either way. noudpcsum: the outer checksum is 0 and nf_nat on a kernel without
      // ea64d8d6c675 "updates" it into a wrong value (variant A, domain.md). udpcsum: the
      // outer checksum is complete at encapsulation while the skb stays CHECKSUM_PARTIAL
      // for the inner one (local checksum offload, udp_set_csum/lco_csum), and nf_nat's
      // port rewrite skips the update for a CHECKSUM_PARTIAL skb (nf_nat_proto.c
      // __udp_manip_pkt -> inet_proto_csum_replace2(..., false)): wrong on any kernel
      // (test/lab/diagnosis-rules.test.ts creates this on 6.18).
      const udpCsum = overlay?.vxlan?.udpCsum ?? null;
      if (udpCsum === false) evidence.push({ name: `${dev} udpcsum`, value: false, detail: 'noudpcsum: outer checksum 0, which NAT on unfixed kernels rewrites into a wrong value (variant A)' });
      if (udpCsum === true) {
        evidence.push({
          name: `${dev} udpcsum`,
          value: true,
          detail: 'outer checksum computed at encapsulation while the inner one is offloaded: a NAT port rewrite of the carrier leaves it wrong on any kernel',
        });
      }
      const offload = overlay?.txChecksumOffload ?? null;
      if (offload !== null) evidence.push({ name: `${dev} tx-checksum-ip-generic`, value: offload, detail: offload ? 'transmit checksum offload on' : 'transmit checksum offload off' });
      const nat = input.facts.nat[p.namespace] ?? null;
      if (nat) {
        evidence.push({ name: 'MASQUERADE --random-fully', value: nat.masqueradeRandomFully, detail: 'iptables/nft nat rules' });
        evidence.push({ name: 'kube-proxy mark fix (--xor-mark 0x4000)', value: nat.kubeMarkFix, detail: 'kubernetes/kubernetes#92035' });
        if (nat.masqueradeRandomFully && !nat.kubeMarkFix) remedy.push(KUBE_PROXY_UPGRADE);
      }
      const k = input.facts.kernel;
      if (k) {
        evidence.push({ name: 'kernel', value: k.release, detail: `variant A fix: ${k.variantA.status} (${k.variantA.reason})` });
        if (k.variantA.status === 'affected') remedy.push(KERNEL_UPGRADE);
      }
      return {
        id: 'vxlan-outer-bad-sent' as const,
        key: `vxlan-outer-bad-sent/${p.namespace}/${p.underlay}`,
        severity: 'critical' as const,
        title: `This node sends VXLAN carriers with wrong outer checksums on ${p.underlay}`,
        summary:
          `${p.badOuter} of ${p.carriers} carriers sent to ${p.peer} will carry a wrong outer UDP checksum on the wire (verified after completing the offloaded checksum); ` +
          `the receiving node drops them. Turn off transmit checksum offload on ${dev} here.`,
        subject: { peer: p.peer, interface: p.underlay, namespace: p.namespace },
        evidence,
        remedy,
        references: VARIANT_A_REFS,
        strength: p.badOuter,
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
      const evidence = [...carrierEvidence(p, 'inner'), ...symptomsFrom(input, p.peer)];
      if (vmware) evidence.push({ name: 'hypervisor / driver', value: `${input.facts.hypervisor?.kind ?? 'unknown'} / ${underlay?.driver ?? 'unknown'}`, detail: 'variant C: vmxnet3 VXLAN offloads' });
      return {
        id: 'inner-bad-from-peer' as const,
        key: `inner-bad-from-peer/${p.namespace}/${p.peer}`,
        severity: 'critical' as const,
        title: vmware
          ? `Inner checksums in VXLAN from ${p.peer} are bad (VMware vmxnet3 offload)`
          : `Inner checksums in VXLAN from ${p.peer} are bad`,
        summary:
          `${p.badInner} of ${p.carriers} carriers from ${p.peer} held an inner packet with a wrong checksum; the inner packets are dropped after decapsulation. ` +
          (vmware ? 'This is a VMware host: vmxnet3 VXLAN offloads are the known cause (variant C).' : 'The sender filled in the inner checksum wrongly (offload).'),
        subject: { peer: p.peer, interface: p.underlay, namespace: p.namespace },
        evidence,
        remedy: vmware
          ? [tunnelSegmentationOff(`peer ${p.peer}`, underlay?.name ?? 'ens192'), txChecksumOff(`peer ${p.peer}`, overlay?.name ?? 'flannel.1', 'the inner checksum is computed in software')]
          : [txChecksumOff(`peer ${p.peer}`, overlay?.name ?? 'flannel.1', 'the inner checksum is computed in software')],
        references: vmware ? ['projectcalico/calico#4727', 'k3s-io/k3s#5013', 'projectcalico/calico#7040', 'cilium/cilium#21801'] : ['projectcalico/calico#7040'],
        strength: p.badInner,
      };
    });
}

/** IPv4 header checksum corruption on any interface. */
export function ipv4HeaderBad(input: DiagnosisInput): Candidate[] {
  return input.interfaces
    .filter((i) => i.badIpv4 > 0)
    .map((i) => ({
      id: 'ipv4-header-bad' as const,
      key: `ipv4-header-bad/${i.label}`,
      severity: 'critical' as const,
      title: `IPv4 header checksums are bad on ${i.label}`,
      summary:
        `${i.badIpv4} IPv4 headers on ${i.label} had a wrong header checksum. No offload leaves the IPv4 header checksum unset in a capture, ` +
        `so these packets were corrupted in flight (NIC, driver or a middlebox); the kernel drops them (Ip InHdrErrors).`,
      subject: { interface: i.label, namespace: i.namespace },
      evidence: [
        { name: 'bad IPv4 header checksums', value: i.badIpv4, detail: i.label },
        { name: 'frames', value: i.frames, detail: i.label },
        { name: 'driver', value: i.driver },
      ],
      remedy: [
        { where: 'this node', command: `ethtool -S ${shellWord(i.name)} | grep -i -E 'err|csum'`, why: 'NIC error counters show whether the device itself corrupts frames', persist: null },
        { where: 'the sender', command: `ethtool -K <sending NIC> tx off`, why: 'rules out the sender\'s checksum offload as the source', persist: null },
      ],
      references: ['RFC 791 section 3.1 (header checksum)', 'RFC 1624'],
      strength: i.badIpv4,
    }));
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
        (input.guessesOffload ? 'This source has no kernel checksum status, so these are recognised by their value (a guess).' : 'The kernel marked each one CHECKSUM_PARTIAL.'),
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
    ? { where: 'this node', command: `${where} -i ${shellWord(names.join(','))}`, why: 'capture the interfaces that are up and not captured as well', persist: null }
    : { where: 'this node', command: `${where} -i '*'`, why: 'capture every interface of the namespace', persist: null };
}

/** The kernel counted checksum drops the capture did not see. */
export function kernelDropsUnseen(input: DiagnosisInput): Candidate[] {
  const out: Candidate[] = [];
  for (const k of input.kernel) {
    const kernel = (k.sinceStart.udpInCsumErrors ?? 0) + (k.sinceStart.tcpInCsumErrors ?? 0) + (k.sinceStart.udp6InCsumErrors ?? 0) + (k.sinceStart.icmpInCsumErrors ?? 0);
    const here = input.interfaces.filter((i) => i.namespace === k.namespace);
    const seen = here.reduce((s, i) => s + i.badReceivedL4, 0);
    if (kernel <= seen) continue;
    // The kernel's counters are per namespace, not per device (/proc/net/snmp): every
    // uncaptured link that is up is a candidate.
    const adding = input.facts.uncaptured
      ?.filter((l) => l.namespace === k.namespace)
      .sort((a, b) => additionOrder(a) - additionOrder(b) || a.name.localeCompare(b.name));
    const captured = here.map((i) => i.name);
    out.push({
      id: 'kernel-drops-unseen',
      key: `kernel-drops-unseen/${k.namespace}`,
      severity: 'warning',
      title: `The kernel in ${k.namespace} dropped ${kernel - seen} packets for bad checksums csumtop did not see`,
      summary:
        `Since csumtop started, /proc/net/snmp of ${k.namespace} counts ${kernel} transport checksum errors, but only ${seen} bad checksums arrived on the interfaces captured there. ` +
        (adding && adding.length > 0
          ? `The rest came in through an interface not being captured: ${adding.slice(0, MAX_NAMED_ADDITIONS).map((l) => l.name).join(', ')}${adding.length > MAX_NAMED_ADDITIONS ? ` and ${adding.length - MAX_NAMED_ADDITIONS} more` : ''}.`
          : adding
            ? 'Every interface up there is captured: the rest came in on one that has gone down or away since, or before it was attached.'
            : 'The rest came in through an interface not being captured: add it.'),
      subject: { namespace: k.namespace },
      evidence: [
        { name: 'kernel checksum errors (Udp+Tcp+Udp6+Icmp InCsumErrors)', value: kernel, detail: `/proc/net/snmp of ${k.namespace}` },
        { name: 'bad checksums received on captured interfaces', value: seen },
        { name: 'captured interfaces', value: captured.join(', ') || 'none' },
        ...(adding
          ? [{ name: 'interfaces up and not captured', value: adding.map((l) => (l.kind ? `${l.name} (${l.kind})` : l.name)).join(', ') || 'none' }]
          : []),
      ],
      remedy: [captureMoreStep(k.namespace, captured, adding ?? [])],
      references: ['domain.md: Counters the kernel keeps'],
      strength: kernel - seen,
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
  captureLoss,
];
