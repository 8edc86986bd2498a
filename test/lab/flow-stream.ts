/**
 * The million-flow stream of million-flows.test.ts: four VXLAN carrier templates for
 * trafgen whose flow fields count per frame (trafgen.ts), and a later flow of 5 frames.
 */
import { encode, eth, ipv4, tcp, udp, vxlan } from '../fixtures/lib/index.js';
import { dnsQuery } from '../fixtures/lib/payloads.js';
import { OVERLAY_A, POD_B, UNDERLAY_A, UNDERLAY_B, wrongValue, type Lab } from './lab.js';
import { template, trafgenConfig } from './trafgen.js';

/** Offsets in the carriers built below: Ethernet 14, IPv4 20, UDP 8, VXLAN 8, Ethernet 14. */
const OUTER_SPORT = 34;
const INNER_IP = 64;
const INNER_L4 = 84;
export const VNI = 2;
export const KNOWN_SPORT = 40999;

function carrier(inner: ReturnType<typeof ipv4>, macs: Lab['macs'], sport: number, outerIpCsum?: number): Uint8Array {
  return encode(
    eth(
      ipv4(
        UNDERLAY_A,
        UNDERLAY_B,
        udp(sport, 8472, vxlan(VNI, eth(inner, { src: macs.flannelA, dst: macs.flannelB })), 'zero'),
        outerIpCsum === undefined ? {} : { csum: outerIpCsum },
      ),
      {
        src: macs.vla,
        dst: macs.vlb,
      },
    ),
  ).bytes;
}

/** Outer source port and inner source port count with periods 128, 255, 253. */
const FLOW_COUNTERS = { [OUTER_SPORT]: 'dinc(0x80, 0xff)', [OUTER_SPORT + 1]: 'dinc(0, 254)', [INNER_L4 + 1]: 'dinc(0, 252)' };

export function millionFlowConfig(macs: Lab['macs']): string {
  // DNS: the transaction key is (inner ports, id): inner sport (253) x id (256 x 251).
  const dns = carrier(ipv4(OVERLAY_A, POD_B, udp(0x9c00, 53, dnsQuery(0, 'million.example'), 'zero'), { id: 1 }), macs, 0x8000);
  const dnsT = template(dns, { ...FLOW_COUNTERS, [INNER_L4 + 8]: 'dinc(0, 255)', [INNER_L4 + 9]: 'dinc(0, 250)' });
  // SYN: the attempt key is (inner ports, sequence number); checksum per frame.
  const syn = carrier(ipv4(OVERLAY_A, POD_B, tcp(0x9d00, 5000, { flags: 'S', seq: 0, window: 64240 }), { id: 2 }), macs, 0x8000);
  const synT = template(syn, {
    ...FLOW_COUNTERS,
    [INNER_L4 + 4]: 'dinc(0, 255)',
    [INNER_L4 + 5]: 'dinc(0, 250)',
    [INNER_L4 + 16]: `csumtcp(${INNER_IP}, ${INNER_L4})`,
  });
  // Bad outer IPv4 header checksum: the header never changes, so the value stays wrong.
  const good = carrier(ipv4(OVERLAY_A, POD_B, udp(0x9e00, 9999, Buffer.from('bad-ipv4'), 'zero'), { id: 3 }), macs, 0x8000);
  const right = (good[24] << 8) | good[25];
  const bad = carrier(ipv4(OVERLAY_A, POD_B, udp(0x9e00, 9999, Buffer.from('bad-ipv4'), 'zero'), { id: 3 }), macs, 0x8000, wrongValue(right, 0xbad0));
  const badT = template(bad, FLOW_COUNTERS);
  const plain = carrier(ipv4(OVERLAY_A, POD_B, udp(0x9f00, 9998, Buffer.from('plain'), 'zero'), { id: 4 }), macs, 0x8000);
  const plainT = template(plain, FLOW_COUNTERS);
  return trafgenConfig([dnsT, synT, badT, plainT]);
}

/** The later flow: 5 carriers with a wrong outer UDP checksum, one flow. */
export function knownFrames(macs: Lab['macs']): Uint8Array[] {
  const inner = ipv4(OVERLAY_A, POD_B, udp(41000, 9997, Buffer.from('known-flow')), { id: 5 });
  const right = encode(
    eth(ipv4(UNDERLAY_A, UNDERLAY_B, udp(KNOWN_SPORT, 8472, vxlan(VNI, eth(inner, { src: macs.flannelA, dst: macs.flannelB }))), {}), {
      src: macs.vla,
      dst: macs.vlb,
    }),
  ).bytes;
  const csum = (right[40] << 8) | right[41];
  const wrong = encode(
    eth(
      ipv4(UNDERLAY_A, UNDERLAY_B, udp(KNOWN_SPORT, 8472, vxlan(VNI, eth(inner, { src: macs.flannelA, dst: macs.flannelB })), wrongValue(csum, 0xffff)), {}),
      { src: macs.vla, dst: macs.vlb },
    ),
  ).bytes;
  return Array.from({ length: 5 }, () => wrong);
}
