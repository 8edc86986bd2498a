/**
 * Equivalence check for changes that must not change what csumtop reports (issue 14:
 * correlation tables moved into the addon): `csumtop -r FILE --json` of a reference build
 * and of this build, byte for byte, on the ground-truth fixtures, the incident example and
 * the bulk workloads of bench/offline.ts, at the default --max-flows and at caps small
 * enough that every table evicts or refuses.
 *
 *   node dist/bench/compare-reports.js --ref /path/to/reference/checkout [--frames 200000]
 *
 * The reference is another checkout of csumtop, built (dist/ and the addon). Exit 0 when
 * every report is identical, 1 when one differs (the first differing bytes are printed),
 * 2 on a usage error.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { ROOT } from '../src/native/addon.js';
import { writeHighCardinalityCapture, writeUnderlayOverlayPcapng, writeVxlanCapture } from '../test/fixtures/lib/bulk.js';
import { writeAll } from '../test/fixtures/generate.js';
import { writeTransactionCapture } from '../test/fixtures/lib/transactions.js';
import { benchArgs } from './measure.js';

const { values } = benchArgs(
  { ref: { type: 'string' }, frames: { type: 'string', default: '200000' }, keep: { type: 'boolean', default: false } },
  'usage: node dist/bench/compare-reports.js --ref CHECKOUT [--frames N] [--keep]  (CHECKOUT: a built csumtop checkout)',
);
if (!values.ref || !existsSync(path.join(values.ref, 'dist', 'src', 'cli', 'run.js'))) {
  process.stderr.write('usage: compare-reports --ref CHECKOUT [--frames N] [--keep]  (CHECKOUT: a built csumtop checkout)\n');
  process.exit(2);
}
const frames = Number(values.frames);
const REF = path.join(path.resolve(values.ref), 'dist', 'src', 'cli', 'run.js');
const NEW = path.join(ROOT, 'dist', 'src', 'cli', 'run.js');
const dir = mkdtempSync(path.join(os.tmpdir(), 'csumtop-compare-'));

const files: string[] = [path.join(ROOT, 'examples', 'incident.pcapng')];
writeAll(path.join(dir, 'fixtures'));
for (const f of readdirSync(path.join(dir, 'fixtures')).sort()) if (/\.pcap(ng)?$/.test(f)) files.push(path.join(dir, 'fixtures', f));
const hc = path.join(dir, 'high-cardinality.pcap');
writeHighCardinalityCapture(hc, { frames, badRatio: 0.01, seed: 42 });
files.push(hc);
const few = path.join(dir, 'few-flows.pcap');
writeVxlanCapture(few, { frames: Math.ceil(frames / 2), badRatio: 0.01, seed: 42 });
files.push(few);
const overlay = path.join(dir, 'high-cardinality-overlay.pcapng');
const carriers = path.join(dir, 'overlay-carriers.pcap');
writeHighCardinalityCapture(carriers, { frames: Math.ceil(frames / 4), badRatio: 0.01, seed: 7 });
writeUnderlayOverlayPcapng(carriers, overlay);
files.push(overlay);
// Answered, retried, late, refused and unanswered DNS queries and SYNs on eth0 and
// flannel.1: the workloads above have unanswered queries and SYNs only.
const txns = path.join(dir, 'transactions.pcapng');
writeTransactionCapture(txns, { transactions: Math.max(2000, Math.ceil(frames / 20)), seed: 11 });
files.push(txns);

/** The JSON paths (array indexes as []) whose values differ, with how often: what changed, at a glance. */
function differingFields(a: Buffer, b: Buffer): string {
  let x: unknown;
  let y: unknown;
  try {
    x = JSON.parse(a.toString('utf8'));
    y = JSON.parse(b.toString('utf8'));
  } catch {
    return '(not JSON)';
  }
  const counts = new Map<string, number>();
  const walk = (p: unknown, q: unknown, at: string): void => {
    if (typeof p === 'object' && p !== null && typeof q === 'object' && q !== null && Array.isArray(p) === Array.isArray(q)) {
      if (Array.isArray(p) && Array.isArray(q)) {
        if (p.length !== q.length) counts.set(`${at}.length`, (counts.get(`${at}.length`) ?? 0) + 1);
        for (let i = 0; i < Math.min(p.length, q.length); i++) walk(p[i], q[i], `${at}[]`);
        return;
      }
      const po = p as Record<string, unknown>;
      const qo = q as Record<string, unknown>;
      for (const k of new Set([...Object.keys(po), ...Object.keys(qo)])) walk(po[k], qo[k], at === '' ? k : `${at}.${k}`);
      return;
    }
    if (JSON.stringify(p) !== JSON.stringify(q)) counts.set(at, (counts.get(at) ?? 0) + 1);
  };
  walk(x, y, '');
  return [...counts].map(([k, n]) => `${k} (${n})`).join(', ');
}

const caps: string[][] = [[], ['--max-flows', '16'], ['--max-flows', '100']];
let differ = 0;
let runs = 0;
for (const file of files) {
  for (const cap of caps) {
    const args = ['-r', file, '--json', ...cap];
    const run = (cli: string) => spawnSync(process.execPath, [cli, ...args], { maxBuffer: 1 << 30 });
    const a = run(REF);
    const b = run(NEW);
    runs++;
    const same = a.status === b.status && Buffer.compare(a.stdout, b.stdout) === 0;
    if (same) continue;
    differ++;
    let at = 0;
    while (at < a.stdout.length && at < b.stdout.length && a.stdout[at] === b.stdout[at]) at++;
    const show = (buf: Buffer) => JSON.stringify(buf.subarray(Math.max(0, at - 120), at + 200).toString('utf8'));
    process.stdout.write(
      `DIFFER ${path.basename(file)} ${cap.join(' ')}: exit ${a.status} vs ${b.status}, first difference at byte ${at}; fields: ${differingFields(a.stdout, b.stdout)}\n  ref: ${show(a.stdout)}\n  new: ${show(b.stdout)}\n`,
    );
  }
}
process.stdout.write(
  `${runs - differ} of ${runs} reports identical (${files.length} files x ${caps.length} caps)${values.keep ? `; files kept in ${dir}` : ''}\n`,
);
if (!values.keep) rmSync(dir, { recursive: true, force: true });
process.exit(differ === 0 ? 0 : 1);
