/**
 * Issue 13 section 6: what `csumtop --demo-broken` does to the lab breaks DNS for real and
 * the remedy csumtop gives heals it for real. No frame is injected: node 1's kernel sends
 * the carriers (variant A: udpcsum + MASQUERADE --random-fully, underlay checksums
 * finalised in software), node 2's kernel verifies and drops them. Asserted with dig (an
 * independent resolver client) and node 2's own /proc/net/snmp; csumtop captures node 2.
 * The dashboard side (the F key) is in test/ui/modes-tmux.test.ts.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';

import { BROKEN_TOOLS, DEMO_FIX, applyFix, breakSender } from '../../src/lab/demo.js';
import { POD_A } from '../../src/lab/topology.js';
import type { Finding } from '../../src/model/findings.js';
import { Csumtop, DNS_PORT, Lab, POD_B, UNDERLAY_A, delta, describeRun, labProblem, reportOf, snmp, track } from './lab.js';

interface Dig {
  status: number | null;
  stdout: string;
}

/** One `dig` from node 1's pod address to the responder on node 2's pod: one query, 1 s to answer. */
function dig(lab: Lab, name: string): Promise<Dig> {
  return new Promise((resolve) => {
    const child = track(
      spawn('ip', ['netns', 'exec', lab.A, 'dig', '+tries=1', '+time=1', '-b', POD_A, '-p', String(DNS_PORT), `@${POD_B}`, name, 'A'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    let stdout = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stdout += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout });
    });
  });
}

/** dig's outcome: "answered" (NOERROR with an A record), "timeout" (exit 9: no reply), or what it printed. */
function outcome(d: Dig): string {
  if (d.status === 0 && /status: NOERROR/.test(d.stdout) && /ANSWER SECTION:\n\S+\s+\d+\s+IN\s+A\s+10\.96\.0\.\d+/.test(d.stdout)) return 'answered';
  if (d.status === 9 && /timed out/.test(d.stdout)) return 'timeout';
  return `exit ${d.status}: ${d.stdout.trim().slice(0, 300)}`;
}

async function digs(lab: Lab, tag: string, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(outcome(await dig(lab, `${tag}${i}.lab.cluster.local`)));
  return out;
}

test(
  "--demo-broken: node 2 drops node 1's carriers (dig times out, Udp InCsumErrors grows), csumtop names node 1 and the remedy, the remedy heals DNS",
  { timeout: 100_000 },
  async (t) => {
    const p = labProblem(['dig', ...BROKEN_TOOLS]);
    if (p) assert.fail(p);
    const N = 3;
    const lab = Lab.create();
    let ct: Csumtop | null = null;
    try {
      await lab.startServers();
      breakSender(lab);
      ct = new Csumtop(['--netns', lab.B, '-i', 'vlb,flannel.1', '--duration', '90', '--json']);
      const missing = await ct.waitAttached(['vlb', 'flannel.1'], 5000);
      if (missing.length > 0) assert.fail(`csumtop did not attach ${missing.join(', ')} in ${lab.B}: ${describeRun(await ct.stop())}`);

      // Broken: every query's carrier is dropped by node 2's kernel for its outer UDP checksum.
      const s0 = snmp(lab.B);
      const broken = await digs(lab, 'broken', N);
      const s1 = snmp(lab.B);
      t.diagnostic(`broken: dig ${JSON.stringify(broken)}; node 2 Udp InCsumErrors +${delta(s0, s1, 'Udp', 'InCsumErrors')}`);
      assert.deepEqual(broken, Array(N).fill('timeout'), "DNS from node 1's pod must time out while node 1 is broken");
      assert.equal(delta(s0, s1, 'Udp', 'InCsumErrors'), N, "node 2's kernel drops each query's carrier for its UDP checksum");

      // csumtop on node 2 names node 1 and gives the remedy the demo's F key applies.
      const line = (await ct.waitFor(
        (l) => l.type === 'finding' && l.event === 'raised' && l.id === 'vxlan-outer-bad-from-peer',
        8000,
      )) as unknown as Finding | null;
      assert.ok(
        line,
        `no vxlan-outer-bad-from-peer finding: ${JSON.stringify(ct.lines.filter((l) => l.type !== 'stats').map((l) => `${l.type} ${String(l.key ?? l.event ?? '')}`))}; ${ct.stderr.slice(0, 300)}`,
      );
      assert.equal(line.subject.peer, UNDERLAY_A, 'the finding names node 1 (the sender) by its underlay address');
      assert.ok(
        line.remedy.some((r) => r.command === DEMO_FIX.command && r.where === `peer ${UNDERLAY_A}`),
        `the remedy must be the one the demo applies (${DEMO_FIX.command}) on node 1: ${JSON.stringify(line.remedy)}`,
      );

      // Healed: the same remedy applied on node 1 (what F runs).
      await applyFix(lab);
      const healed = await digs(lab, 'healed', N);
      const s2 = snmp(lab.B);
      t.diagnostic(`after ${DEMO_FIX.command} on node 1: dig ${JSON.stringify(healed)}; node 2 Udp InCsumErrors +${delta(s1, s2, 'Udp', 'InCsumErrors')}`);
      assert.deepEqual(healed, Array(N).fill('answered'), 'DNS answers again after the remedy');
      assert.equal(delta(s1, s2, 'Udp', 'InCsumErrors'), 0, 'node 2 drops nothing after the remedy');

      // The finding moves to "fixed": carriers from node 1 went on arriving, all good, as
      // many as would have shown FIXED_EXPECTED_BAD bad ones at the broken rate.
      const fixed = (await ct.waitFor(
        (l) => l.type === 'finding' && l.event === 'fixed' && l.id === 'vxlan-outer-bad-from-peer',
        15_000,
      )) as unknown as Finding | null;
      assert.ok(
        fixed,
        `the finding never said fixed after the remedy: ${JSON.stringify(ct.lines.filter((l) => l.type === 'finding').map((l) => `${String(l.event)} ${String(l.key ?? '')}`))}`,
      );
      assert.equal(fixed.subject.peer, UNDERLAY_A);
      assert.match(fixed.state?.text ?? '', /^fixed at \d\d:\d\d:\d\d UTC\? 0 /, `what the operator reads: ${fixed.state?.text}`);

      // csumtop saw the same: the bad carriers stopped at N, the answers came back.
      const report = reportOf(await ct.stop());
      ct = null;
      const f = (report.findings ?? []).find((x) => x.id === 'vxlan-outer-bad-from-peer' && x.subject.peer === UNDERLAY_A);
      assert.ok(f, JSON.stringify(report.findings?.map((x) => x.key)));
      const bad = f.evidence.find((e) => e.name === 'carriers with a bad outer checksum');
      assert.equal(bad?.value, N, `bad carriers counted by csumtop stop growing after the remedy: ${JSON.stringify(f.evidence)}`);
    } finally {
      await ct?.stop();
      lab.destroy();
    }
  },
);
