/**
 * An interface has one shape (src/model/interface.ts, issue 15): these tests fail when the
 * addon hands over fields the TypeScript types do not name, or leaves out ones they do
 * (native/napi/host_napi.cc link_object, the Interfaces() of native/napi/capture_file_napi.cc
 * and analyzer_napi.cc), and when a producer of the facts leaves one out. Each field list
 * below is checked against its type by the compiler (`satisfies Record<keyof T, ...>`
 * rejects a missing or an unknown key), and against the addon's objects here.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

import { capturedInterfaceOf } from '../../src/capture/source.js';
import { fileInterfaces } from '../../src/capture/file-run.js';
import { foldedInterface } from '../../src/capture/vanished.js';
import { listLinks, type GeneveParams, type Link } from '../../src/host/links.js';
import type { FileInterface, InterfaceFacts, VxlanParams } from '../../src/model/interface.js';
import { CaptureFileReader, CaptureFileWriter } from '../../src/native/capture-file.js';
import { nativeLayout, openFileAnalysis } from '../../src/native/analyzer.js';
import { buildReport, type InterfaceMeta } from '../../src/output/report.js';
import { parseLinkDump } from '../../src/native/host.js';
import { attr, ifinfomsg, nlmsg, str, u32 } from '../lib/netlink.js';

/** true: always there; false: optional (only some links have it). */
const LINK_FIELDS = {
  ifindex: true,
  name: true,
  flags: true,
  up: true,
  running: true,
  loopback: true,
  mtu: true,
  arphrd: true,
  linktype: true,
  mac: true,
  link: true,
  linkNetnsid: true,
  master: true,
  kind: true,
  driver: true,
  busInfo: true,
  vxlan: false,
  geneve: false,
  features: true,
  fixedFeatures: true,
} as const satisfies Record<keyof Link, boolean>;

const VXLAN_FIELDS = {
  vni: true,
  port: true,
  link: true,
  local: true,
  udpCsum: true,
  udpZeroCsum6Tx: true,
  udpZeroCsum6Rx: true,
} as const satisfies Record<keyof VxlanParams, true>;

const GENEVE_FIELDS = { vni: true, port: true, udpCsum: true, udpZeroCsum6Tx: true, udpZeroCsum6Rx: true } as const satisfies Record<keyof GeneveParams, true>;

const FILE_INTERFACE_FIELDS = { name: true, description: true, linktype: true, snaplen: true, section: true } as const satisfies Record<
  keyof FileInterface,
  true
>;

const FACT_FIELDS = {
  id: true,
  name: true,
  namespace: true,
  label: true,
  role: true,
  kind: true,
  driver: true,
  txChecksumOffload: true,
  vxlan: true,
} as const satisfies Record<keyof InterfaceFacts, true>;

/** The object's own keys are exactly the fields (optional ones may be absent). */
function assertFields(o: object, fields: Record<string, boolean>, what: string): void {
  const keys = Object.keys(o);
  const unknown = keys.filter((k) => !(k in fields));
  assert.deepEqual(unknown, [], `${what}: fields the TypeScript type does not name`);
  const missing = Object.entries(fields)
    .filter(([k, always]) => always && !keys.includes(k))
    .map(([k]) => k);
  assert.deepEqual(missing, [], `${what}: fields the TypeScript type names that the addon left out`);
}

const be16 = (v: number): Buffer => Buffer.from([v >> 8, v & 0xff]);

/** RTM_NEWLINK of a vxlan device with every IFLA_VXLAN_* attribute the addon reads. */
function vxlanLink(): Link {
  const msg = nlmsg(
    16, // RTM_NEWLINK
    2, // NLM_F_MULTI
    Buffer.concat([
      ifinfomsg(0, 7, 1, 0x1 | 0x40), // ARPHRD_ETHER, IFF_UP | IFF_RUNNING
      attr(3, str('flannel.1')), // IFLA_IFNAME
      attr(4, u32(1450)), // IFLA_MTU
      attr(
        18, // IFLA_LINKINFO
        Buffer.concat([
          attr(1, str('vxlan')), // IFLA_INFO_KIND
          attr(
            2, // IFLA_INFO_DATA
            Buffer.concat([
              attr(1, u32(1)), // IFLA_VXLAN_ID
              attr(3, u32(2)), // IFLA_VXLAN_LINK
              attr(4, Buffer.from([192, 168, 200, 1])), // IFLA_VXLAN_LOCAL
              attr(15, be16(8472)), // IFLA_VXLAN_PORT, __be16
              attr(18, Buffer.from([0])), // IFLA_VXLAN_UDP_CSUM: noudpcsum
              attr(19, Buffer.from([1])), // IFLA_VXLAN_UDP_ZERO_CSUM6_TX
              attr(20, Buffer.from([0])), // IFLA_VXLAN_UDP_ZERO_CSUM6_RX
            ]),
          ),
        ]),
      ),
    ]),
  );
  const r = parseLinkDump(msg);
  assert.equal(r.error, null);
  assert.equal(r.links.length, 1);
  return r.links[0];
}

test('a link from the addon has exactly the fields of Link and VxlanParams (rtnetlink parser, and the links of this namespace)', () => {
  const v = vxlanLink();
  assertFields(v, LINK_FIELDS, 'vxlan link');
  assert.ok(v.vxlan, 'the vxlan parameters are there');
  assertFields(v.vxlan, VXLAN_FIELDS, 'vxlan parameters');
  assert.deepEqual(
    { ...v.vxlan },
    { vni: 1, port: 8472, link: 2, local: '192.168.200.1', udpCsum: false, udpZeroCsum6Tx: true, udpZeroCsum6Rx: false },
    'every IFLA_VXLAN_* read',
  );
  // Unprivileged: a dump of csumtop's own namespace (loopback at least).
  const links = listLinks();
  assert.ok(links.length > 0);
  for (const l of links) {
    assertFields(l, LINK_FIELDS, `link ${l.name}`);
    if (l.vxlan) assertFields(l.vxlan, VXLAN_FIELDS, `${l.name} vxlan`);
    if (l.geneve) assertFields(l.geneve, GENEVE_FIELDS, `${l.name} geneve`);
  }
});

test("a capture file's interfaces from the addon have exactly the fields of FileInterface (reader and analyzer)", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csumtop-iface-'));
  try {
    const file = path.join(dir, 'two.pcapng');
    const w = new CaptureFileWriter(file, 'pcapng', [
      { name: 'eth0', description: 'the underlay', linktype: 1, snaplen: 65535 },
      { name: 'flannel.1', linktype: 1 },
    ]);
    w.close();
    const want: FileInterface[] = [
      { name: 'eth0', description: 'the underlay', linktype: 1, snaplen: 65535, section: 0 },
      { name: 'flannel.1', description: '', linktype: 1, snaplen: 262144, section: 0 },
    ];
    const reader = new CaptureFileReader(file);
    reader.drain();
    const fromReader = reader.interfaces();
    reader.close();
    const fa = openFileAnalysis(file, {});
    while (fa.step().status === 'more');
    const fromAnalyzer = fa.interfaces();
    fa.finish();
    for (const [what, got] of [
      ['reader', fromReader],
      ['analyzer', fromAnalyzer],
    ] as const) {
      for (const i of got) assertFields(i, FILE_INTERFACE_FIELDS, `${what} interface ${i.name}`);
      assert.deepEqual(
        got.map((i) => ({ ...i })),
        want,
        what,
      );
    }
    // -r makes the facts from them: every fact there, named as the report names them.
    const facts = fileInterfaces(file, fromAnalyzer, 2);
    for (const f of facts) assertFields(f, { ...FACT_FIELDS, captureDrops: true }, `file interface ${f.name}`);
    assert.deepEqual(
      facts.map((f) => [f.id, f.label, f.role]),
      [
        [0, 'eth0', 'underlay'],
        [1, 'flannel.1', 'vxlan'],
      ],
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('live: the facts are made once from the link (label, role, offload, the whole VXLAN settings), the folded row is labelled by its name', () => {
  const link = { ...vxlanLink(), features: { 'tx-checksum-ip-generic': true } };
  const host = capturedInterfaceOf(link, 3, 'host');
  const pod = capturedInterfaceOf(link, 4, 'cni-1234');
  for (const i of [host, pod]) {
    for (const k of Object.keys(FACT_FIELDS)) assert.ok(k in i, `${i.label}: fact ${k}`);
  }
  assert.deepEqual(
    [host.id, host.label, pod.label, host.role, host.kind, host.txChecksumOffload],
    [3, 'flannel.1', 'cni-1234/flannel.1', 'vxlan', 'vxlan', true],
  );
  assert.deepEqual(host.vxlan, link.vxlan, 'every VXLAN setting the link has (the report names the underlay by vxlan.link)');
  const folded = foldedInterface(9, 4);
  assert.equal(folded.label, folded.name);
  assert.equal(folded.folded, 4);
});

test("live report: an interface's facts and capture state as the report names them; a VXLAN device's underlay is found by ifindex in its own namespace", () => {
  const v = vxlanLink(); // flannel.1, vxlan.link = 2
  const eth = (id: number, namespace: string, name: string): InterfaceMeta => {
    const i = capturedInterfaceOf({ ...v, name, ifindex: 2, kind: null, vxlan: undefined, driver: 'virtio_net' }, id, namespace);
    return { name: i.label, linktype: 1, live: { ...i, attached: true, captureDrops: 0 } };
  };
  const flannel = capturedInterfaceOf(v, 2, 'n1');
  const metas: InterfaceMeta[] = [
    eth(0, 'n0', 'ens3'), // ifindex 2 too, another namespace
    eth(1, 'n1', 'eth0'),
    { name: flannel.label, linktype: 1, live: { ...flannel, attached: false, captureDrops: 7, folded: undefined } },
  ];
  const L = nativeLayout();
  const doc = buildReport(
    {
      source: { kind: 'live', path: 'afpacket', format: null, frames: 0, first: null, last: null, cutShort: false, warnings: [] },
      interfaces: metas,
      counters: new Float64Array(metas.length * L.counterStride),
      flows: [],
      flowsEvicted: 0,
      badFrames: null,
      live: true,
    },
    { version: 'test', checksumPath: 'test' },
  );
  const f = doc.interfaces[2];
  assert.deepEqual(
    [f.name, f.namespace, f.kind, f.role, f.driver, f.txChecksumOffload, f.captureDrops, f.attached, 'folded' in f],
    ['n1/flannel.1', 'n1', 'vxlan', 'vxlan', null, null, 7, false, false],
  );
  assert.deepEqual(f.vxlan, { vni: 1, port: 8472, underlay: 'eth0', local: '192.168.200.1', udpCsum: false });
  assert.deepEqual(
    [doc.interfaces[0].name, doc.interfaces[0].role, doc.interfaces[0].driver, doc.interfaces[0].vxlan],
    ['n0/ens3', 'underlay', 'virtio_net', undefined],
  );
});
