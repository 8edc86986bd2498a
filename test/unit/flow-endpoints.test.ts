/**
 * One decoder of a flow endpoint (issue 15): the bad-flow table (decodeFlows) reads its
 * FlowEndpoints with the same endpointAt as records and correlation events, so a flow's
 * endpoints have the model's Endpoint shape (src/model/endpoint.ts: addresses as text,
 * ports null where the protocol has none) and equal those of the bad-frame records of the
 * same frames.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

import type { Endpoint } from '../../src/model/endpoint.js';
import { decodeFlows, nativeLayout, openFileAnalysis } from '../../src/native/analyzer.js';
import { decodeRecords } from '../../src/native/records.js';
import { eth, icmpEcho, ipv4, ipv6, tcp, udp, vxlan } from '../fixtures/lib/build.js';
import { pcapFile } from '../fixtures/lib/capfile.js';
import { encode } from '../fixtures/lib/packet.js';

test('bad flows: endpoints in the Endpoint shape, the same as the records of their frames', () => {
  const frames = [
    // ICMP: type and code stand for the ports (native/flow/bad_flows.cc, decode/transport.cc).
    eth(ipv4('10.1.0.1', '10.1.0.2', icmpEcho({ csum: 0x1234 }))),
    // A later fragment with a bad header checksum: no transport header, so no ports (null, not 0).
    eth(ipv4('10.1.0.9', '10.1.0.10', new Uint8Array(16), { proto: 17, df: false, fragOffset: 100, csum: 0x5555 })),
    eth(ipv6('fd00::1', 'fd00::2:3', udp(5353, 53, new Uint8Array(12), 0x4321))),
    // VXLAN carrier with a bad inner TCP checksum: outer and inner endpoints.
    eth(ipv4('192.168.0.1', '192.168.0.2', udp(40000, 4789, vxlan(42, eth(ipv4('10.244.1.5', '10.244.2.7', tcp(33000, 443, { csum: 0x1111 }))))))),
  ].map((f, k) => {
    const bytes = encode(f).bytes;
    return { tsNs: 1_700_000_000_000_000_000n + BigInt(k) * 1000n, data: bytes, wirelen: bytes.length };
  });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'csumtop-flow-ep-'));
  try {
    const file = path.join(dir, 'flows.pcap');
    writeFileSync(file, pcapFile({ linktype: 1, nsec: true }, frames));
    const fa = openFileAnalysis(file, { listBad: true });
    for (let r = fa.step(); r.status === 'more'; r = fa.step());
    const records = decodeRecords(fa.takeRecords(), nativeLayout().record);
    const flows = decodeFlows(fa.flowsPacked(), nativeLayout());
    assert.equal(fa.finish(), null);

    const ep = (family: 4 | 6, src: string, dst: string, proto: number, sport: number | null, dport: number | null): Endpoint => ({
      family,
      src,
      dst,
      proto,
      sport,
      dport,
    });
    const byOuter = (src: string): (typeof flows)[number] => {
      const f = flows.find((x) => x.outer.src === src);
      assert.ok(f, `a flow from ${src}: ${JSON.stringify(flows.map((x) => x.outer))}`);
      return f;
    };
    assert.equal(flows.length, 4);
    assert.deepEqual(byOuter('10.1.0.1').outer, ep(4, '10.1.0.1', '10.1.0.2', 1, 8, 0));
    assert.deepEqual(byOuter('10.1.0.9').outer, ep(4, '10.1.0.9', '10.1.0.10', 17, null, null));
    assert.deepEqual(byOuter('fd00::1').outer, ep(6, 'fd00::1', 'fd00::2:3', 17, 5353, 53));
    const carrier = byOuter('192.168.0.1');
    assert.deepEqual(carrier.outer, ep(4, '192.168.0.1', '192.168.0.2', 17, 40000, 4789));
    assert.deepEqual(carrier.inner, ep(4, '10.244.1.5', '10.244.2.7', 6, 33000, 443));

    // The same frames' records, decoded from BadFrameRecord: the same endpoints.
    assert.equal(records.length, 4);
    for (const r of records) {
      const f = byOuter(r.outer!.src);
      assert.deepEqual(f.outer, r.outer);
      assert.deepEqual(f.inner ?? null, r.inner);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
