/**
 * The verdict model shared by every layer (native decoder, report, JSON, dashboard).
 * Order of every list matches the enums in native/decode/frame.h: the native side
 * hands counters over as flat arrays indexed by these positions.
 */

export const LAYERS = ['outer', 'inner'] as const;
export type LayerName = (typeof LAYERS)[number];

/** Which checksum: the IPv4 header checksum, or a transport/ICMP checksum. */
export const KINDS = ['ipv4', 'udp', 'tcp', 'icmp', 'icmpv6'] as const;
export type KindName = (typeof KINDS)[number];

/**
 * One status per checksum. Only `bad` is an error: `absent` is a zero UDP checksum
 * over IPv4 (RFC 768), `unverifiable` a truncated or fragmented packet, `pending` and
 * `validated` come from the kernel's offload flags in live capture.
 */
export const STATUSES = ['ok', 'bad', 'absent', 'unverifiable', 'pending', 'validated'] as const;
export type StatusName = (typeof STATUSES)[number];

export const UNVERIFIABLE_WHY = ['', 'truncated', 'fragment', 'oversize', 'offload-other'] as const;

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
] as const;
export type MalformedReason = (typeof MALFORMED_REASONS)[number];

export const TUNNELS = ['none', 'vxlan', 'geneve', 'ipip', 'ip6ip'] as const;
export type TunnelName = (typeof TUNNELS)[number];
