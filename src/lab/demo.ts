/**
 * What `csumtop --demo` runs inside the lab: DNS and TCP traffic over the overlay, bursts
 * of checksum faults injected on node 1's underlay, and optionally node 1 switched into
 * variant A's broken state. Every step is asynchronous so the dashboard keeps drawing.
 */
import { spawn } from 'node:child_process';

import { FAULT_KINDS, faultFrame } from './faults.js';
import { HELPER, sh, track, type Lab } from './lab.js';

export interface DemoTraffic {
  /** Stops the loops and waits for what is in flight. */
  stop(): Promise<void>;
}

/** Frames injected per fault kind in one burst. */
export const BURST_PER_KIND = 3;

/** Sends frames on `dev` in `ns` through the lab's raw injector without blocking. */
export function injectAsync(ns: string, dev: string, frames: Uint8Array[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = track(spawn('ip', ['netns', 'exec', ns, 'python3', HELPER, 'inject', dev], { stdio: ['pipe', 'pipe', 'pipe'] }));
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

/**
 * Variant A on node 1 (domain.md): its VXLAN device computes the outer UDP checksum
 * (udpcsum, with local checksum offload for the inner one) and kube-proxy-style
 * MASQUERADE --random-fully rewrites the carrier's source port; nf_nat leaves the outer
 * checksum of the old port in place, so every carrier leaves node 1 with a wrong one.
 * The lab tests show the same on this kernel (test/lab/vxlan-live.test.ts).
 */
export function breakSender(lab: Lab): void {
  lab.recreateFlannelA(true);
  sh('ip', ['netns', 'exec', lab.A, 'iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', 'vla', '-p', 'udp', '--dport', '8472', '-j', 'MASQUERADE', '--random-fully']);
}

/**
 * Starts the demo's loops: a DNS query burst every second, a TCP transfer every three,
 * a burst of every fault kind every `faultEveryMs`. Failures go to `warn` (a DNS timeout
 * is part of what the demo shows, not an error of the demo).
 */
export function startTraffic(lab: Lab, warn: (text: string) => void, faultEveryMs = 4000): DemoTraffic {
  let stopped = false;
  const inFlight = new Set<Promise<unknown>>();
  const run = (p: Promise<unknown>): void => {
    const q = p.catch((e: Error) => {
      if (!stopped) warn(`demo: ${e.message.slice(0, 160)}`);
    });
    inFlight.add(q);
    void q.finally(() => inFlight.delete(q));
  };
  const faults = (): void => {
    const frames: Uint8Array[] = [];
    // The same few flows every burst (the index sets the ports), so their counts grow.
    for (let k = 0; k < BURST_PER_KIND; k++) for (const kind of FAULT_KINDS) frames.push(faultFrame(lab.macs, kind, k));
    run(injectAsync(lab.A, 'vla', frames));
  };
  let ticks = 0;
  const timer = setInterval(() => {
    if (stopped) return;
    ticks++;
    run(lab.dnsQueries(2));
    if (ticks % 3 === 0) run(lab.tcpTransfer(32_768));
  }, 1000);
  const faultTimer = setInterval(() => {
    if (!stopped) faults();
  }, faultEveryMs);
  // The first burst right away: a newcomer sees faults within the first seconds.
  setTimeout(() => {
    if (!stopped) faults();
  }, 500);
  return {
    async stop(): Promise<void> {
      stopped = true;
      clearInterval(timer);
      clearInterval(faultTimer);
      await Promise.all([...inFlight]);
    },
  };
}
