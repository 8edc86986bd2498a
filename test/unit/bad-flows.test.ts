import assert from 'node:assert/strict';
import { test } from 'node:test';

import { BadFlowTracker, MAX_SAMPLED_BYTES_FLOWS } from '../../src/correlate/bad-flows.js';
import { newBadFlowView } from '../../src/native/bad-flow-view.js';
import type { DecodedRecord } from '../../src/model/bad-frame.js';
import { RECENT_BAD_FRAMES } from '../../src/model/correlation.js';
import { Prng } from '../fixtures/lib/prng.js';
import { dnsNames, ReferenceBadFlowTracker } from '../lib/bad-flows-reference.js';
import { dnsEvents, packRecords } from '../lib/pack-records.js';
import { nativeLayout } from '../../src/native/analyzer.js';

const NO_EVENTS = dnsEvents([]);

function record(frame: number, direction: DecodedRecord['direction'], sport = 41000): DecodedRecord {
  return {
    frame,
    tsNs: BigInt(1_700_000_000_000_000_000 + frame * 1_000_000),
    iface: 3,
    caplen: 100,
    wirelen: 100,
    outer: { family: 4, src: '192.168.189.4', dst: '192.168.189.5', proto: 17, sport, dport: 8472 },
    tunnel: 'vxlan',
    vni: 1,
    inner: { family: 4, src: '10.244.0.1', dst: '10.244.1.10', proto: 17, sport: 53000, dport: 53 },
    checksums: [{ layer: 'outer', depth: 0, protocol: 'udp', found: 0xffff, expected: 0x1000 + frame, looksLikeOffload: false }],
    direction,
    bytes: null,
  };
}

test('a bad flow keeps its latest RECENT_BAD_FRAMES frames, oldest first, with direction and verdicts; snapshots copy them', () => {
  const t = new BadFlowTracker(16);
  const dir = () => ({ label: 'nsb/vlb', namespace: 'nsb', overlay: false });
  const n = RECENT_BAD_FRAMES + 3;
  t.add(packRecords(Array.from({ length: n }, (_, i) => record(i + 1, i % 2 === 0 ? 'received' : 'sent'))), NO_EVENTS, dir);
  t.add(packRecords([record(500, 'received', 42000)]), NO_EVENTS, dir); // another flow: its frames stay its own
  const [f, g] = t.top(10);
  assert.equal(f.count, n);
  assert.deepEqual(
    f.recent.map((r) => r.frame),
    Array.from({ length: RECENT_BAD_FRAMES }, (_, i) => n - RECENT_BAD_FRAMES + 1 + i),
  );
  assert.deepEqual(
    f.recent.map((r) => r.direction),
    f.recent.map((r) => ((r.frame - 1) % 2 === 0 ? 'received' : 'sent')),
  );
  assert.ok(f.recent.every((r) => r.checksums[0].expected === 0x1000 + r.frame && /^2023-11-14T22:1\d:\d\d\.\d{9}Z$/.test(r.time)));
  assert.deepEqual(
    g.recent.map((r) => r.frame),
    [500],
  );
  // A snapshot is a copy: later frames do not change what was handed out.
  t.add(packRecords([record(n + 1, 'received')]), NO_EVENTS, dir);
  assert.equal(f.recent.length, RECENT_BAD_FRAMES);
  assert.equal(f.recent[f.recent.length - 1].frame, n);
  assert.equal(t.top(1)[0].recent[RECENT_BAD_FRAMES - 1].frame, n + 1);
});

test('the native view hands out what the per-frame objects did (test/lib/bad-flows-reference.ts) on random records: flows, counts, times, peers, DNS names, samples and their bytes, recent frames, evictions', () => {
  const rnd = new Prng(0xbadf10);
  const layers = ['outer', 'inner'] as const;
  const protocols = ['udp', 'tcp', 'ipv4', 'icmp'] as const;
  const directions: DecodedRecord['direction'][] = ['received', 'sent', 'other-host', null];
  const F = nativeLayout().event.flagBits;
  for (const [cap, offload] of [
    [16, false],
    [64, true],
    [700, false],
  ] as const) {
    const got = new BadFlowTracker(cap, offload);
    const want = new ReferenceBadFlowTracker(cap, offload);
    const dir = (id: number) => (id === 9 ? undefined : { label: `ns/if${id}`, namespace: 'ns', overlay: false });
    let frame = 0;
    for (let round = 0; round < 60; round++) {
      const named: Array<[number, string]> = [];
      const records: DecodedRecord[] = Array.from({ length: rnd.int(0, 80) }, () => {
        frame++;
        // A DNS name for some frames; two DNS events for a few (the last one names it).
        if (frame % 7 === 0) named.push([frame, `q${frame}.example.`]);
        if (frame % 21 === 0) named.push([frame, `second${frame}.example.`]);
        const flow = rnd.int(0, cap * 2);
        // Every way a key reads: VXLAN, GRE with and without a key, IP-in-IP, none.
        const tunnel = (['vxlan', 'gre', 'gre', 'ipip', null, null] as const)[flow % 6];
        const v6 = flow % 5 === 0;
        const endpoint = (base: number, sport: number | null) => ({
          family: (v6 ? 6 : 4) as 4 | 6,
          src: v6 ? `fd00:${base}::${(flow % 250).toString(16)}` : `192.168.${base}.${flow % 250}`,
          dst: v6 ? `fd00:${base}::fe` : `192.168.${base}.254`,
          proto: 17,
          sport,
          dport: sport === null ? null : 8472,
        });
        return {
          frame,
          tsNs: 1_700_000_000_000_000_000n + BigInt(frame) * 1_234_567n,
          iface: [1, 2, 9][flow % 3],
          caplen: 100,
          wirelen: 100 + (frame % 50),
          outer: flow % 11 === 0 ? null : endpoint(1, flow % 13 === 0 ? null : 40000 + flow),
          tunnel,
          vni: tunnel === 'vxlan' || (tunnel === 'gre' && flow % 6 === 1) ? flow % 4 : null,
          inner: tunnel && flow % 17 !== 0 ? endpoint(244, 53000 + (flow % 5)) : null,
          checksums: Array.from({ length: rnd.int(1, 2) }, () => ({
            layer: rnd.pick(layers),
            depth: 0,
            protocol: rnd.pick(protocols),
            found: rnd.int(0, 0xffff),
            expected: rnd.int(0, 0xffff),
            looksLikeOffload: rnd.next() < 0.5,
          })),
          direction: rnd.pick(directions),
          bytes: rnd.next() < 0.7 ? rnd.bytes(rnd.int(1, 64)) : null,
        } as DecodedRecord;
      });
      // Records come in frame order; a few rounds reversed check the names are still found.
      if (round % 5 === 4) records.reverse();
      const packed = packRecords(records);
      const events = dnsEvents(named);
      const decoded = packed.decode();
      got.add(packed, events, dir);
      want.add(decoded, dir, dnsNames(events, F, decoded));
      const limit = rnd.int(1, cap + 10);
      assert.deepEqual(got.top(limit), want.top(limit), `cap ${cap}, round ${round}`);
      assert.deepEqual(got.tableUse(), want.tableUse());
    }
    assert.ok(got.evicted > 0, `cap ${cap}: some flows were evicted`);
    const all = got.top(cap);
    for (const what of ['peer', 'dnsName', 'vni', 'inner', 'outer'] as const) {
      assert.ok(
        all.some((f) => f[what] !== null),
        `cap ${cap}: some flows have a ${what}`,
      );
    }
    assert.ok(all.some((f) => f.tunnel === 'gre' && f.vni !== null) && all.some((f) => f.tunnel === 'gre' && f.vni === null), 'GRE with and without a key');
    assert.ok(all.some((f) => f.sample?.bytes) && all.some((f) => !f.sample?.bytes), 'samples with and without bytes');
  }
});

test('the native view: 896-912 bytes per flow of its cap at 8 recent frames, and the bytes of at most 2 x MAX_SAMPLED_BYTES_FLOWS samples', () => {
  assert.equal(RECENT_BAD_FRAMES, 8, 'the figures of native/flow/bad_flow_view.h are for 8 recent frames');
  for (const cap of [16, 1000, 4096]) {
    const v = newBadFlowView(cap, RECENT_BAD_FRAMES, MAX_SAMPLED_BYTES_FLOWS, false);
    assert.ok(v.tableBytes >= cap * 896 && v.tableBytes <= cap * 912, `cap ${cap}: ${v.tableBytes} bytes`);
  }
  // A flood of new flows, every record with 1000 bytes: only the newest samples keep theirs.
  const t = new BadFlowTracker(4096);
  const dir = () => ({ label: 'eth0', namespace: '', overlay: false });
  for (let b = 0; b < 10; b++) {
    const records = Array.from({ length: 700 }, (_, i) => ({
      ...record(b * 700 + i + 1, 'received', 1000 + b * 700 + i),
      bytes: new Uint8Array(1000).fill(b),
    }));
    t.add(packRecords(records), NO_EVENTS, dir);
  }
  const withBytes = t.top(4096).filter((f) => f.sample?.bytes);
  assert.equal(t.tableUse().size, 4096);
  assert.ok(withBytes.length >= MAX_SAMPLED_BYTES_FLOWS && withBytes.length <= 2 * MAX_SAMPLED_BYTES_FLOWS, `${withBytes.length} samples with bytes`);
  // They are the newest: the last batch's.
  assert.ok(withBytes.every((f) => f.sample!.bytes![0] === 9 && f.sample!.frame > 9 * 700));
});

test('a flow shows its interface as it was when the view first saw it: still named after the interface vanished, and named once the directory knows it', () => {
  const t = new BadFlowTracker(16);
  const known = new Map<number, { label: string; namespace: string; overlay: boolean }>([[3, { label: 'nsb/vlb', namespace: 'nsb', overlay: false }]]);
  const dir = (id: number) => known.get(id);
  t.add(packRecords([record(1, 'received'), { ...record(2, 'received'), iface: 4 }]), NO_EVENTS, dir);
  const named = (): Record<string, string> => Object.fromEntries(t.top(16).map((f) => [String(f.recent[0].frame), `${f.interface}@${f.namespace}`]));
  assert.deepEqual(named(), { '1': 'nsb/vlb@nsb', '2': '#4@' });
  known.delete(3); // vanished and folded: the directory no longer has it
  known.set(4, { label: 'nsc/eth0', namespace: 'nsc', overlay: false }); // now known
  t.add(packRecords([record(3, 'received', 43000)]), NO_EVENTS, dir); // a new flow of interface 3
  assert.deepEqual(named(), { '1': 'nsb/vlb@nsb', '2': 'nsc/eth0@nsc', '3': 'nsb/vlb@nsb' });
});
