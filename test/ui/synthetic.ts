/**
 * Synthetic dashboard inputs for the unit tests: a small incident (carriers from peer
 * 192.168.189.4 arriving on B's underlay with a bad outer UDP checksum, offload
 * artifacts on flannel.1) built from the model types, with every number chosen so a
 * test can say which row must show what.
 */
import type { BadFlowView, CorrelationSnapshot, DnsSummary, InterfaceRates, PeerCarriers, RateWindows } from '../../src/model/correlation.js';
import type { Finding } from '../../src/model/findings.js';
import type { BadChecksum } from '../../src/model/bad-frame.js';
import type { DashboardUpdate, InterfaceMeta, RunInfo } from '../../src/ui/dashboard-state.js';
import { buildVxlan } from '../../src/lab/frames.js';

export const RUN: RunInfo = { host: 'node-b', kernel: '6.18.0-test', backend: 'afpacket', mode: 'live', startedMs: Date.UTC(2026, 10, 21, 12, 0, 0) };

/** Rates; the total defaults to a minute at the 60 s rate. */
export function w(s1: number, s10 = s1, s60 = s1, total = s60 * 60): RateWindows {
  return { s1, s10, s60, total };
}

export function rates(label: string, namespace: string, o: Partial<InterfaceRates> = {}): InterfaceRates {
  return {
    interface: label,
    namespace,
    packets: w(0),
    badFrames: w(0),
    badByChecksum: {},
    artefacts: w(0),
    pending: w(0),
    validated: w(0),
    badHistory: new Array<number>(60).fill(0),
    ...o,
  };
}

/** A carrier with a wrong outer UDP checksum (0xffff), as variant A leaves it. */
export function badCarrier(i: number): { bytes: Uint8Array; offset: number; found: number; expected: number } {
  const good = buildVxlan(
    {
      eth: { src: '02:00:00:00:00:0a', dst: '02:00:00:00:00:0b' },
      ip: { src: '192.168.189.4', dst: '192.168.189.5', id: i },
      sport: 41000 + i,
      dport: 8472,
      vni: 1,
    },
    {
      eth: { src: '02:00:00:00:01:0a', dst: '02:00:00:00:01:0b' },
      ip: { src: '10.244.0.0', dst: '10.244.1.10', id: i },
      l4: { proto: 'udp', sport: 53000, dport: 53, payload: Buffer.from('query') },
    },
  );
  const outer = good.checksums.find((c) => c.depth === 0 && c.kind === 'udp')!;
  const found = outer.expected === 0xffff ? 0xfffe : 0xffff;
  const bytes = Uint8Array.from(good.bytes);
  bytes[outer.offset] = found >> 8;
  bytes[outer.offset + 1] = found & 0xff;
  return { bytes, offset: outer.offset, found, expected: outer.expected };
}

export function badFlow(n: number, o: Partial<BadFlowView> = {}): BadFlowView {
  const c = badCarrier(n);
  const checksums: BadChecksum[] = [
    { layer: 'outer', depth: 0, protocol: 'udp', found: c.found, expected: c.expected, looksLikeOffload: false, offset: c.offset },
  ];
  return {
    interface: 'nsb/vlb',
    namespace: 'nsb',
    peer: '192.168.189.4',
    outer: { family: 4, src: '192.168.189.4', dst: '192.168.189.5', proto: 17, sport: 41000 + n, dport: 8472 },
    tunnel: 'vxlan',
    vni: 1,
    inner: { family: 4, src: '10.244.0.0', dst: '10.244.1.10', proto: 17, sport: 53000 + n, dport: 53 },
    dnsName: `svc${n}.lab.cluster.local`,
    count: 10 + n,
    artefacts: 0,
    badChecksums: ['outer/udp'],
    firstSeen: '2026-11-21T12:00:01.000000000Z',
    lastSeen: `2026-11-21T12:00:${String(5 + n).padStart(2, '0')}.000000000Z`,
    sample: {
      frame: 100 + n,
      time: '2026-11-21T12:00:05.000000000Z',
      checksums,
      bytes: c.bytes,
      wirelen: c.bytes.length,
    },
    recent: [
      { frame: 99 + n, time: '2026-11-21T12:00:04.000000000Z', direction: 'received', checksums },
      { frame: 100 + n, time: '2026-11-21T12:00:05.000000000Z', direction: 'received', checksums },
    ],
    ...o,
  };
}

export function finding(o: Partial<Finding> = {}): Finding {
  return {
    id: 'vxlan-outer-bad-from-peer',
    key: 'vxlan-outer-bad-from-peer/192.168.189.4',
    severity: 'critical',
    title: 'VXLAN carriers from 192.168.189.4 arrive with a bad outer UDP checksum',
    summary: 'The kernel drops these carriers in UDP input, so DNS and TCP to pods behind this peer time out. Fix the sender.',
    subject: { peer: '192.168.189.4', interface: 'nsb/vlb', namespace: 'nsb' },
    evidence: [
      { name: 'bad outer UDP checksums', value: 42, detail: 'nsb/vlb, last 10 s' },
      { name: 'Udp InCsumErrors (ns nsb)', value: 42, detail: '/proc/net/snmp' },
    ],
    remedy: [
      {
        where: 'peer 192.168.189.4',
        command: 'ethtool -K flannel.1 tx-checksum-ip-generic off',
        why: 'The sender fills in a checksum the NAT corrupts; without offload the kernel computes it before NAT.',
        persist: 'udev rule: SUBSYSTEM=="net", ACTION=="add", ENV{INTERFACE}=="flannel.1", RUN+="/usr/sbin/ethtool -K flannel.1 tx-checksum-ip-generic off"',
      },
    ],
    references: ['kubernetes/kubernetes#88986', 'linux ea64d8d6c675'],
    firstSeen: '2026-11-21T12:00:01.000000000Z',
    lastSeen: '2026-11-21T12:00:09.000000000Z',
    ...o,
  };
}

export const INFO_FINDING: Finding = finding({
  id: 'offload-artifacts',
  key: 'offload-artifacts/nsb/flannel.1',
  severity: 'info',
  title: 'Frames tcpdump would flag are offload artifacts',
  subject: { interface: 'nsb/flannel.1', namespace: 'nsb' },
  remedy: [],
});

export interface SnapshotOptions {
  /** Seconds since the run started: the snapshot's clock. */
  t?: number;
  /** Bad frames per second on nsb/vlb. */
  bad?: number;
  flows?: number;
  extraInterfaces?: number;
  /** Cumulative DNS counts (src/correlate/dns.ts). */
  dns?: Partial<DnsSummary>;
  /** Carriers received on nsb/vlb from 192.168.189.4 with a bad outer checksum (cumulative). */
  badOuterFromPeer?: number;
  /** Udp InCsumErrors since start in nsb (default 40). */
  udpSinceStart?: number;
}

export function snapshot(o: SnapshotOptions = {}): CorrelationSnapshot {
  const t = o.t ?? 10;
  const bad = o.bad ?? 4;
  const history = new Array<number>(60).fill(0);
  for (let i = 50; i < 60; i++) history[i] = bad * ((i % 3) + 1);
  const r = [
    rates('nsb/vlb', 'nsb', { packets: w(200), badFrames: w(bad), badByChecksum: { 'outer/udp': w(bad) }, badHistory: history }),
    rates('nsb/flannel.1', 'nsb', { packets: w(150), pending: w(75), validated: w(20) }),
    rates('nsa/vla', 'nsa', { packets: w(210), pending: w(100) }),
  ];
  for (let i = 0; i < (o.extraInterfaces ?? 0); i++) r.push(rates(`nsx/veth${i}`, 'nsx', { packets: w(i) }));
  return {
    time: new Date(RUN.startedMs + t * 1000).toISOString().replace('Z', '000000Z'),
    rates: r,
    peers: o.badOuterFromPeer === undefined ? [] : [peerFromA(o.badOuterFromPeer)],
    flows: [],
    badFlows: Array.from({ length: o.flows ?? 3 }, (_, n) => badFlow(n)),
    flowsEvicted: 0,
    eventsDropped: 0,
    blind: { ringDrops: 0, eventsDropped: 0, recordsDropped: 0 },
    overlayUnattributed: 0,
    dns: { queries: 0, answered: 0, unanswered: 0, retries: 0, latencyP50Ms: null, latencyMaxMs: null, unansweredList: [], attributed: 0, ...o.dns },
    syn: { connections: 0, answered: 0, refused: 0, unanswered: 0, retransmitted: 0, delayedBy: {}, slowList: [], attributed: 0 },
    kernel: [
      {
        namespace: 'nsb',
        perSecond: { udpInCsumErrors: bad, tcpInCsumErrors: 0, ipInHdrErrors: 0 },
        sinceStart: { udpInCsumErrors: o.udpSinceStart ?? 40, tcpInCsumErrors: 0, ipInHdrErrors: 0 },
      },
      { namespace: 'nsa', perSecond: { udpInCsumErrors: 0 }, sinceStart: { udpInCsumErrors: 0 } },
    ],
    findings: [INFO_FINDING, finding()],
  };
}

/** nsb/vlb's carriers from node 192.168.189.4, `badOuter` of them with a bad outer checksum. */
export function peerFromA(badOuter: number): PeerCarriers {
  return {
    namespace: 'nsb',
    underlay: 'nsb/vlb',
    overlay: 'nsb/flannel.1',
    peer: '192.168.189.4',
    local: '192.168.189.5',
    direction: 'from-peer',
    tunnel: 'vxlan',
    vni: 1,
    carriers: badOuter + 10,
    badOuter,
    badInner: 0,
    badIpv4: 0,
    delivered: 10,
    lost: badOuter,
    lostBad: badOuter,
    unmatchedOverlay: 0,
    inFlight: 0,
    firstSeen: new Date(RUN.startedMs).toISOString(),
    lastSeen: new Date(RUN.startedMs).toISOString(),
  };
}

export function metas(extra = 0): InterfaceMeta[] {
  const m: InterfaceMeta[] = [
    { label: 'nsb/vlb', namespace: 'nsb', kind: 'veth', txChecksumOffload: true, attached: true, ringDrops: 3 },
    { label: 'nsb/flannel.1', namespace: 'nsb', kind: 'vxlan', txChecksumOffload: true, attached: true, ringDrops: 0 },
    { label: 'nsa/vla', namespace: 'nsa', kind: 'veth', txChecksumOffload: false, attached: true, ringDrops: 0 },
  ];
  for (let i = 0; i < extra; i++) m.push({ label: `nsx/veth${i}`, namespace: 'nsx', kind: 'veth', txChecksumOffload: null, attached: true, ringDrops: 0 });
  return m;
}

export function update(o: SnapshotOptions = {}): DashboardUpdate {
  const snap = snapshot(o);
  return { snapshot: snap, interfaces: metas(o.extraInterfaces ?? 0), captureDrops: 3, nowMs: RUN.startedMs + (o.t ?? 10) * 1000 };
}

/**
 * The issue 19 scenario: a demo lab whose namespaces have long names ("demo10619-node-a",
 * "demo10619-node-b"), each with an eth0 and a flannel.1. Node b receives carriers from
 * node a with a bad outer UDP checksum (a DNS query for kubernetes.default..., the real
 * error), and both flannel.1 devices show offload artefacts (pseudo-header sums of
 * packets captured before the device filled them in) that are more frequent than the
 * error: they must be marked, counted apart and listed after it.
 */
export const NODE_A = 'demo10619-node-a';
export const NODE_B = 'demo10619-node-b';

export function glanceUpdate(t = 10): DashboardUpdate {
  const hist = new Array<number>(60).fill(0);
  for (let i = 48; i < 60; i += 4) hist[i] = 3;
  const r = [
    rates(`${NODE_B}/eth0`, NODE_B, {
      packets: w(300, 280, 250),
      badFrames: w(0, 0.3, 0.2, 12),
      badByChecksum: { 'outer/udp': w(0, 0.3, 0.2, 12) },
      badHistory: hist,
    }),
    rates(`${NODE_B}/flannel.1`, NODE_B, { packets: w(120), artefacts: w(40, 40, 40, 2400) }),
    rates(`${NODE_A}/flannel.1`, NODE_A, { packets: w(110), artefacts: w(35, 35, 35, 2100) }),
    rates(`${NODE_A}/eth0`, NODE_A, { packets: w(290), pending: w(20) }),
  ];
  const dns = badFlow(0, {
    interface: `${NODE_B}/eth0`,
    namespace: NODE_B,
    dnsName: 'kubernetes.default.svc.cluster.local',
    count: 12,
  });
  const artefact = (ns: string, n: number, count: number, dnsName: string | null): BadFlowView =>
    badFlow(n, {
      interface: `${ns}/flannel.1`,
      namespace: ns,
      peer: null,
      outer: { family: 4, src: '10.244.1.10', dst: '10.244.0.0', proto: 6, sport: 3306, dport: 44000 + n },
      tunnel: 'none',
      vni: null,
      inner: null,
      dnsName,
      count,
      artefacts: count,
      badChecksums: ['outer/tcp'],
      sample: null,
    });
  const snap = snapshot({ t, flows: 0 });
  snap.rates = r;
  snap.badFlows = [artefact(NODE_B, 1, 400, null), artefact(NODE_A, 1, 380, null), artefact(NODE_B, 2, 90, 'redis.cache.svc.cluster.local'), dns];
  snap.kernel = [{ namespace: NODE_B, perSecond: { udpInCsumErrors: 0 }, sinceStart: { udpInCsumErrors: 12 } }];
  snap.findings = [
    finding({
      subject: { peer: '192.168.189.4', interface: `${NODE_B}/eth0`, namespace: NODE_B },
      title: `VXLAN carriers from 192.168.189.4 arrive on ${NODE_B}/eth0 with a bad outer UDP checksum`,
    }),
    {
      ...INFO_FINDING,
      key: `offload-artifacts/${NODE_B}`,
      subject: { interface: `${NODE_B}/flannel.1`, namespace: NODE_B },
      title: '4500 checksums tcpdump -vv would call bad are offload artifacts',
    },
  ];
  // The rules' evidence counts: 12 bad carriers, 4500 artefacts.
  snap.findingCounts = { [snap.findings[0].key]: 12, [snap.findings[1].key]: 4500 };
  const meta = (label: string, ns: string, kind: string): InterfaceMeta => ({
    label,
    namespace: ns,
    kind,
    txChecksumOffload: true,
    attached: true,
    ringDrops: 0,
  });
  return {
    snapshot: snap,
    interfaces: [
      meta(`${NODE_B}/eth0`, NODE_B, 'veth'),
      meta(`${NODE_B}/flannel.1`, NODE_B, 'vxlan'),
      meta(`${NODE_A}/flannel.1`, NODE_A, 'vxlan'),
      meta(`${NODE_A}/eth0`, NODE_A, 'veth'),
    ],
    captureDrops: 0,
    nowMs: RUN.startedMs + t * 1000,
  };
}
