/**
 * The diagnosis rules (src/diagnose/rules.ts) on hand-made DiagnosisInputs: the cases the
 * namespace lab cannot create for real (test/lab/diagnosis-rules.test.ts creates the
 * others). This machine has no VMware DMI and no vmxnet3 driver, so variant C
 * (inner-bad-from-peer with VMware facts) and an unfixed kernel (KERNEL_UPGRADE) are
 * proven here on the rule functions. Also the matcher's attribution of overlay packets
 * that never left as carriers (src/correlate/matcher.ts), on real decoded events; and
 * issue 13: severity and loss words only from measured loss, remedies per cause and per
 * host (capture files), kernel-drops-unseen without start-up races, and the tracker's
 * fixed / quiet states with csumtop's own drops.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { InterfaceDirectory } from '../../src/correlate/context.js';
import { CarrierMatcher } from '../../src/correlate/matcher.js';
import { noOutcomes } from '../../src/model/kernel-match.js';
import { innerBadFromPeer, ipv4HeaderBad, kernelDropsDisagree, kernelDropsUnseen, outerBadFromPeer, outerBadSent } from '../../src/diagnose/rules.js';
import { FindingTracker } from '../../src/diagnose/tracker.js';
import type { DiagnosisInput, InterfaceDiagnosis, UncapturedLink } from '../../src/diagnose/input.js';
import type { KernelDropCount, KernelDropOutcomes, KernelDropReason, KernelDropView, PeerCarriers } from '../../src/model/correlation.js';
import type { HypervisorFacts, KernelFacts } from '../../src/model/host-facts.js';
import { nativeLayout } from '../../src/native/analyzer.js';
import { eventsOf } from '../../src/native/drain.js';
import { PACKET_OUTGOING, type EventBatch } from '../../src/native/events.js';
import { createFrameSink } from '../../src/native/frame-sink.js';
import { eth, ipv4, udp } from '../fixtures/lib/build.js';
import { carrier, dnsQueryPacket, CLIENT_POD, COREDNS, MYSQL, NODES, WEB_POD } from '../fixtures/lib/k8s.js';
import { encode, type EthNode } from '../fixtures/lib/packet.js';
import { dnsQuery } from '../fixtures/lib/payloads.js';

const PEER = '192.168.189.4';

function iface(o: Partial<InterfaceDiagnosis> & { name: string; role: string }): InterfaceDiagnosis {
  return {
    label: o.name,
    namespace: 'host',
    kind: null,
    driver: null,
    txChecksumOffload: null,
    vxlan: null,
    frames: 100,
    captureDrops: 0,
    badIpv4: 0,
    badReceivedL4: 0,
    pending: 0,
    validated: 0,
    looksPartial: 0,
    ...o,
  };
}

function peer(o: Partial<PeerCarriers>): PeerCarriers {
  return {
    namespace: 'host',
    underlay: 'ens192',
    overlay: 'flannel.1',
    peer: PEER,
    local: '192.168.189.5',
    direction: 'from-peer',
    tunnel: 'vxlan',
    vni: 1,
    carriers: 20,
    badOuter: 0,
    badInner: 0,
    badIpv4: 0,
    delivered: 20,
    lost: 0,
    lostBad: 0,
    unmatchedOverlay: 0,
    inFlight: 0,
    firstSeen: '',
    lastSeen: '',
    ...o,
  };
}

function hypervisor(kind: HypervisorFacts['kind'], sysVendor: string | null): HypervisorFacts {
  return {
    kind,
    platform: null,
    sysVendor,
    productName: null,
    biosVendor: null,
    biosVersion: null,
    chassisAssetTag: null,
    hypervisorType: null,
    cpuFlag: kind !== 'none',
    evidence: [],
  };
}

function input(o: {
  peers: PeerCarriers[];
  interfaces: InterfaceDiagnosis[];
  hypervisor?: HypervisorFacts | null;
  kernel?: KernelFacts | null;
  nat?: DiagnosisInput['facts']['nat'];
}): DiagnosisInput {
  return {
    nowNs: 1_700_000_000e9,
    live: true,
    peers: o.peers,
    interfaces: o.interfaces,
    kernel: [],
    kernelBefore: null,
    eventsDropped: 0,
    recordsDropped: 0,
    dns: { queries: 0, answered: 0, unanswered: 0, retries: 0, latencyP50Ms: null, latencyMaxMs: null, unansweredList: [], attributed: 0 },
    syn: { connections: 0, answered: 0, refused: 0, unanswered: 0, retransmitted: 0, delayedBy: {}, slowList: [], attributed: 0 },
    facts: { kernel: o.kernel ?? null, hypervisor: o.hypervisor ?? null, nat: o.nat ?? {} },
    guessesOffload: false,
  };
}

const VMWARE_NODE = [
  iface({ name: 'ens192', role: 'underlay', driver: 'vmxnet3' }),
  iface({ name: 'flannel.1', role: 'vxlan', kind: 'vxlan', vxlan: { port: 8472, udpCsum: false } }),
];

test('inner-bad-from-peer on a VMware host with vmxnet3: variant C title, evidence, tunnel offloads off on the vmxnet3 NIC, then flannel.1', () => {
  const [f, ...more] = innerBadFromPeer(input({ peers: [peer({ badInner: 7 })], interfaces: VMWARE_NODE, hypervisor: hypervisor('vmware', 'VMware, Inc.') }));
  assert.equal(more.length, 0);
  assert.equal(f.id, 'inner-bad-from-peer');
  // No kernel counters in this input: bad, but no loss measured (issue 13).
  assert.equal(f.severity, 'warning');
  assert.deepEqual(f.subject, { peer: PEER, interface: 'ens192', namespace: 'host' });
  assert.equal(f.title, `Inner checksums in VXLAN from ${PEER} are bad (VMware vmxnet3 offload)`);
  assert.match(f.summary, /variant C/);
  assert.deepEqual(
    f.evidence.find((e) => e.name === 'hypervisor / driver'),
    { name: 'hypervisor / driver', value: 'vmware / vmxnet3', detail: 'variant C: vmxnet3 VXLAN offloads' },
  );
  assert.equal(f.evidence.find((e) => e.name === 'carriers with a bad inner checksum')?.value, 7);
  assert.deepEqual(
    f.remedy.map((r) => [r.where, r.command]),
    [
      [`peer ${PEER}`, 'ethtool -K ens192 tx-udp_tnl-segmentation off tx-udp_tnl-csum-segmentation off'],
      [`peer ${PEER}`, 'ethtool -K flannel.1 tx-checksum-ip-generic off'],
    ],
  );
  assert.ok(f.remedy[0].persist?.includes('ENV{INTERFACE}=="ens192"'));
  assert.ok(f.references.includes('projectcalico/calico#4727') && f.references.includes('k3s-io/k3s#5013'));
  assert.equal(f.strength, 7);
});

test('inner-bad-from-peer: the vmxnet3 driver alone, or the VMware DMI alone, points at variant C; a KVM host gets the plain finding', () => {
  const byDriver = innerBadFromPeer(input({ peers: [peer({ badInner: 2 })], interfaces: VMWARE_NODE, hypervisor: hypervisor('unknown', null) }))[0];
  assert.match(byDriver.title, /VMware vmxnet3/);
  assert.equal(byDriver.evidence.find((e) => e.name === 'hypervisor / driver')?.value, 'unknown / vmxnet3');

  const e1000 = [iface({ name: 'ens192', role: 'underlay', driver: 'e1000e' }), VMWARE_NODE[1]];
  const byDmi = innerBadFromPeer(input({ peers: [peer({ badInner: 2 })], interfaces: e1000, hypervisor: hypervisor('vmware', 'VMware, Inc.') }))[0];
  assert.match(byDmi.title, /VMware vmxnet3/);
  assert.equal(byDmi.remedy[0].command, 'ethtool -K ens192 tx-udp_tnl-segmentation off tx-udp_tnl-csum-segmentation off');

  const kvm = [iface({ name: 'ens192', role: 'underlay', driver: 'virtio_net' }), VMWARE_NODE[1]];
  const plain = innerBadFromPeer(input({ peers: [peer({ badInner: 2 })], interfaces: kvm, hypervisor: hypervisor('kvm', 'QEMU') }))[0];
  assert.equal(plain.title, `Inner checksums in VXLAN from ${PEER} are bad`);
  assert.equal(
    plain.evidence.find((e) => e.name === 'hypervisor / driver'),
    undefined,
  );
  assert.deepEqual(
    plain.remedy.map((r) => r.command),
    ['ethtool -K flannel.1 tx-checksum-ip-generic off'],
  );
  assert.deepEqual(plain.references, ['projectcalico/calico#7040']);

  // Carriers this node sent, or from a peer without bad inner checksums: no finding.
  assert.deepEqual(innerBadFromPeer(input({ peers: [peer({ badInner: 3, direction: 'to-peer' }), peer({ peer: '192.168.189.6' })], interfaces: kvm })), []);
});

const UNFIXED_KERNEL: KernelFacts = {
  release: '4.15.0-106-generic',
  version: null,
  signature: 'Ubuntu 4.15.0-106.107-generic 4.15.18',
  variantA: { status: 'affected', reason: 'Ubuntu 4.15.0-106 is before 4.15.0-107', flavor: 'ubuntu', upstream: { major: 4, minor: 15, patch: 18 } },
};

test("vxlan-outer-bad-sent with flannel's noudpcsum on an unfixed kernel: the variant A facts are evidence and both upgrades are advised", () => {
  const interfaces = [
    iface({ name: 'eth0', role: 'underlay' }),
    iface({ name: 'flannel.1', role: 'vxlan', kind: 'vxlan', txChecksumOffload: true, vxlan: { port: 8472, udpCsum: false } }),
  ];
  const nat = {
    host: {
      masquerades: [],
      masqueradeRandomFully: true,
      kubeMarkMasq: true,
      masqueradeMark: 0x4000,
      kubePostrouting: true,
      kubeMarkFix: false,
      kubeMasqueradeRandomFully: true,
      flannelMasq: false,
      flannelSkipsKubeMarked: null,
      flannelRandomFully: null,
      warnings: [],
    },
  };
  const [f] = outerBadSent(input({ peers: [peer({ direction: 'to-peer', underlay: 'eth0', badOuter: 4 })], interfaces, kernel: UNFIXED_KERNEL, nat }));
  assert.equal(f.id, 'vxlan-outer-bad-sent');
  const ev = (name: string): unknown => f.evidence.find((e) => e.name === name)?.value;
  assert.equal(ev('flannel.1 udpcsum'), false);
  assert.match(f.evidence.find((e) => e.name === 'flannel.1 udpcsum')!.detail!, /noudpcsum/);
  assert.equal(ev('flannel.1 tx-checksum-ip-generic'), true);
  assert.equal(ev('MASQUERADE --random-fully'), true);
  assert.equal(ev('kube-proxy mark fix (--xor-mark 0x4000)'), false);
  assert.equal(ev('kernel'), '4.15.0-106-generic');
  assert.deepEqual(
    f.remedy.map((r) => r.command.split(' ').slice(0, 2).join(' ')),
    ['ethtool -K', 'upgrade kube-proxy', 'upgrade the', 'nstat -az'],
  );
  assert.deepEqual(f.remedy[3], {
    where: `peer ${PEER}`,
    command: 'nstat -az UdpInCsumErrors',
    why: 'check: it grows when that kernel drops these packets for the bad checksum (run it twice)',
    persist: null,
  });
  assert.equal(f.remedy[0].command, 'ethtool -K flannel.1 tx-checksum-ip-generic off');

  // Offload off and udpcsum unknown: said as it is (off), nothing invented.
  const off = outerBadSent(
    input({
      peers: [peer({ direction: 'to-peer', underlay: 'eth0', badOuter: 1 })],
      interfaces: [interfaces[0], iface({ name: 'flannel.1', role: 'vxlan', txChecksumOffload: false })],
    }),
  )[0];
  assert.equal(off.evidence.find((e) => e.name === 'flannel.1 tx-checksum-ip-generic')?.value, false);
  assert.equal(
    off.evidence.find((e) => e.name === 'flannel.1 udpcsum'),
    undefined,
  );
});

// ------------------------------------------------------------------ matcher: overlay packets never encapsulated

const T0 = 1_700_000_000e9;
const F = nativeLayout().event.flagBits;

/** Real events (the addon decodes the frames) with the capture direction of each set: sent or received. */
function events(frames: Array<{ frame: EthNode; iface: number; sent: boolean }>, t0: number): EventBatch {
  const sink = createFrameSink({});
  frames.forEach((f, k) => {
    const bytes = encode(f.frame).bytes;
    sink.process(f.iface, bytes, bytes.length, BigInt(t0 + k * 1000), 1);
  });
  const ev = eventsOf(sink.takeBatch());
  assert.equal(ev.count, frames.length, 'one event per frame');
  // The frame sink has no capture direction: an object over the batch supplies it.
  const withDirection = Object.create(ev) as EventBatch;
  withDirection.direction = (i: number): number => (frames[i].sent ? PACKET_OUTGOING : 0);
  return withDirection;
}

test('matcher: an overlay packet that never left as a carrier is attributed to the peer its destination was seen behind', () => {
  const dir: InterfaceDirectory = (id) =>
    id === 0 ? { label: 'eth0', namespace: 'host', overlay: false } : id === 1 ? { label: 'flannel.1', namespace: 'host', overlay: true } : undefined;
  const m = new CarrierMatcher(F, { windowNs: 1e9, maxPending: 1000 });
  m.setOverlay('host', 'flannel.1');
  const [me, node2, node3] = [NODES[0], NODES[1], NODES[2]];
  const q = (dst: string, k: number): ReturnType<typeof dnsQueryPacket> => dnsQueryPacket(CLIENT_POD, dst, 40000 + k, 0x100 + k, `q${k}.example`);
  const fromWeb = dnsQueryPacket(WEB_POD, CLIENT_POD, 41000, 0x200, 'web.example');
  const UNKNOWN = '10.244.9.9';
  // What worked: packets to COREDNS and MYSQL left as carriers to node 2 (overlay packet
  // first, and carrier first), a packet from WEB_POD arrived in a carrier from node 3.
  m.add(
    events(
      [
        { frame: eth(q(COREDNS, 1)), iface: 1, sent: true },
        { frame: carrier(0, 1, q(COREDNS, 1)), iface: 0, sent: true },
        { frame: carrier(0, 1, q(MYSQL, 2)), iface: 0, sent: true },
        { frame: eth(q(MYSQL, 2)), iface: 1, sent: true },
        { frame: carrier(2, 0, fromWeb), iface: 0, sent: false },
        { frame: eth(fromWeb), iface: 1, sent: false },
      ],
      T0,
    ),
    dir,
  );
  // What then never left: to COREDNS (node 2), to WEB_POD (node 3, only ever received
  // from), to an address never seen, and a GSO-sized packet to COREDNS.
  // (A DNS query with trailing bytes: the frame sink makes events of DNS and SYNs only.)
  const big = ipv4(CLIENT_POD, COREDNS, udp(40010, 53, Buffer.concat([Buffer.from(dnsQuery(0x300, 'big.example')), Buffer.alloc(3000, 1)])), { id: 0x300 });
  m.add(
    events(
      [
        { frame: eth(q(COREDNS, 3)), iface: 1, sent: true },
        { frame: eth(q(WEB_POD, 4)), iface: 1, sent: true },
        { frame: eth(q(UNKNOWN, 5)), iface: 1, sent: true },
        { frame: eth(big), iface: 1, sent: true },
      ],
      T0 + 10e6,
    ),
    dir,
  );

  const peerView = (addr: string, direction: 'to-peer' | 'from-peer') => m.snapshot().find((p) => p.peer === addr && p.direction === direction);
  m.advance(T0 + 0.5e9);
  assert.equal(peerView(node2.ip, 'to-peer')?.unmatchedOverlay, 0, 'nothing is unmatched before the window closes');
  assert.equal(m.unmatchedUnattributed, 0);

  m.advance(T0 + 2e9);
  const toNode2 = peerView(node2.ip, 'to-peer');
  assert.ok(toNode2, JSON.stringify(m.snapshot()));
  assert.deepEqual(
    { carriers: toNode2.carriers, delivered: toNode2.delivered, unmatchedOverlay: toNode2.unmatchedOverlay, local: toNode2.local, underlay: toNode2.underlay },
    { carriers: 2, delivered: 2, unmatchedOverlay: 1, local: me.ip, underlay: 'eth0' },
  );
  const toNode3 = peerView(node3.ip, 'to-peer');
  assert.ok(toNode3, `the packet to WEB_POD is attributed to node 3 although nothing was ever sent there: ${JSON.stringify(m.snapshot())}`);
  assert.deepEqual(
    { carriers: toNode3.carriers, delivered: toNode3.delivered, unmatchedOverlay: toNode3.unmatchedOverlay, local: toNode3.local },
    { carriers: 0, delivered: 0, unmatchedOverlay: 1, local: me.ip },
  );
  assert.equal(peerView(node3.ip, 'from-peer')?.delivered, 1);
  assert.equal(m.unmatchedUnattributed, 1, 'the packet to an address never seen behind a peer');
  assert.equal(m.overflow, 0);
});

test("kernel-drops-unseen names the interfaces up and not captured, NICs first, in the command to run; more than 8, or none known: -i '*'", () => {
  const withKernel = (uncaptured: UncapturedLink[] | undefined, namespace = 'host'): DiagnosisInput => {
    const i = input({ peers: [], interfaces: [iface({ name: 'flannel.1', role: 'other', namespace, kind: 'vxlan', badReceivedL4: 2 })] });
    i.kernel = [{ namespace, perSecond: {}, sinceStart: { udpInCsumErrors: 7, tcpInCsumErrors: 1 } }];
    i.kernelBefore = i.kernel;
    if (uncaptured) i.facts.uncaptured = uncaptured;
    return i;
  };
  const links: UncapturedLink[] = [
    { namespace: 'host', name: 'cni0', kind: 'bridge' },
    { namespace: 'host', name: 'ens192', kind: null },
    { namespace: 'other', name: 'eth9', kind: null }, // another namespace: not this finding's
    { namespace: 'host', name: 'genev_sys_6081', kind: 'geneve' },
  ];
  const [f] = kernelDropsUnseen(withKernel(links));
  assert.equal(f.title, 'The kernel in host dropped 6 packets for bad checksums csumtop did not see');
  assert.deepEqual(
    f.remedy.map((r) => r.command),
    ['csumtop -i flannel.1,ens192,genev_sys_6081,cni0'],
  );
  assert.equal(f.evidence.find((e) => e.name === 'interfaces up and not captured')?.value, 'ens192, genev_sys_6081 (geneve), cni0 (bridge)');
  assert.match(f.summary, /not being captured: ens192, genev_sys_6081, cni0\./);

  // In a namespace: --netns, shell-quoted names.
  const [g] = kernelDropsUnseen(withKernel([{ namespace: 'pod ns', name: "we'ird", kind: 'veth' }], 'pod ns'));
  assert.deepEqual(
    g.remedy.map((r) => r.command),
    [`csumtop --netns 'pod ns' -i 'flannel.1,we'\\''ird'`],
  );

  // Too many to list, a name -i cannot take (a comma), or a source that does not list links: every interface.
  const many = Array.from({ length: 9 }, (_, k) => ({ namespace: 'host', name: `veth${k}`, kind: 'veth' }));
  assert.deepEqual(
    kernelDropsUnseen(withKernel(many))[0].remedy.map((r) => r.command),
    ["csumtop -i '*'"],
  );
  assert.match(kernelDropsUnseen(withKernel(many))[0].summary, /veth7 and 1 more\./);
  const comma = kernelDropsUnseen(withKernel([{ namespace: 'host', name: 'a,b', kind: null }]))[0].remedy;
  assert.deepEqual(
    comma.map((r) => [r.command, r.why]),
    [["csumtop -i '*'", 'capture every interface of the namespace']],
    'the reason matches the command',
  );
  assert.equal(f.remedy[0].why, 'capture the interfaces that are up and not captured as well');
  const unknown = kernelDropsUnseen(withKernel(undefined))[0];
  assert.deepEqual(
    unknown.remedy.map((r) => r.command),
    ["csumtop -i '*'"],
  );
  assert.equal(
    unknown.evidence.find((e) => e.name === 'interfaces up and not captured'),
    undefined,
  );
  // Everything up is captured: nothing to add is said plainly.
  assert.match(kernelDropsUnseen(withKernel([]))[0].summary, /Every interface up there is captured/);
  // The kernel saw no more than the capture: no finding.
  const quiet = withKernel(links);
  quiet.kernelBefore = [{ namespace: 'host', perSecond: {}, sinceStart: { udpInCsumErrors: 2 } }];
  assert.deepEqual(kernelDropsUnseen(quiet), []);
});

// ------------------------------------------------------------------ issue 13: findings say only what the evidence shows

const LOSS_WORDS = /drop(ped|s them)? |never reach|lost/;

test('vxlan-outer-bad-from-peer: critical and "never reached" only with measured loss (lostBad, or Udp InCsumErrors grew); otherwise a warning saying what is known', () => {
  const node = [iface({ name: 'eth0', role: 'underlay' }), iface({ name: 'flannel.1', role: 'vxlan', kind: 'vxlan' })];
  // The overlay is captured and the bad carriers never appeared on it: measured.
  const lost = outerBadFromPeer(input({ peers: [peer({ underlay: 'eth0', badOuter: 4, delivered: 16, lost: 4, lostBad: 4 })], interfaces: node }))[0];
  assert.equal(lost.severity, 'critical');
  assert.match(lost.summary, /4 of them never reached flannel\.1 \(seen on eth0, not on flannel\.1\)/);

  // The overlay is not captured, but this namespace's kernel counted UDP checksum drops.
  const counted = input({ peers: [peer({ underlay: 'eth0', overlay: null, badOuter: 4, delivered: null, lost: null, lostBad: null })], interfaces: [node[0]] });
  counted.kernel = [{ namespace: 'host', perSecond: {}, sinceStart: { udpInCsumErrors: 4 } }];
  const byKernel = outerBadFromPeer(counted)[0];
  assert.equal(byKernel.severity, 'critical');
  assert.match(byKernel.summary, /dropped 4 UDP packets for a bad checksum .*Udp InCsumErrors/);

  // The bad carriers were all delivered to the overlay (the receiver did not verify): nothing was lost.
  const delivered = outerBadFromPeer(input({ peers: [peer({ underlay: 'eth0', badOuter: 4, delivered: 20, lost: 0, lostBad: 0 })], interfaces: node }))[0];
  assert.equal(delivered.severity, 'warning');
  assert.match(
    delivered.summary,
    /a receiver that verifies the outer UDP checksum \(a NIC, or the kernel\) drops them, but none was lost on the way to flannel\.1/,
  );
  assert.doesNotMatch(delivered.summary, /never reach/);

  // Live, overlay not captured, the kernel counter did not grow: this node did not drop them.
  const notCounted = input({
    peers: [peer({ underlay: 'eth0', overlay: null, badOuter: 4, delivered: null, lost: null, lostBad: null })],
    interfaces: [node[0]],
  });
  notCounted.kernel = [{ namespace: 'host', perSecond: {}, sinceStart: { udpInCsumErrors: 0 } }];
  const quietKernel = outerBadFromPeer(notCounted)[0];
  assert.equal(quietKernel.severity, 'warning');
  assert.match(quietKernel.summary, /Udp InCsumErrors of host did not grow: this node did not drop them/);

  // A capture file: no overlay, no kernel counters, no host.
  const file = input({
    peers: [peer({ namespace: 'file', underlay: 'trace.pcap', overlay: null, badOuter: 4, delivered: null, lost: null, lostBad: null })],
    interfaces: [iface({ name: 'trace.pcap', role: 'other', namespace: 'file' })],
  });
  file.live = false;
  const fromFile = outerBadFromPeer(file)[0];
  assert.equal(fromFile.severity, 'warning');
  assert.match(fromFile.summary, /the overlay device was not captured and a capture file has no kernel counters, so whether they were dropped is not known/);
  assert.doesNotMatch(
    fromFile.summary.replace(/a receiver that verifies the outer UDP checksum \(a NIC, or the kernel\) drops them|whether they were dropped/g, ''),
    LOSS_WORDS,
  );
});

test("inner-bad-from-peer and ipv4-header-bad: critical only when the namespace's kernel counted the drops", () => {
  const node = [iface({ name: 'eth0', role: 'underlay' }), iface({ name: 'flannel.1', role: 'vxlan', kind: 'vxlan' })];
  const measured = input({ peers: [peer({ underlay: 'eth0', badInner: 3 })], interfaces: node });
  measured.kernel = [{ namespace: 'host', perSecond: {}, sinceStart: { udpInCsumErrors: 2, tcpInCsumErrors: 1 } }];
  assert.equal(innerBadFromPeer(measured)[0].severity, 'critical');
  assert.match(innerBadFromPeer(measured)[0].summary, /dropped 3 packets for a bad transport checksum/);
  const unmeasured = innerBadFromPeer(input({ peers: [peer({ underlay: 'eth0', badInner: 3 })], interfaces: node }))[0];
  assert.equal(unmeasured.severity, 'warning');
  assert.doesNotMatch(unmeasured.summary, /are dropped after decapsulation/);

  const bad = [iface({ name: 'eth0', role: 'underlay', badIpv4: 2, driver: 'virtio_net' })];
  const counted = input({ peers: [], interfaces: bad });
  counted.kernel = [{ namespace: 'host', perSecond: {}, sinceStart: { ipInHdrErrors: 2 } }];
  assert.equal(ipv4HeaderBad(counted)[0].severity, 'critical');
  const uncounted = input({ peers: [], interfaces: bad });
  uncounted.kernel = [{ namespace: 'host', perSecond: {}, sinceStart: { ipInHdrErrors: 0 } }];
  assert.equal(ipv4HeaderBad(uncounted)[0].severity, 'warning');
  assert.match(ipv4HeaderBad(uncounted)[0].summary, /Ip InHdrErrors of host did not grow/);
});

test('the kernel\'s verdict (issue 18): per peer it decides "dropped" over the namespace\'s counters; off, the counters decide as before', () => {
  const node = [iface({ name: 'eth0', role: 'underlay' })];
  const view = (drops: Array<{ peer: string | null; total: number; reason?: KernelDropReason; device?: string }>): KernelDropView => ({
    // Each drop matched to a captured frame with the checksum bad (native/kdrops/frame_match.h).
    drops: drops.map((d) => ({
      namespace: 'host',
      device: d.device ?? 'eth0',
      reason: d.reason ?? 'UDP_CSUM',
      peer: d.peer,
      total: d.total,
      interval: 0,
      outcomes: { ...noOutcomes(), seenBad: d.total },
      pending: 0,
      frame: 7,
    })),
    other: 0,
    otherOutcomes: noOutcomes(),
    matchWindowMs: 2000,
    matching: true,
    keys: { size: drops.length, cap: 512, evicted: 0 },
    ringFull: 0,
  });
  const carriersOf = (): DiagnosisInput => {
    const i = input({ peers: [peer({ underlay: 'eth0', overlay: null, badOuter: 4, delivered: null, lost: null, lostBad: null })], interfaces: node });
    // The namespace's counter grew by 9: drops from someone, not necessarily this peer.
    i.kernel = [{ namespace: 'host', perSecond: {}, sinceStart: { udpInCsumErrors: 9 } }];
    return i;
  };
  const on = carriersOf();
  on.kernelDrops = view([
    { peer: PEER, total: 4 },
    { peer: '10.9.9.9', total: 5 },
  ]);
  const f = outerBadFromPeer(on)[0];
  assert.equal(f.severity, 'critical');
  assert.match(
    f.summary,
    new RegExp(
      `the kernel of host dropped 4 carriers from ${PEER.replace(/\./g, '\\.')} for UDP_CSUM \\(kernel verdict\\), all 4 seen by csumtop with a bad outer checksum, so their inner packets never reached flannel\\.1`,
    ),
  );
  assert.equal(f.evidence.find((e) => e.name === 'carriers the kernel dropped for UDP_CSUM (kernel verdict)')?.value, 4);

  // The kernel dropped other peers' carriers, none of this one's: not "dropped".
  const others = carriersOf();
  others.kernelDrops = view([{ peer: '10.9.9.9', total: 9 }]);
  const g = outerBadFromPeer(others)[0];
  assert.equal(g.severity, 'warning');
  assert.match(g.summary, /the kernel of host dropped none of them \(kernel verdict\)/);
  assert.doesNotMatch(g.summary, /dropped 9/);

  // Off (null): the counters, as before.
  const off = outerBadFromPeer(carriersOf())[0];
  assert.equal(off.severity, 'critical');
  assert.match(off.summary, /dropped 9 UDP packets for a bad checksum .*Udp InCsumErrors/);
  assert.equal(
    off.evidence.some((e) => e.name.includes('kernel verdict')),
    false,
  );

  // ipv4-header-bad: IP_CSUM drops anywhere in the namespace.
  const hdr = input({ peers: [], interfaces: [iface({ name: 'eth0', role: 'underlay', badIpv4: 2 })] });
  hdr.kernelDrops = view([{ peer: PEER, total: 2, reason: 'IP_CSUM' }]);
  assert.equal(ipv4HeaderBad(hdr)[0].severity, 'critical');
  assert.match(ipv4HeaderBad(hdr)[0].summary, /dropped 2 IPv4 packets for IP_CSUM or IP_INHDR since csumtop started \(kernel verdict\)/);
});

const KERNEL_6_18: KernelFacts = {
  release: '6.18.0',
  version: null,
  signature: null,
  variantA: { status: 'fixed', reason: '6.18.0 is at or after 5.7', flavor: 'upstream', upstream: { major: 6, minor: 18, patch: 0 } },
};

test("remedies: none the facts show applied (offload already off), no kernel upgrade for udpcsum or on a fixed kernel, and a conditional one when the sender's kernel is unknown", () => {
  const sent = (overlay: Partial<InterfaceDiagnosis>, kernel: KernelFacts | null) =>
    outerBadSent(
      input({
        peers: [peer({ direction: 'to-peer', underlay: 'eth0', badOuter: 5 })],
        interfaces: [iface({ name: 'eth0', role: 'underlay' }), iface({ name: 'flannel.1', role: 'vxlan', kind: 'vxlan', ...overlay })],
        kernel,
      }),
    )[0];
  const commands = (f: { remedy: Array<{ command: string }> }): string[] => f.remedy.map((r) => r.command);

  // tx-checksum-ip-generic already off: not offered, and the summary says so.
  const off = sent({ txChecksumOffload: false, vxlan: { port: 8472, udpCsum: false } }, UNFIXED_KERNEL);
  assert.ok(!commands(off).some((c) => c.includes('tx-checksum-ip-generic off')), JSON.stringify(commands(off)));
  assert.match(off.summary, /already off on flannel\.1/);
  assert.ok(
    commands(off).some((c) => c.startsWith('upgrade the kernel to >= 5.7')),
    'noudpcsum on an unfixed kernel: the upgrade is the remedy',
  );

  // udpcsum: NAT breaks the outer checksum on any kernel; the upgrade is no remedy, even on an unfixed one.
  const udpcsum = sent({ txChecksumOffload: true, vxlan: { port: 8472, udpCsum: true } }, UNFIXED_KERNEL);
  assert.ok(!commands(udpcsum).some((c) => /upgrade the kernel/.test(c)), JSON.stringify(commands(udpcsum)));
  assert.equal(commands(udpcsum)[0], 'ethtool -K flannel.1 tx-checksum-ip-generic off');
  assert.match(udpcsum.summary, /does not cover this case, so a kernel upgrade is no remedy/);

  // A sender on 6.18 already has the fix.
  const fixed = sent({ txChecksumOffload: true, vxlan: { port: 8472, udpCsum: false } }, KERNEL_6_18);
  assert.ok(!commands(fixed).some((c) => /upgrade the kernel/.test(c)), JSON.stringify(commands(fixed)));

  // The sender's view never claims the receiver dropped anything.
  assert.equal(fixed.severity, 'warning');
  // One finding per peer, keyed on the underlay's label (which names a namespace already).
  const inNs = outerBadSent(
    input({
      peers: [
        peer({ namespace: 'n1', underlay: 'n1/eth0', direction: 'to-peer', badOuter: 1 }),
        peer({ namespace: 'n1', underlay: 'n1/eth0', direction: 'to-peer', peer: '192.168.189.6', badOuter: 1 }),
      ],
      interfaces: [iface({ name: 'eth0', label: 'n1/eth0', namespace: 'n1', role: 'underlay' })],
    }),
  );
  assert.deepEqual(
    inNs.map((f) => f.key),
    [`vxlan-outer-bad-sent/n1/eth0/${PEER}`, 'vxlan-outer-bad-sent/n1/eth0/192.168.189.6'],
  );

  // Receiver's view: the sender's kernel and udpcsum are unknown, so the upgrade is conditional.
  const rx = outerBadFromPeer(input({ peers: [peer({ badOuter: 2 })], interfaces: VMWARE_NODE, kernel: KERNEL_6_18 }))[0];
  const upgrade = rx.remedy.find((r) => /upgrade the kernel/.test(r.command));
  assert.ok(upgrade, JSON.stringify(rx.remedy));
  assert.match(upgrade.command, /^only if uname -r there is older than .* says noudpcsum/);
  assert.equal(upgrade.where, `peer ${PEER}`);
  assert.match(upgrade.why, /does not help a device with udpcsum/);
});

test('a capture file has no host: remedies name the sending node and the device kind, never a local device, a driver or ethtool -S FILE', () => {
  const fileInput = (p: Partial<PeerCarriers>, ifs: InterfaceDiagnosis[]): DiagnosisInput => {
    const i = input({ peers: [peer({ namespace: 'file', overlay: null, delivered: null, lost: null, lostBad: null, ...p })], interfaces: ifs });
    i.live = false;
    return i;
  };
  const pcap = iface({ name: 'trace.pcap', role: 'other', namespace: 'file', badIpv4: 1 });
  const rx = outerBadFromPeer(fileInput({ underlay: 'trace.pcap', badOuter: 2 }, [pcap]))[0];
  assert.deepEqual(rx.remedy[0], {
    where: `peer ${PEER}`,
    command: 'ethtool -K <its VXLAN device> tx-checksum-ip-generic off',
    why: 'the sender then computes the inner checksum in software and NAT of the carrier no longer breaks the outer one; this works whether or not its device sends an outer checksum (udpcsum); the device is flannel.1 with flannel, vxlan.calico with Calico, cilium_vxlan with Cilium',
    persist: 'a udev rule running the same ethtool command when that device appears (ENV{INTERFACE}=="<its name>")',
  });
  // The receiving node of a file is the capture's local address: the counter to check is there.
  assert.deepEqual(rx.remedy.at(-1), {
    where: 'node 192.168.189.5',
    command: 'nstat -az UdpInCsumErrors',
    why: 'check: it grows when that kernel drops these packets for the bad checksum (run it twice)',
    persist: null,
  });

  const geneve = innerBadFromPeer(fileInput({ underlay: 'trace.pcap', tunnel: 'geneve', badInner: 1 }, [pcap]))[0];
  assert.equal(geneve.title, `Inner checksums in Geneve from ${PEER} are bad`);
  assert.equal(geneve.remedy[0].command, 'ethtool -K <its Geneve device> tx-checksum-ip-generic off');

  // Carriers the capturing node sent: that node by address, and the kernel upgrade conditional.
  const tx = outerBadSent(fileInput({ underlay: 'trace.pcap', direction: 'to-peer', badOuter: 2 }, [pcap]))[0];
  assert.equal(tx.title, 'Node 192.168.189.5 sends VXLAN carriers with wrong outer checksums on trace.pcap');
  assert.equal(tx.remedy[0].where, 'node 192.168.189.5');
  assert.match(tx.remedy.find((r) => /upgrade the kernel/.test(r.command))!.command, /^only if/);

  const hdr = ipv4HeaderBad(fileInput({}, [pcap]))[0];
  assert.equal(
    hdr.evidence.find((e) => e.name === 'driver'),
    undefined,
    'no driver: null from a file',
  );
  assert.ok(!hdr.remedy.some((r) => r.command.includes('trace.pcap')), JSON.stringify(hdr.remedy));
  assert.equal(hdr.remedy[0].command, "ethtool -S <the NIC it captured on> | grep -i -E 'err|csum'");
});

test("kernel-drops-unseen: no finding from counters read before the capture delivered their events (start-up), and csumtop's own drops are blamed instead of uncaptured interfaces", () => {
  const at = (kernel: number, before: number | null, seen: number): DiagnosisInput => {
    const i = input({ peers: [], interfaces: [iface({ name: 'eth0', role: 'underlay', badReceivedL4: seen })] });
    i.kernel = [{ namespace: 'host', perSecond: {}, sinceStart: { udpInCsumErrors: kernel } }];
    i.kernelBefore = before === null ? null : [{ namespace: 'host', perSecond: {}, sinceStart: { udpInCsumErrors: before } }];
    i.facts.uncaptured = [{ namespace: 'host', name: 'ens5', kind: null }];
    return i;
  };
  // First evaluation: the kernel already counted 3, their events are still on their way.
  assert.deepEqual(kernelDropsUnseen(at(3, null, 0)), []);
  // Later: the counters of one interval ago are all seen; the newest 2 are in flight.
  assert.deepEqual(kernelDropsUnseen(at(5, 3, 3)), []);
  // Seen fewer than the kernel counted an interval ago: the finding.
  assert.equal(kernelDropsUnseen(at(5, 5, 3))[0].title, 'The kernel in host dropped 2 packets for bad checksums csumtop did not see');

  // csumtop dropped events: it says so and does not send the operator to add interfaces.
  const behind = at(5, 5, 3);
  behind.eventsDropped = 40;
  behind.recordsDropped = 2;
  const [f] = kernelDropsUnseen(behind);
  assert.equal(f.title, 'csumtop dropped 42 events and records; the kernel in host counted 2 more checksum drops than it reported');
  assert.match(f.summary, /may have been captured and lost inside csumtop, so this does not show an interface left uncaptured/);
  assert.doesNotMatch(f.summary, /ens5|not being captured: /);
  assert.ok(!f.remedy.some((r) => r.command.includes(' -i ')), JSON.stringify(f.remedy));
  assert.equal(f.evidence.find((e) => e.name === 'events and bad-frame records csumtop dropped')?.value, 42);
});

// ------------------------------------------------------------------ issue 13: a finding after a remedy

/** One evaluation of the tracker at second `s` with the carriers from PEER so far. */
function evalAt(tr: FindingTracker, s: number, carriers: number, badOuter: number, o: { eventsDropped?: number; live?: boolean } = {}) {
  const i = input({ peers: [peer({ carriers, badOuter, delivered: carriers - badOuter, lost: badOuter, lostBad: badOuter })], interfaces: VMWARE_NODE });
  i.nowNs = T0 + s * 1e9;
  i.eventsDropped = o.eventsDropped ?? 0;
  i.live = o.live ?? true;
  return tr.evaluate(i).find((f) => f.id === 'vxlan-outer-bad-from-peer');
}

test('tracker: a finding whose bad carriers stop while carriers from the peer keep coming says "fixed at HH:MM:SS?" with what happened since, then drops to info', () => {
  const tr = new FindingTracker(10e9);
  // 10 carriers a second, 2 of them bad, for 5 s; then the remedy: 10 good ones a second.
  for (let s = 0; s < 5; s++) assert.equal(evalAt(tr, s, 10 * (s + 1), 2 * (s + 1))?.state, undefined);
  const grewAt = new Date((T0 + 4e9) / 1e6).toISOString().slice(11, 19);
  // One second later only 10 good carriers: 2 bad expected at the old rate, not enough to say fixed.
  assert.equal(evalAt(tr, 5, 60, 10)?.state, undefined);
  const f = evalAt(tr, 6, 70, 10);
  assert.ok(f?.state, 'fixed once 20 good carriers would have held 4 bad ones');
  assert.equal(f.state.kind, 'fixed');
  assert.equal(f.state.text, `fixed at ${grewAt} UTC? 0 bad carriers in the 2 s since, while 20 carriers from ${PEER} arrived with good outer checksums`);
  assert.equal(f.severity, 'critical', 'within the hold the severity stays');
  const later = evalAt(tr, 44, 400, 10);
  assert.equal(
    later?.state?.text,
    `fixed at ${grewAt} UTC? 0 bad carriers in the 40 s since, while 350 carriers from ${PEER} arrived with good outer checksums`,
  );
  assert.equal(later?.severity, 'info', 'clean traffic for longer than the hold: nothing is lost now');
  // It breaks again: the state goes, the severity comes back.
  const again = evalAt(tr, 45, 410, 11);
  assert.equal(again?.state, undefined);
  assert.equal(again?.severity, 'critical');
});

test('tracker: no carriers since is said as such, never "fixed"; and nothing is judged across an interval with dropped events', () => {
  const quiet = new FindingTracker(10e9);
  evalAt(quiet, 0, 10, 2);
  assert.equal(evalAt(quiet, 2, 10, 2)?.state, undefined, 'not yet: 2 s without carriers');
  const q = evalAt(quiet, 30, 10, 2);
  assert.equal(q?.state?.kind, 'quiet');
  assert.match(q!.state!.text, new RegExp(`^no carriers from ${PEER} since \\d\\d:\\d\\d:\\d\\d UTC \\(30 s\\): whether it is fixed cannot be seen$`));
  assert.equal(q?.severity, 'critical', 'kept, not cleared or downgraded: nothing shows it is fixed');

  // Events dropped after the last bad carrier: the "good" traffic since cannot be vouched
  // for; the finding stays as it was, and the fix is judged only from the drop on.
  const lossy = new FindingTracker(10e9);
  evalAt(lossy, 0, 10, 2);
  const during = evalAt(lossy, 1, 100, 2, { eventsDropped: 500 });
  assert.equal(during?.state, undefined);
  assert.equal(during?.severity, 'critical');
  assert.equal(evalAt(lossy, 40, 100, 2, { eventsDropped: 500 })?.state?.kind, 'quiet', 'no carriers since the drop');
  const after = evalAt(lossy, 41, 200, 2, { eventsDropped: 500 });
  assert.equal(after?.state?.kind, 'fixed');
  assert.match(
    after!.state!.text,
    /^fixed\? 0 bad carriers in the 40 s since csumtop last lost events \(\d\d:\d\d:\d\d UTC; the last bad one was seen at \d\d:\d\d:\d\d UTC\), while 100 carriers/,
  );

  // A finding without a traffic measure is not cleared while csumtop keeps dropping events.
  const hdr = new FindingTracker(10e9);
  const ev = (s: number, dropped: number) => {
    const i = input({ peers: [], interfaces: [iface({ name: 'eth0', role: 'underlay', badIpv4: 3 })] });
    i.nowNs = T0 + s * 1e9;
    i.eventsDropped = dropped;
    return hdr.evaluate(i).map((f) => f.id);
  };
  ev(0, 0);
  for (let s = 1; s <= 20; s++) assert.deepEqual(ev(s, s * 10), ['ipv4-header-bad'], `still listed at ${s} s while events are being dropped`);
  assert.deepEqual(ev(31, 200), [], 'cleared 10 s after the last drop');

  // A capture file: no state (nothing was remedied while it was written).
  const file = new FindingTracker(10e9);
  evalAt(file, 0, 10, 2, { live: false });
  assert.equal(evalAt(file, 30, 400, 2, { live: false }), undefined, 'not active after the hold (the report lists all() instead)');
  assert.equal(file.all()[0].state, undefined);
});

test('kernel verdicts matched to captured frames (issue 18): "all N seen" only when every drop was seen bad; unseen and disagreeing drops listed by why; waiting ones never counted as seen', () => {
  const drop = (o: Partial<Omit<KernelDropCount, 'outcomes'>> & { total: number; outcomes: Partial<KernelDropOutcomes> }): KernelDropCount => {
    const outcomes = { ...noOutcomes(), ...o.outcomes };
    const resolved = Object.values(outcomes).reduce((a, b) => a + b, 0);
    return { namespace: 'node2', device: 'vlb', reason: 'UDP_CSUM', peer: PEER, interval: 0, frame: 12, ...o, outcomes, pending: o.total - resolved };
  };
  const view = (drops: KernelDropCount[]): KernelDropView => ({
    drops,
    other: 0,
    otherOutcomes: noOutcomes(),
    matchWindowMs: 2000,
    matching: true,
    keys: { size: drops.length, cap: 512, evicted: 0 },
    ringFull: 0,
  });
  const carriers = (drops: KernelDropCount[]): DiagnosisInput => {
    const i = input({
      peers: [peer({ namespace: 'node2', underlay: 'vlb', overlay: null, badOuter: 6, delivered: null, lost: null, lostBad: null })],
      interfaces: [iface({ name: 'vlb', role: 'underlay', namespace: 'node2' })],
    });
    i.kernelDrops = view(drops);
    i.facts.uncaptured = [{ namespace: 'node2', name: 'flannel.1', kind: 'vxlan' }];
    return i;
  };

  const all = outerBadFromPeer(carriers([drop({ total: 6, outcomes: { seenBad: 6 } })]))[0];
  assert.match(
    all.summary,
    /the kernel of node2 dropped 6 carriers from 192\.168\.189\.4 for UDP_CSUM \(kernel verdict\), all 6 seen by csumtop with a bad outer checksum/,
  );
  assert.equal(all.evidence.find((e) => e.name === 'kernel drops seen by csumtop with a bad outer checksum')?.value, 6);
  assert.match(String(all.evidence.find((e) => e.name === 'kernel drops seen by csumtop with a bad outer checksum')?.detail), /last matched frame 12/);

  // Some not seen, one the capture verified good, one still waiting: each said, none claimed.
  const mixed = carriers([
    drop({ total: 7, outcomes: { seenBad: 3, seenGood: 1, ringDrop: 2 } }),
    drop({ device: 'flannel.1', total: 2, outcomes: { notCaptured: 2 } }),
  ]);
  const f = outerBadFromPeer(mixed)[0];
  assert.match(
    f.summary,
    /dropped 9 carriers .* \(kernel verdict\), 3 of 9 seen by csumtop with a bad outer checksum; 1 seen by csumtop with that checksum verified good \(csumtop disagrees\); 2 not seen: the device is not captured; 2 not seen: csumtop's capture ring of the device dropped frames then; 1 not matched yet/,
  );
  assert.doesNotMatch(f.summary, /all \d+ seen/);

  const [u] = kernelDropsUnseen(mixed);
  assert.equal(u.title, 'The kernel in node2 dropped 4 packets for bad checksums csumtop did not see');
  assert.deepEqual(
    u.evidence.filter((e) => e.name.endsWith('(kernel verdict)')).map((e) => [e.name, e.value, e.detail]),
    [
      ['drops on devices not captured (kernel verdict)', 2, 'flannel.1 UDP_CSUM: 2'],
      ['drops not seen while the capture ring dropped frames (kernel verdict)', 2, 'vlb UDP_CSUM: 2'],
    ],
  );
  assert.deepEqual(
    u.remedy.map((r) => r.command),
    ['csumtop --netns node2 -i vlb,flannel.1', 'csumtop --ring-mb 64 --threads 2 ...'],
  );

  const [d] = kernelDropsDisagree(mixed);
  assert.equal(d.title, 'The kernel in node2 dropped 1 packets for a bad checksum csumtop verified good (kernel verdict)');
  assert.equal(d.evidence[0].value, 1);
  assert.match(String(d.evidence[0].detail), /^vlb UDP_CSUM: 1; last matched frame 12/);

  // Drops csumtop could not match (its tables overflowed) are never said unseen.
  const [full] = kernelDropsUnseen(carriers([drop({ total: 5, outcomes: { seenBad: 2, tableFull: 3 } })]));
  assert.equal(full.title, 'csumtop could not tell whether it saw 3 packets the kernel in node2 dropped for bad checksums (its match tables overflowed)');
  assert.deepEqual(full.remedy, []);
  const [some] = kernelDropsUnseen(carriers([drop({ total: 5, outcomes: { notCaptured: 2, tableFull: 3 } })]));
  assert.equal(some.title, 'The kernel in node2 dropped 2 packets for bad checksums csumtop did not see');
  assert.equal(some.evidence.find((e) => e.name === 'drops csumtop could not match: its tables overflowed (kernel verdict)')?.value, 3);

  // A backend that does not hand its frames to the matcher (libpcap): nothing is claimed
  // of what csumtop saw, and kernel-drops-unseen weighs the counters as without verdicts.
  const unmatched = carriers([drop({ total: 6, outcomes: {} })]);
  unmatched.kernelDrops = { ...unmatched.kernelDrops!, matching: false };
  assert.match(outerBadFromPeer(unmatched)[0].summary, /dropped 6 carriers from 192\.168\.189\.4 for UDP_CSUM \(kernel verdict\), so their/);
  assert.equal(
    outerBadFromPeer(unmatched)[0].evidence.some((e) => e.name.startsWith('kernel drops seen by csumtop')),
    false,
  );
  assert.deepEqual(kernelDropsUnseen(unmatched), [], 'no counters read: no finding, and none from the unmatched verdicts');
  assert.deepEqual(kernelDropsDisagree(unmatched), []);

  // Drops in a namespace csumtop does not capture are listed, not warned of.
  const elsewhere = carriers([drop({ namespace: 'netns:4026532373', total: 2, outcomes: { notCaptured: 2 } })]);
  assert.deepEqual(kernelDropsUnseen(elsewhere), []);

  // Every drop seen bad, or still waiting: neither finding.
  const fine = carriers([drop({ total: 6, outcomes: { seenBad: 4 } })]);
  assert.deepEqual(kernelDropsUnseen(fine), []);
  assert.deepEqual(kernelDropsDisagree(fine), []);
  assert.match(outerBadFromPeer(fine)[0].summary, /4 of 6 seen by csumtop with a bad outer checksum; 2 not matched yet/);
});
