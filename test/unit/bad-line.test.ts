/**
 * The live `bad` JSON line written directly (src/output/json-lines.ts badLine) is the
 * text of the generic path, `jsonLine({ type: 'bad', version, ...badFrameReport(r, names) })`,
 * byte for byte: on the records the addon makes of real frames (IPv4, IPv6, ICMP, a
 * fragment without ports, VXLAN with inner checksums, several bad checksums in one frame)
 * and on random records (every direction, null endpoints and VNIs, checksums with and
 * without an offset, interface names that need escaping: quotes, backslashes, C0 and C1
 * controls, U+2028, non-ASCII, an id with no name).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

import type { BadChecksum, DecodedRecord, Direction } from '../../src/model/bad-frame.js';
import type { Endpoint } from '../../src/model/endpoint.js';
import { KINDS, LAYERS, TUNNELS } from '../../src/model/verdict.js';
import { nativeLayout, openFileAnalysis } from '../../src/native/analyzer.js';
import { decodeRecords } from '../../src/native/records.js';
import { badLine, jsonLine, jsonText, JSON_LINES_VERSION } from '../../src/output/json-lines.js';
import { badFrameReport } from '../../src/output/report.js';
import { eth, icmpEcho, ipv4, ipv6, tcp, udp, vxlan } from '../fixtures/lib/build.js';
import { pcapFile } from '../fixtures/lib/capfile.js';
import { encode } from '../fixtures/lib/packet.js';
import { Prng } from '../fixtures/lib/prng.js';

function generic(r: DecodedRecord, names: string[]): string {
  return jsonLine({ type: 'bad', version: JSON_LINES_VERSION, ...badFrameReport(r, names) });
}

function direct(r: DecodedRecord, names: string[]): string {
  const json: string[] = [];
  names.forEach((n, id) => (json[id] = jsonText(n)));
  return badLine(r, json);
}

test("bad line: the addon's records of real frames give the generic path's text", () => {
  const frames = [
    eth(ipv4('10.1.0.1', '10.1.0.2', icmpEcho({ csum: 0x1234 }))),
    eth(ipv4('10.1.0.9', '10.1.0.10', new Uint8Array(16), { proto: 17, df: false, fragOffset: 100, csum: 0x5555 })),
    eth(ipv6('fd00::1', 'fd00::2:3', udp(5353, 53, new Uint8Array(12), 0x4321))),
    eth(ipv4('192.168.0.1', '192.168.0.2', udp(40000, 4789, vxlan(42, eth(ipv4('10.244.1.5', '10.244.2.7', tcp(33000, 443, { csum: 0x1111 }))))))),
    // Bad outer IPv4 header and bad inner UDP at once.
    eth(
      ipv4('192.168.0.3', '192.168.0.4', udp(40001, 8472, vxlan(1, eth(ipv4('10.244.1.6', '10.244.2.8', udp(53000, 53, new Uint8Array(20), 0x2222))))), {
        csum: 0x7777,
      }),
    ),
  ].map((f, k) => {
    const bytes = encode(f).bytes;
    return { tsNs: 1_700_000_000_123_456_789n + BigInt(k) * 1000n, data: bytes, wirelen: bytes.length };
  });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'csumtop-bad-line-'));
  try {
    const file = path.join(dir, 'bad.pcap');
    writeFileSync(file, pcapFile({ linktype: 1, nsec: true }, frames));
    const fa = openFileAnalysis(file, { listBad: true });
    for (let r = fa.step(); r.status === 'more'; r = fa.step());
    const records = decodeRecords(fa.takeRecords(), nativeLayout().record);
    assert.equal(fa.finish(), null);
    assert.equal(records.length, frames.length);
    assert.ok(records.some((r) => r.checksums.length > 1));
    for (const r of records) assert.equal(direct(r, ['eth0']), generic(r, ['eth0']));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("bad line: random records, hostile interface names, every direction: the generic path's text", () => {
  const p = new Prng(0xbad11e);
  const rnd = (): number => p.next();
  const pick = <T>(xs: readonly T[]): T => p.pick(xs);
  const int = (n: number): number => Math.floor(rnd() * n);
  const names = ['eth0', 'we"ird', 'back\\slash', 'tab\there', 'c1\u009bcsi', 'sep\u2028line', 'ünïcødé-ns/veth0', '\u0000nul', 'cslB-1/vlb'];
  const v4 = (): string => `${int(256)}.${int(256)}.${int(256)}.${int(256)}`;
  const v6 = (): string => `fd00::${int(65536).toString(16)}:${int(65536).toString(16)}`;
  const endpoint = (): Endpoint | null => {
    if (rnd() < 0.15) return null;
    const family = rnd() < 0.7 ? 4 : 6;
    const ports = rnd() < 0.8;
    return {
      family,
      src: family === 4 ? v4() : v6(),
      dst: family === 4 ? v4() : v6(),
      proto: pick([1, 6, 17, 58, 47]),
      sport: ports ? int(65536) : null,
      dport: ports ? int(65536) : null,
    };
  };
  const checksum = (): BadChecksum => {
    const depth = int(3);
    return {
      layer: LAYERS[depth === 0 ? 0 : 1],
      depth,
      protocol: pick(KINDS),
      found: int(65536),
      expected: int(65536),
      looksLikeOffload: rnd() < 0.3,
      ...(rnd() < 0.7 ? { offset: int(4096) } : {}),
    };
  };
  const directions: Array<Direction | null> = ['received', 'broadcast', 'multicast', 'other-host', 'sent', null];
  for (let k = 0; k < 2000; k++) {
    const r: DecodedRecord = {
      frame: int(1e9),
      tsNs: BigInt(int(2e9)) * 1_000_000_000n + BigInt(int(1e9)),
      iface: int(names.length + 2), // some ids have no name: "#id"
      caplen: int(70000),
      wirelen: int(70000),
      outer: endpoint(),
      tunnel: pick(TUNNELS),
      vni: rnd() < 0.5 ? int(1 << 24) : null,
      inner: endpoint(),
      checksums: Array.from({ length: 1 + int(4) }, checksum),
      direction: pick(directions),
      bytes: null,
    };
    assert.equal(direct(r, names), generic(r, names), JSON.stringify({ ...r, tsNs: String(r.tsNs) }));
  }
});
