/**
 * trafgen (netsniff-ng) for the lab's load tests: frame templates whose bytes change per
 * frame at run time, a sender bounded in frames and time, and the process figures the
 * memory tests assert (/proc/PID/status, /proc/PID/fd).
 *
 * trafgen's run-time counters are one byte each (`dinc(min, max)`, man trafgen). Bytes
 * that count with pairwise coprime periods (128, 255, 253, 251 ...) step together like
 * one counter whose period is the product of theirs (Chinese remainder theorem): three
 * of them give 8,258,560 distinct combinations, enough for a million distinct flows
 * without any randomness (drnd() would repeat some).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';

import { nsSh, track } from './lab.js';

/** A byte of a template: a constant, or a trafgen expression (a counter, a checksum). */
export type TemplateByte = number | string;

/** The frame's bytes with `dyn` (offset -> expression) put in their place. */
export function template(bytes: Uint8Array, dyn: Record<number, string>): TemplateByte[] {
  const out: TemplateByte[] = [];
  for (let k = 0; k < bytes.length; k++) {
    const d = dyn[k];
    if (d === undefined) {
      out.push(bytes[k]);
    } else {
      out.push(d);
      // csumip/csumudp/csumtcp fill two bytes.
      if (/^csum/.test(d)) k++;
    }
  }
  return out;
}

/** A trafgen configuration: one `{ ... }` packet per template, sent round-robin. */
export function trafgenConfig(templates: TemplateByte[][]): string {
  return templates.map((t) => `{ ${t.map((b) => (typeof b === 'number' ? `0x${b.toString(16).padStart(2, '0')}` : b)).join(', ')} }`).join('\n') + '\n';
}

export interface TrafgenRun {
  /** Exit status (null after a signal). */
  code: number | null;
  stderr: string;
}

/**
 * Sends with trafgen from namespace `ns` on `dev`: `frames` in total (0: until stopped),
 * at `pps` (0: as fast as it can), one process (the other core is the capture's), for at
 * most `maxMs`. The process group is signalled, since trafgen forks its workers.
 */
export class Trafgen {
  readonly child: ChildProcess;
  readonly done: Promise<TrafgenRun>;
  private stderr = '';

  constructor(ns: string, dev: string, cfgPath: string, o: { frames?: number; pps?: number; maxMs: number }) {
    const args = ['netns', 'exec', ns, 'trafgen', '--dev', dev, '--conf', cfgPath, '--cpus', '1', '--no-sock-mem'];
    if (o.frames) args.push('--num', String(o.frames));
    if (o.pps) args.push('--rate', `${o.pps}pps`);
    this.child = track(spawn('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true }));
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    const hard = setTimeout(() => this.signal('SIGINT'), o.maxMs);
    const kill = setTimeout(() => this.signal('SIGKILL'), o.maxMs + 3000);
    this.done = new Promise((resolve) => {
      this.child.once('exit', (code) => {
        clearTimeout(hard);
        clearTimeout(kill);
        this.signal('SIGKILL'); // workers left behind, if any
        resolve({ code, stderr: this.stderr });
      });
    });
  }

  signal(sig: NodeJS.Signals): void {
    try {
      process.kill(-this.child.pid!, sig);
    } catch {
      // already gone
    }
  }

  async stop(): Promise<TrafgenRun> {
    this.signal('SIGINT');
    return this.done;
  }
}

/** Resident memory now and at its peak (kB), from /proc/PID/status; null once gone. */
export function memoryOf(pid: number): { rssKb: number; hwmKb: number; anonKb: number; fileKb: number; shmemKb: number } | null {
  let status: string;
  try {
    status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s*(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  // VmRSS = RssAnon (heaps) + RssFile (mapped files and the capture rings) + RssShmem.
  return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM'), anonKb: kb('RssAnon'), fileKb: kb('RssFile'), shmemKb: kb('RssShmem') };
}

/** The received-frame counter of a device in a namespace. */
export function rxPackets(ns: string, dev: string): number {
  return Number(nsSh(ns, ['cat', `/sys/class/net/${dev}/statistics/rx_packets`]).trim());
}
