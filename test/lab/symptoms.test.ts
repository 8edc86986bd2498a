/**
 * Issue 13, section 1, on real kernel traffic in the two-node VXLAN lab, csumtop on B
 * capturing the underlay (vlb) and flannel.1:
 *  - A connects to a port of B's pod nothing listens on: B's kernel answers the SYN with a
 *    RST+ACK (RFC 9293 3.10.7.1). The connection is refused, not unanswered, and the SYN
 *    seen on vlb and on flannel.1 is one SYN.
 *  - The same DNS query carrier (same DNS id, same IPv4 ids) sent three times from A, its
 *    outer checksum wrong so B's kernel drops each: three sends of one query (2 retries),
 *    attributed to carriers sent by A (the outer source), not to a pod address.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { ReportDocument } from '../../src/model/report.js';
import { encode, eth, ipv4, udp, vxlan } from '../fixtures/lib/index.js';
import { dnsQuery } from '../fixtures/lib/payloads.js';
import {
  Csumtop,
  DNS_PORT,
  FLANNEL_PORT,
  FLANNEL_VNI,
  OVERLAY_A,
  POD_B,
  UNDERLAY_A,
  UNDERLAY_B,
  describeRun,
  reportOf,
  runAsync,
  sharedLab,
  sleep,
  wrongValue,
  type LabMacs,
} from './lab.js';

const theLab = sharedLab();
/** A port nothing on B listens on (the lab's servers use DNS_PORT, TCP_PORT, SINK_PORT). */
const CLOSED_PORT = 9;

async function capture(ns: string, devs: string[]): Promise<Csumtop> {
  const ct = new Csumtop(['--netns', ns, '-i', devs.join(','), '--duration', '60', '--json']);
  // Attach time is not what this file tests: room for a busy machine.
  const missing = await ct.waitAttached(devs, 10_000);
  if (missing.length > 0) {
    const r = await ct.stop();
    assert.fail(`csumtop did not attach ${missing.join(', ')} in ${ns}: ${describeRun(r)}`);
  }
  return ct;
}

async function finish(ct: Csumtop): Promise<ReportDocument> {
  await sleep(400);
  return reportOf(await ct.stop());
}

/** A carrier from A to B holding a DNS query to B's pod, its outer UDP checksum wrong. */
function badDnsCarrier(macs: LabMacs, name: string): Uint8Array {
  const build = (csum?: number): Uint8Array => {
    const inner = eth(ipv4(OVERLAY_A, POD_B, udp(52900, DNS_PORT, dnsQuery(0x4999, name)), { id: 0, df: true, ttl: 64 }), {
      src: macs.flannelA,
      dst: macs.flannelB,
    });
    return encode(
      eth(ipv4(UNDERLAY_A, UNDERLAY_B, udp(48900, FLANNEL_PORT, vxlan(FLANNEL_VNI, inner), csum), { id: 0, df: true }), { src: macs.vla, dst: macs.vlb }),
    ).bytes;
  };
  const right = build();
  const udpOff = 14 + (right[14] & 0x0f) * 4;
  return build(wrongValue((right[udpOff + 6] << 8) | right[udpOff + 7], 0xffff));
}

test("a connection to a closed port of B's pod is refused (RST+ACK), one SYN; a query resent with the same ids is 3 sends", async () => {
  const lab = theLab();
  const ct = await capture(lab.B, ['vlb', 'flannel.1']);
  const connect = await runAsync('ip', [
    'netns',
    'exec',
    lab.A,
    'python3',
    '-c',
    `import socket,sys\ns=socket.socket()\ns.settimeout(5)\ntry:\n  s.connect(("${POD_B}", ${CLOSED_PORT}))\n  print("connected")\nexcept ConnectionRefusedError:\n  print("refused")\nexcept OSError as e:\n  print("error", e)`,
  ]);
  assert.equal(connect.trim(), 'refused', "B's kernel must refuse the connection");
  const frame = badDnsCarrier(lab.macs, 'resent.csumtop.test');
  for (let r = 0; r < 3; r++) {
    lab.inject(lab.A, 'vla', [frame]);
    await sleep(300);
  }
  // The SYN timeout (3.5 s) and the DNS timeout (5 s) decide at the end of capture.
  const report = await finish(ct);
  const syn = report.correlation!.syn;
  const refused = syn.slowList.filter((a) => a.serverPort === CLOSED_PORT);
  assert.equal(refused.length, 1, JSON.stringify(syn));
  assert.deepEqual([refused[0].refused, refused[0].answered, refused[0].syns, refused[0].attributedTo], [true, false, 1, null], JSON.stringify(refused[0]));
  assert.ok(syn.refused >= 1, JSON.stringify(syn));
  assert.equal(syn.unanswered, 0, `nothing was left unanswered: ${JSON.stringify(syn)}`);

  const q = report.correlation!.dns.unansweredList.find((d) => d.name === 'resent.csumtop.test');
  assert.ok(q, JSON.stringify(report.correlation!.dns));
  assert.equal(q.queries, 3, `three sends of one query on vlb: ${JSON.stringify(report.correlation!.dns)}`);
  assert.deepEqual([q.attributedTo?.sender, q.attributedTo?.receiver, q.attributedTo?.peer], [UNDERLAY_A, UNDERLAY_B, UNDERLAY_A]);
  assert.equal(report.correlation!.dns.retries, 2, JSON.stringify(report.correlation!.dns));
});
