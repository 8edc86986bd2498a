/**
 * Kernel interface discovery: the links of a node's (or a pod's) network namespace, the
 * interfaces `-i` selects, and the role each plays on a Kubernetes node
 * (docs/domain.md, "Interface roles on a node").
 *
 * The link types are defined once, in src/native/host.ts, and re-exported here.
 */
import * as fs from 'node:fs';

import { nativeListLinks, nativeNetnsIdentity, type GeneveParams, type Link, type VxlanParams } from '../native/host.js';
import type { InterfaceRole } from '../model/interface.js';

export type { GeneveParams, Link, VxlanParams };

/** Where a namespace lives: `ip netns add NAME` bind-mounts it at /run/netns/NAME
 * (iproute2 ip/ipnetns.c, NETNS_RUN_DIR). */
export const NETNS_RUN_DIR = '/run/netns';

/**
 * A namespace as the user names it, to the file setns(2) opens: a NAME (no slash) is
 * /run/netns/NAME, anything with a slash is a path used as is (/proc/PID/ns/net,
 * /var/run/netns/cni-1234...). Does not check that it exists: listLinks() reports that.
 */
export function resolveNetns(spec: string): string {
  if (spec.length === 0) throw new Error('empty network namespace name');
  if (spec.includes('\0')) throw new Error('network namespace name contains a NUL byte');
  if (spec.includes('/')) return spec;
  if (spec === '.' || spec === '..') throw new Error(`invalid network namespace name: ${spec}`);
  return `${NETNS_RUN_DIR}/${spec}`;
}

/** The network namespace file of process `pid`; throws when there is no such process. */
export function pidNetns(pid: number): string {
  if (!Number.isSafeInteger(pid) || pid <= 0) throw new Error(`invalid pid: ${String(pid)}`);
  if (!fs.existsSync(`/proc/${pid}`)) {
    throw new Error(`no such process: ${pid} (cannot use its network namespace)`);
  }
  return `/proc/${pid}/ns/net`;
}

/**
 * The links of network namespace `netns` (a NAME or a path, see resolveNetns), or of the
 * current one. The namespace is entered on a short-lived native thread; the Node thread
 * stays where it is. Throws e.g. "no such network namespace: NAME (/run/netns/NAME)" or
 * "need CAP_SYS_ADMIN to enter network namespace NAME ...".
 */
export function listLinks(netns?: string): Link[] {
  if (netns === undefined) return nativeListLinks();
  return nativeListLinks(resolveNetns(netns), netns);
}

/** "dev:ino" of a namespace (NAME or path): the same namespace named twice (by
 * /run/netns/NAME and by /proc/PID/ns/net) gives the same string. */
export function netnsIdentity(netns: string): string {
  return nativeNetnsIdentity(resolveNetns(netns), netns);
}

// ------------------------------------------------------------------ selection (-i)

export function isGlob(pattern: string): boolean {
  return /[*?]/.test(pattern);
}

/** A shell-style glob with `*` (any run, also empty) and `?` (one character); every
 * other character, `.` included, is literal. */
export function globToRegExp(pattern: string): RegExp {
  let re = '^';
  for (const ch of pattern) {
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else re += ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(re + '$', 'u');
}

export interface InterfaceSelection {
  /** Matching links, in the kernel's order, each once. */
  selected: Link[];
  /** Exact names (no `*`/`?`) that name no link: the caller must report them as errors. */
  unmatched: string[];
  /** Globs that matched nothing (no pods yet is normal: informational only). */
  emptyGlobs: string[];
}

/**
 * The links `-i` asks for. `patterns` null means the default: every link that is up
 * (IFF_UP) except loopback.
 */
export function selectInterfaces(links: readonly Link[], patterns: readonly string[] | null): InterfaceSelection {
  if (patterns === null) {
    return { selected: links.filter((l) => l.up && !l.loopback), unmatched: [], emptyGlobs: [] };
  }
  const matchers = patterns.map((p) => ({ p, re: globToRegExp(p), hits: 0 }));
  const selected: Link[] = [];
  for (const link of links) {
    let taken = false;
    for (const m of matchers) {
      if (m.re.test(link.name)) {
        m.hits++;
        taken = true;
      }
    }
    if (taken) selected.push(link);
  }
  const unmatched: string[] = [];
  const emptyGlobs: string[] = [];
  for (const m of matchers) {
    if (m.hits > 0) continue;
    (isGlob(m.p) ? emptyGlobs : unmatched).push(m.p);
  }
  return { selected, unmatched: [...new Set(unmatched)], emptyGlobs: [...new Set(emptyGlobs)] };
}

// ------------------------------------------------------------------ roles

// docs/domain.md, "Interface roles on a node".
const UNDERLAY_NAME = /^(eth|ens|enp|eno|bond)/;
const VXLAN_NAME = /^(flannel\.\d+|vxlan\.calico|cilium_vxlan|vxlan.*)$/;
const GENEVE_NAME = /^(genev_sys_\d+|ovn0)$/;
const IPIP_NAME = /^tunl0$/;
const BRIDGE_NAME = /^(cni0|cbr0|docker0)$/;
const POD_VETH_NAME = /^(veth|cali|lxc)/;

export function roleFromName(name: string): InterfaceRole | null {
  if (VXLAN_NAME.test(name)) return 'vxlan';
  if (GENEVE_NAME.test(name)) return 'geneve';
  if (IPIP_NAME.test(name)) return 'ipip';
  if (BRIDGE_NAME.test(name)) return 'bridge';
  if (POD_VETH_NAME.test(name)) return 'pod-veth';
  if (UNDERLAY_NAME.test(name)) return 'underlay';
  return null;
}

/**
 * The role of a link on a node: the link kind first (vxlan, geneve, ipip, bridge, veth,
 * bond/team), then docs/domain.md's name patterns as the fallback (physical NICs have no kind;
 * OVN's ovn0 is an openvswitch port; names are all an older kernel may give).
 *
 * veth: 'pod-veth' for the host ends of pod pairs (veth*, cali*, lxc*); 'underlay' when
 * named like a NIC, as a kind (Kubernetes-in-Docker) node's eth0, which carries the
 * node's encapsulated traffic; 'veth' otherwise. A kind-less link with a bus address
 * (ETHTOOL_GDRVINFO bus_info, e.g. PCI 0000:00:03.0) is hardware: 'underlay'.
 */
export function interfaceRole(link: Link): InterfaceRole {
  if (link.loopback) return 'other';
  switch (link.kind) {
    case 'vxlan':
      return 'vxlan';
    case 'geneve':
      return 'geneve';
    case 'ipip':
      return 'ipip';
    case 'bridge':
      return 'bridge';
    case 'bond':
    case 'team':
      return 'underlay';
    case 'veth':
      if (POD_VETH_NAME.test(link.name)) return 'pod-veth';
      if (UNDERLAY_NAME.test(link.name)) return 'underlay';
      return 'veth';
    default:
      break;
  }
  const byName = roleFromName(link.name);
  if (byName !== null) return byName;
  if (link.kind === null && link.busInfo !== null && link.busInfo !== 'N/A') return 'underlay';
  return 'other';
}
