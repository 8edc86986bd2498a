/**
 * The two-node flannel-style VXLAN lab (topology.ts), built in network namespaces: used
 * by the lab tests (test/lab/lab.ts) and by `csumtop --demo`.
 *
 * Routes, neighbours and forwarding entries are the ones flannel's vxlan backend writes
 * (flannel-io/flannel pkg/backend/vxlan: a /24 route per remote node "via" the remote
 * flannel.1 address, onlink; a permanent neighbour entry for that address with the
 * remote VTEP MAC; a bridge fdb entry MAC -> remote underlay address).
 *
 * Everything created here is registered for removal: callers call destroy(), and a
 * process 'exit' (and SIGINT/SIGTERM/SIGHUP) handler removes whatever is left, so a
 * failed or interrupted run leaves no namespace and no process behind.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { ROOT } from '../native/addon.js';
import {
  DNS_PORT,
  FLANNEL_PORT,
  FLANNEL_VNI,
  OVERLAY_A,
  OVERLAY_B,
  POD_A,
  POD_B,
  SINK_PORT,
  TCP_PORT,
  UNDERLAY_A,
  UNDERLAY_B,
  type LabMacs,
} from './topology.js';

/** The traffic helper (DNS responder, clients, raw injector); one copy, shipped with the tool. */
export const HELPER = path.join(ROOT, 'src', 'lab', 'lab_helper.py');

// ------------------------------------------------------------------ cleanup registry

const cleanups = new Map<number, () => void>();
let nextCleanup = 0;
let exitHooked = false;
let signalsHooked = true;

/**
 * A program with its own orderly stop (csumtop --demo: src/cli/shutdown.ts) calls this
 * before registering anything: the registry then runs at process exit only and leaves
 * SIGINT/SIGTERM/SIGHUP to the caller, instead of exiting at the first signal.
 */
export function leaveSignalsToCaller(): void {
  signalsHooked = false;
}

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
    for (const sig of signalsHooked ? (['SIGINT', 'SIGTERM', 'SIGHUP'] as const) : []) {
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

export function which(cmd: string): string | null {
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

let nsSerial = 0;

/** A namespace name unique to this process and call. */
export function uniqueNs(tag: string): string {
  return `csl${tag}-${process.pid}-${nsSerial++}`;
}

/** Creates a network namespace, registered for deletion. Returns its remover. */
export function createNamespace(name: string): () => void {
  sh('ip', ['netns', 'add', name]);
  const remove = onCleanup(() => {
    // Bounded: this runs in exit handlers too, where a hung `ip` would hang csumtop's exit.
    spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore', timeout: 5000, killSignal: 'SIGKILL' });
  });
  sh('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return remove;
}

/**
 * Sends frames through raw AF_PACKET sockets in namespace `ns`, each on its own device,
 * from one helper process (a test that churns hundreds of interfaces sends on all).
 */
export function linkMac(ns: string, dev: string): string {
  const links = JSON.parse(sh('ip', ['-n', ns, '-j', 'link', 'show', 'dev', dev])) as Array<{ address: string }>;
  return links[0].address;
}

// ------------------------------------------------------------------ the lab

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
  /** Set when a transfer with a timeout could not connect (the helper's message). */
  error?: string;
}

export class Lab {
  readonly A: string;
  readonly B: string;
  macs!: LabMacs;
  private readonly removers: Array<() => void> = [];
  private server: ChildProcess | null = null;
  readonly serverEvents: ServerEvent[] = [];

  /** Namespace names default to unique per process and call (tests); the demo names its own. */
  constructor(names?: { A: string; B: string }) {
    this.A = names?.A ?? uniqueNs('A');
    this.B = names?.B ?? uniqueNs('B');
  }

  /** Builds both nodes; on any failure removes what was made and rethrows. */
  static create(names?: { A: string; B: string }): Lab {
    const lab = new Lab(names);
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
    // The "pods": an address of each node's (no dummy module here, so on lo), reached over
    // flannel.1 (A's is the source of the demo's queries).
    sh('ip', ['-n', B, 'addr', 'add', `${POD_B}/32`, 'dev', 'lo']);
    sh('ip', ['-n', A, 'addr', 'add', `${POD_A}/32`, 'dev', 'lo']);
  }

  /** flannel.1 as flannel's vxlan backend creates it (learning off, UDP checksum off). */
  private addFlannel(ns: string, local: string, dev: string, addr: string, noudpcsum: boolean, mac?: string): void {
    sh('ip', [
      '-n',
      ns,
      'link',
      'add',
      'flannel.1',
      ...(mac ? ['address', mac] : []),
      'type',
      'vxlan',
      'id',
      String(FLANNEL_VNI),
      'local',
      local,
      'dev',
      dev,
      'dstport',
      String(FLANNEL_PORT),
      'nolearning',
      noudpcsum ? 'noudpcsum' : 'udpcsum',
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

  /**
   * COUNT DNS A queries from A to the responder in B, over the overlay: from A's own
   * address unless `from` (POD_A: as a pod would), `timeoutS` each (default 2).
   */
  async dnsQueries(count: number, o: { from?: string; timeoutS?: number; signal?: AbortSignal } = {}): Promise<DnsResult[]> {
    const extra = o.from !== undefined || o.timeoutS !== undefined ? [o.from ?? '', String(o.timeoutS ?? 2)] : [];
    const out = await runAsync('ip', ['netns', 'exec', this.A, 'python3', HELPER, 'dns', POD_B, String(DNS_PORT), String(count), ...extra], 30_000, o.signal);
    return JSON.parse(out) as DnsResult[];
  }

  /**
   * A TCP transfer of `bytes` from A to B's echo server and back. With `connectTimeoutS`
   * a connection that is not set up in time resolves with `error` instead of rejecting.
   */
  async tcpTransfer(bytes: number, connectTimeoutS?: number, signal?: AbortSignal): Promise<TcpResult> {
    const extra = connectTimeoutS === undefined ? [] : [String(connectTimeoutS)];
    const out = await runAsync('ip', ['netns', 'exec', this.A, 'python3', HELPER, 'tcp', POD_B, String(TCP_PORT), String(bytes), ...extra], 30_000, signal);
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
    if (r.sent !== frames.length) throw new Error(`raw socket sent ${r.sent} of ${frames.length} frames`);
  }

  /** Like inject, with PACKET_VNET_HDR: each frame goes with its virtio_net_hdr. */
  injectVnet(ns: string, dev: string, frames: Array<{ vnet: Uint8Array; frame: Uint8Array }>): void {
    const input = frames.map((f) => `${Buffer.from(f.vnet).toString('hex')}:${Buffer.from(f.frame).toString('hex')}`).join('\n') + '\n';
    const r = JSON.parse(nsSh(ns, ['python3', HELPER, 'inject', dev, 'vnet'], input)) as { sent: number };
    if (r.sent !== frames.length) throw new Error(`raw socket sent ${r.sent} of ${frames.length} frames`);
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

/**
 * Runs a command to completion without blocking the event loop; resolves with stdout.
 * `signal` kills it (the demo stopping does not wait for a query to time out).
 */
export function runAsync(cmd: string, args: string[], timeoutMs = 30_000, signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = track(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], signal, killSignal: 'SIGKILL' }));
    // An abort is reported as an 'error' event, then 'exit' rejects below.
    child.once('error', () => undefined);
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
