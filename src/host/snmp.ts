/**
 * The kernel's own checksum counters, per network namespace: /proc/net/snmp,
 * /proc/net/snmp6 and /proc/net/netstat parsed into typed counters, and a sampler that
 * turns successive readings into per-second rates.
 *
 * These are what the receiving kernel actually dropped (docs/domain.md, "Counters the kernel
 * keeps"): a VXLAN carrier with a bad outer UDP checksum is counted in `Udp InCsumErrors`
 * of the namespace owning the underlay device, then dropped, so it never reaches
 * flannel.1. Unlike what tcpdump prints, these counters have no offload false positives:
 * the kernel only counts a checksum it verified in software and found wrong
 * (__skb_checksum_complete failing in net/ipv4/udp.c __udp4_lib_rcv, tcp_v4_rcv, ...).
 *
 * Formats (the parsers are strict and throw on anything else):
 *   snmp, netstat  pairs of lines "Section: Name1 Name2 ..." / "Section: 1 2 ..."
 *                  (net/ipv4/proc.c snmp_seq_show_*, netstat_seq_show)
 *   snmp6          one "NameValue<spaces/tab>N" per line, the section a prefix of the
 *                  name: Ip6, Icmp6, Udp6, UdpLite6 (net/ipv6/proc.c snmp6_seq_show_item)
 */
import { CHECKSUM_COUNTERS, type ChecksumCounterName, type ChecksumCounters, type CounterRates } from '../model/host-facts.js';
import { nativeReadNetFile, type NetFileName } from '../native/host.js';
import { resolveNetns } from './links.js';

/** snmp / netstat: section ("Udp", "IpExt") -> counter name ("InCsumErrors") -> value. */
export type CounterTable = Record<string, Record<string, number>>;

/** snmp6: the kernel's full names ("Udp6InCsumErrors") -> value. */
export type Snmp6Table = Record<string, number>;

/** The three files as read from one namespace; null = the kernel has no such file. */
export interface NetCounterFiles {
  snmp: string | null;
  snmp6: string | null;
  netstat: string | null;
}

export interface ParsedNetCounters {
  snmp: CounterTable | null;
  snmp6: Snmp6Table | null;
  netstat: CounterTable | null;
}

// Counters are printed with %lu / %ld (seq_put_decimal_ull / seq_printf) and may be
// negative only for Tcp MaxConn (-1, RFC 2012 tcpMaxConn "dynamic").
const INTEGER = /^-?\d+$/;

function counterValue(token: string, where: string): number {
  if (!INTEGER.test(token)) throw new Error(`not a counter value '${token}' ${where}`);
  return Number(token);
}

/**
 * Parses /proc/net/snmp or /proc/net/netstat: header and value lines in pairs, both
 * starting with the same "Section:". Throws on a section whose lines disagree (name,
 * number of fields) and on a non-numeric value.
 */
export function parseSnmpTable(text: string): CounterTable {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length % 2 !== 0) throw new Error(`odd number of lines (${lines.length}) in a snmp/netstat table`);
  const out: CounterTable = {};
  for (let i = 0; i < lines.length; i += 2) {
    const names = lines[i].trim().split(/\s+/);
    const values = lines[i + 1].trim().split(/\s+/);
    const section = names[0];
    if (!section.endsWith(':') || section.length < 2) {
      throw new Error(`line ${i + 1} does not start with "Section:": '${lines[i]}'`);
    }
    if (values[0] !== section) {
      throw new Error(`line ${i + 2} belongs to '${values[0]}', expected the values of '${section}'`);
    }
    if (values.length !== names.length) {
      throw new Error(`section ${section} has ${names.length - 1} names but ${values.length - 1} values`);
    }
    const name = section.slice(0, -1);
    const rec: Record<string, number> = out[name] ?? {};
    out[name] = rec;
    for (let k = 1; k < names.length; k++) rec[names[k]] = counterValue(values[k], `for ${name} ${names[k]}`);
  }
  return out;
}

/** Parses /proc/net/snmp6: "Udp6InCsumErrors   3" per line. Throws on other lines. */
export function parseSnmp6(text: string): Snmp6Table {
  const out: Snmp6Table = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    const m = /^([A-Za-z][A-Za-z0-9_]*)\s+(\S+)$/.exec(line);
    if (!m) throw new Error(`line ${i + 1} of snmp6 is not "Name value": '${lines[i]}'`);
    out[m[1]] = counterValue(m[2], `for ${m[1]}`);
  }
  return out;
}

export function parseNetCounters(files: NetCounterFiles): ParsedNetCounters {
  return {
    snmp: files.snmp === null ? null : parseSnmpTable(files.snmp),
    snmp6: files.snmp6 === null ? null : parseSnmp6(files.snmp6),
    netstat: files.netstat === null ? null : parseSnmpTable(files.netstat),
  };
}

type CounterSource = { file: 'snmp' | 'netstat'; section: string; field: string } | { file: 'snmp6'; name: string };

// Where each counter lives (include/uapi/linux/snmp.h for the enums, the files' printers
// above for the names).
const SOURCES: Record<ChecksumCounterName, CounterSource> = {
  ipInHdrErrors: { file: 'snmp', section: 'Ip', field: 'InHdrErrors' },
  // IPSTATS_MIB_CSUMERRORS is printed in netstat's IpExt, not in snmp's Ip line.
  ipInCsumErrors: { file: 'netstat', section: 'IpExt', field: 'InCsumErrors' },
  icmpInErrors: { file: 'snmp', section: 'Icmp', field: 'InErrors' },
  icmpInCsumErrors: { file: 'snmp', section: 'Icmp', field: 'InCsumErrors' },
  tcpInErrs: { file: 'snmp', section: 'Tcp', field: 'InErrs' },
  tcpInCsumErrors: { file: 'snmp', section: 'Tcp', field: 'InCsumErrors' },
  udpInErrors: { file: 'snmp', section: 'Udp', field: 'InErrors' },
  udpInCsumErrors: { file: 'snmp', section: 'Udp', field: 'InCsumErrors' },
  udpRcvbufErrors: { file: 'snmp', section: 'Udp', field: 'RcvbufErrors' },
  udpLiteInErrors: { file: 'snmp', section: 'UdpLite', field: 'InErrors' },
  udpLiteInCsumErrors: { file: 'snmp', section: 'UdpLite', field: 'InCsumErrors' },
  ip6InHdrErrors: { file: 'snmp6', name: 'Ip6InHdrErrors' },
  icmp6InErrors: { file: 'snmp6', name: 'Icmp6InErrors' },
  icmp6InCsumErrors: { file: 'snmp6', name: 'Icmp6InCsumErrors' },
  udp6InErrors: { file: 'snmp6', name: 'Udp6InErrors' },
  udp6InCsumErrors: { file: 'snmp6', name: 'Udp6InCsumErrors' },
  udp6RcvbufErrors: { file: 'snmp6', name: 'Udp6RcvbufErrors' },
  udpLite6InErrors: { file: 'snmp6', name: 'UdpLite6InErrors' },
  udpLite6InCsumErrors: { file: 'snmp6', name: 'UdpLite6InCsumErrors' },
};

/**
 * The kernel's own name of a counter, "Section_Field" as node_exporter's netstat collector
 * writes it (node_netstat_Udp_InCsumErrors): "Udp_InCsumErrors", "IpExt_InCsumErrors",
 * "Udp6_InCsumErrors" (snmp6 names split after their protocol prefix). Used as a label
 * value by the Prometheus exporter, so that its series line up with node_exporter's.
 */
export function kernelCounterName(key: ChecksumCounterName): string {
  const src = SOURCES[key];
  if (src.file !== 'snmp6') return `${src.section}_${src.field}`;
  const m = /^(Ip6|Icmp6|UdpLite6|Udp6)(.+)$/.exec(src.name);
  return m ? `${m[1]}_${m[2]}` : src.name;
}

/** The checksum counters out of parsed files; a file or column this kernel lacks gives null. */
export function checksumCountersFrom(parsed: ParsedNetCounters): ChecksumCounters {
  const out = {} as ChecksumCounters;
  for (const key of CHECKSUM_COUNTERS) {
    const src = SOURCES[key];
    let v: number | undefined;
    if (src.file === 'snmp6') v = parsed.snmp6?.[src.name];
    else v = parsed[src.file]?.[src.section]?.[src.field];
    out[key] = v ?? null;
  }
  return out;
}

const FILES: readonly NetFileName[] = ['snmp', 'snmp6', 'netstat'];

/**
 * The three counter files of network namespace `ns` (a NAME under /run/netns or a path
 * such as /proc/PID/ns/net; the current namespace when absent), each read by a native
 * thread inside it. Throws for a namespace that cannot be entered.
 */
export function readNetCounterFiles(ns?: string): NetCounterFiles {
  const path = ns === undefined ? undefined : resolveNetns(ns);
  const read = (name: NetFileName): string | null => nativeReadNetFile(path, name, ns);
  const out: NetCounterFiles = { snmp: null, snmp6: null, netstat: null };
  for (const f of FILES) out[f] = read(f);
  return out;
}

/** checksumCounters of namespace `ns` (see readNetCounterFiles), read now. */
export function checksumCounters(ns?: string): ChecksumCounters {
  return checksumCountersFrom(parseNetCounters(readNetCounterFiles(ns)));
}

/**
 * Per-interval deltas of the checksum counters, no RxJS: call sample() on a timer (once
 * a second for per-second numbers). The first call only records a baseline and returns
 * null. A counter that decreased between two samples (the namespace was recreated under
 * the same name, or a 32-bit counter wrapped on a 32-bit kernel, where the MIBs are
 * `unsigned long`) is null for that interval: a reset and a wrap cannot be told apart.
 * If `read` throws, the error propagates and the previous baseline is kept, so the next
 * successful sample covers the whole gap (intervalMs says how long).
 */
export class CounterSampler {
  private prev: { at: number; counters: ChecksumCounters } | null = null;

  constructor(
    private readonly read: () => ChecksumCounters,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** A sampler over namespace `ns` (current namespace when absent). */
  static forNetns(ns?: string): CounterSampler {
    return new CounterSampler(() => checksumCounters(ns));
  }

  sample(): CounterRates | null {
    const counters = this.read();
    const at = this.now();
    const prev = this.prev;
    this.prev = { at, counters };
    if (prev === null) return null;
    const intervalMs = at - prev.at;
    const delta = {} as CounterRates['delta'];
    const perSecond = {} as CounterRates['perSecond'];
    for (const key of CHECKSUM_COUNTERS) {
      const a = prev.counters[key];
      const b = counters[key];
      const d = a === null || b === null || b < a ? null : b - a;
      delta[key] = d;
      perSecond[key] = d === null || intervalMs <= 0 ? null : (d * 1000) / intervalMs;
    }
    return { intervalMs, delta, perSecond };
  }

  /** Forget the baseline: the next sample() returns null again. */
  reset(): void {
    this.prev = null;
  }
}
