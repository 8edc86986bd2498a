/**
 * Long run (issue 7): csumtop captures node B of the lab for CSUMTOP_SOAK_SECONDS
 * (default 180; set it higher for a longer soak, e.g. CSUMTOP_SOAK_SECONDS=3600) while
 *   - one trafgen sends valid VXLAN carriers (3 sizes, few flows) from A at half the
 *     rate it reaches unthrottled, measured by a calibration burst first (about
 *     210,000 frames/s here, bench/RESULTS-live.md);
 *   - a second trafgen sends 2,000 frames/s of new flows (the million-flow stream of
 *     flow-stream.ts: DNS queries, SYNs, bad outer IPv4 checksums, plain carriers), so
 *     every flow table, capped small here (--max-flows 4096), fills and evicts;
 *   - every 3 s a veth pair and a VXLAN device appear in B, and the previous cycle's are
 *     deleted: csumtop (default interfaces: all that are up) attaches and detaches them.
 * RSS (VmRSS) and open descriptors (/proc/PID/fd) are sampled every second.
 *
 * Asserted:
 *   - resident memory grows less than 5% after warm-up. Warm-up is the first 40%: the
 *     tables reach their caps within seconds (2,000 new flows/s, cap 4096), SYN attempts
 *     stay 130 s at most but their table is capped, the rate windows are fixed arrays;
 *     what takes longest is V8 sizing its old generation over its first full
 *     collections. Only settled samples count (taken when a churn cycle's devices are
 *     gone: while attached, their rings add --ring-mb each). RSS is a collector
 *     saw-tooth whose highs and lows move 10-15% between collections, so growth is
 *     both new highs and new lows (each at 5% or more): the highest RSS in the second
 *     half after warm-up against the highest before it, and the lowest against the
 *     lowest of the first half after warm-up;
 *   - descriptors flat: the count sampled after each churn cycle has settled (devices
 *     deleted and detached) is the same in every cycle after warm-up. Each settled
 *     count is the lowest of a few reads 30 ms apart: a descriptor that lives for one
 *     read of /proc or one netlink query (seen: 26 against 25 in one cycle of 60 on a
 *     loaded machine) is not a leak, and a leaked one is there in every read;
 *   - the flow tables end at their caps with evictions counted, capture drops reported.
 * The samples are printed on failure.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import { encode, eth, ipv4, udp, vxlan } from '../fixtures/lib/index.js';
import type { ReportDocument } from '../../src/model/report.js';
import { millionFlowConfig, VNI } from './flow-stream.js';
import { BIN, OVERLAY_A, POD_B, UNDERLAY_A, UNDERLAY_B, fdCount, nsSh, sharedLab, sleep, track, type Lab } from './lab.js';
import { memoryOf, rxPackets, Trafgen, trafgenConfig, template } from './trafgen.js';

const SECONDS = Number(process.env.CSUMTOP_SOAK_SECONDS ?? 180);
const CAP = 4096;
const NEW_FLOWS_PPS = 2000;
const CHURN_MS = 3000;
const WARMUP = 0.4;

/** Valid carriers of three sizes (as bench/live.ts), repeating: the load. */
function loadConfig(macs: Lab['macs']): string {
  const frames = [40, 560, 1350].map(
    (n, k) =>
      encode(
        eth(
          ipv4(
            UNDERLAY_A,
            UNDERLAY_B,
            udp(
              52000 + k,
              8472,
              vxlan(VNI, eth(ipv4(OVERLAY_A, POD_B, udp(43000 + k, 9999, Buffer.alloc(n, 0x61))), { src: macs.flannelA, dst: macs.flannelB })),
              'zero',
            ),
          ),
          {
            src: macs.vla,
            dst: macs.vlb,
          },
        ),
      ).bytes,
  );
  return trafgenConfig(frames.map((f) => template(f, {})));
}

interface Sample {
  t: number;
  rssKb: number;
  fds: number;
}

const theLab = sharedLab({ tools: ['trafgen'], servers: false, tmpDir: 'csumtop-soak-' });

/** The lowest of five descriptor counts 30 ms apart (see the header: transient descriptors). */
async function lowestFdCount(pid: number): Promise<number> {
  let low = Infinity;
  for (let i = 0; i < 5; i++) {
    low = Math.min(low, fdCount(pid));
    if (i < 4) await sleep(30);
  }
  return low;
}

test(
  `soak: ${SECONDS} s at half the maximum rate with interface churn: RSS growth < 5% after warm-up, descriptors flat, tables at their caps`,
  { timeout: (SECONDS + 150) * 1000 },
  async () => {
    assert.ok(Number.isFinite(SECONDS) && SECONDS >= 30, `CSUMTOP_SOAK_SECONDS must be at least 30 (got ${process.env.CSUMTOP_SOAK_SECONDS})`);
    const L = theLab();
    const dir = theLab.dir();
    const B = L.B;
    const loadCfg = path.join(dir, 'load.cfg');
    const flowsCfg = path.join(dir, 'flows.cfg');
    fs.writeFileSync(loadCfg, loadConfig(L.macs));
    fs.writeFileSync(flowsCfg, millionFlowConfig(L.macs));

    // Calibration: trafgen unthrottled for 3 s, rate from B's receive counter.
    const rx0 = rxPackets(B, 'vlb');
    const t0 = Date.now();
    const burst = new Trafgen(L.A, 'vla', loadCfg, { maxMs: 3000 });
    await burst.done;
    const maxPps = (rxPackets(B, 'vlb') - rx0) / ((Date.now() - t0) / 1000);
    const pps = Math.round(maxPps / 2);
    assert.ok(pps > 10_000, `calibration: trafgen reached only ${Math.round(maxPps)} frames/s`);

    // csumtop: only its stderr and the lines the test needs are kept.
    const child = track(spawn(BIN, ['--netns', B, '--json', '--max-flows', String(CAP), '--ring-mb', '16'], { stdio: ['ignore', 'pipe', 'pipe'] }));
    let stderr = '';
    let report: ReportDocument | null = null;
    let buf = '';
    let attachedVlb = false;
    const detachedNames = new Set<string>();
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('{"type":"bad"')) continue;
        else if (line.startsWith('{"type":"interface"')) {
          const l = JSON.parse(line) as { event: string; interface: string };
          if (l.event === 'attached' && l.interface === 'vlb') attachedVlb = true;
          if (l.event === 'detached') detachedNames.add(l.interface);
        } else if (line.startsWith('{"type":"report"')) report = JSON.parse(line) as ReportDocument;
      }
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const pid = child.pid!;
    const senders: Trafgen[] = [];
    const samples: Sample[] = [];
    const settled: Sample[] = [];
    let made: string[] = [];
    const removeMade = (): void => {
      for (const dev of made) {
        try {
          nsSh(B, ['ip', 'link', 'del', dev]);
        } catch {
          // gone with its peer
        }
      }
      made = [];
    };
    let cycles = 0;
    const show = (): string =>
      `calibrated max ${Math.round(maxPps)} frames/s, load ${pps}; cycles ${cycles}; samples t(s):RSS(MiB)/fds ` +
      samples.map((s) => `${Math.round(s.t / 1000)}:${(s.rssKb / 1024).toFixed(1)}/${s.fds}`).join(' ') +
      `; settled t(s):RSS(MiB)/fds ${settled.map((s) => `${Math.round(s.t / 1000)}:${(s.rssKb / 1024).toFixed(1)}/${s.fds}`).join(' ')}; stderr: ${stderr.trim().slice(-1500)}`;
    try {
      const deadline = Date.now() + 10_000;
      while (!attachedVlb && Date.now() < deadline && child.exitCode === null) await sleep(100);
      assert.ok(attachedVlb, `csumtop did not attach vlb: ${show()}`);
      const start = Date.now();
      const endAt = start + SECONDS * 1000;
      senders.push(new Trafgen(L.A, 'vla', loadCfg, { pps, maxMs: SECONDS * 1000 + 5000 }));
      senders.push(new Trafgen(L.A, 'vla', flowsCfg, { pps: NEW_FLOWS_PPS, maxMs: SECONDS * 1000 + 5000 }));
      let nextSample = start;
      let nextChurn = start;
      while (Date.now() < endAt) {
        assert.equal(child.exitCode, null, `csumtop exited during the soak: ${show()}`);
        const now = Date.now();
        if (now >= nextChurn) {
          // Settled: the previous cycle's devices were deleted half a cycle ago.
          if (cycles > 0) settled.push({ t: now - start, rssKb: memoryOf(pid)?.rssKb ?? NaN, fds: await lowestFdCount(pid) });
          const k = cycles % 1000;
          nsSh(B, ['ip', 'link', 'add', `ch${k}a`, 'type', 'veth', 'peer', 'name', `ch${k}b`]);
          nsSh(B, ['ip', 'link', 'add', `vx${k}`, 'type', 'vxlan', 'id', String(1000 + k), 'dstport', '4789', 'dev', 'vlb', 'local', UNDERLAY_B]);
          made = [`ch${k}a`, `vx${k}`];
          for (const dev of [`ch${k}a`, `ch${k}b`, `vx${k}`]) nsSh(B, ['ip', 'link', 'set', dev, 'up']);
          cycles++;
          nextChurn = now + CHURN_MS;
          setTimeout(removeMade, CHURN_MS / 2);
        }
        if (now >= nextSample) {
          const m = memoryOf(pid);
          if (m) samples.push({ t: now - start, rssKb: m.rssKb, fds: fdCount(pid) });
          nextSample += 1000;
        }
        await sleep(100);
      }
      for (const s of senders) await s.stop();
      await sleep(CHURN_MS);
      removeMade();
      child.kill('SIGINT');
      const code = await Promise.race([exited, sleep(30_000).then(() => 'timeout' as const)]);
      assert.notEqual(code, 'timeout', `csumtop did not exit within 30 s of SIGINT: ${show()}`);
      const doc = report as ReportDocument | null;
      assert.ok(doc, `no report: exit ${code}; ${show()}`);
      process.stderr.write(`soak: ${show()}\n`);

      // Memory: RSS follows V8's collector, a saw-tooth of 30-90 s whose highs and lows
      // move by 10-15% from one collection to the next here (settled samples of 180 s runs
      // ranged 209-276 MiB), so two windows compare phases, not memory. A leak raises the
      // saw-tooth as a whole: both its highs (the highest RSS of the second half after
      // warm-up against the highest before it, warm-up included: that is where the heap
      // took its size) and its lows (the lowest of the second half against the lowest of
      // the first half after warm-up). Growth is both at 5% or more; one alone is the
      // collector's phase. Four clean-clone CI runs on one day gave highs -0.43, -4.18,
      // +3.86 and +8.84% with lows -0.72, +2.18, +3.76 and +4.05%: the +8.84% was a
      // collection that came late, and failed the highs-only rule on an idle machine.
      const span = SECONDS * 1000;
      const mid = (WARMUP + (1 - WARMUP) / 2) * span;
      const before = settled.filter((s) => s.t < mid).map((s) => s.rssKb);
      const firstHalf = settled.filter((s) => s.t >= WARMUP * span && s.t < mid).map((s) => s.rssKb);
      const second = settled.filter((s) => s.t >= mid).map((s) => s.rssKb);
      assert.ok(firstHalf.length >= 5 && second.length >= 5, `too few samples: ${show()}`);
      const peak = Math.max(...second) / Math.max(...before) - 1;
      const floor = Math.min(...second) / Math.min(...firstHalf) - 1;
      const mib = (kb: number): string => (kb / 1024).toFixed(1);
      process.stderr.write(
        `soak: RSS highest before ${Math.round(mid / 1000)} s ${mib(Math.max(...before))} MiB, after ${mib(Math.max(...second))} MiB (${(peak * 100).toFixed(2)}%); ` +
          `floor after warm-up ${mib(Math.min(...firstHalf))} -> ${mib(Math.min(...second))} MiB (${(floor * 100).toFixed(2)}%)\n`,
      );
      assert.ok(peak < 0.05 || floor < 0.05, `RSS grew after warm-up: highs +${(peak * 100).toFixed(2)}%, lows +${(floor * 100).toFixed(2)}%: ${show()}`);

      // Descriptors: the same after every settled cycle past warm-up.
      const fds = settled.filter((s) => s.t >= WARMUP * span).map((s) => s.fds);
      assert.ok(fds.length >= 3, `too few churn cycles: ${show()}`);
      assert.equal(Math.max(...fds), Math.min(...fds), `descriptors changed between settled cycles: ${show()}`);
      assert.ok(detachedNames.size >= cycles - 2, `csumtop saw ${detachedNames.size} devices detached of ${cycles} cycles: ${show()}`);

      // Tables at their caps, evictions counted; drops reported.
      const t = doc.correlation!.tables!;
      for (const [name, u] of [
        ['badFlows', t.badFlows!],
        ['carrierFlows', t.carrierFlows],
        ['synAttempts', t.synAttempts],
        ['badFlowView', t.badFlowView],
      ] as const) {
        assert.equal(u.size, u.cap, `${name} at its cap: ${JSON.stringify(t)}`);
        assert.ok(u.evicted > 0, `${name} evictions counted: ${JSON.stringify(t)}`);
      }
      assert.equal(t.carrierFlows.cap, CAP);
      // Carriers only ever on vlb: a ring opened on a new device must not take other
      // devices' frames before it is bound (it did: native/capture/packet_ring.cc).
      assert.deepEqual(
        [...new Set(doc.correlation!.peers.map((p) => p.underlay))],
        [`${B}/vlb`],
        `carriers counted on churned devices: ${doc.correlation!.peers.map((p) => `${p.underlay} ${p.carriers}`).join('; ')}`,
      );
      assert.ok(doc.flowsEvicted > 0 && doc.flows.length === CAP, `native bad-flow table: ${doc.flows.length} kept, ${doc.flowsEvicted} evicted`);
      assert.equal(typeof doc.source.captureDrops, 'number', 'capture drops reported');
      const vlb = doc.interfaces.find((i) => i.name === `${B}/vlb`);
      assert.ok(vlb && typeof vlb.captureDrops === 'number', 'vlb reports its capture drops');
      process.stderr.write(
        `soak: frames ${doc.source.frames}, capture drops ${doc.source.captureDrops}, tables ${JSON.stringify(t)}, peers ` +
          doc
            .correlation!.peers.slice(0, 8)
            .map((p) => `${p.underlay} ${p.direction} ${p.peer} ${p.carriers}`)
            .join('; ') +
          '\n',
      );
    } finally {
      for (const s of senders) await s.stop();
      removeMade();
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  },
);
