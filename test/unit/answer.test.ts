/**
 * The answer first and never silently blind (issue 13 s.3 and s.5): the sentence per
 * critical finding (src/output/answer.ts) as the text report's first line on the
 * incident capture, what csumtop did not see (src/model/blind.ts) in the report and the
 * closing summary, a finding held while its evidence path was dropping
 * (src/diagnose/tracker.ts), and a full standard output (issue 17 item 8).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import type { DiagnosisInput } from '../../src/diagnose/input.js';
import { FindingTracker } from '../../src/diagnose/tracker.js';
import { blindLines, blindSentence, NOT_BLIND } from '../../src/model/blind.js';
import type { PeerCarriers } from '../../src/model/correlation.js';
import type { Finding } from '../../src/model/findings.js';
import type { ReportDocument } from '../../src/model/report.js';
import { answerLines, answerSentence, closingSummary } from '../../src/output/answer.js';
import { renderText } from '../../src/output/text-report.js';
import { BIN } from '../fixtures/harness.js';

const ROOT = path.resolve(path.dirname(BIN), '..');
const INCIDENT = path.join(ROOT, 'examples', 'incident.pcapng');

test('the text report of examples/incident.pcapng starts with the answer: who, what, how many of how many, what was lost, the command', () => {
  const text = spawnSync(BIN, ['-r', INCIDENT], { encoding: 'utf8' });
  const json = spawnSync(BIN, ['-r', INCIDENT, '--json'], { encoding: 'utf8' });
  assert.equal(text.status, 1, text.stderr);
  const doc = JSON.parse(json.stdout) as ReportDocument;
  const critical = (doc.findings ?? []).filter((f) => f.severity === 'critical');
  assert.ok(critical.length > 0, 'the incident has a critical finding');
  const lines = text.stdout.split('\n');
  // One line per critical finding, before anything else, built from the findings objects.
  assert.deepEqual(lines.slice(0, critical.length), critical.map(answerSentence));
  // The capture's ground truth (examples/README.md): carriers from 192.168.56.11 on eth0,
  // 9 of the 40 with a wrong outer UDP checksum, their inner packets lost before flannel.1;
  // a file has no host, so the remedy names the kind of device on the sending node.
  assert.match(
    lines[0],
    /^CRITICAL \(node 192\.168\.56\.11, seen on eth0\): 9 of 40 carriers from node 192\.168\.56\.11 on eth0 had a wrong outer UDP checksum/,
  );
  assert.match(lines[0], /9 of them never reached flannel\.1 \(seen on eth0, not on flannel\.1\)/);
  assert.match(lines[0], /Run on peer 192\.168\.56\.11: ethtool -K <its VXLAN device> tx-checksum-ip-generic off$/);
  // The long evidence follows.
  assert.match(text.stdout, /\nFindings \(\d+\):\n/);
});

function finding(o: Partial<Finding>): Finding {
  return {
    id: 'ipv4-header-bad',
    key: 'ipv4-header-bad/eth0',
    severity: 'critical',
    title: 't',
    summary: '3 IPv4 headers on eth0 had a wrong header checksum. No offload leaves it unset.',
    subject: { interface: 'eth0', namespace: 'host' },
    evidence: [],
    remedy: [{ where: 'this node', command: 'ethtool -S eth0', why: 'w', persist: null }],
    references: [],
    firstSeen: '',
    lastSeen: '',
    ...o,
  };
}

test('answer lines: critical findings only, one sentence each, the first step of the remedy', () => {
  const lines = answerLines([finding({}), finding({ severity: 'warning', key: 'w' }), finding({ severity: 'info', key: 'i' })]);
  assert.deepEqual(lines, ['CRITICAL (on eth0): 3 IPv4 headers on eth0 had a wrong header checksum. Run on this node: ethtool -S eth0']);
});

test("blindness: said in the report's first lines and the closing summary, silent when nothing was dropped", () => {
  assert.equal(blindSentence(NOT_BLIND), null);
  const b = { ringDrops: 2, eventsDropped: 1500, recordsDropped: 7 };
  const s = blindSentence(b)!;
  assert.match(
    s,
    /^NOT SEEING EVERYTHING: the kernel dropped 2 frames .*; 1500 packets were counted but not correlated .*; 7 bad frames were counted but not reported one by one/,
  );
  const doc = JSON.parse(spawnSync(BIN, ['-r', INCIDENT, '--json'], { encoding: 'utf8' }).stdout) as ReportDocument;
  const text = renderText({ ...doc, blind: b }, { maxFlows: 5 }).split('\n');
  const critical = (doc.findings ?? []).filter((f) => f.severity === 'critical').length;
  assert.equal(text[critical], s, 'right after the answer lines');
  assert.doesNotMatch(renderText(doc, { maxFlows: 5 }), /NOT SEEING/);
  assert.equal(
    closingSummary([finding({})], b, { frames: 10, badFrames: 3 }),
    `${answerSentence(finding({}))}\n${s}\ncsumtop: 10 frames captured, 3 with bad checksums.\n`,
  );
  assert.equal(closingSummary([], NOT_BLIND, { frames: 10, badFrames: 0 }), 'No critical finding.\ncsumtop: 10 frames captured, 0 with bad checksums.\n');
});

test("blindness as the dashboard's banner lines: one per kind, named as the header names the count, each saying what it costs, 80 columns with a 9-digit count", () => {
  assert.deepEqual(blindLines(NOT_BLIND), []);
  assert.deepEqual(blindLines({ ringDrops: 0, eventsDropped: 1500, recordsDropped: 0 }), [
    'events dropped 1500: csumtop fell behind; correlation is a lower bound',
  ]);
  const all = blindLines({ ringDrops: 2, eventsDropped: 1500, recordsDropped: 7 });
  assert.equal(all.length, 3);
  assert.match(all[0], /^capture drops 2: .*lower bound/);
  assert.match(all[2], /^bad frames not listed 7: .*flow list is incomplete/);
  // The banner puts "!  " before each: 77 characters are left at 80 columns.
  for (const l of blindLines({ ringDrops: 999_999_999, eventsDropped: 999_999_999, recordsDropped: 999_999_999 }))
    assert.ok(l.length <= 77, `${l.length}: ${l}`);
});

function peerInput(nowNs: number, badOuter: number, carriers = 100, eventsDropped = 0): DiagnosisInput {
  const p: PeerCarriers = {
    namespace: 'host',
    underlay: 'eth0',
    overlay: 'flannel.1',
    peer: '10.0.0.1',
    local: '10.0.0.2',
    direction: 'from-peer',
    tunnel: 'vxlan',
    vni: 1,
    carriers,
    badOuter,
    badInner: 0,
    badIpv4: 0,
    delivered: null,
    lost: null,
    lostBad: 0,
    unmatchedOverlay: 0,
    inFlight: 0,
    firstSeen: '',
    lastSeen: '',
  };
  return {
    nowNs,
    live: true,
    peers: [p],
    interfaces: [],
    kernel: [],
    kernelBefore: null,
    eventsDropped,
    recordsDropped: 0,
    dns: { queries: 0, answered: 0, unanswered: 0, retries: 0, latencyP50Ms: null, latencyMaxMs: null, unansweredList: [], attributed: 0 },
    syn: { connections: 0, answered: 0, refused: 0, unanswered: 0, retransmitted: 0, delayedBy: {}, slowList: [], attributed: 0 },
    facts: { kernel: null, hypervisor: null, nat: {} },
    guessesOffload: false,
  };
}

test('a finding whose evidence stopped growing while csumtop was dropping is held: never called fixed across the drops', () => {
  const s = 1e9;
  const find = (fs: Finding[]): Finding | undefined => fs.find((f) => f.id === 'vxlan-outer-bad-from-peer');
  const tracker = new FindingTracker(10 * s);
  assert.ok(find(tracker.evaluate(peerInput(1 * s, 5))));
  // Evidence flat from 1 s on while 50 good carriers a second arrive, but csumtop drops
  // events at every tick until 20 s: held as it is, never "fixed".
  for (let t = 2; t <= 20; t++) {
    const f = find(tracker.evaluate(peerInput(t * s, 5, 100 + 50 * t, t)));
    assert.ok(f, `held at ${t} s`);
    assert.notEqual(f.state?.kind, 'fixed', `called fixed at ${t} s although csumtop was dropping`);
  }
  // No drop after 20 s: what happened since is measured from the last loss.
  const after = find(tracker.evaluate(peerInput(25 * s, 5, 100 + 50 * 25, 20)));
  assert.equal(after?.state?.kind, 'fixed');
  assert.match(after!.state!.text, /since csumtop last lost events/);
  // Without drops the same traffic is called fixed at once.
  const plain = new FindingTracker(10 * s);
  plain.evaluate(peerInput(1 * s, 5));
  assert.equal(find(plain.evaluate(peerInput(5 * s, 5, 100 + 50 * 5)))?.state?.kind, 'fixed');
});

test('-r to a full disk (> /dev/full): one line on stderr, exit 2 (it was a stack trace and 1)', () => {
  for (const args of [
    ['-r', INCIDENT],
    ['-r', INCIDENT, '--json'],
  ]) {
    const out = fs.openSync('/dev/full', 'w');
    try {
      const r = spawnSync(BIN, args, { stdio: ['ignore', out, 'pipe'], encoding: 'utf8' });
      assert.equal(r.status, 2, r.stderr);
      assert.deepEqual(r.stderr.trim().split('\n'), ['csumtop: cannot write standard output: no space left on device (ENOSPC)']);
    } finally {
      fs.closeSync(out);
    }
  }
});
