/**
 * What `csumtop --demo` runs inside the lab: DNS and TCP traffic over the overlay from
 * node 1's pod address, and either bursts of injected checksum faults on node 1's
 * underlay (`--demo`) or node 1 switched into variant A's broken state, where the kernels
 * themselves break and drop the carriers (`--demo-broken`, healed by `applyFix`). Every
 * step is asynchronous so the dashboard keeps drawing.
 */
import { spawn } from 'node:child_process';

import { FAULT_KINDS, faultFrame } from './faults.js';
import { HELPER, nsSh, runAsync, sh, track, type Lab } from './lab.js';
import { POD_A } from './topology.js';

export interface DemoTraffic {
  /** Stops the loops and waits for what is in flight. */
  stop(): Promise<void>;
}

/** Frames injected per fault kind in one burst. */
export const BURST_PER_KIND = 3;

/** Sends frames on `dev` in `ns` through the lab's raw injector without blocking. */
export function injectAsync(ns: string, dev: string, frames: Uint8Array[], signal?: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = track(
      spawn('ip', ['netns', 'exec', ns, 'python3', HELPER, 'inject', dev], { stdio: ['pipe', 'pipe', 'pipe'], signal, killSignal: 'SIGKILL' }),
    );
    child.once('error', () => undefined); // an abort; 'exit' rejects below
    child.stdin!.on('error', () => undefined); // killed before it read its frames
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`inject on ${ns}/${dev} exited ${code}: ${err.trim()}`));
      try {
        resolve((JSON.parse(out) as { sent: number }).sent);
      } catch {
        reject(new Error(`inject on ${ns}/${dev}: unexpected output ${out.slice(0, 100)}`));
      }
    });
    child.stdin!.end(frames.map((f) => Buffer.from(f).toString('hex')).join('\n') + '\n');
  });
}

/** The tools `--demo-broken` runs in the lab besides iproute2 and python3. */
export const BROKEN_TOOLS = ['iptables', 'ethtool'];

/**
 * Variant A on node 1 (issue 13 section 6), with nothing injected: its VXLAN device
 * computes the outer UDP checksum at encapsulation (udpcsum, with local checksum offload
 * for the inner one: udp_set_csum/lco_csum) and kube-proxy-style MASQUERADE
 * --random-fully rewrites the carrier's source port; nf_nat's update skips the outer
 * checksum of a CHECKSUM_PARTIAL skb (nf_nat_proto.c __udp_manip_pkt), so every carrier
 * keeps the old port's checksum. The kernel's 2020 fix (ea64d8d6c675, never update a zero
 * checksum) does not cover this: it breaks on current kernels too (6.18 measured).
 *
 * Transmit checksum offload is turned off on node 1's underlay veth. A veth hands the
 * skb to its peer still CHECKSUM_PARTIAL, and node 2's UDP input trusts such a skb
 * without verifying anything, so over the lab's veth the wrong checksum would be carried
 * and accepted and DNS would keep working. A real NIC (or the kernel, for a device without
 * the offload: validate_xmit_skb -> skb_checksum_help) finalises the checksums before the
 * frame leaves; with `tx off` the kernel does exactly that on the veth, node 2 receives a
 * finished frame, verifies it, drops it (Udp InCsumErrors) and DNS times out, as on the
 * clusters of the incident.
 */
export function breakSender(lab: Lab): void {
  lab.recreateFlannelA(true);
  sh('ip', [
    'netns',
    'exec',
    lab.A,
    'iptables',
    '-t',
    'nat',
    '-A',
    'POSTROUTING',
    '-o',
    'vla',
    '-p',
    'udp',
    '--dport',
    '8472',
    '-j',
    'MASQUERADE',
    '--random-fully',
  ]);
  nsSh(lab.A, ['ethtool', '-K', 'vla', 'tx', 'off']);
}

/**
 * The remedy for what breakSender broke, as csumtop's finding gives it (src/diagnose/
 * remedies.ts txChecksumOff, for the sending node): transmit checksum offload off on
 * node 1's flannel.1. The inner checksum is then computed before encapsulation, the outer
 * one covers finished bytes, and nf_nat's port rewrite updates it correctly.
 */
const FIX_ARGV = ['ethtool', '-K', 'flannel.1', 'tx-checksum-ip-generic', 'off'];
export const DEMO_FIX = { where: 'node 1', argv: FIX_ARGV, command: FIX_ARGV.join(' ') } as const;

/** Applies DEMO_FIX inside node 1's namespace without blocking the event loop. */
export async function applyFix(lab: Lab): Promise<void> {
  await runAsync('ip', ['netns', 'exec', lab.A, ...DEMO_FIX.argv], 10_000);
}

export interface TrafficOptions {
  /** Inject a burst of every fault kind on node 1's underlay this often; null: never. */
  faultEveryMs: number | null;
}

/**
 * Starts the demo's loops: DNS queries from node 1's pod address every second, a TCP
 * transfer every three, and fault bursts when asked. A loop whose previous round is
 * still waiting (queries timing out on the broken path) skips its turn, so nothing piles
 * up. Timeouts are what the demo shows, not errors of the demo: only failures of the
 * helpers themselves go to `warn`.
 */
export function startTraffic(lab: Lab, warn: (text: string) => void, opts: TrafficOptions = { faultEveryMs: 4000 }): DemoTraffic {
  let stopped = false;
  // Stopping kills the helpers still running (a query waiting for its timeout, a python
  // slow to start on a busy machine) instead of waiting for them: csumtop's shutdown
  // bound (src/cli/shutdown.ts) counts waiting on children as no progress.
  const abort = new AbortController();
  const signal = abort.signal;
  const inFlight = new Set<Promise<unknown>>();
  const busy = new Set<string>();
  const run = (what: string, start: () => Promise<unknown>): void => {
    if (stopped || busy.has(what)) return;
    busy.add(what);
    const q = start()
      .catch((e: Error) => {
        if (!stopped) warn(`demo: ${e.message.slice(0, 160)}`);
      })
      .finally(() => busy.delete(what));
    inFlight.add(q);
    void q.finally(() => inFlight.delete(q));
  };
  const faults = (): void => {
    const frames: Uint8Array[] = [];
    // The same few flows every burst (the index sets the ports), so their counts grow.
    for (let k = 0; k < BURST_PER_KIND; k++) for (const kind of FAULT_KINDS) frames.push(faultFrame(lab.macs, kind, k));
    run('faults', () => injectAsync(lab.A, 'vla', frames, signal));
  };
  let ticks = 0;
  const timer = setInterval(() => {
    ticks++;
    run('dns', () => lab.dnsQueries(2, { from: POD_A, timeoutS: 1, signal }));
    if (ticks % 3 === 0) run('tcp', () => lab.tcpTransfer(32_768, 2, signal));
  }, 1000);
  const timers: NodeJS.Timeout[] = [timer];
  if (opts.faultEveryMs !== null) {
    timers.push(setInterval(faults, opts.faultEveryMs));
    // The first burst right away: a newcomer sees faults within the first seconds.
    timers.push(setTimeout(faults, 500));
  }
  return {
    async stop(): Promise<void> {
      stopped = true;
      for (const t of timers) clearInterval(t);
      abort.abort();
      await Promise.all([...inFlight]);
    },
  };
}
