/**
 * Command-line parsing of the flags in src/cli/flags.ts (the one table). Every mistake becomes a UsageError (exit status 2) with a
 * message that names the flag; nothing here touches the network or the file system.
 */
import { parseArgs } from 'node:util';

import { ListenAddressError, parseListenAddress, type ListenAddress } from '../output/metrics/address.js';
import { DEFAULT_MAX_FLOWS } from '../correlate/limits.js';
import { DEFAULT_MAX_PEERS } from '../output/metrics/limits.js';
import { parseArgsOptions, type FlagValues } from './flags.js';
import { MAX_VANISHED } from '../capture/vanished.js';

export class UsageError extends Error {}

export interface Options {
  help: boolean;
  version: boolean;
  read: string | null;
  write: string | null;
  json: boolean;
  list: boolean;
  vxlanPorts: number[];
  genevePorts: number[];
  maxFlows: number;
  /** Vanished interfaces kept one by one (src/capture/vanished.ts). */
  maxVanished: number;
  top: number;
  /** Live capture. */
  interfaces: string[] | null;
  netns: string[];
  pids: number[];
  host: boolean;
  duration: number | null;
  promisc: boolean;
  user: string | null;
  ringMb: number;
  batchMs: number;
  interval: number;
  filter: string | null;
  backend: 'afpacket' | 'libpcap';
  threads: number;
  /** -r on a terminal: replay as fast as possible instead of at recorded speed. */
  fast: boolean;
  /**
   * -r: checksum verdicts only, without correlation (peers, DNS/SYN symptoms, findings):
   * the file is decoded on every core instead of in order on one thread.
   */
  noCorrelate: boolean;
  /** Where the dashboard's peer names come from: none (-n), /etc/hosts, or also the system resolver (--dns-names). */
  peerNames: 'off' | 'hosts' | 'dns';
  /** Print the text report even on a terminal (no dashboard). */
  report: boolean;
  /** Live: load the eBPF program on skb:kfree_skb for the kernel's drop verdicts (issue
   * 18); --no-kernel-drops turns it off. Without rights or kernel support it falls back. */
  kernelDrops: boolean;
  /** Build the namespace lab and show the dashboard on it. */
  demo: boolean;
  /** --demo with the sender switched into variant A's broken state. */
  demoBroken: boolean;
  /** --metrics [ADDR:]PORT: the Prometheus endpoint, null when off. */
  metrics: ListenAddress | null;
  /** --metrics-max-peers: peers with their own label; more fold into peer="other". */
  metricsMaxPeers: number;
  /** -C SIZE: live -w rotates after SIZE million bytes (tcpdump -C); null: one file. */
  rotateMb: number | null;
  /** -W COUNT: with -C, file names wrap after COUNT files (tcpdump -W). */
  rotateCount: number | null;
  /** --context N: live -w also writes N frames of the same flow before and after each bad one. */
  context: number;
  /** -c COUNT: stop after COUNT frames captured (live) or read (-r), after the filter (tcpdump -c). */
  count: number | null;
  /** -D: list the interfaces csumtop can capture on, then exit (tcpdump -D). */
  listInterfaces: boolean;
}

export const DEFAULT_VXLAN_PORTS = [4789, 8472];
export const DEFAULT_GENEVE_PORTS = [6081];

function parsePorts(flag: string, text: string): number[] {
  const ports = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (ports.length === 0) throw new UsageError(`${flag}: expected a comma-separated list of ports`);
  if (ports.length > 8) throw new UsageError(`${flag}: at most 8 ports`);
  return ports.map((p) => {
    if (!/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 65535) {
      throw new UsageError(`${flag}: '${p}' is not a port number (1-65535)`);
    }
    return Number(p);
  });
}

function parseBackend(text: string | undefined): 'afpacket' | 'libpcap' {
  if (text === undefined || text === 'afpacket') return 'afpacket';
  if (text === 'libpcap') return 'libpcap';
  throw new UsageError(`--backend: '${text}' is not a backend (afpacket or libpcap)`);
}

function parseList(flag: string, text: string): string[] {
  const items = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (items.length === 0) throw new UsageError(`${flag}: expected a comma-separated list`);
  return items;
}

function parseCount(flag: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new UsageError(`${flag}: '${text}' is not a whole number between ${min} and ${max}`);
  }
  return Number(text);
}

function parseMetricsAddress(text: string): ListenAddress {
  try {
    return parseListenAddress(text);
  } catch (err) {
    if (err instanceof ListenAddressError) throw new UsageError(`--metrics: ${err.message}`);
    throw err;
  }
}

export function parseOptions(argv: string[]): Options {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: parseArgsOptions() });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  const v = parsed.values as FlagValues;
  // tcpdump's habit: the words after the options are the filter, joined with spaces
  // (tcpdump.c copy_argv), the same as one -f argument.
  const words = parsed.positionals;
  if (words.length > 0 && v.filter !== undefined) {
    throw new UsageError(`a filter is given twice: -f '${v.filter}' and the words '${words.join(' ')}' (use one or the other)`);
  }
  const opts: Options = {
    help: v.help === true,
    version: v.version === true,
    read: v.read ?? null,
    write: v.write ?? null,
    json: v.json === true,
    list: v.list === true,
    vxlanPorts: v['vxlan-port'] !== undefined ? parsePorts('--vxlan-port', v['vxlan-port']) : DEFAULT_VXLAN_PORTS,
    genevePorts: v['geneve-port'] !== undefined ? parsePorts('--geneve-port', v['geneve-port']) : DEFAULT_GENEVE_PORTS,
    maxFlows: v['max-flows'] !== undefined ? parseCount('--max-flows', v['max-flows'], 1, 10_000_000) : DEFAULT_MAX_FLOWS,
    maxVanished: v['max-vanished'] !== undefined ? parseCount('--max-vanished', v['max-vanished'], 0, 100_000) : MAX_VANISHED,
    top: v.top !== undefined ? parseCount('--top', v.top, 0, 1_000_000) : 20,
    interfaces: v.interface !== undefined ? parseList('-i', v.interface) : null,
    netns: (v.netns ?? []).map((n) => {
      if (n === '') throw new UsageError('--netns: expected a namespace name or path');
      return n;
    }),
    pids: (v.pid ?? []).map((p) => parseCount('--pid', p, 1, 4_194_304)),
    host: v.host === true,
    duration: v.duration !== undefined ? parseCount('--duration', v.duration, 1, 31_536_000) : null,
    promisc: v.promisc === true,
    user: v.user ?? null,
    // At least 2 MiB: 8 blocks (src/cli/live-session.ts RING_BLOCK_BYTES).
    ringMb: v['ring-mb'] !== undefined ? parseCount('--ring-mb', v['ring-mb'], 2, 4096) : 8,
    batchMs: v['batch-ms'] !== undefined ? parseCount('--batch-ms', v['batch-ms'], 10, 10_000) : 100,
    interval: v.interval !== undefined ? parseCount('--interval', v.interval, 1, 3600) : 1,
    filter: v.filter !== undefined ? v.filter : words.length > 0 ? words.join(' ') : null,
    backend: parseBackend(v.backend),
    threads: v.threads !== undefined ? parseCount('--threads', v.threads, 1, 64) : 1,
    fast: v.fast === true,
    noCorrelate: v['no-correlate'] === true,
    peerNames: v.numeric === true ? 'off' : v['dns-names'] === true ? 'dns' : 'hosts',
    kernelDrops: v['no-kernel-drops'] !== true,
    report: v.report === true,
    demo: v.demo === true || v['demo-broken'] === true,
    demoBroken: v['demo-broken'] === true,
    metrics: v.metrics !== undefined ? parseMetricsAddress(v.metrics) : null,
    metricsMaxPeers: v['metrics-max-peers'] !== undefined ? parseCount('--metrics-max-peers', v['metrics-max-peers'], 1, 100_000) : DEFAULT_MAX_PEERS,
    rotateMb: v['file-size'] !== undefined ? parseCount('-C', v['file-size'], 1, 100_000) : null,
    rotateCount: v['file-count'] !== undefined ? parseCount('-W', v['file-count'], 1, 100_000) : null,
    context: v.context !== undefined ? parseCount('--context', v.context, 0, 64) : 0,
    count: v.count !== undefined ? parseCount('-c', v.count, 1, Number.MAX_SAFE_INTEGER) : null,
    listInterfaces: v['list-interfaces'] === true,
  };
  if (opts.fast && opts.read === null) throw new UsageError('--fast replays a capture file: it needs -r FILE');
  if (v.numeric === true && v['dns-names'] === true) throw new UsageError('-n (no names) and --dns-names contradict each other: choose one');
  if (opts.noCorrelate && opts.read === null) throw new UsageError('--no-correlate applies to reading a capture file: it needs -r FILE');
  if (opts.demo) {
    const clash = [
      ['-r', opts.read],
      ['-i', opts.interfaces],
      ['--netns', opts.netns.length || null],
      ['--pid', opts.pids.length || null],
      ['--json', opts.json || null],
      ['--duration', opts.duration],
      ['-c', opts.count],
      ['-D', opts.listInterfaces || null],
      ['--backend', opts.backend === 'libpcap' ? 'libpcap' : null],
      ['--user', opts.user],
      ['-w', opts.write],
    ] as const;
    for (const [flag, value] of clash) {
      if (value !== null) throw new UsageError(`${flag} cannot be used with --demo (the demo builds its own lab and shows the dashboard)`);
    }
  }
  if (v['metrics-max-peers'] !== undefined && opts.metrics === null) {
    throw new UsageError('--metrics-max-peers only applies with --metrics [ADDR:]PORT');
  }
  if (opts.backend === 'libpcap') {
    if (opts.netns.length > 0 || opts.pids.length > 0) {
      throw new UsageError("--backend libpcap captures only in csumtop's own network namespace (no --netns/--pid)");
    }
    if (!opts.promisc) {
      // cap (src/binding.cc) calls pcap_set_promisc(handle, 1) unconditionally.
      throw new UsageError('--backend libpcap always opens interfaces in promiscuous mode (a limit of the cap package): add --promisc to accept that');
    }
  }
  if (opts.filter !== null && opts.filter.trim() === '') throw new UsageError('-f: expected a filter expression');
  if (opts.listInterfaces && opts.read !== null) throw new UsageError('-D lists the interfaces of live capture; it cannot be used with -r');
  if (opts.read === '') throw new UsageError('-r: expected a capture file name');
  if (opts.write === '') throw new UsageError('-w: expected an output file name');
  if (opts.read !== null) {
    const live = [
      '-i',
      opts.interfaces,
      '--netns',
      opts.netns.length || null,
      '--pid',
      opts.pids.length || null,
      '--duration',
      opts.duration,
      '--promisc',
      opts.promisc || null,
      '--user',
      opts.user,
      '--metrics',
      opts.metrics,
    ] as const;
    for (let k = 0; k < live.length; k += 2) {
      if (live[k + 1] !== null) throw new UsageError(`${live[k]} is for live capture; it cannot be used with -r`);
    }
    if (opts.rotateMb !== null || opts.rotateCount !== null || v.context !== undefined) {
      const flag = opts.rotateMb !== null ? '-C' : opts.rotateCount !== null ? '-W' : '--context';
      throw new UsageError(`${flag} is for live capture with -w; it cannot be used with -r`);
    }
  } else {
    // Live -w: rotation and context need the file, -W needs -C (tcpdump's -W without -C
    // belongs to -G, which csumtop does not have).
    if (opts.write === null) {
      if (opts.rotateMb !== null) throw new UsageError('-C needs -w FILE');
      if (opts.rotateCount !== null) throw new UsageError('-W needs -w FILE and -C SIZE');
      if (v.context !== undefined) throw new UsageError('--context needs -w FILE');
    }
    if (opts.rotateCount !== null && opts.rotateMb === null) throw new UsageError('-W needs -C SIZE (it counts rotated files)');
    if (opts.write !== null && opts.backend === 'libpcap') {
      throw new UsageError('-w during live capture needs the afpacket backend (the capture threads write the file)');
    }
  }
  if (opts.write !== null && opts.read !== null && opts.write === opts.read) {
    throw new UsageError('-w must not name the file given to -r');
  }
  return opts;
}
