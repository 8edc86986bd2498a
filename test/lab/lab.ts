/**
 * The two-node flannel-style VXLAN lab for csumtop's live-capture tests.
 *
 *   namespace A ("node 1")                         namespace B ("node 2")
 *   flannel.1 10.244.0.0/32 (vxlan 1, 8472)        flannel.1 10.244.1.0/32
 *        |  noudpcsum, local 192.168.189.4              |  pod address 10.244.1.10 on lo:
 *   vla 192.168.189.4/24  <====== veth =======>  vlb 192.168.189.5/24   DNS :53, TCP echo :5000,
 *                                                                         UDP sink :9999
 *
 * Routes, neighbours and forwarding entries are the ones flannel's vxlan backend writes
 * (flannel-io/flannel pkg/backend/vxlan: a /24 route per remote node "via" the remote
 * flannel.1 address, onlink; a permanent neighbour entry for that address with the
 * remote VTEP MAC; a bridge fdb entry MAC -> remote underlay address).
 *
 * Faults are hand-built frames (test/fixtures/lib, correct-by-construction checksums
 * except the one asked to be wrong) sent on A's underlay through a raw AF_PACKET
 * socket, addressed with the real MACs so B's kernel takes them like any carrier.
 *
 * Everything created here is registered for removal: after() hooks call destroy(), and
 * a process 'exit' (and SIGINT/SIGTERM) handler removes whatever is left, so a failed or
 * interrupted run leaves no namespace and no process behind. Names carry the pid.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before } from 'node:test';

import { parseSnmp6, parseSnmpTable, readNetCounterFiles } from '../../src/host/snmp.js';
import type { ChecksumRow, InterfaceReport, ReportDocument } from '../../src/model/report.js';
import type { KindName, LayerName } from '../../src/model/verdict.js';
import { encode, eth, ipv4, tcp, tcpSynOptions, udp, vxlan, type CheckRecord, type CsumKnob, type EthNode } from '../fixtures/lib/index.js';

/** Repository root: dist/test/lab -> ../../.. */
export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const BIN = path.join(ROOT, 'bin', 'csumtop');
export const HELPER = path.join(ROOT, 'test', 'lab', 'lab_helper.py');

export const UNDERLAY_A = '192.168.189.4';
export const UNDERLAY_B = '192.168.189.5';
export const OVERLAY_A = '10.244.0.0';
export const OVERLAY_B = '10.244.1.0';
export const POD_B = '10.244.1.10';
export const FLANNEL_PORT = 8472;
export const FLANNEL_VNI = 1;
export const DNS_PORT = 53;
export const TCP_PORT = 5000;
export const SINK_PORT = 9999;

// ------------------------------------------------------------------ cleanup registry

const cleanups = new Map<number, () => void>();
let nextCleanup = 0;
let exitHooked = false;

/** Runs every registered cleanup (newest first); each runs once. */
export function cleanupAll(): void {
  for (const key of [...cleanups.keys()].sort((a, b) => b - a)) {
    const fn = cleanups.get(key);
    cleanups.delete(key);
    try {
      fn?.();
    } catch {
      // Keep going: the others must still run.
    }
  }
}

/** Registers `fn` to run at process exit unless the returned function runs it first. */
export function onCleanup(fn: () => void): () => void {
  if (!exitHooked) {
    exitHooked = true;
    process.on('exit', cleanupAll);
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(sig, () => {
        cleanupAll();
        process.exit(128 + (os.constants.signals[sig] ?? 15));
      });
    }
  }
  const key = nextCleanup++;
  cleanups.set(key, fn);
  return () => {
    if (!cleanups.has(key)) return;
    cleanups.delete(key);
    fn();
  };
}

/** A child process killed (by its pid) at cleanup if it is still running. */
export function track(child: ChildProcess): ChildProcess {
  const release = onCleanup(() => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
  child.once('exit', () => release());
  return child;
}

// ------------------------------------------------------------------ commands

/** Runs a command, returns stdout; throws with the command line and its stderr. */
export function sh(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, timeout: 30_000 });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}: ${(r.stderr || r.stdout).trim()}`);
  }
  return r.stdout;
}

export function nsSh(ns: string, args: string[], input?: string): string {
  return sh('ip', ['netns', 'exec', ns, ...args], input);
}

function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return null;
}

/**
 * Why the lab cannot run here, or null. Tests call this first and FAIL with the answer
 * (never skip): a lab that did not run must not look like a passing one.
 */
export function labProblem(extraTools: string[] = []): string | null {
  const problems: string[] = [];
  if (typeof process.getuid === 'function' && process.getuid() !== 0) problems.push('the lab needs root (network namespaces, veth, raw sockets)');
  for (const t of ['ip', 'bridge', 'python3', ...extraTools]) if (!which(t)) problems.push(`${t} is not installed`);
  if (!fs.existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'main.js'))) problems.push('the CLI is not built (npx tsc -p .)');
  if (!fs.existsSync(path.join(ROOT, 'build', 'Release', 'csumtop.node')) && !fs.existsSync(path.join(ROOT, 'build', 'Debug', 'csumtop.node'))) {
    problems.push('the native addon is not built (npm run build:native)');
  }
  return problems.length > 0 ? `the namespace lab cannot run on this machine: ${problems.join('; ')}` : null;
}

let nsSerial = 0;

/** A namespace name unique to this process and call. */
export function uniqueNs(tag: string): string {
  return `csl${tag}-${process.pid}-${nsSerial++}`;
}

/** Creates a network namespace, registered for deletion. Returns its remover. */
export function createNamespace(name: string): () => void {
  sh('ip', ['netns', 'add', name]);
  const remove = onCleanup(() => {
    spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  });
  sh('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return remove;
}

export function linkMac(ns: string, dev: string): string {
  const links = JSON.parse(sh('ip', ['-n', ns, '-j', 'link', 'show', 'dev', dev])) as Array<{ address: string }>;
  return links[0].address;
}

// ------------------------------------------------------------------ the lab

export interface LabMacs {
  vla: string;
  vlb: string;
  flannelA: string;
  flannelB: string;
}

export interface ServerEvent {
  ready?: boolean;
  dns?: string;
  sink?: string;
  tcp?: number;
}

export interface DnsResult {
  name: string;
  ok: boolean;
  address?: string;
  ms?: number;
  error?: string;
}

export interface TcpResult {
  sent: number;
  received: number;
  match: boolean;
}

/** /proc/net/snmp (+ /proc/net/netstat, /proc/net/snmp6) of one namespace: section -> field -> value. */
export type Snmp = Record<string, Record<string, number>>;

export class Lab {
  readonly A: string;
  readonly B: string;
  macs!: LabMacs;
  private readonly removers: Array<() => void> = [];
  private server: ChildProcess | null = null;
  readonly serverEvents: ServerEvent[] = [];

  constructor() {
    this.A = uniqueNs('A');
    this.B = uniqueNs('B');
  }

  /** Builds both nodes; on any failure removes what was made and rethrows. */
  static create(): Lab {
    const lab = new Lab();
    try {
      lab.build();
    } catch (err) {
      lab.destroy();
      throw err;
    }
    return lab;
  }

  private build(): void {
    const { A, B } = this;
    this.removers.push(createNamespace(A), createNamespace(B));
    // The veth is created straight into both namespaces: no name ever exists in the host.
    sh('ip', ['link', 'add', 'vla', 'netns', A, 'type', 'veth', 'peer', 'name', 'vlb', 'netns', B]);
    sh('ip', ['-n', A, 'addr', 'add', `${UNDERLAY_A}/24`, 'dev', 'vla']);
    sh('ip', ['-n', B, 'addr', 'add', `${UNDERLAY_B}/24`, 'dev', 'vlb']);
    sh('ip', ['-n', A, 'link', 'set', 'vla', 'up']);
    sh('ip', ['-n', B, 'link', 'set', 'vlb', 'up']);
    this.addFlannel(A, UNDERLAY_A, 'vla', OVERLAY_A, true);
    this.addFlannel(B, UNDERLAY_B, 'vlb', OVERLAY_B, true);
    this.macs = {
      vla: linkMac(A, 'vla'),
      vlb: linkMac(B, 'vlb'),
      flannelA: linkMac(A, 'flannel.1'),
      flannelB: linkMac(B, 'flannel.1'),
    };
    this.addPeer(A, OVERLAY_B, '10.244.1.0/24', this.macs.flannelB, UNDERLAY_B);
    this.addPeer(B, OVERLAY_A, '10.244.0.0/24', this.macs.flannelA, UNDERLAY_A);
    // The "pod": an address of B's (no dummy module here, so on lo), reached over flannel.1.
    sh('ip', ['-n', B, 'addr', 'add', `${POD_B}/32`, 'dev', 'lo']);
  }

  /** flannel.1 as flannel's vxlan backend creates it (learning off, UDP checksum off). */
  private addFlannel(ns: string, local: string, dev: string, addr: string, noudpcsum: boolean, mac?: string): void {
    sh('ip', [
      '-n', ns, 'link', 'add', 'flannel.1', ...(mac ? ['address', mac] : []),
      'type', 'vxlan', 'id', String(FLANNEL_VNI), 'local', local, 'dev', dev,
      'dstport', String(FLANNEL_PORT), 'nolearning', noudpcsum ? 'noudpcsum' : 'udpcsum',
    ]);
    sh('ip', ['-n', ns, 'link', 'set', 'flannel.1', 'mtu', '1450', 'up']);
    sh('ip', ['-n', ns, 'addr', 'add', `${addr}/32`, 'dev', 'flannel.1']);
  }

  private addPeer(ns: string, peerAddr: string, subnet: string, peerMac: string, peerUnderlay: string): void {
    sh('ip', ['-n', ns, 'route', 'add', subnet, 'via', peerAddr, 'dev', 'flannel.1', 'onlink']);
    sh('ip', ['-n', ns, 'neigh', 'replace', peerAddr, 'lladdr', peerMac, 'dev', 'flannel.1', 'nud', 'permanent']);
    sh('bridge', ['-n', ns, 'fdb', 'append', peerMac, 'dev', 'flannel.1', 'dst', peerUnderlay]);
  }

  /**
   * Recreates A's flannel.1 with the same MAC, with or without `udpcsum`. With udpcsum
   * the outer UDP checksum is computed at encapsulation with local checksum offload
   * (RFC 7348 allows either; Linux udp_set_csum + lco_csum) while the inner one stays
   * CHECKSUM_PARTIAL.
   */
  recreateFlannelA(udpcsum: boolean): void {
    sh('ip', ['-n', this.A, 'link', 'del', 'flannel.1']);
    this.addFlannel(this.A, UNDERLAY_A, 'vla', OVERLAY_A, !udpcsum, this.macs.flannelA);
    this.addPeer(this.A, OVERLAY_B, '10.244.1.0/24', this.macs.flannelB, UNDERLAY_B);
  }

  vxlanUdpCsum(ns: string): boolean {
    const links = JSON.parse(sh('ip', ['-n', ns, '-d', '-j', 'link', 'show', 'dev', 'flannel.1'])) as Array<{
      linkinfo?: { info_data?: { udp_csum?: boolean } };
    }>;
    return links[0].linkinfo?.info_data?.udp_csum === true;
  }

  /** Starts the DNS responder, TCP echo and UDP sink on B's pod address. */
  async startServers(): Promise<void> {
    if (this.server) return;
    const child = track(
      spawn('ip', ['netns', 'exec', this.B, 'python3', '-u', HELPER, 'serve', POD_B, String(DNS_PORT), String(TCP_PORT), String(SINK_PORT)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    this.server = child;
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    let buf = '';
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`lab servers did not start within 5 s: ${stderr}`)), 5000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`lab servers exited (${code}): ${stderr}`));
      });
      child.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const ev = JSON.parse(line) as ServerEvent;
          this.serverEvents.push(ev);
          if (ev.ready) {
            clearTimeout(timer);
            resolve();
          }
        }
      });
    });
    await ready;
  }

  sinkPayloads(): string[] {
    return this.serverEvents.filter((e) => e.sink !== undefined).map((e) => e.sink!);
  }

  /** COUNT DNS A queries from A to the responder in B, over the overlay. */
  async dnsQueries(count: number): Promise<DnsResult[]> {
    const out = await runAsync('ip', ['netns', 'exec', this.A, 'python3', HELPER, 'dns', POD_B, String(DNS_PORT), String(count)]);
    return JSON.parse(out) as DnsResult[];
  }

  /** A TCP transfer of `bytes` from A to B's echo server and back. */
  async tcpTransfer(bytes: number): Promise<TcpResult> {
    const out = await runAsync('ip', ['netns', 'exec', this.A, 'python3', HELPER, 'tcp', POD_B, String(TCP_PORT), String(bytes)]);
    return JSON.parse(out) as TcpResult;
  }

  /** UDP datagrams from A's stack to B's sink, one per payload. */
  async udpToSink(payloads: string[]): Promise<void> {
    await runAsync('ip', ['netns', 'exec', this.A, 'python3', HELPER, 'udp', POD_B, String(SINK_PORT), ...payloads]);
  }

  /** Sends frames on `dev` in namespace `ns` through a raw AF_PACKET socket. */
  inject(ns: string, dev: string, frames: Uint8Array[]): void {
    const input = frames.map((f) => Buffer.from(f).toString('hex')).join('\n') + '\n';
    const r = JSON.parse(nsSh(ns, ['python3', HELPER, 'inject', dev], input)) as { sent: number };
    assert.equal(r.sent, frames.length, 'raw socket did not send every frame');
  }

  /** Like inject, with PACKET_VNET_HDR: each frame goes with its virtio_net_hdr. */
  injectVnet(ns: string, dev: string, frames: Array<{ vnet: Uint8Array; frame: Uint8Array }>): void {
    const input = frames.map((f) => `${Buffer.from(f.vnet).toString('hex')}:${Buffer.from(f.frame).toString('hex')}`).join('\n') + '\n';
    const r = JSON.parse(nsSh(ns, ['python3', HELPER, 'inject', dev, 'vnet'], input)) as { sent: number };
    assert.equal(r.sent, frames.length, 'raw socket did not send every frame');
  }

  destroy(): void {
    if (this.server) {
      const s = this.server;
      this.server = null;
      if (s.exitCode === null && s.pid !== undefined) {
        try {
          process.kill(s.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    while (this.removers.length > 0) {
      try {
        this.removers.pop()!();
      } catch {
        // next
      }
    }
  }
}

/** Runs a command to completion without blocking the event loop; resolves with stdout. */
export function runAsync(cmd: string, args: string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = track(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code ?? signal}: ${stderr.trim()}`));
    });
  });
}

// ------------------------------------------------------------------ kernel counters

/**
 * The kernel's protocol counters inside namespace `ns`: {Ip:{InHdrErrors..},
 * Udp:{InErrors, InCsumErrors..}, Tcp:{InErrs, InCsumErrors..}, IpExt:{InCsumErrors..},
 * Udp6:{InCsumErrors..}, ...}. /proc/net is per network namespace; the files are read by
 * csumtop's own reader (src/host/snmp.ts, a native thread inside the namespace) and
 * parsers, so the lab also exercises them.
 */
export function snmp(ns: string): Snmp {
  const files = readNetCounterFiles(ns);
  const out: Snmp = {};
  for (const text of [files.snmp, files.netstat]) {
    if (text === null) continue;
    for (const [section, rec] of Object.entries(parseSnmpTable(text))) out[section] = { ...(out[section] ?? {}), ...rec };
  }
  // snmp6 names carry their section as a prefix: "Udp6InCsumErrors" -> Udp6.InCsumErrors.
  for (const [name, value] of Object.entries(files.snmp6 === null ? {} : parseSnmp6(files.snmp6))) {
    const m = /^(Ip6|Icmp6|UdpLite6|Udp6)(\w+)$/.exec(name);
    if (m) (out[m[1]] ??= {})[m[2]] = value;
  }
  return out;
}

/** after - before for one counter. */
export function delta(before: Snmp, after: Snmp, section: string, field: string): number {
  const a = after[section]?.[field];
  const b = before[section]?.[field];
  if (a === undefined || b === undefined) throw new Error(`no counter ${section} ${field} in /proc/net/snmp`);
  return a - b;
}

// ------------------------------------------------------------------ faults

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

export function faultKindOfSport(sport: number | null | undefined): FaultKind | null {
  if (sport === null || sport === undefined) return null;
  for (const k of FAULT_KINDS) if (sport >= FAULT_SPORT_BASE[k] && sport < FAULT_SPORT_BASE[k] + 1000) return k;
  return null;
}

interface Knobs {
  outerIp?: CsumKnob;
  outerUdp?: CsumKnob;
  innerL4?: CsumKnob;
}

/** A value for a checksum field that is wrong: `preferred` unless that happens to be right. */
export function wrongValue(correct: number, preferred: number): number {
  let v = preferred;
  // 0 would read as "no checksum" for UDP; the correct value (or its ones-complement twin) is not wrong.
  while (v === correct || v === 0 || (correct === 0xffff && v === 0)) v = (v + 0x1111) & 0xffff;
  return v;
}

function findCheck(checks: CheckRecord[], depth: number, kind: KindName): CheckRecord {
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
  const sport = FAULT_SPORT_BASE[kind] + i;
  const build = (k: Knobs): EthNode => {
    const l4 =
      kind === 'bad-inner-tcp'
        ? tcp(47000 + i, TCP_PORT, { flags: 'S', seq: 0x10000000 + i, window: 64860, options: tcpSynOptions(1410), csum: k.innerL4 })
        : udp(46000 + i, SINK_PORT, Buffer.from(`${kind}-${i}`), k.innerL4);
    const inner = eth(ipv4(OVERLAY_A, POD_B, l4, { id: 0x2000 + i, ttl: 64 }), { src: macs.flannelA, dst: macs.flannelB });
    return eth(
      ipv4(UNDERLAY_A, UNDERLAY_B, udp(sport, FLANNEL_PORT, vxlan(FLANNEL_VNI, inner), k.outerUdp), { id: 0x3000 + i, df: false, csum: k.outerIp }),
      { src: macs.vla, dst: macs.vlb },
    );
  };
  const good = encode(build({}));
  switch (kind) {
    case 'bad-outer-udp':
      // 0xffff: the value nf_nat wrote into zero checksums (variant A, domain.md).
      return encode(build({ outerUdp: wrongValue(findCheck(good.checks, 0, 'udp').expected, 0xffff) })).bytes;
    case 'bad-inner-udp':
      return encode(build({ innerL4: wrongValue(findCheck(good.checks, 1, 'udp').expected, 0xbd67) })).bytes;
    case 'bad-inner-tcp':
      return encode(build({ innerL4: wrongValue(findCheck(good.checks, 1, 'tcp').expected, 0xa7b8) })).bytes;
    case 'bad-outer-ipv4':
      return encode(build({ outerIp: wrongValue(findCheck(good.checks, 0, 'ipv4').expected, 0x1234) })).bytes;
    case 'zero-outer-udp':
      return encode(build({ outerUdp: 'zero' })).bytes;
  }
}

/** struct virtio_net_hdr (include/uapi/linux/virtio_net.h), little-endian as on x86. */
export function virtioNetHdr(o: { needsCsum: boolean; csumStart: number; csumOffset: number }): Uint8Array {
  const h = Buffer.alloc(10);
  h[0] = o.needsCsum ? 1 : 0; // VIRTIO_NET_HDR_F_NEEDS_CSUM
  h[1] = 0; // VIRTIO_NET_HDR_GSO_NONE
  h.writeUInt16LE(0, 2); // hdr_len
  h.writeUInt16LE(0, 4); // gso_size
  h.writeUInt16LE(o.csumStart, 6);
  h.writeUInt16LE(o.csumOffset, 8);
  return h;
}

/**
 * A carrier as A's stack would hand it to vla with local checksum offload: the inner UDP
 * checksum not computed yet (the field holds the pseudo-header sum, CHECKSUM_PARTIAL
 * with csum_start at the inner UDP header), the outer UDP checksum either right for the
 * packet once the inner one is filled in (`outerRight`) or wrong for it.
 */
export function partialCarrier(macs: LabMacs, i: number, outerRight: boolean): { vnet: Uint8Array; frame: Uint8Array; outerFound: number; outerExpected: number } {
  const build = (inner: CsumKnob | undefined, outer: CsumKnob | undefined): EthNode => {
    const innerFrame = eth(ipv4(OVERLAY_A, POD_B, udp(48000 + i, SINK_PORT, Buffer.from(`partial-${outerRight ? 'ok' : 'bad'}-${i}`), inner), { id: 0x4000 + i }), {
      src: macs.flannelA,
      dst: macs.flannelB,
    });
    return eth(ipv4(UNDERLAY_A, UNDERLAY_B, udp(49000 + i, FLANNEL_PORT, vxlan(FLANNEL_VNI, innerFrame), outer), { id: 0x5000 + i, df: false }), {
      src: macs.vla,
      dst: macs.vlb,
    });
  };
  // The outer checksum of the completed packet (inner checksum filled in).
  const completed = encode(build(undefined, undefined));
  const outerExpected = findCheck(completed.checks, 0, 'udp').expected;
  const outerFound = outerRight ? outerExpected : wrongValue(outerExpected, 0xffff);
  const enc = encode(build('pseudo', outerFound));
  // headerStart of a transport record is where its header starts in the frame.
  const csumStart = findCheck(enc.checks, 1, 'udp').headerStart;
  return { vnet: virtioNetHdr({ needsCsum: true, csumStart, csumOffset: 6 }), frame: enc.bytes, outerFound, outerExpected };
}

// ------------------------------------------------------------------ csumtop

/** One parsed JSON line of `csumtop --json` (only the fields the tests read are typed). */
export interface JsonLine {
  type: 'interface' | 'stats' | 'bad' | 'warning' | 'report' | 'finding' | 'correlation';
  [k: string]: unknown;
}

export interface CsumtopExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  lines: JsonLine[];
  report: ReportDocument | null;
}

/**
 * A running `csumtop`. Spawned as `bin/csumtop ...` (or under `wrap`, e.g. capsh),
 * so `pid` is csumtop's own process when there is no wrapper.
 */
export class Csumtop {
  readonly child: ChildProcess;
  readonly lines: JsonLine[] = [];
  /** Arrival time (Date.now()) of each line, same index as lines. */
  readonly arrived: number[] = [];
  stdout = '';
  stderr = '';
  readonly done: Promise<CsumtopExit>;
  private waiters: Array<() => void> = [];

  constructor(args: string[], opts: { wrap?: string[]; cwd?: string } = {}) {
    const argv = [BIN, ...args]; // bin/csumtop is a sh launcher (see its comment)
    const [cmd, ...rest] = opts.wrap ? [...opts.wrap, ...argv] : argv;
    this.child = track(spawn(cmd, rest, { stdio: ['ignore', 'pipe', 'pipe'], cwd: opts.cwd ?? ROOT }));
    let buf = '';
    this.child.stdout!.on('data', (d: Buffer) => {
      const s = d.toString();
      this.stdout += s;
      buf += s;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('{')) {
          try {
            this.lines.push(JSON.parse(line) as JsonLine);
            this.arrived.push(Date.now());
          } catch {
            // a text report line that starts with '{' is not ours to parse
          }
        }
      }
      this.wake();
    });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
      this.wake();
    });
    this.done = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.wake();
        const reportLine = this.lines.find((l) => l.type === 'report');
        resolve({
          code,
          signal,
          stdout: this.stdout,
          stderr: this.stderr,
          lines: this.lines,
          report: reportLine ? (reportLine as unknown as ReportDocument) : null,
        });
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Exit status, null while running. */
  get code(): number | null {
    return this.child.exitCode;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves with the first line matching `pred` (searching from `from`), or null after timeoutMs or at exit. */
  async waitFor(pred: (l: JsonLine) => boolean, timeoutMs: number, from = 0): Promise<JsonLine | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let k = from; k < this.lines.length; k++) if (pred(this.lines[k])) return this.lines[k];
      const left = deadline - Date.now();
      if (left <= 0 || !this.running) return null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits until `names` (interface names) all have an 'attached' line; returns the missing ones. */
  async waitAttached(names: string[], timeoutMs = 1000, from = 0): Promise<string[]> {
    const missing = (): string[] =>
      names.filter((n) => !this.lines.slice(from).some((l) => l.type === 'interface' && l.event === 'attached' && l.interface === n));
    const deadline = Date.now() + timeoutMs;
    while (missing().length > 0 && Date.now() < deadline && this.running) {
      await this.waitFor(() => missing().length === 0, deadline - Date.now(), from);
    }
    return missing();
  }

  /** Stops a live capture the way an operator would (Ctrl-C) and waits for its report. */
  async stop(): Promise<CsumtopExit> {
    if (this.running) this.child.kill('SIGINT');
    return this.done;
  }
}

/** Message for assertions: what csumtop said, shortened. */
export function describeRun(r: { code: number | null; stderr: string; stdout: string }): string {
  return `exit ${r.code}; stderr: ${r.stderr.trim().slice(0, 600) || '(empty)'}; stdout: ${r.stdout.slice(0, 400)}`;
}

// ------------------------------------------------------------------ tcpdump

/** tcpdump -vv -nn on one interface of a namespace, until stop(). */
export class Tcpdump {
  private readonly child: ChildProcess;
  output = '';
  private errText = '';
  readonly ready: Promise<void>;
  private readonly exited: Promise<void>;

  constructor(ns: string, dev: string) {
    this.child = track(spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-i', dev, '-vv', '-nn', '-l', '-Z', 'root'], { stdio: ['ignore', 'pipe', 'pipe'] }));
    this.child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`tcpdump on ${ns}/${dev} did not start: ${this.errText}`)), 5000);
      this.child.stderr!.on('data', (d: Buffer) => {
        this.errText += d.toString();
        if (/listening on/.test(this.errText)) {
          clearTimeout(timer);
          resolve();
        }
      });
      this.child.once('exit', () => {
        clearTimeout(timer);
        reject(new Error(`tcpdump on ${ns}/${dev} exited: ${this.errText}`));
      });
    });
  }

  async stop(): Promise<string> {
    if (this.child.exitCode === null && this.child.pid !== undefined) process.kill(this.child.pid, 'SIGINT');
    await this.exited;
    return this.output;
  }
}

// ------------------------------------------------------------------ report helpers

export function iface(report: ReportDocument, name: string): InterfaceReport {
  const i = report.interfaces.find((x) => x.name === name);
  if (!i) throw new Error(`no interface ${name} in the report (have: ${report.interfaces.map((x) => x.name).join(', ')})`);
  return i;
}

const ZERO_ROW = { packets: 0, ok: 0, bad: 0, absent: 0, unverifiable: 0, pending: 0, validated: 0, badPercent: 0 };

/** The checksum row of (layer, protocol), all zero when the interface never saw one. */
export function row(i: { checksums: ChecksumRow[] }, layer: LayerName, protocol: KindName): ChecksumRow {
  return i.checksums.find((r) => r.layer === layer && r.protocol === protocol) ?? { layer, protocol, ...ZERO_ROW };
}

export function sumRows(i: { checksums: ChecksumRow[] }, field: 'bad' | 'pending' | 'validated' | 'ok' | 'absent' | 'packets'): number {
  return i.checksums.reduce((s, r) => s + r[field], 0);
}

/** A compact table of an interface's rows for assertion messages. */
export function rowsText(i: { checksums: ChecksumRow[] }): string {
  return i.checksums
    .map((r) => `${r.layer}/${r.protocol}: n=${r.packets} ok=${r.ok} bad=${r.bad} absent=${r.absent} pending=${r.pending} validated=${r.validated} unverifiable=${r.unverifiable}`)
    .join('; ');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Open file descriptors of a process. */
export function fdCount(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/** Uid/Gid/CapEff lines of every thread of a process. */
export function threadCredentials(pid: number): Array<{ tid: string; uid: number[]; gid: number[]; capEff: string }> {
  const out: Array<{ tid: string; uid: number[]; gid: number[]; capEff: string }> = [];
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    let status: string;
    try {
      status = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
    } catch {
      continue; // a short-lived thread that ended meanwhile
    }
    const field = (name: string): string => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1] ?? '';
    out.push({
      tid,
      uid: field('Uid').split(/\s+/).map(Number),
      gid: field('Gid').split(/\s+/).map(Number),
      capEff: field('CapEff'),
    });
  }
  return out;
}

export { which };

/**
 * One lab for a whole test file: built in before(), removed in after(). Returns the
 * accessor each test calls; it fails the test with the reason when the lab could not
 * be built on this machine (never a silent pass).
 */
export function sharedLab(): () => Lab {
  const problem = labProblem();
  let lab: Lab | null = null;
  let setupError: Error | null = null;
  before(async () => {
    if (problem) return;
    try {
      lab = Lab.create();
      await lab.startServers();
    } catch (err) {
      setupError = err as Error;
    }
  });
  after(() => {
    lab?.destroy();
    lab = null;
  });
  return () => {
    if (problem) assert.fail(problem);
    if (setupError) assert.fail(`the lab could not be built: ${setupError.message}`);
    return lab!;
  };
}

/** The final report of a csumtop run, or a failure describing the run. */
export function reportOf(r: { report: ReportDocument | null; code: number | null; stderr: string; stdout: string }): ReportDocument {
  assert.ok(r.report, `csumtop printed no report: ${describeRun(r)}`);
  return r.report;
}
