/**
 * An interface csumtop counts on: who it is and how it is set up, in one shape
 * (issue 15, "one concept, one shape"). It is made once, where it is known:
 *
 * - live: from the kernel's link table when csumtop attaches (capturedInterfaceOf in
 *   src/capture/source.ts; the folded row of vanished interfaces in src/capture/vanished.ts);
 * - `-r`: from the capture file's interface list (fileInterfaces in src/capture/file-run.ts).
 *
 * Every other place takes it as it is, or a Pick of it when it needs less, and adds only
 * what it measures (counters, drops). The raw shapes the addon hands over stay at the
 * native boundary: `Link` (src/native/host.ts, a link of a namespace, captured or not) and
 * `FileInterface` below (an interface block of a capture file).
 */

/** The part an interface plays on a Kubernetes node (docs/domain.md, "Interface roles on a node"). */
export type InterfaceRole = 'underlay' | 'vxlan' | 'geneve' | 'ipip' | 'bridge' | 'pod-veth' | 'veth' | 'other';

/** Overlay devices: their packets are the decapsulated side of carriers (correlation). */
export function isOverlayRole(role: InterfaceRole): boolean {
  return role === 'vxlan' || role === 'geneve' || role === 'ipip';
}

/** IFLA_INFO_DATA of a vxlan link (drivers/net/vxlan/vxlan_core.c vxlan_fill_info), as the addon reads it. */
export interface VxlanParams {
  /** IFLA_VXLAN_ID. */
  vni: number | null;
  /** IFLA_VXLAN_PORT, converted from network byte order: 8472 flannel, 4789 IANA. */
  port: number | null;
  /** IFLA_VXLAN_LINK: ifindex of the underlay device (`dev` in `ip link add`), or null. */
  link: number | null;
  /** IFLA_VXLAN_LOCAL or IFLA_VXLAN_LOCAL6 as text, or null. */
  local: string | null;
  /** IFLA_VXLAN_UDP_CSUM: false = sends a zero outer UDP checksum (`noudpcsum`); null =
   * the kernel did not report it (older kernels), which is unknown, not off. */
  udpCsum: boolean | null;
  /** IFLA_VXLAN_UDP_ZERO_CSUM6_TX / _RX (IPv6 underlay), null when not reported. */
  udpZeroCsum6Tx: boolean | null;
  udpZeroCsum6Rx: boolean | null;
}

/** Who an interface is and how it is set up. Fixed for the life of the interface. */
export interface InterfaceFacts {
  /** The source's id: its row of counters, the `iface` of its records and events. Never
   * reused within a run (a recreated device is a new interface). */
  id: number;
  /** The device name alone (remedies name it); for `-r`, the pcapng if_name or the file's name. */
  name: string;
  /** "host", the netns label ("pid:1234", a name), "file" for `-r`, "*" for the folded row. */
  namespace: string;
  /** How every output names it: the name in the host namespace, "ns/name" elsewhere. */
  label: string;
  role: InterfaceRole;
  /** IFLA_INFO_KIND ("vxlan", "veth", ...); null for NICs and when unknown (files). */
  kind: string | null;
  /** ETHTOOL_GDRVINFO driver; null when unknown. */
  driver: string | null;
  /** tx-checksum-* active (outgoing frames may be pending); null when unknown. */
  txChecksumOffload: boolean | null;
  /** A VXLAN device's settings; null for every other interface and when unknown. */
  vxlan: VxlanParams | null;
}

/** The label of an interface in `namespace`: outputs show the host's by name alone. */
export function interfaceLabel(namespace: string, name: string): string {
  return namespace === 'host' ? name : `${namespace}/${name}`;
}

/**
 * An interface block of a capture file (pcap: exactly one, unnamed), as the addon reads
 * it (native/napi: the reader's and the analyzer's interfaces()).
 */
export interface FileInterface {
  /** pcapng if_name; '' when the file does not say. */
  name: string;
  /** pcapng if_description. */
  description: string;
  /** LINKTYPE_* (https://www.tcpdump.org/linktypes.html). */
  linktype: number;
  snaplen: number;
  /** pcapng section (0-based); 0 for pcap. */
  section: number;
}
