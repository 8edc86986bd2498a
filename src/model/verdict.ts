/**
 * The verdict model shared by every layer (native decoder, report, JSON, dashboard).
 * Order of every list matches the enums in native/decode/frame.h: the native side
 * hands counters over as flat arrays indexed by these positions.
 */

export const LAYERS = ['outer', 'inner'] as const;
export type LayerName = (typeof LAYERS)[number];

/** Which checksum: the IPv4 header checksum, a transport/ICMP checksum, or GRE's optional one (RFC 2784). */
export const KINDS = ['ipv4', 'udp', 'tcp', 'icmp', 'icmpv6', 'gre'] as const;
export type KindName = (typeof KINDS)[number];

/**
 * One status per checksum. Only `bad` is an error: `absent` is a zero UDP checksum
 * over IPv4 (RFC 768), `unverifiable` a truncated or fragmented packet, `pending` and
 * `validated` come from the kernel's offload flags in live capture.
 */
export const STATUSES = ['ok', 'bad', 'absent', 'unverifiable', 'pending', 'validated'] as const;
export type StatusName = (typeof STATUSES)[number];

/** Each status's index in STATUSES (the native CsumStatus value): `STATUS.bad`, never a bare 1. */
export const STATUS = Object.freeze(Object.fromEntries(STATUSES.map((s, i) => [s, i]))) as { readonly [K in StatusName]: number };

export const MALFORMED_REASONS = [
  'none',
  'link-header-short',
  'vlan-too-deep',
  'ip-version-mismatch',
  'ipv4-ihl-below-5',
  'ipv4-total-length',
  'ipv6-payload-length',
  'ipv6-ext-chain-too-long',
  'ipv6-ext-header-length',
  'udp-length',
  'tcp-data-offset',
  'icmp-length',
  'vxlan-header',
  'geneve-header',
  'tunnel-too-deep',
  'gre-header',
  'mpls-label-stack',
  'nflog-tlv',
] as const;
export type MalformedReason = (typeof MALFORMED_REASONS)[number];

/**
 * Why a frame (or the part of it after some header) was not decoded, so its checksums
 * were not verified: a link type csumtop does not decode (PPP, 802.11, radiotap, ...),
 * MACsec, a switch (DSA) tag, PPPoE, an MPLS or GRE payload that is not IP or Ethernet,
 * an NFLOG record without an IPv4/IPv6 payload. The report counts them per reason so
 * that frames csumtop could not see into never pass for clean.
 */
export const UNDECODED_REASONS = ['none', 'link-type', 'macsec', 'dsa-tag', 'pppoe', 'mpls-payload', 'gre-payload', 'nflog-payload'] as const;
export type UndecodedReason = (typeof UNDECODED_REASONS)[number];

/**
 * How an inner layer was reached. GRE appears twice (native kTunnelGre, kTunnelGreKey)
 * so that a key of 0 stays apart from no key: only the second carries its key where
 * VXLAN and Geneve carry the VNI (isVniTunnel in src/native/records.ts).
 */
export const TUNNELS = ['none', 'vxlan', 'geneve', 'ipip', 'ip6ip', 'gre', 'gre'] as const;
export type TunnelName = (typeof TUNNELS)[number];
