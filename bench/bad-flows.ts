/**
 * The live bad-flow view (src/correlate/bad-flows.ts) on a flood where every bad frame is
 * a new flow (bench/live.ts's stream: a quarter of its frames bad, each a new flow),
 * against the per-frame-object view it replaced (test/lib/bad-flows-reference.ts, kept
 * as the oracle of its test), in the same run.
 *
 *   node dist/bench/bad-flows.js [--records N] [--runs R]
 *
 * Each variant runs in a child process of its own (a fresh heap), in turns: batches of
 * 1000 new records, packed as the addon hands them over (made in the loop), go to the
 * view, and every 25 batches (an interval at 25,000 bad frames/s) `top(200)` makes the
 * snapshot. The reference decodes each batch into record objects first, as live capture
 * did for it; the current view reads the packed records in the addon. "none" makes the
 * batches only: the others are shown net of it. Prints the median µs per record and the
 * garbage collector's share.
 */
import { spawnSync } from 'node:child_process';
import { PerformanceObserver, performance } from 'node:perf_hooks';

import { BadFlowTracker } from '../src/correlate/bad-flows.js';
import type { DecodedRecord } from '../src/model/bad-frame.js';
import { ReferenceBadFlowTracker } from '../test/lib/bad-flows-reference.js';
import { dnsEvents, packRecords } from '../test/lib/pack-records.js';

type Variant = 'current' | 'reference' | 'none';
const BATCH = 1000;

function arg(name: string, dflt: number): number {
  const k = process.argv.indexOf(name);
  return k >= 0 ? Number(process.argv[k + 1]) : dflt;
}

/** Bad frame k: a new flow (source port and address from k), an outer UDP checksum wrong, 80 bytes kept. */
function record(k: number): DecodedRecord {
  return {
    frame: k,
    tsNs: 1_765_000_000_000_000_000n + BigInt(k) * 40_000n,
    iface: 1 + (k % 2),
    caplen: 80,
    wirelen: 80,
    outer: { family: 4, src: `10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`, dst: '10.0.0.53', proto: 17, sport: 1024 + (k % 60000), dport: 53 },
    tunnel: 'none',
    vni: null,
    inner: null,
    checksums: [{ layer: 'outer', depth: 0, protocol: 'udp', found: 0x1234, expected: 0x4321, looksLikeOffload: false, offset: 40 }],
    direction: 'received',
    bytes: new Uint8Array(80),
  };
}

function child(variant: Variant, n: number): void {
  let gcMs = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMs += e.duration;
  });
  obs.observe({ entryTypes: ['gc'] });
  const current = variant === 'current' ? new BadFlowTracker() : null;
  const reference = variant === 'reference' ? new ReferenceBadFlowTracker() : null;
  const dir = (id: number) => ({ label: `eth${id}`, namespace: '', overlay: false });
  const noEvents = dnsEvents([]);
  let shown = 0;
  const t0 = performance.now();
  for (let k = 0, b = 0; k < n; k += BATCH, b++) {
    const records: DecodedRecord[] = [];
    for (let j = k; j < k + BATCH && j < n; j++) records.push(record(j));
    const packed = packRecords(records);
    current?.add(packed, noEvents, dir);
    reference?.add(packed.decode(), dir);
    if (b % 25 === 24) shown += (current ?? reference)?.top(200).length ?? 0;
  }
  const ms = performance.now() - t0;
  // The observer reports asynchronously: let it.
  setTimeout(() => {
    obs.disconnect();
    process.stdout.write(JSON.stringify({ ms, gcMs, shown }) + '\n');
  }, 50);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function main(): void {
  const n = arg('--records', 400_000);
  const runs = arg('--runs', 3);
  if (process.argv[2] === '--child') {
    child(process.argv[3] as Variant, n);
    return;
  }
  const results: Record<Variant, Array<{ ms: number; gcMs: number }>> = { current: [], reference: [], none: [] };
  for (let r = 0; r < runs; r++) {
    for (const v of ['reference', 'current', 'none'] as Variant[]) {
      const out = spawnSync(process.execPath, [process.argv[1], '--child', v, '--records', String(n)], { encoding: 'utf8' });
      if (out.status !== 0) throw new Error(`${v}: ${out.stderr}`);
      results[v].push(JSON.parse(out.stdout) as { ms: number; gcMs: number });
    }
  }
  const base = median(results.none.map((x) => x.ms));
  const line = (v: Variant): { us: number; text: string } => {
    const ms = median(results[v].map((x) => x.ms));
    const gc = median(results[v].map((x) => x.gcMs));
    const us = ((ms - base) * 1000) / n;
    return {
      us,
      text: `${v.padEnd(10)} ${ms.toFixed(0).padStart(7)} ms  ${us.toFixed(2).padStart(6)} µs/record net  GC ${gc.toFixed(0)} ms (${((gc / ms) * 100).toFixed(0)}%)`,
    };
  };
  process.stdout.write(`bad-flow view, ${n} records each a new flow, 4096 kept, top(200) every 25,000; median of ${runs} runs each\n`);
  process.stdout.write(`none       ${base.toFixed(0).padStart(7)} ms  (making the batches)\n`);
  const ref = line('reference');
  const cur = line('current');
  process.stdout.write(`${ref.text}\n${cur.text}\n`);
  process.stdout.write(`current against reference: ${(ref.us / cur.us).toFixed(2)}x faster per record\n`);
}

main();
