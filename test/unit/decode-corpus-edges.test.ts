/**
 * Decoder truths of issue 13 (section 4), rule by rule on single frames; the capture
 * files with every case and their tshark cross-check are test/fixtures/corpus-edge-cases.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { decodeFrame, nativeLayout, type DecodedChecksum } from '../../src/native/analyzer.js';
import { KINDS, LAYERS, MALFORMED_REASONS, STATUS, STATUSES, TUNNELS, UNDECODED_REASONS } from '../../src/model/verdict.js';
import type { ReportDocument } from '../../src/model/report.js';
import { buildFixture, dnsQuery, encode, eth, gre, ipv4, mpls, nflog, udp, type Ipv4Node } from '../fixtures/lib/index.js';
import { BIN } from '../fixtures/harness.js';
import { corpusEdgeSpecs } from '../fixtures/corpus-edge-cases.js';

function statuses(sums: DecodedChecksum[]): string[] {
  return sums.map((c) => `${c.depth}/${c.kind}/${c.status}`);
}

const query = (csum?: number): Ipv4Node => ipv4('10.244.1.17', '10.244.2.3', udp(40000, 53, dnsQuery(1, 'a.svc'), csum));

test('the native name tables are the TypeScript ones (layers, kinds, statuses, tunnels, malformed and not-decoded reasons)', () => {
  const L = nativeLayout();
  assert.equal(L.numLayers, LAYERS.length);
  assert.deepEqual(L.kindNames, [...KINDS]);
  assert.deepEqual(L.statusNames, [...STATUSES]);
  for (const s of STATUSES) assert.equal(STATUSES[STATUS[s]], s, `STATUS.${s}`);
  assert.equal(L.numStatus, STATUSES.length);
  assert.equal(L.numTunnels, TUNNELS.length);
  assert.deepEqual(L.malformedNames, [...MALFORMED_REASONS]);
  assert.deepEqual(L.undecodedNames, [...UNDECODED_REASONS]);
  assert.equal(L.numUndecoded, UNDECODED_REASONS.length);
});

test('an impossible IPv4 total length is malformed and the header checksum is still verified', () => {
  const real = encode(query()).bytes.length;
  for (const total of [1500, 12]) {
    const ok = decodeFrame(encode({ ...query(), totalLength: total }).bytes, 228);
    assert.equal(ok.malformed, 'ipv4-total-length');
    assert.deepEqual(statuses(ok.checksums), ['0/ipv4/ok'], `total ${total}, checksum right for it`);
    const bad = decodeFrame(encode({ ...query(), totalLength: total, csum: 0x3c3c }).bytes, 228);
    assert.equal(bad.malformed, 'ipv4-total-length');
    assert.deepEqual(statuses(bad.checksums), ['0/ipv4/bad'], `total ${total}, checksum wrong`);
    assert.deepEqual([...bad.layers[0].src].slice(0, 4), [10, 244, 1, 17], 'the bad header keeps its addresses for the flow');
  }
  assert.ok(real < 1500);
});

test('a segmentation super-packet (total length 0, header checksum 0) is unverifiable, not bad', () => {
  const tso = decodeFrame(encode({ ...query(), totalLength: 0, csum: 'zero' }).bytes, 228);
  assert.equal(tso.malformed, null);
  assert.deepEqual(statuses(tso.checksums), ['0/ipv4/unverifiable', '0/udp/unverifiable']);
  assert.deepEqual(
    tso.checksums.map((c) => c.why),
    [3, 3],
    'oversize',
  );
  // Total length 0 with a computed header checksum (BIG TCP) is verified as it stands.
  const big = decodeFrame(encode({ ...query(), totalLength: 0 }).bytes, 228);
  assert.deepEqual(statuses(big.checksums), ['0/ipv4/ok', '0/udp/unverifiable']);
});

test('GRE: its checksum is a kind of its own, the key is kept where VXLAN keeps the VNI', () => {
  const keyed = decodeFrame(encode(ipv4('192.168.1.1', '192.168.1.2', gre(query(0x1111), { csum: 0x0bad, key: 0 }))).bytes, 228);
  assert.deepEqual(statuses(keyed.checksums), ['0/ipv4/ok', '0/gre/bad', '1/ipv4/ok', '1/udp/bad']);
  assert.equal(TUNNELS[keyed.layers[1].tunnel], 'gre');
  assert.equal(keyed.layers[1].tunnel, 6, 'kTunnelGreKey: a key of 0 is still a key');
  assert.equal(keyed.layers[1].vni, 0);
  const plain = decodeFrame(encode(ipv4('192.168.1.1', '192.168.1.2', gre(query()))).bytes, 228);
  assert.equal(plain.layers[1].tunnel, 5, 'kTunnelGre: no key');
  assert.equal(plain.unsupported, false);
});

test('MPLS: the first nibble after the bottom label decides, a pseudowire is not decoded', () => {
  const ip = decodeFrame(encode(eth(mpls([100, 200], query(0x2222)))).bytes, 1);
  assert.deepEqual(statuses(ip.checksums), ['0/ipv4/ok', '0/udp/bad']);
  const pw = decodeFrame(encode(eth(mpls([100], Uint8Array.of(0, 0, 0, 1, 0xaa, 0xbb)))).bytes, 1);
  assert.equal(pw.undecoded, 'mpls-payload');
  assert.equal(pw.unsupported, true);
});

test('NFLOG: TLVs in either byte order, a cut payload is truncated and not malformed', () => {
  for (const bigEndian of [false, true]) {
    const f = decodeFrame(encode(nflog(query(0x3333), { bigEndian })).bytes, 239);
    assert.deepEqual(statuses(f.checksums), ['0/ipv4/ok', '0/udp/bad'], bigEndian ? 'big-endian' : 'little-endian');
  }
  const cut = decodeFrame(encode(nflog(query(), { range: 30 })).bytes, 239);
  assert.equal(cut.malformed, null);
  assert.equal(cut.truncated, true);
  assert.deepEqual(statuses(cut.checksums), ['0/ipv4/ok', '0/udp/unverifiable']);
  assert.equal(decodeFrame(encode(nflog(query(), { noPayload: true })).bytes, 239).undecoded, 'nflog-payload');
});

let dir: string;
before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'csumtop-edges-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('frames csumtop cannot decode are never summed up as "No bad checksums."', () => {
  const spec = corpusEdgeSpecs().find((s) => s.name === 'not-decoded');
  assert.ok(spec);
  const built = buildFixture(spec);
  const file = path.join(dir, built.file);
  writeFileSync(file, built.bytes);
  const text = spawnSync(BIN, ['-r', file], { encoding: 'utf8' });
  assert.equal(text.status, 0, text.stderr);
  assert.doesNotMatch(text.stdout, /^No bad checksums\.$/m);
  assert.match(text.stdout, /^Not verified: 5 of 7 frames, which csumtop cannot decode in full \(.*link-type 2.*\)/m);
  assert.match(text.stdout, /^No bad checksums in the frames verified\.$/m);
  assert.match(text.stdout, /Interface ppp0 \(PPP, not decoded\): 1 frames.*1 not decoded/);
  const json = spawnSync(BIN, ['-r', file, '--json'], { encoding: 'utf8' });
  const doc = JSON.parse(json.stdout) as ReportDocument;
  assert.equal(doc.totals.notVerified, 5);
  assert.deepEqual(doc.totals.notVerifiedReasons, { 'link-type': 2, macsec: 1, 'dsa-tag': 1, pppoe: 1 });
  assert.deepEqual(doc.interfaces.find((i) => i.name === 'eth0')?.unsupportedReasons, { macsec: 1, 'dsa-tag': 1, pppoe: 1 });
});

test('a GRE flow shows its key in the report, as VXLAN shows its VNI', () => {
  const spec = corpusEdgeSpecs().find((s) => s.name === 'gre');
  assert.ok(spec);
  const built = buildFixture(spec);
  const file = path.join(dir, built.file);
  writeFileSync(file, built.bytes);
  const text = spawnSync(BIN, ['-r', file], { encoding: 'utf8' });
  assert.equal(text.status, 1, text.stderr);
  assert.match(text.stdout, /\[gre key 7\] {2}\S+ > \S+ udp/);
  assert.match(text.stdout, /192\.168\.56\.\d+ > 192\.168\.56\.\d+ gre {2}\[gre\]/);
});
