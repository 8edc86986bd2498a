/**
 * Cost of the kernel drop verdicts (issue 18), on the namespace lab: csumtop captures
 * node 2's vlb while node 1's trafgen sends FLOOD carriers with a wrong outer UDP checksum
 * as fast as it can (each dropped by node 2's kernel for UDP_CSUM). Reported:
 *   - the eBPF program's own run count and CPU time, from the kernel's BPF statistics
 *     (sysctl kernel.bpf_stats_enabled=1; /proc/PID/fdinfo of the program: run_cnt,
 *     run_time_ns), i.e. the time per kfree_skb it ran on. The tracepoint fires only for
 *     skbs freed as dropped (kfree_skb_reason), never for packets delivered
 *     (consume_skb): delivered traffic costs the program nothing at all;
 *   - the drops csumtop counted against node 2's Udp InCsumErrors growth, and those the
 *     ring buffer had no room for (ringFull).
 *
 * Usage (root): node dist/bench/kernel-drops.js [--flood 200000]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { Lab, sh } from '../src/lab/lab.js';
import { faultFrame } from '../src/lab/faults.js';
import { sumMatch } from '../src/model/kernel-match.js';
import type { KernelDropView } from '../src/model/correlation.js';
import { Csumtop, UNDERLAY_A, delta, reportOf, snmp } from '../test/lab/lab.js';
import { Trafgen, template, trafgenConfig } from '../test/lab/trafgen.js';
import { benchArgs } from './measure.js';

const { values } = benchArgs({ flood: { type: 'string', default: '200000' } }, 'usage (root): node dist/bench/kernel-drops.js [--flood 200000]');
const FLOOD = Number(values.flood);

/** run_cnt and run_time_ns of csumtop's BPF program (the one fd of `pid` that is a tracing program). */
function progStats(pid: number): { runs: number; ns: number } | null {
  for (const fd of fs.readdirSync(`/proc/${pid}/fdinfo`)) {
    let text: string;
    try {
      text = fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    } catch {
      continue;
    }
    if (!/^prog_type:/m.test(text)) continue;
    const runs = Number(/^run_cnt:\s*(\d+)/m.exec(text)?.[1] ?? NaN);
    const ns = Number(/^run_time_ns:\s*(\d+)/m.exec(text)?.[1] ?? NaN);
    return { runs, ns };
  }
  return null;
}

async function main(): Promise<void> {
  const statsBefore = fs.readFileSync('/proc/sys/kernel/bpf_stats_enabled', 'utf8').trim();
  fs.writeFileSync('/proc/sys/kernel/bpf_stats_enabled', '1');
  const lab = Lab.create();
  let ct: Csumtop | null = null;
  try {
    ct = new Csumtop(['--netns', lab.B, '-i', 'vlb', '--duration', '120', '--json']);
    if ((await ct.waitAttached(['vlb'], 5000)).length > 0) throw new Error('csumtop did not attach vlb');
    const p0 = progStats(ct.pid);
    if (!p0) throw new Error("no BPF program among csumtop's descriptors: are the kernel drop verdicts on?");
    const s0 = snmp(lab.B);
    const cfg = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'csumtop-kdrops-')), 'flood.cfg');
    fs.writeFileSync(cfg, trafgenConfig([template(faultFrame(lab.macs, 'bad-outer-udp', 1), {})]));
    const t0 = performance.now();
    const tg = new Trafgen(lab.A, 'vla', cfg, { frames: FLOOD, maxMs: 120_000 });
    const sent = await tg.done;
    const sendMs = performance.now() - t0;
    fs.rmSync(path.dirname(cfg), { recursive: true, force: true });
    if (sent.code !== 0) throw new Error(`trafgen: exit ${sent.code}: ${sent.stderr}`);
    const s1 = snmp(lab.B);
    const grew = delta(s0, s1, 'Udp', 'InCsumErrors');
    const seen = await ct.waitFor((l) => {
      const v = l.type === 'correlation' ? (l.kernelDrops as KernelDropView | undefined) : undefined;
      return (v?.drops ?? []).reduce((s, d) => s + d.total, 0) + (v?.ringFull ?? 0) + (v?.other ?? 0) >= grew;
    }, 10_000);
    const p1 = progStats(ct.pid)!;
    const report = reportOf(await ct.stop());
    ct = null;
    const v = report.correlation?.kernelDrops;
    const outer = (v?.drops ?? []).filter((d) => d.reason === 'UDP_CSUM' && d.peer === UNDERLAY_A).reduce((s, d) => s + d.total, 0);
    const all = (v?.drops ?? []).reduce((s, d) => s + d.total, 0);
    const runs = p1.runs - p0.runs;
    console.log(
      JSON.stringify(
        {
          framesSent: FLOOD,
          sendSeconds: Math.round(sendMs) / 1000,
          dropsPerSecond: Math.round(grew / (sendMs / 1000)),
          node2UdpInCsumErrors: grew,
          countedByCsumtop: all,
          countedFromNode1OuterUdp: outer,
          ringFull: v?.ringFull ?? null,
          other: v?.other ?? null,
          // What csumtop's capture saw of the drops (the matcher, docs/kernel-drops.md).
          matched: v ? sumMatch(v.drops) : null,
          // Frames node 2's capture ring had no room for: the drops matched to none of
          // them are "ring drop" (at most this many).
          captureDrops: report.interfaces.reduce((s, i) => s + (i.captureDrops ?? 0), 0),
          framesCaptured: report.interfaces.reduce((s, i) => s + i.frames, 0),
          settled: seen !== null,
          programRuns: runs,
          programNsPerRun: runs > 0 ? Math.round((p1.ns - p0.ns) / runs) : null,
          kernel: sh('uname', ['-r']).trim(),
        },
        null,
        1,
      ),
    );
  } finally {
    await ct?.stop();
    lab.destroy();
    fs.writeFileSync('/proc/sys/kernel/bpf_stats_enabled', statsBefore);
  }
}

void main();
