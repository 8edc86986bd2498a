/**
 * The Prometheus exporter (src/output/metrics/exporter.ts) read back through its
 * exposition text: names and types by Prometheus conventions, values from the native
 * counter layout, counters that only go up, series removed (not reset) when an interface
 * vanishes, interfaces and peers folded into "other" past their caps, peers and findings
 * from synthetic CorrelationSnapshots.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { CorrelationSnapshot, KernelDropOutcomes, PeerCarriers } from '../../src/model/correlation.js';
import { noOutcomes } from '../../src/model/kernel-match.js';
import type { Finding } from '../../src/model/findings.js';
import { CHECKSUM_COUNTERS, type ChecksumCounterName } from '../../src/model/host-facts.js';
import { KINDS, LAYERS, MALFORMED_REASONS, STATUSES, type KindName, type LayerName, type StatusName } from '../../src/model/verdict.js';
import { nativeLayout } from '../../src/native/analyzer.js';
import { MetricsExporter, type InterfaceSample } from '../../src/output/metrics/exporter.js';
import { parseExposition, select, value, type Exposition } from '../lib/exposition.js';

const L = nativeLayout();

function exporter(opts: { maxPeers?: number; maxInterfaces?: number } = {}): MetricsExporter {
  return new MetricsExporter({ version: '9.9.9', checksumPath: 'scalar', backend: 'afpacket', layout: L, ...opts });
}

async function scrape(m: MetricsExporter): Promise<Exposition> {
  return parseExposition(await m.text());
}

/** One scrape as the live endpoint does it: the interfaces observed, then the text. */
async function observe(m: MetricsExporter, samples: InterfaceSample[]): Promise<Exposition> {
  m.observeInterfaces(samples);
  return scrape(m);
}

/** A new interface or peer entry shows 0 first; its counts arrive from the next scrape on. */
async function settle(m: MetricsExporter, samples: InterfaceSample[]): Promise<Exposition> {
  await observe(m, samples);
  return observe(m, samples);
}

/** A snapshot applied, a scrape, the same snapshot again (new entries publish their counts). */
async function settleSnapshot(m: MetricsExporter, snap: CorrelationSnapshot): Promise<Exposition> {
  m.update(snap);
  await scrape(m);
  m.update(snap);
  return scrape(m);
}

interface Counts {
  frames?: number;
  outgoing?: number;
  bytes?: number;
  csum?: Array<[LayerName, KindName, StatusName, number]>;
  malformed?: Array<[string, number]>;
}

function counters(c: Counts): Float64Array {
  const a = new Float64Array(L.counterStride);
  a[L.slots.frames] = c.frames ?? 0;
  a[L.slots.outgoing] = c.outgoing ?? 0;
  a[L.slots.bytes] = c.bytes ?? 0;
  for (const [layer, kind, status, n] of c.csum ?? []) {
    a[L.csumBase + (LAYERS.indexOf(layer) * L.numKinds + KINDS.indexOf(kind)) * L.numStatus + STATUSES.indexOf(status)] = n;
  }
  for (const [reason, n] of c.malformed ?? []) {
    const r = (MALFORMED_REASONS as readonly string[]).indexOf(reason);
    assert.ok(r > 0, `unknown malformed reason ${reason}`);
    a[L.malformedBase + r] = n;
  }
  return a;
}

function sample(id: number, name: string, c: Counts, opts: { namespace?: string; attached?: boolean; drops?: number } = {}): InterfaceSample {
  return { id, name, namespace: opts.namespace ?? 'host', attached: opts.attached ?? true, counters: counters(c), captureDrops: opts.drops ?? 0 };
}

test('names follow Prometheus conventions: one csumtop_ prefix, counters end in _total, every metric has help', async () => {
  const m = exporter();
  m.observeInterfaces([sample(0, 'eth0', { frames: 1 })]);
  m.observeKernel('host', { udpInCsumErrors: 0 });
  m.update(snapshot([peer({ carriers: 1 })], [finding('vxlan-outer-bad-from-peer', 'critical', { peer: '10.0.0.2' })]));
  const e = await scrape(m);
  const expected: Record<string, string> = {
    csumtop_packets_total: 'counter',
    csumtop_bytes_total: 'counter',
    csumtop_checksums_total: 'counter',
    csumtop_malformed_frames_total: 'counter',
    csumtop_capture_drops_total: 'counter',
    csumtop_kernel_checksum_errors_total: 'counter',
    csumtop_vxlan_peer_carriers_total: 'counter',
    csumtop_kernel_drops_total: 'counter',
    csumtop_kernel_drop_matches_total: 'counter',
    csumtop_finding: 'gauge',
    csumtop_build_info: 'gauge',
    csumtop_blind_total: 'counter',
    csumtop_interfaces: 'gauge',
  };
  const own = [...e.types].filter(([name]) => name.startsWith('csumtop_'));
  assert.deepEqual(Object.fromEntries(own), expected);
  // prom-client's process metrics, the memory one against the DaemonSet's limit.
  assert.equal(e.types.get('process_resident_memory_bytes'), 'gauge');
  assert.ok((value(e, 'process_resident_memory_bytes', {}) ?? 0) > 1e6, 'the resident memory is read at scrape time');
  for (const name of e.types.keys())
    assert.match(name, /^(csumtop|process|nodejs)_[a-z0-9_]+$/, `${name}: only csumtop's own and prom-client's process metrics`);
  for (const [name, type] of own) {
    assert.match(name, /^csumtop_[a-z_]+$/);
    assert.equal(name.endsWith('_total'), type === 'counter', `${name}: _total exactly on counters`);
    assert.ok((e.help.get(name) ?? '').length > 20, `${name} has no help text`);
  }
  for (const s of e.samples) assert.ok(e.types.has(s.name), `sample ${s.name} has no TYPE`);
  assert.equal(value(e, 'csumtop_build_info', { version: '9.9.9', checksum_path: 'scalar', backend: 'afpacket' }), 1);
});

test("labels follow node_exporter: device for the interface, netns (never the Operator's namespace)", async () => {
  const m = exporter();
  m.observeInterfaces([sample(0, 'eth0', { frames: 1 }, { namespace: 'cni-1' })]);
  m.observeKernel('cni-1', { udpInCsumErrors: 0 });
  m.update(snapshot([peer({ carriers: 1, underlay: 'eth0', namespace: 'cni-1' })]));
  const e = await scrape(m);
  const own = e.samples.filter((s) => s.name.startsWith('csumtop_'));
  for (const s of own) assert.equal(s.labels.namespace, undefined, `${s.name} has a namespace label`);
  for (const s of own) assert.equal(s.labels.interface, undefined, `${s.name} has an interface label`);
  assert.deepEqual(
    select(e, 'csumtop_packets_total').map((s) => [s.labels.device, s.labels.netns]),
    [
      ['eth0', 'cni-1'],
      ['eth0', 'cni-1'],
    ],
  );
  assert.ok(select(e, 'csumtop_kernel_checksum_errors_total').every((s) => s.labels.netns === 'cni-1'));
  assert.ok(
    select(e, 'csumtop_vxlan_peer_carriers_total').length > 0 &&
      select(e, 'csumtop_vxlan_peer_carriers_total').every((s) => s.labels.device === 'eth0' && s.labels.netns === 'cni-1'),
  );
});

test('per-interface counters come from the native layout: direction, verdicts, malformed reasons, drops', async () => {
  const m = exporter();
  const samples = [
    sample(
      0,
      'vlb',
      {
        frames: 10,
        outgoing: 3,
        bytes: 1500,
        csum: [
          ['outer', 'udp', 'bad', 2],
          ['inner', 'udp', 'pending', 5],
          ['outer', 'ipv4', 'ok', 10],
          ['inner', 'tcp', 'validated', 4],
        ],
        malformed: [['udp-length', 1]],
      },
      { namespace: 'B', drops: 4 },
    ),
  ];
  const at = { device: 'vlb', netns: 'B' };
  // The first scrape that sees an interface shows it at 0: increase() needs that sample,
  // or whatever it counted before the first scrape would never show in an alert.
  const first = await observe(m, samples);
  assert.equal(value(first, 'csumtop_packets_total', { ...at, direction: 'received' }), 0);
  assert.equal(value(first, 'csumtop_checksums_total', { ...at, layer: 'outer', protocol: 'udp', verdict: 'bad' }), 0);
  const e = await observe(m, samples);
  assert.equal(value(e, 'csumtop_packets_total', { ...at, direction: 'sent' }), 3);
  assert.equal(value(e, 'csumtop_packets_total', { ...at, direction: 'received' }), 7);
  assert.equal(value(e, 'csumtop_bytes_total', at), 1500);
  assert.equal(value(e, 'csumtop_capture_drops_total', at), 4);
  assert.equal(value(e, 'csumtop_checksums_total', { ...at, layer: 'outer', protocol: 'udp', verdict: 'bad' }), 2);
  assert.equal(value(e, 'csumtop_checksums_total', { ...at, layer: 'inner', protocol: 'udp', verdict: 'pending' }), 5);
  assert.equal(value(e, 'csumtop_checksums_total', { ...at, layer: 'outer', protocol: 'ipv4', verdict: 'ok' }), 10);
  assert.equal(value(e, 'csumtop_checksums_total', { ...at, layer: 'inner', protocol: 'tcp', verdict: 'validated' }), 4);
  assert.equal(value(e, 'csumtop_malformed_frames_total', { ...at, reason: 'udp-length' }), 1);
  // "bad" exists at 0 for every layer x protocol (increase() needs the 0 before the first
  // bad one); the other verdicts and reasons only once they counted something.
  const bad = select(e, 'csumtop_checksums_total', { ...at, verdict: 'bad' });
  assert.equal(bad.length, LAYERS.length * KINDS.length);
  assert.equal(
    bad.reduce((s, x) => s + x.value, 0),
    2,
  );
  assert.equal(select(e, 'csumtop_checksums_total', { ...at, verdict: 'absent' }).length, 0);
  assert.equal(select(e, 'csumtop_malformed_frames_total', at).length, 1);
  for (const s of select(e, 'csumtop_checksums_total')) {
    assert.ok((STATUSES as readonly string[]).includes(s.labels.verdict), s.labels.verdict);
    assert.ok((LAYERS as readonly string[]).includes(s.labels.layer), s.labels.layer);
    assert.ok((KINDS as readonly string[]).includes(s.labels.protocol), s.labels.protocol);
  }
  assert.equal(value(e, 'csumtop_interfaces', { state: 'attached' }), 1);
  assert.equal(value(e, 'csumtop_interfaces', { state: 'detached' }), 0);
});

test('counters follow the cumulative values and never go down; several capture threads under one label add up', async () => {
  const m = exporter();
  await observe(m, [sample(0, 'eth0', { frames: 5, csum: [['outer', 'udp', 'bad', 1]] })]);
  let e = await observe(m, [sample(0, 'eth0', { frames: 9, csum: [['outer', 'udp', 'bad', 3]] })]);
  assert.equal(value(e, 'csumtop_packets_total', { device: 'eth0', direction: 'received' }), 9);
  assert.equal(value(e, 'csumtop_checksums_total', { device: 'eth0', layer: 'outer', protocol: 'udp', verdict: 'bad' }), 3);
  // A source that restarted from a lower value: its new value is new counts, never a decrease.
  e = await observe(m, [sample(0, 'eth0', { frames: 2, csum: [['outer', 'udp', 'bad', 1]] })]);
  assert.equal(value(e, 'csumtop_packets_total', { device: 'eth0', direction: 'received' }), 11);
  assert.equal(value(e, 'csumtop_checksums_total', { device: 'eth0', layer: 'outer', protocol: 'udp', verdict: 'bad' }), 4);
  // A second capture (new id) under the same name, both attached: one series, the sum.
  e = await settle(m, [sample(0, 'eth0', { frames: 2 }), sample(1, 'eth0', { frames: 7 })]);
  assert.equal(value(e, 'csumtop_packets_total', { device: 'eth0', direction: 'received' }), 18);
});

test('a vanished interface: its series are removed, not reset; the others stay; a recreated one starts new series', async () => {
  const m = exporter();
  const peerOn = (underlay: string): PeerCarriers => peer({ underlay, namespace: 'host', carriers: 4, badOuter: 1 });
  await settle(m, [sample(0, 'veth1', { frames: 4, csum: [['outer', 'tcp', 'bad', 1]] }), sample(1, 'eth0', { frames: 8 })]);
  let e = await settleSnapshot(m, snapshot([peerOn('veth1'), peerOn('eth0')]));
  assert.ok(select(e, 'csumtop_packets_total', { device: 'veth1' }).length > 0);
  assert.equal(value(e, 'csumtop_vxlan_peer_carriers_total', { device: 'veth1', verdict: 'bad_outer' }), 1);

  m.observeInterfaces([sample(0, 'veth1', { frames: 6 }, { attached: false }), sample(1, 'eth0', { frames: 9 })]);
  m.update(snapshot([peerOn('veth1'), peerOn('eth0')]));
  e = await scrape(m);
  for (const s of e.samples) assert.notEqual(s.labels.device, 'veth1', `series of the vanished veth1 still exported: ${JSON.stringify(s)}`);
  assert.equal(value(e, 'csumtop_packets_total', { device: 'eth0', direction: 'received' }), 9);
  assert.equal(value(e, 'csumtop_vxlan_peer_carriers_total', { device: 'eth0', verdict: 'bad_outer' }), 1);
  assert.equal(value(e, 'csumtop_interfaces', { state: 'attached' }), 1);
  assert.equal(value(e, 'csumtop_interfaces', { state: 'detached' }), 1);

  // The same name again (a new pod veth): new series from its own counts.
  e = await settle(m, [sample(0, 'veth1', { frames: 6 }, { attached: false }), sample(1, 'eth0', { frames: 9 }), sample(2, 'veth1', { frames: 2 })]);
  assert.equal(value(e, 'csumtop_packets_total', { device: 'veth1', direction: 'received' }), 2);
  assert.equal(value(e, 'csumtop_checksums_total', { device: 'veth1', layer: 'outer', protocol: 'tcp', verdict: 'bad' }), 0);
});

test('interfaces folded into the vanished-interfaces row leave the list: forgotten, series ended even when no scrape saw them detached; the row counts as that many detached', async () => {
  const m = exporter();
  await settle(m, [sample(0, 'veth1', { frames: 4 }), sample(1, 'veth2', { frames: 5 }), sample(2, 'eth0', { frames: 8 })]);
  // veth1 was seen detached, then folded; veth2 vanished and was folded between two scrapes.
  m.observeInterfaces([sample(0, 'veth1', { frames: 4 }, { attached: false }), sample(1, 'veth2', { frames: 5 }), sample(2, 'eth0', { frames: 8 })]);
  const folded: InterfaceSample = { ...sample(9, '(2 older vanished interfaces)', { frames: 9 }, { namespace: '*', attached: false }), folded: 2 };
  const e = await observe(m, [sample(2, 'eth0', { frames: 9 }), folded]);
  for (const x of e.samples) {
    assert.ok(x.labels.device !== 'veth1' && x.labels.device !== 'veth2', `series of a folded interface still exported: ${JSON.stringify(x)}`);
    assert.ok(!String(x.labels.device ?? '').includes('vanished'), `the folded row is exported: ${JSON.stringify(x)}`);
  }
  assert.equal(value(e, 'csumtop_packets_total', { device: 'eth0', direction: 'received' }), 9);
  assert.equal(value(e, 'csumtop_interfaces', { state: 'detached' }), 2, 'the folded row stands for the interfaces folded into it');
  assert.equal((m as unknown as { tracks: Map<number, unknown> }).tracks.size, 1, 'only eth0 is tracked');
});

test('interfaces past the cap fold into interface="other" for good, and "other" never goes down', async () => {
  const m = exporter({ maxInterfaces: 2 });
  let e = await settle(m, [sample(0, 'a', { frames: 1 }), sample(1, 'b', { frames: 2 }), sample(2, 'c', { frames: 4 })]);
  const names = (): string[] => [...new Set(select(e, 'csumtop_packets_total').map((s) => s.labels.device))].sort();
  assert.deepEqual(names(), ['a', 'b', 'other']);
  assert.equal(value(e, 'csumtop_packets_total', { device: 'other', direction: 'received' }), 4);
  assert.equal(m.folded().interfaces, 1);
  // a vanishes: its slot is free for a new interface d, but c stays in "other".
  e = await settle(m, [
    sample(0, 'a', { frames: 1 }, { attached: false }),
    sample(1, 'b', { frames: 2 }),
    sample(2, 'c', { frames: 5 }),
    sample(3, 'd', { frames: 8 }),
  ]);
  assert.deepEqual(names(), ['b', 'd', 'other']);
  assert.equal(value(e, 'csumtop_packets_total', { device: 'other', direction: 'received' }), 5);
  // c vanishes: what it counted stays in "other" (a removal there would be a decrease).
  e = await settle(m, [
    sample(0, 'a', { frames: 1 }, { attached: false }),
    sample(1, 'b', { frames: 2 }),
    sample(2, 'c', { frames: 6 }, { attached: false }),
    sample(3, 'd', { frames: 8 }),
    sample(4, 'e', { frames: 3 }),
  ]);
  assert.deepEqual(names(), ['b', 'd', 'other']);
  assert.equal(value(e, 'csumtop_packets_total', { device: 'other', direction: 'received' }), 6 + 3);
});

test('kernel counters: the checksum ones, named as the kernel names them, added per interval', async () => {
  const m = exporter();
  const delta = (d: Partial<Record<ChecksumCounterName, number | null>>): Record<ChecksumCounterName, number | null> => {
    const all = Object.fromEntries(CHECKSUM_COUNTERS.map((k) => [k, 0])) as Record<ChecksumCounterName, number | null>;
    return { ...all, ...d };
  };
  m.observeKernel('B', delta({ udpInCsumErrors: 3, tcpInCsumErrors: 1, udpInErrors: 3, udp6InCsumErrors: null }));
  m.observeKernel('B', delta({ udpInCsumErrors: 2, ipInCsumErrors: 5 }));
  const e = await scrape(m);
  assert.equal(value(e, 'csumtop_kernel_checksum_errors_total', { netns: 'B', counter: 'Udp_InCsumErrors' }), 5);
  assert.equal(value(e, 'csumtop_kernel_checksum_errors_total', { netns: 'B', counter: 'Tcp_InCsumErrors' }), 1);
  assert.equal(value(e, 'csumtop_kernel_checksum_errors_total', { netns: 'B', counter: 'IpExt_InCsumErrors' }), 5);
  // snmp6 names split after the protocol, as node_exporter does.
  assert.equal(value(e, 'csumtop_kernel_checksum_errors_total', { netns: 'B', counter: 'Udp6_InCsumErrors' }), 0);
  const counterNames = select(e, 'csumtop_kernel_checksum_errors_total').map((s) => s.labels.counter);
  assert.ok(
    counterNames.every((n) => /^[A-Za-z0-9]+_InCsumErrors$/.test(n)),
    `non-checksum counters exported: ${counterNames.join(', ')}`,
  );
  assert.ok(!counterNames.includes('Udp_InErrors'));
});

// ------------------------------------------------------------------ correlation snapshots

function peer(p: Partial<PeerCarriers>): PeerCarriers {
  return {
    namespace: 'host',
    underlay: 'eth0',
    overlay: 'flannel.1',
    peer: '10.0.0.2',
    local: '10.0.0.1',
    direction: 'from-peer',
    tunnel: 'vxlan',
    vni: 1,
    carriers: 0,
    badOuter: 0,
    badInner: 0,
    badIpv4: 0,
    delivered: 0,
    lost: 0,
    lostBad: 0,
    unmatchedOverlay: 0,
    inFlight: 0,
    firstSeen: '2026-01-01T00:00:00Z',
    lastSeen: '2026-01-01T00:00:01Z',
    ...p,
  };
}

function finding(id: Finding['id'], severity: Finding['severity'], subject: Finding['subject']): Finding {
  const what = subject.peer ?? subject.interface ?? subject.namespace ?? '';
  return {
    id,
    key: `${id}/${what}`,
    severity,
    title: id,
    summary: 'synthetic',
    subject,
    evidence: [],
    remedy: [],
    references: [],
    firstSeen: '2026-01-01T00:00:00Z',
    lastSeen: '2026-01-01T00:00:01Z',
  };
}

function snapshot(peers: PeerCarriers[], findings: Finding[] = []): CorrelationSnapshot {
  return {
    time: '2026-01-01T00:00:01Z',
    rates: [],
    peers,
    flows: [],
    badFlows: [],
    flowsEvicted: 0,
    eventsDropped: 0,
    blind: { ringDrops: 0, eventsDropped: 0, recordsDropped: 0 },
    overlayUnattributed: 0,
    dns: { queries: 0, answered: 0, unanswered: 0, retries: 0, latencyP50Ms: null, latencyMaxMs: null, unansweredList: [], attributed: 0 },
    syn: { connections: 0, answered: 0, refused: 0, unanswered: 0, retransmitted: 0, delayedBy: {}, slowList: [], attributed: 0 },
    kernel: [],
    findings,
  };
}

test('peer carriers from snapshots: verdicts, direction, cumulative entries turned into increments', async () => {
  const m = exporter();
  const first = snapshot([
    peer({ peer: '10.0.0.2', carriers: 10, badOuter: 3, badInner: 1, lost: 4 }),
    peer({ peer: '10.0.0.2', direction: 'to-peer', carriers: 6, badOuter: 2, lost: null }),
  ]);
  const rx = { device: 'eth0', netns: 'host', peer: '10.0.0.2', direction: 'received' };
  // A new entry: published at 0 until a scrape has seen it.
  m.update(first);
  let e = await scrape(m);
  assert.equal(value(e, 'csumtop_vxlan_peer_carriers_total', { ...rx, verdict: 'bad_outer' }), 0);
  assert.equal(value(e, 'csumtop_vxlan_peer_carriers_total', { ...rx, verdict: 'lost' }), 0);
  m.update(first);
  e = await scrape(m);
  assert.equal(value(e, 'csumtop_vxlan_peer_carriers_total', { ...rx, verdict: 'ok' }), 6);
  assert.equal(value(e, 'csumtop_vxlan_peer_carriers_total', { ...rx, verdict: 'bad_outer' }), 3);
  assert.equal(value(e, 'csumtop_vxlan_peer_carriers_total', { ...rx, verdict: 'bad_inner' }), 1);
  assert.equal(value(e, 'csumtop_vxlan_peer_carriers_total', { ...rx, verdict: 'bad_ipv4' }), 0);
  assert.equal(value(e, 'csumtop_vxlan_peer_carriers_total', { ...rx, verdict: 'lost' }), 4);
  const tx = { ...rx, direction: 'sent' };
  assert.equal(value(e, 'csumtop_vxlan_peer_carriers_total', { ...tx, verdict: 'bad_outer' }), 2);
  // No overlay captured: no "lost" can be known, so none is published.
  assert.equal(select(e, 'csumtop_vxlan_peer_carriers_total', { ...tx, verdict: 'lost' }).length, 0);

  // The next interval: the same entry grew.
  m.update(snapshot([peer({ peer: '10.0.0.2', carriers: 15, badOuter: 5, badInner: 1, lost: 6 })]));
  e = await scrape(m);
  assert.equal(value(e, 'csumtop_vxlan_peer_carriers_total', { ...rx, verdict: 'ok' }), 9);
  assert.equal(value(e, 'csumtop_vxlan_peer_carriers_total', { ...rx, verdict: 'bad_outer' }), 5);
  assert.equal(value(e, 'csumtop_vxlan_peer_carriers_total', { ...rx, verdict: 'lost' }), 6);
  // The pipeline evicted and restarted the entry (fewer carriers): its counts are new ones.
  m.update(snapshot([peer({ peer: '10.0.0.2', carriers: 2, badOuter: 1, lost: 0 })]));
  e = await scrape(m);
  assert.equal(value(e, 'csumtop_vxlan_peer_carriers_total', { ...rx, verdict: 'ok' }), 10);
  assert.equal(value(e, 'csumtop_vxlan_peer_carriers_total', { ...rx, verdict: 'bad_outer' }), 6);
  assert.equal(value(e, 'csumtop_vxlan_peer_carriers_total', { ...rx, verdict: 'lost' }), 6);
});

test('peers past --metrics-max-peers fold into peer="other", which sums them', async () => {
  const m = exporter({ maxPeers: 2 });
  const peers = ['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5'].map((p, i) => peer({ peer: p, carriers: 10, badOuter: i + 1 }));
  const e = await settleSnapshot(m, snapshot(peers));
  const seen = [...new Set(select(e, 'csumtop_vxlan_peer_carriers_total').map((s) => s.labels.peer))].sort();
  assert.deepEqual(seen, ['10.0.0.2', '10.0.0.3', 'other']);
  assert.equal(value(e, 'csumtop_vxlan_peer_carriers_total', { peer: 'other', verdict: 'bad_outer' }), 3 + 4);
  assert.equal(value(e, 'csumtop_vxlan_peer_carriers_total', { peer: 'other', verdict: 'ok' }), 7 + 6);
  assert.equal(m.folded().peers, 2);
});

test('findings: a gauge at 1 while the finding holds, removed when it no longer does', async () => {
  const m = exporter();
  m.update(
    snapshot(
      [],
      [
        finding('vxlan-outer-bad-from-peer', 'critical', { peer: '10.0.0.2' }),
        finding('capture-loss', 'warning', { interface: 'eth0', namespace: 'host' }),
        finding('offload-artifacts', 'info', { interface: 'vlb', namespace: 'B' }),
        // The pipeline's own form: the report's label "ns/dev".
        finding('ipv4-header-bad', 'critical', { interface: 'B/vlb', namespace: 'B' }),
      ],
    ),
  );
  let e = await scrape(m);
  assert.equal(value(e, 'csumtop_finding', { id: 'vxlan-outer-bad-from-peer', severity: 'critical', subject: '10.0.0.2' }), 1);
  assert.equal(value(e, 'csumtop_finding', { id: 'capture-loss', severity: 'warning', subject: 'eth0' }), 1);
  assert.equal(value(e, 'csumtop_finding', { id: 'offload-artifacts', severity: 'info', subject: 'B/vlb' }), 1);
  assert.equal(value(e, 'csumtop_finding', { id: 'ipv4-header-bad', severity: 'critical', subject: 'B/vlb' }), 1);
  m.update(snapshot([], [finding('vxlan-outer-bad-from-peer', 'critical', { peer: '10.0.0.2' })]));
  e = await scrape(m);
  assert.deepEqual(
    select(e, 'csumtop_finding').map((s) => s.labels.id),
    ['vxlan-outer-bad-from-peer'],
  );
  m.update(snapshot([]));
  e = await scrape(m);
  assert.equal(select(e, 'csumtop_finding').length, 0);
});

test('csumtop_blind_total: what csumtop did not see, per kind, at 0 from the start and rising with the snapshots', async () => {
  const m = exporter();
  const zero = await m.text();
  for (const what of ['ring_drops', 'events_dropped', 'records_dropped'])
    assert.match(zero, new RegExp(`^csumtop_blind_total\\{what="${what}"\\} 0$`, 'm'), what);
  m.update({ ...snapshot([]), blind: { ringDrops: 0, eventsDropped: 40, recordsDropped: 3 } });
  m.update({ ...snapshot([]), blind: { ringDrops: 2, eventsDropped: 100, recordsDropped: 3 } });
  const t = await m.text();
  assert.match(t, /^csumtop_blind_total\{what="ring_drops"\} 2$/m);
  assert.match(t, /^csumtop_blind_total\{what="events_dropped"\} 100$/m);
  assert.match(t, /^csumtop_blind_total\{what="records_dropped"\} 3$/m);
});

test("csumtop_kernel_drops_total: the kernel's verdicts per netns, device, reason and peer, from their totals; peers capped", async () => {
  const m = exporter({ maxPeers: 1 });
  const drop = (peer: string | null, total: number, device = 'vlb') => ({
    namespace: 'node2',
    device,
    reason: 'UDP_CSUM' as const,
    peer,
    total,
    interval: 0,
    outcomes: { ...noOutcomes(), seenBad: total },
    pending: 0,
    frame: null,
  });
  const view = (...drops: ReturnType<typeof drop>[]): CorrelationSnapshot => ({
    ...snapshot([]),
    kernelDrops: {
      drops,
      other: 0,
      otherOutcomes: noOutcomes(),
      matchWindowMs: 2000,
      matching: true,
      keys: { size: drops.length, cap: 512, evicted: 0 },
      ringFull: 0,
    },
  });
  const l = { netns: 'node2', device: 'vlb', reason: 'UDP_CSUM' };
  // New: published at 0 first, so that increase() sees the first drops.
  m.update(view(drop('192.168.56.11', 3)));
  let e = await scrape(m);
  assert.equal(value(e, 'csumtop_kernel_drops_total', { ...l, peer: '192.168.56.11' }), 0);
  m.update(view(drop('192.168.56.11', 3)));
  e = await scrape(m);
  assert.equal(value(e, 'csumtop_kernel_drops_total', { ...l, peer: '192.168.56.11' }), 3);
  m.update(view(drop('192.168.56.11', 5), drop('10.0.0.9', 7), drop(null, 2, 'eth1')));
  await scrape(m);
  m.update(view(drop('192.168.56.11', 5), drop('10.0.0.9', 7), drop(null, 2, 'eth1')));
  e = await scrape(m);
  assert.equal(value(e, 'csumtop_kernel_drops_total', { ...l, peer: '192.168.56.11' }), 5);
  assert.equal(value(e, 'csumtop_kernel_drops_total', { ...l, peer: 'other' }), 7, 'past --metrics-max-peers a peer folds into other');
  assert.equal(value(e, 'csumtop_kernel_drops_total', { ...l, device: 'eth1', peer: 'unknown' }), 2, 'headers not readable: peer unknown');
  // Without the source (no kernelDrops): nothing changes.
  m.update(snapshot([]));
  e = await scrape(m);
  assert.equal(value(e, 'csumtop_kernel_drops_total', { ...l, peer: '192.168.56.11' }), 5);
});

test("csumtop_kernel_drop_matches_total: what csumtop saw of the kernel's drops, per netns, device, reason and outcome (peers summed, no peer label); 0 from the start; none without matching", async () => {
  const m = exporter({ maxPeers: 1 });
  const drop = (peer: string, outcomes: Partial<KernelDropOutcomes>, pending = 0) => {
    const o = { ...noOutcomes(), ...outcomes };
    return {
      namespace: 'node2',
      device: 'vlb',
      reason: 'UDP_CSUM' as const,
      peer,
      total: Object.values(o).reduce((a, b) => a + b, 0) + pending,
      interval: 0,
      outcomes: o,
      pending,
      frame: null,
    };
  };
  const view = (matching: boolean, ...drops: ReturnType<typeof drop>[]): CorrelationSnapshot => ({
    ...snapshot([]),
    kernelDrops: {
      drops,
      other: 0,
      otherOutcomes: noOutcomes(),
      matchWindowMs: 2000,
      matching,
      keys: { size: drops.length, cap: 512, evicted: 0 },
      ringFull: 0,
    },
  });
  const l = { netns: 'node2', device: 'vlb', reason: 'UDP_CSUM' };
  const first = view(true, drop('192.168.56.11', { seenBad: 3 }, 2), drop('10.0.0.9', { tableFull: 4 }));
  m.update(first);
  let e = await scrape(m);
  for (const o of ['seen_bad', 'seen_good', 'seen_unverified', 'not_captured', 'ring_drop', 'not_seen', 'table_full'])
    assert.equal(value(e, 'csumtop_kernel_drop_matches_total', { ...l, outcome: o }), 0, `${o} published at 0 first`);
  m.update(first);
  e = await scrape(m);
  assert.equal(value(e, 'csumtop_kernel_drop_matches_total', { ...l, outcome: 'seen_bad' }), 3, 'the waiting drops are not counted yet');
  assert.equal(value(e, 'csumtop_kernel_drop_matches_total', { ...l, outcome: 'table_full' }), 4, 'both peers, in one series');
  // The 2 waiting are resolved later: one seen bad, one ring drop.
  m.update(view(true, drop('192.168.56.11', { seenBad: 4, ringDrop: 1 }), drop('10.0.0.9', { tableFull: 4, seenGood: 1 })));
  e = await scrape(m);
  assert.equal(value(e, 'csumtop_kernel_drop_matches_total', { ...l, outcome: 'seen_bad' }), 4);
  assert.equal(value(e, 'csumtop_kernel_drop_matches_total', { ...l, outcome: 'ring_drop' }), 1);
  assert.equal(value(e, 'csumtop_kernel_drop_matches_total', { ...l, outcome: 'seen_good' }), 1);
  assert.equal(value(e, 'csumtop_kernel_drops_total', { ...l, peer: '192.168.56.11' }), 5);
  const matches = e.samples.filter((x) => x.name === 'csumtop_kernel_drop_matches_total');
  assert.equal(matches.length, 7, 'one series per outcome of (node2, vlb, UDP_CSUM)');
  assert.ok(
    matches.every((x) => !('peer' in x.labels)),
    'no peer label on the outcomes',
  );

  // libpcap: the drops are counted, their outcomes (all "not captured" natively) never published.
  const p = exporter({});
  const pcap = view(false, drop('192.168.56.11', { notCaptured: 3 }));
  p.update(pcap);
  await scrape(p);
  p.update(pcap);
  e = await scrape(p);
  assert.equal(value(e, 'csumtop_kernel_drops_total', { ...l, peer: '192.168.56.11' }), 3);
  assert.ok(!e.samples.some((x) => x.name === 'csumtop_kernel_drop_matches_total'), 'no outcome without matching');
});
