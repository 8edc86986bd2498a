/**
 * Facts about the host that the diagnosis rules (issue 4) weigh against what capture
 * measured: the kernel's own checksum counters, whether the kernel carries the variant A
 * fix, the hypervisor, and kube-proxy's / flannel's NAT rules (per-interface offloads are
 * the captured interface's: src/capture/source.ts).
 * Shared types only; the readers live in src/host/snmp.ts, src/host/facts.ts and
 * src/host/nat-rules.ts. Background and sources: docs/domain.md.
 */

// ------------------------------------------------------------------ kernel counters

/**
 * Every counter checksumCounters() reports, in a fixed order (JSON, tables). Names are
 * the kernel's, from include/uapi/linux/snmp.h (the *_MIB_* enums) as printed by
 * net/ipv4/proc.c (snmp, netstat) and net/ipv6/proc.c (snmp6).
 */
export const CHECKSUM_COUNTERS = [
  'ipInHdrErrors',
  'ipInCsumErrors',
  'icmpInErrors',
  'icmpInCsumErrors',
  'tcpInErrs',
  'tcpInCsumErrors',
  'udpInErrors',
  'udpInCsumErrors',
  'udpRcvbufErrors',
  'udpLiteInErrors',
  'udpLiteInCsumErrors',
  'ip6InHdrErrors',
  'icmp6InErrors',
  'icmp6InCsumErrors',
  'udp6InErrors',
  'udp6InCsumErrors',
  'udp6RcvbufErrors',
  'udpLite6InErrors',
  'udpLite6InCsumErrors',
] as const;
export type ChecksumCounterName = (typeof CHECKSUM_COUNTERS)[number];

/**
 * Checksum-related kernel counters of one network namespace. A counter this kernel does
 * not have is null, never 0: the *InCsumErrors counters appeared in Linux 3.10 ("net: Add
 * MIB counters for checksum errors", Eric Dumazet, 2013), so older kernels print no such
 * column; /proc/net/snmp6 is missing altogether when IPv6 is disabled.
 *
 * - ipInHdrErrors: `Ip: InHdrErrors`, every IPv4 header rejected (bad checksum, bad
 *   version/IHL/length, TTL...; net/ipv4/ip_input.c ip_rcv_core).
 * - ipInCsumErrors: `IpExt: InCsumErrors` in /proc/net/netstat, IPv4 header checksum
 *   failures only (ip_rcv_core counts these in both).
 * - udpInErrors / udpInCsumErrors: `Udp: InErrors` / `InCsumErrors`; a checksum drop
 *   counts in both (net/ipv4/udp.c __udp4_lib_rcv, csum_error); InErrors also counts
 *   receive buffer overruns (udpRcvbufErrors). A VXLAN carrier with a bad outer checksum
 *   is counted here, in the namespace that owns the underlay device.
 * - tcpInErrs / tcpInCsumErrors: `Tcp: InErrs` / `InCsumErrors`; one MIB for IPv4 and
 *   IPv6 (net/ipv6/tcp_ipv6.c counts into the same TCP_MIB_*).
 * - *6*: /proc/net/snmp6 `Udp6InCsumErrors`, `Icmp6InCsumErrors`, ...
 */
export type ChecksumCounters = Record<ChecksumCounterName, number | null>;

/**
 * One interval of a CounterSampler: `delta` is the increase since the previous sample and
 * `perSecond` that increase divided by the elapsed time. null for a counter that is
 * missing in either sample, or that went down (namespace recreated, counters reset, a
 * 32-bit counter wrapped): no honest number exists for that interval.
 */
export interface CounterRates {
  /** Milliseconds between the two samples. */
  intervalMs: number;
  delta: Record<ChecksumCounterName, number | null>;
  perSecond: Record<ChecksumCounterName, number | null>;
}

// ------------------------------------------------------------------ kernel release

/** Whether the kernel carries "netfilter: nat: never update the UDP checksum when it's
 * 0" (commit ea64d8d6c675), the variant A fix. */
export type KernelFixStatus = 'fixed' | 'affected' | 'unknown';

/** How the release string was read (which rule decided). */
export type KernelFlavor = 'upstream' | 'ubuntu' | 'debian' | 'rhel' | 'suse' | 'oracle-uek' | 'unparsed';

export interface KernelVersion {
  major: number;
  minor: number;
  /** The third number (SUBLEVEL); 0 when the release has only two. */
  patch: number;
}

export interface KernelFixAssessment {
  status: KernelFixStatus;
  /** One sentence: which rule decided, with the version it compared against. */
  reason: string;
  flavor: KernelFlavor;
  /** The upstream version the decision used (for distribution kernels: their base, or
   * the upstream version the vendor's version string names); null when unparsed. */
  upstream: KernelVersion | null;
}

export interface KernelFacts {
  /** uname -r (os.release()). */
  release: string;
  /** uname -v (os.version()): Debian puts the package version here. */
  version: string | null;
  /** /proc/version_signature (Ubuntu only): "Ubuntu 5.4.0-32.36-generic 5.4.34". */
  signature: string | null;
  variantA: KernelFixAssessment;
}

// ------------------------------------------------------------------ hypervisor

/** docs/domain.md variant C (VMware vmxnet3), variant D (Azure, AWS). 'kvm' covers QEMU
 * machines (with or without KVM acceleration) and the KVM-based clouds; 'none' is a
 * physical machine (DMI names a hardware vendor and the CPU flag is clear, or an EC2
 * .metal instance); 'unknown' a virtual machine whose hypervisor the DMI strings do not
 * name (only the CPU flag says it is one). */
export type HypervisorKind = 'vmware' | 'hyperv' | 'kvm' | 'xen' | 'virtualbox' | 'parallels' | 'bhyve' | 'none' | 'unknown';

/** The cloud or platform when the DMI strings name one. */
export type CloudPlatform = 'azure' | 'aws' | 'gce' | 'openstack' | 'alibaba' | 'oracle' | 'digitalocean' | 'hetzner';

export interface HypervisorFacts {
  /** The hypervisor, 'none' on bare metal, 'unknown' when only the CPU flag says "VM". */
  kind: HypervisorKind;
  platform: CloudPlatform | null;
  /** /sys/class/dmi/id/sys_vendor ("VMware, Inc.", "Microsoft Corporation", "Amazon EC2"). */
  sysVendor: string | null;
  /** /sys/class/dmi/id/product_name ("VMware Virtual Platform", "Virtual Machine"). */
  productName: string | null;
  /** /sys/class/dmi/id/bios_vendor and bios_version (Xen-based EC2: "Xen", "4.11.amazon"). */
  biosVendor: string | null;
  biosVersion: string | null;
  /** /sys/class/dmi/id/chassis_asset_tag: Azure sets "7783-7084-3265-9085-8269-3286-77". */
  chassisAssetTag: string | null;
  /** /sys/hypervisor/type ("xen"), present on Xen guests only. */
  hypervisorType: string | null;
  /** The `hypervisor` flag of /proc/cpuinfo (CPUID leaf 1 ECX bit 31): set by every
   * common hypervisor, absent on bare metal; null when cpuinfo could not be read. */
  cpuFlag: boolean | null;
  /** Which inputs decided, e.g. "sys_vendor 'VMware, Inc.'". */
  evidence: string[];
}

// ------------------------------------------------------------------ NAT rules

export type NatSourceName = 'iptables-save' | 'iptables-legacy-save' | 'iptables-nft-save' | 'nft';

/** One MASQUERADE rule (iptables `-j MASQUERADE`, nft `masquerade`). */
export interface MasqueradeRule {
  /** Chain name; for nft "table FAMILY NAME / chain NAME". */
  chain: string;
  /** --random-fully / fully-random: the source port is randomised (NF_NAT_RANGE_PROTO_RANDOM_FULLY). */
  randomFully: boolean;
  /** --random / random. */
  random: boolean;
  /** The rule as the tool printed it. */
  rule: string;
}

/** What one nat rule set says about variant A (docs/domain.md, kubernetes/kubernetes#92035). */
export interface NatRulesAnalysis {
  masquerades: MasqueradeRule[];
  /** Some MASQUERADE rule randomises ports fully: the source-port change that makes
   * nf_nat rewrite a zero UDP checksum on unfixed kernels. */
  masqueradeRandomFully: boolean;
  /** kube-proxy's KUBE-MARK-MASQ chain (iptables) or mark-for-masquerade chain (nftables
   * mode) exists. */
  kubeMarkMasq: boolean;
  /** The mark bit KUBE-MARK-MASQ sets (0x4000 unless --iptables-masquerade-bit). */
  masqueradeMark: number | null;
  /** KUBE-POSTROUTING (iptables) or the kube-proxy masquerading chain (nftables) exists. */
  kubePostrouting: boolean;
  /** kubernetes/kubernetes#92035: RETURN for packets without the mark, then clear it
   * with an XOR, before MASQUERADE; so an encapsulated carrier is not masqueraded again. */
  kubeMarkFix: boolean;
  /** kube-proxy's own MASQUERADE uses --random-fully; null without one. */
  kubeMasqueradeRandomFully: boolean | null;
  /** flannel's FLANNEL-POSTRTG chain, nftables table flannel-ipv4 chain postrtg, or older
   * flannel's POSTROUTING rule "-s POD_CIDR ! -d 224.0.0.0/4 -j MASQUERADE". */
  flannelMasq: boolean;
  /** flannel-io/flannel#1681: FLANNEL-POSTRTG returns early for kube-proxy-marked
   * packets; null when flannel has no masquerade rules. */
  flannelSkipsKubeMarked: boolean | null;
  /** flannel's MASQUERADE rules use --random-fully; null when it has none. */
  flannelRandomFully: boolean | null;
  /** Notes the tool printed ("# Warning: iptables-legacy tables present, ..."). */
  warnings: string[];
}

export interface NatSourceReport {
  source: NatSourceName;
  /** 'unavailable': the tool is not installed, failed or timed out (see reason). */
  status: 'ok' | 'unavailable';
  reason: string | null;
  /** The xtables backend of the tool ('legacy' or 'nf_tables'), null for nft or unknown. */
  backend: 'legacy' | 'nf_tables' | null;
  analysis: NatRulesAnalysis | null;
}

export interface NatFacts {
  /** The namespace as the caller named it, null for the current one. */
  netns: string | null;
  sources: NatSourceReport[];
}
