/**
 * Typed view of the host part of the addon (native/napi/host_napi.cc): the links of a
 * network namespace from rtnetlink and the ethtool ioctls, namespace identities, and the
 * per-namespace /proc/net counter files (native/host/netfile.h).
 * These are the only definitions of the link types (VxlanParams, also a fact of a captured
 * interface, is src/model/interface.ts's); src/host/links.ts re-exports them.
 *
 * Field sources: include/uapi/linux/rtnetlink.h (struct ifinfomsg),
 * include/uapi/linux/if_link.h (IFLA_*, IFLA_VXLAN_*, IFLA_GENEVE_*),
 * include/uapi/linux/ethtool.h (ETHTOOL_GDRVINFO, ETHTOOL_GFEATURES).
 */
import { loadAddon } from './addon.js';
import type { VxlanParams } from '../model/interface.js';

export type { VxlanParams };

/** IFLA_INFO_DATA of a geneve link (drivers/net/geneve.c geneve_fill_info). */
export interface GeneveParams {
  vni: number | null;
  /** IFLA_GENEVE_PORT, host byte order (6081 by default). */
  port: number | null;
  udpCsum: boolean | null;
  udpZeroCsum6Tx: boolean | null;
  udpZeroCsum6Rx: boolean | null;
}

export interface Link {
  ifindex: number;
  name: string;
  /** ifi_flags (IFF_* of include/uapi/linux/if.h). */
  flags: number;
  /** IFF_UP: administratively up. */
  up: boolean;
  /** IFF_RUNNING: up and carrier (operationally up). */
  running: boolean;
  loopback: boolean;
  mtu: number;
  /** ifi_type, ARPHRD_* (include/uapi/linux/if_arp.h): 1 Ethernet, 772 loopback, 768 ipip. */
  arphrd: number;
  /** How csumtop captures its frames (native LiveCapture::linktype_for): 1 Ethernet
   * (loopback too), 101 raw IP (tun, wireguard, ipip, sit); null: not decoded. */
  linktype: number | null;
  /** IFLA_ADDRESS as colon-separated hex (4 bytes for ipip), null when absent. */
  mac: string | null;
  /** IFLA_LINK: the lower device (for a veth, its peer), null when none. When
   * linkNetnsid is set the index is in that peer namespace, not this one. */
  link: number | null;
  /** IFLA_LINK_NETNSID: the namespace (id local to this namespace) holding `link`. */
  linkNetnsid: number | null;
  /** IFLA_MASTER: the bridge or bond this link is a port of. */
  master: number | null;
  /** IFLA_INFO_KIND ("vxlan", "geneve", "veth", "bridge", "ipip", ...); null for NICs. */
  kind: string | null;
  /** ETHTOOL_GDRVINFO driver ("virtio_net", "vmxnet3", "veth", "vxlan"), null if unsupported. */
  driver: string | null;
  busInfo: string | null;
  vxlan?: VxlanParams;
  geneve?: GeneveParams;
  /** Active state of every feature, by the kernel's name (`ethtool -k` prints these,
   * except the few it renames, e.g. rx-checksum as "rx-checksumming"). Empty when the
   * device does not answer ETHTOOL_GFEATURES. */
  features: Record<string, boolean>;
  /** Features `ethtool -k` marks "[fixed]" (cannot be changed with `ethtool -K`). */
  fixedFeatures: string[];
}

/** What the rtnetlink parser makes of given bytes (tests, fuzz regressions). */
export interface LinkDumpParse {
  links: Link[];
  done: boolean;
  interrupted: boolean;
  error: string | null;
}

/** The /proc/net files readNetFile() may read (a fixed list, checked natively too):
 * snmp and netstat are "Section: names" / "Section: values" line pairs (net/ipv4/proc.c
 * snmp_seq_show, netstat_seq_show), snmp6 is one "NameValue  N" per line
 * (net/ipv6/proc.c snmp6_seq_show). */
export type NetFileName = 'snmp' | 'snmp6' | 'netstat';

/** One RTNLGRP_LINK notification: RTM_NEWLINK (added or changed; the whole link, with
 * driver and features read when it arrived) or RTM_DELLINK (gone). */
export interface LinkEvent {
  deleted: boolean;
  link: Link;
}

/** What LinkWatch.poll() received since the last call. */
export interface LinkPoll {
  events: LinkEvent[];
  /** Notifications were lost (ENOBUFS: the socket buffer was full, netlink(7)): the
   * caller must list every link again (dump()). */
  overflow: boolean;
}

export interface LinkWatchStats {
  notifications: number;
  overflows: number;
  dumps: number;
}

/** rtnetlink link notifications of one namespace (native/host/link_watch.h). */
export interface NativeLinkWatch {
  /** Pending notifications, never blocks. */
  poll(): LinkPoll;
  /** Every link (RTM_GETLINK dump + ethtool), on sockets opened in the namespace. */
  dump(): Link[];
  stats(): LinkWatchStats;
  /** Closes the sockets; idempotent. Any later call throws. */
  close(): void;
}

interface HostAddon {
  threadCpuNs(): number | null;
  dropBoundingSet(): number;
  readerGone(fd: number): boolean;
  LinkWatch: new (netnsPath?: string, label?: string, rcvbuf?: number) => NativeLinkWatch;
  parseLinkEvents(bytes: Uint8Array): { events: LinkEvent[]; overrun: boolean; error: string | null };
  listLinks(netnsPath?: string, label?: string): Link[];
  netnsIdentity(path: string, label?: string): string;
  parseLinkDump(bytes: Uint8Array): LinkDumpParse;
  readNetFile(netnsPath: string | undefined, name: NetFileName, label?: string): string | null;
}

/**
 * Whether an error of a host reader (nativeListLinks, nativeNetnsIdentity,
 * nativeReadNetFile, nativeLinkWatch) is a refusal to open or enter the namespace:
 * EPERM or EACCES, which the addon puts in `code` as Node's system errors do
 * (native/napi/host_napi.cc netns_error). That is "not allowed" (exit 3), unlike no such
 * namespace (ENOENT) or not a network namespace (EINVAL). Decided on the errno, never on
 * the message (issue 15).
 */
export function namespaceRefused(err: unknown): boolean {
  const code = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
  return code === 'EPERM' || code === 'EACCES';
}

function addon(): HostAddon {
  return loadAddon() as unknown as HostAddon;
}

/** Links of the namespace at `netnsPath` (current namespace when absent); `label` is
 * how the user named it, used in error messages. Throws Error with a clear message. */
export function nativeListLinks(netnsPath?: string, label?: string): Link[] {
  return addon().listLinks(netnsPath, label);
}

/** "dev:ino" of a namespace file: equal strings mean the same namespace. */
export function nativeNetnsIdentity(path: string, label?: string): string {
  return addon().netnsIdentity(path, label);
}

/** Runs the rtnetlink RTM_GETLINK dump parser on bytes (no system calls). */
export function parseLinkDump(bytes: Uint8Array): LinkDumpParse {
  return addon().parseLinkDump(bytes);
}

/**
 * The text of /proc/net/`name` as the namespace at `netnsPath` sees it (the current
 * namespace when undefined): read by a native thread that entered the namespace, through
 * /proc/thread-self/net (see native/host/netfile.cc for why not /proc/self/net). null
 * when the kernel has no such file there (snmp6 with IPv6 disabled). Throws for namespace
 * errors ("no such network namespace: ...").
 */
export function nativeReadNetFile(netnsPath: string | undefined, name: NetFileName, label?: string): string | null {
  return addon().readNetFile(netnsPath, name, label);
}

/**
 * Opens an rtnetlink link watch in the namespace at `netnsPath` (the current one when
 * absent): the sockets are created inside it, so reading them later needs neither setns
 * nor privileges. `rcvbuf` sizes the notification buffer in bytes (default 4 MiB; tests
 * make it tiny to provoke an overflow). Throws the namespace errors of nativeListLinks.
 */
export function nativeLinkWatch(netnsPath?: string, label?: string, rcvbuf?: number): NativeLinkWatch {
  const A = addon().LinkWatch;
  return new A(netnsPath, label, rcvbuf);
}

/** Runs the RTNLGRP_LINK notification parser on bytes (no system calls). */
export function parseLinkEvents(bytes: Uint8Array): { events: LinkEvent[]; overrun: boolean; error: string | null } {
  return addon().parseLinkEvents(bytes);
}

/** CPU time of the JavaScript thread in ns (CLOCK_THREAD_CPUTIME_ID); null if the
 * clock cannot be read. Unlike process.cpuUsage() it excludes the capture threads. */
export function nativeThreadCpuNs(): number | null {
  return addon().threadCpuNs();
}

/** Clears this thread's capability bounding set (before setuid; native/napi/host_napi.cc says why). */
export function dropBoundingSet(): number {
  return addon().dropBoundingSet();
}

/** True when `fd` (a pipe or socket) has lost its reader: `csumtop ... | head -1` after head exited. */
export function nativeReaderGone(fd: number): boolean {
  return addon().readerGone(fd);
}
