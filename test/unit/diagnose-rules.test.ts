/**
 * The diagnosis rules (src/diagnose/rules.ts) on hand-made DiagnosisInputs: the cases the
 * namespace lab cannot create for real (test/lab/diagnosis-rules.test.ts creates the
 * others). This machine has no VMware DMI and no vmxnet3 driver, so variant C
 * (inner-bad-from-peer with VMware facts) and an unfixed kernel (KERNEL_UPGRADE) are
 * proven here on the rule functions. Also the matcher's attribution of overlay packets
 * that never left as carriers (src/correlate/matcher.ts), on real decoded events.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { InterfaceDirectory } from '../../src/correlate/context.js';
import { CarrierMatcher } from '../../src/correlate/matcher.js';
import { innerBadFromPeer, kernelDropsUnseen, outerBadSent } from '../../src/diagnose/rules.js';
import type { DiagnosisInput, InterfaceDiagnosis, UncapturedLink } from '../../src/diagnose/input.js';
import type { PeerCarriers } from '../../src/model/correlation.js';
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
    label: o.name, namespace: 'host', kind: null, driver: null, txChecksumOffload: null, vxlan: null,
    frames: 100, captureDrops: 0, badIpv4: 0, badReceivedL4: 0, pending: 0, validated: 0, looksPartial: 0, ...o,
  };
}

function peer(o: Partial<PeerCarriers>): PeerCarriers {
  return {
    namespace: 'host', underlay: 'ens192', overlay: 'flannel.1', peer: PEER, local: '192.168.189.5', direction: 'from-peer',
    tunnel: 'vxlan', vni: 1, carriers: 20, badOuter: 0, badInner: 0, badIpv4: 0, delivered: 20, lost: 0, lostBad: 0,
    unmatchedOverlay: 0, inFlight: 0, firstSeen: '', lastSeen: '', ...o,
  };
}

function hypervisor(kind: HypervisorFacts['kind'], sysVendor: string | null): HypervisorFacts {
  return {
    kind, platform: null, sysVendor, productName: null, biosVendor: null, biosVersion: null, chassisAssetTag: null,
    hypervisorType: null, cpuFlag: kind !== 'none', evidence: [],
  };
}

function input(o: { peers: PeerCarriers[]; interfaces: InterfaceDiagnosis[]; hypervisor?: HypervisorFacts | null; kernel?: KernelFacts | null; nat?: DiagnosisInput['facts']['nat'] }): DiagnosisInput {
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
    syn: { connections: 0, answered: 0, unanswered: 0, retransmitted: 0, delayedBy: {}, slowList: [], attributed: 0 },
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
  assert.deepEqual(f.evidence.find((e) => e.name === 'hypervisor / driver'), { name: 'hypervisor / driver', value: 'vmware / vmxnet3', detail: 'variant C: vmxnet3 VXLAN offloads' });
  assert.equal(f.evidence.find((e) => e.name === 'carriers with a bad inner checksum')?.value, 7);
  assert.deepEqual(f.remedy.map((r) => [r.where, r.command]), [
    [`peer ${PEER}`, 'ethtool -K ens192 tx-udp_tnl-segmentation off tx-udp_tnl-csum-segmentation off'],
    [`peer ${PEER}`, 'ethtool -K flannel.1 tx-checksum-ip-generic off'],
  ]);
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
  assert.equal(plain.evidence.find((e) => e.name === 'hypervisor / driver'), undefined);
  assert.deepEqual(plain.remedy.map((r) => r.command), ['ethtool -K flannel.1 tx-checksum-ip-generic off']);
  assert.deepEqual(plain.references, ['projectcalico/calico#7040']);

  // Carriers this node sent, or from a peer without bad inner checksums: no finding.
  assert.deepEqual(innerBadFromPeer(input({ peers: [peer({ badInner: 3, direction: 'to-peer' }), peer({ peer: '192.168.189.6' })], interfaces: kvm })), []);
});

const UNFIXED_KERNEL: KernelFacts = {
  release: '4.15.0-106-generic', version: null, signature: 'Ubuntu 4.15.0-106.107-generic 4.15.18',
  variantA: { status: 'affected', reason: 'Ubuntu 4.15.0-106 is before 4.15.0-107', flavor: 'ubuntu', upstream: { major: 4, minor: 15, patch: 18 } },
};

test('vxlan-outer-bad-sent with flannel\'s noudpcsum on an unfixed kernel: the variant A facts are evidence and both upgrades are advised', () => {
  const interfaces = [
    iface({ name: 'eth0', role: 'underlay' }),
    iface({ name: 'flannel.1', role: 'vxlan', kind: 'vxlan', txChecksumOffload: true, vxlan: { port: 8472, udpCsum: false } }),
  ];
  const nat = {
    host: {
      masquerades: [], masqueradeRandomFully: true, kubeMarkMasq: true, masqueradeMark: 0x4000, kubePostrouting: true, kubeMarkFix: false,
      kubeMasqueradeRandomFully: true, flannelMasq: false, flannelSkipsKubeMarked: null, flannelRandomFully: null, warnings: [],
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
  assert.deepEqual(f.remedy.map((r) => r.command.split(' ').slice(0, 2).join(' ')), ['ethtool -K', 'upgrade kube-proxy', 'upgrade the', 'nstat -az']);
  assert.deepEqual(f.remedy[3], { where: `peer ${PEER}`, command: 'nstat -az UdpInCsumErrors', why: 'check: it grows when that kernel drops these packets for the bad checksum (run it twice)', persist: null });
  assert.equal(f.remedy[0].command, 'ethtool -K flannel.1 tx-checksum-ip-generic off');

  // Offload off and udpcsum unknown: said as it is (off), nothing invented.
  const off = outerBadSent(input({
    peers: [peer({ direction: 'to-peer', underlay: 'eth0', badOuter: 1 })],
    interfaces: [interfaces[0], iface({ name: 'flannel.1', role: 'vxlan', txChecksumOffload: false })],
  }))[0];
  assert.equal(off.evidence.find((e) => e.name === 'flannel.1 tx-checksum-ip-generic')?.value, false);
  assert.equal(off.evidence.find((e) => e.name === 'flannel.1 udpcsum'), undefined);
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
  const dir: InterfaceDirectory = (id) => (id === 0 ? { label: 'eth0', namespace: 'host', overlay: false } : id === 1 ? { label: 'flannel.1', namespace: 'host', overlay: true } : undefined);
  const m = new CarrierMatcher(F, { windowNs: 1e9, maxPending: 1000 });
  m.setOverlay('host', 'flannel.1');
  const [me, node2, node3] = [NODES[0], NODES[1], NODES[2]];
  const q = (dst: string, k: number): ReturnType<typeof dnsQueryPacket> => dnsQueryPacket(CLIENT_POD, dst, 40000 + k, 0x100 + k, `q${k}.example`);
  const fromWeb = dnsQueryPacket(WEB_POD, CLIENT_POD, 41000, 0x200, 'web.example');
  const UNKNOWN = '10.244.9.9';
  // What worked: packets to COREDNS and MYSQL left as carriers to node 2 (overlay packet
  // first, and carrier first), a packet from WEB_POD arrived in a carrier from node 3.
  m.add(events([
    { frame: eth(q(COREDNS, 1)), iface: 1, sent: true },
    { frame: carrier(0, 1, q(COREDNS, 1)), iface: 0, sent: true },
    { frame: carrier(0, 1, q(MYSQL, 2)), iface: 0, sent: true },
    { frame: eth(q(MYSQL, 2)), iface: 1, sent: true },
    { frame: carrier(2, 0, fromWeb), iface: 0, sent: false },
    { frame: eth(fromWeb), iface: 1, sent: false },
  ], T0), dir);
  // What then never left: to COREDNS (node 2), to WEB_POD (node 3, only ever received
  // from), to an address never seen, and a GSO-sized packet to COREDNS.
  // (A DNS query with trailing bytes: the frame sink makes events of DNS and SYNs only.)
  const big = ipv4(CLIENT_POD, COREDNS, udp(40010, 53, Buffer.concat([Buffer.from(dnsQuery(0x300, 'big.example')), Buffer.alloc(3000, 1)])), { id: 0x300 });
  m.add(events([
    { frame: eth(q(COREDNS, 3)), iface: 1, sent: true },
    { frame: eth(q(WEB_POD, 4)), iface: 1, sent: true },
    { frame: eth(q(UNKNOWN, 5)), iface: 1, sent: true },
    { frame: eth(big), iface: 1, sent: true },
  ], T0 + 10e6), dir);

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
  assert.deepEqual({ carriers: toNode3.carriers, delivered: toNode3.delivered, unmatchedOverlay: toNode3.unmatchedOverlay, local: toNode3.local }, { carriers: 0, delivered: 0, unmatchedOverlay: 1, local: me.ip });
  assert.equal(peerView(node3.ip, 'from-peer')?.delivered, 1);
  assert.equal(m.unmatchedUnattributed, 1, 'the packet to an address never seen behind a peer');
  assert.equal(m.overflow, 0);
});

test('kernel-drops-unseen names the interfaces up and not captured, NICs first, in the command to run; more than 8, or none known: -i \'*\'', () => {
  const withKernel = (uncaptured: UncapturedLink[] | undefined, namespace = 'host'): DiagnosisInput => {
    const i = input({ peers: [], interfaces: [iface({ name: 'flannel.1', role: 'overlay', namespace, kind: 'vxlan', badReceivedL4: 2 })] });
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
  assert.deepEqual(f.remedy.map((r) => r.command), ['csumtop -i flannel.1,ens192,genev_sys_6081,cni0']);
  assert.equal(f.evidence.find((e) => e.name === 'interfaces up and not captured')?.value, 'ens192, genev_sys_6081 (geneve), cni0 (bridge)');
  assert.match(f.summary, /not being captured: ens192, genev_sys_6081, cni0\./);

  // In a namespace: --netns, shell-quoted names.
  const [g] = kernelDropsUnseen(withKernel([{ namespace: 'pod ns', name: "we'ird", kind: 'veth' }], 'pod ns'));
  assert.deepEqual(g.remedy.map((r) => r.command), [`csumtop --netns 'pod ns' -i 'flannel.1,we'\\''ird'`]);

  // Too many to list, a name -i cannot take (a comma), or a source that does not list links: every interface.
  const many = Array.from({ length: 9 }, (_, k) => ({ namespace: 'host', name: `veth${k}`, kind: 'veth' }));
  assert.deepEqual(kernelDropsUnseen(withKernel(many))[0].remedy.map((r) => r.command), ["csumtop -i '*'"]);
  assert.match(kernelDropsUnseen(withKernel(many))[0].summary, /veth7 and 1 more\./);
  const comma = kernelDropsUnseen(withKernel([{ namespace: 'host', name: 'a,b', kind: null }]))[0].remedy;
  assert.deepEqual(comma.map((r) => [r.command, r.why]), [["csumtop -i '*'", 'capture every interface of the namespace']], 'the reason matches the command');
  assert.equal(f.remedy[0].why, 'capture the interfaces that are up and not captured as well');
  const unknown = kernelDropsUnseen(withKernel(undefined))[0];
  assert.deepEqual(unknown.remedy.map((r) => r.command), ["csumtop -i '*'"]);
  assert.equal(unknown.evidence.find((e) => e.name === 'interfaces up and not captured'), undefined);
  // Everything up is captured: nothing to add is said plainly.
  assert.match(kernelDropsUnseen(withKernel([]))[0].summary, /Every interface up there is captured/);
  // The kernel saw no more than the capture: no finding.
  const quiet = withKernel(links);
  quiet.kernelBefore = [{ namespace: 'host', perSecond: {}, sinceStart: { udpInCsumErrors: 2 } }];
  assert.deepEqual(kernelDropsUnseen(quiet), []);
});
