/**
 * Checksum faults for the namespace lab: carriers as A's flannel.1 would send them, each
 * with one deliberate fault, sent on A's underlay with the real MACs so B's kernel takes
 * them like any carrier (and drops them where a real node would). Used by the lab tests
 * and by `csumtop --demo`.
 */
import { buildVxlan, synOptions, type ChecksumField } from './frames.js';
import { FLANNEL_PORT, FLANNEL_VNI, OVERLAY_A, POD_B, SINK_PORT, TCP_PORT, UNDERLAY_A, UNDERLAY_B, type LabMacs } from './topology.js';

export type FaultKind = 'bad-outer-udp' | 'bad-inner-udp' | 'bad-inner-tcp' | 'bad-outer-ipv4' | 'zero-outer-udp';

export const FAULT_KINDS: FaultKind[] = ['bad-outer-udp', 'bad-inner-udp', 'bad-inner-tcp', 'bad-outer-ipv4', 'zero-outer-udp'];

/** Each kind has its own outer UDP source-port range, so every bad line names its kind. */
export const FAULT_SPORT_BASE: Record<FaultKind, number> = {
  'bad-outer-udp': 41000,
  'bad-inner-udp': 42000,
  'bad-inner-tcp': 43000,
  'bad-outer-ipv4': 44000,
  'zero-outer-udp': 45000,
};

/** A value for a checksum field that is wrong: `preferred` unless that happens to be right. */
export function wrongValue(correct: number, preferred: number): number {
  let v = preferred;
  // 0 would read as "no checksum" for UDP; the correct value (or its ones-complement twin) is not wrong.
  while (v === correct || v === 0 || (correct === 0xffff && v === 0)) v = (v + 0x1111) & 0xffff;
  return v;
}

interface Knobs {
  outerIp?: number;
  outerUdp?: number | 'zero';
  innerL4?: number;
}

function field(checks: ChecksumField[], depth: number, kind: ChecksumField['kind']): ChecksumField {
  const c = checks.find((r) => r.depth === depth && r.kind === kind);
  if (!c) throw new Error(`builder wrote no ${kind} checksum at depth ${depth}`);
  return c;
}

/**
 * One carrier from A's underlay to B, as flannel.1 on A would send it, with the fault of
 * `kind`. The inner packet is a UDP datagram to B's sink (payload "KIND-i", so the sink
 * shows which ones B's kernel delivered) or, for bad-inner-tcp, a SYN to B's listener.
 * The outer UDP checksum is computed over the inner frame exactly as injected.
 */
export function faultFrame(macs: LabMacs, kind: FaultKind, i: number): Uint8Array {
  const build = (k: Knobs): ReturnType<typeof buildVxlan> =>
    buildVxlan(
      {
        eth: { src: macs.vla, dst: macs.vlb },
        ip: { src: UNDERLAY_A, dst: UNDERLAY_B, id: 0x3000 + i, csum: k.outerIp },
        sport: FAULT_SPORT_BASE[kind] + i,
        dport: FLANNEL_PORT,
        vni: FLANNEL_VNI,
        csum: k.outerUdp,
      },
      {
        eth: { src: macs.flannelA, dst: macs.flannelB },
        ip: { src: OVERLAY_A, dst: POD_B, id: 0x2000 + i },
        l4:
          kind === 'bad-inner-tcp'
            ? {
                proto: 'tcp',
                sport: 47000 + i,
                dport: TCP_PORT,
                tcp: { flags: 0x02, seq: 0x10000000 + i, window: 64860, options: synOptions(1410) },
                csum: k.innerL4,
              }
            : { proto: 'udp', sport: 46000 + i, dport: SINK_PORT, payload: Buffer.from(`${kind}-${i}`), csum: k.innerL4 },
      },
    );
  const good = build({}).checksums;
  switch (kind) {
    case 'bad-outer-udp':
      // 0xffff: the value nf_nat wrote into zero checksums (variant A, docs/domain.md).
      return build({ outerUdp: wrongValue(field(good, 0, 'udp').expected, 0xffff) }).bytes;
    case 'bad-inner-udp':
      return build({ innerL4: wrongValue(field(good, 1, 'udp').expected, 0xbd67) }).bytes;
    case 'bad-inner-tcp':
      return build({ innerL4: wrongValue(field(good, 1, 'tcp').expected, 0xa7b8) }).bytes;
    case 'bad-outer-ipv4':
      return build({ outerIp: wrongValue(field(good, 0, 'ipv4').expected, 0x1234) }).bytes;
    case 'zero-outer-udp':
      return build({ outerUdp: 'zero' }).bytes;
  }
}
