/**
 * Issue 6 on real kernel traffic and a real Prometheus: two csumtop instances, one per
 * lab node (namespace A and B, each `--netns NS --metrics 127.0.0.1:0`), a Prometheus
 * server (Debian's `prometheus`, scrape interval 1 s, started here, killed and its data
 * directory removed at the end) scraping both, faults injected on A's underlay, and the
 * counts read back through Prometheus' HTTP API:
 *
 *  - csumtop_checksums_total on node-b's vlb holds exactly the injected bad checksums per
 *    layer and protocol (and flannel.1 the decapsulated bad inner ones), node-a's vla the
 *    same frames as sent;
 *  - csumtop_kernel_checksum_errors_total of node-b moves exactly as B's kernel counted
 *    (Udp_InCsumErrors +2N, Tcp_InCsumErrors +N, IpExt_InCsumErrors +N, see README of the lab);
 *  - csumtop_vxlan_peer_carriers_total (the correlation pipeline, run with --metrics):
 *    node-b received from A's underlay address, node-a sent to B's, exactly per verdict,
 *    and the findings (vxlan-outer-bad-from-peer on node-b, vxlan-outer-bad-sent on node-a);
 *  - `csumtop cluster` against that Prometheus: the same node x peer matrix, totals and
 *    findings, as JSON and as the table; peers by address while Prometheus has no
 *    kube_node_info, and by node name once a kube-state-metrics stand-in (an HTTP server
 *    the test runs, scraped as job kube-state-metrics) publishes it (issue 19).
 *
 * Nothing leaves the machine: metrics and Prometheus listen on 127.0.0.1 only.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

import type { ClusterView } from '../../src/model/cluster.js';
import { BIN, Csumtop, FAULT_KINDS, UNDERLAY_A, UNDERLAY_B, describeRun, faultFrame, onCleanup, sharedLab, sleep, track, which } from './lab.js';

const theLab = sharedLab();
const N = 5;
const DEADLINE_MS = 15_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Starts csumtop on `devs` of `ns` with metrics on a free loopback port; returns it and the port. */
async function csumtopWithMetrics(ns: string, devs: string[]): Promise<{ ct: Csumtop; port: number }> {
  const ct = new Csumtop(['--netns', ns, '-i', devs.join(','), '--metrics', '127.0.0.1:0', '--json', '--duration', '55']);
  const missing = await ct.waitAttached(devs, 3000);
  const m = /serving metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(ct.stderr);
  if (missing.length > 0 || !m) {
    const r = await ct.stop();
    assert.fail(
      `csumtop in ${ns}: attached ${devs.filter((d) => !missing.includes(d)).join(',') || 'nothing'}, metrics ${m ? 'on' : 'not announced'}: ${describeRun(r)}`,
    );
  }
  return { ct, port: Number(m[1]) };
}

class Prometheus {
  readonly dir: string;
  readonly port: number;
  private readonly child: ReturnType<typeof spawn>;
  log = '';
  private readonly release: () => void;

  constructor(port: number, targets: Array<{ instance: string; port: number }>, ksmPort: number) {
    this.port = port;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csumtop-prom-'));
    const config = [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: csumtop',
      '    static_configs:',
      // instance = the node's name, as deploy/README.md relabels it in a cluster.
      ...targets.flatMap((t) => [`      - targets: ['127.0.0.1:${t.port}']`, `        labels: {instance: '${t.instance}'}`]),
      '  - job_name: kube-state-metrics',
      '    static_configs:',
      `      - targets: ['127.0.0.1:${ksmPort}']`,
      '',
    ].join('\n');
    fs.writeFileSync(path.join(this.dir, 'prometheus.yml'), config);
    this.child = track(
      spawn(
        'prometheus',
        [
          `--config.file=${path.join(this.dir, 'prometheus.yml')}`,
          `--storage.tsdb.path=${path.join(this.dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
          '--log.level=warn',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      ),
    );
    this.child.stdout!.on('data', (d: Buffer) => (this.log += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.log += d.toString()));
    // Removed after the process is gone (tracked processes are killed first: newest first).
    this.release = onCleanup(() => fs.rmSync(this.dir, { recursive: true, force: true }));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async query(q: string): Promise<Array<{ metric: Record<string, string>; value: number }>> {
    const res = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(q)}`, { signal: AbortSignal.timeout(3000) });
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
    };
    if (body.status !== 'success' || !body.data) throw new Error(`Prometheus: ${q}: ${body.error ?? res.status}`);
    return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }

  /** The single value of `q`, or null when it has no result. */
  async scalar(q: string): Promise<number | null> {
    const r = await this.query(q);
    if (r.length > 1) throw new Error(`${q}: ${r.length} results`);
    return r.length === 0 ? null : r[0].value;
  }

  /** Polls until `check` returns null (done) or the deadline; returns the last complaint. */
  async until(check: () => Promise<string | null>, ms = DEADLINE_MS): Promise<string | null> {
    const deadline = Date.now() + ms;
    let why: string | null = 'not checked';
    while (Date.now() < deadline) {
      try {
        why = await check();
      } catch (err) {
        why = (err as Error).message; // not up yet
      }
      if (why === null) return null;
      await sleep(250);
    }
    return why;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    this.release();
  }
}

/**
 * A stand-in for kube-state-metrics: serves `body` (Prometheus text format) on /metrics of
 * a free loopback port; empty (no series) until the test sets it.
 */
async function kubeStateMetrics(): Promise<{ port: number; set: (body: string) => void; close: () => void }> {
  let body = '';
  const server = createHttpServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const a = server.address();
  const release = onCleanup(() => server.close());
  return {
    port: typeof a === 'object' && a ? a.port : 0,
    set: (b) => (body = b),
    close: () => {
      server.closeAllConnections();
      release();
    },
  };
}

function runCluster(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = track(spawn(BIN, ['cluster', ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('two nodes, a real Prometheus: injected bad carriers show up exactly in the scraped counters and in csumtop cluster', { timeout: 60_000 }, async (t) => {
  const lab = theLab();
  for (const tool of ['prometheus', 'promtool']) {
    assert.ok(which(tool), `${tool} is not installed (Debian package "prometheus", installed by .ci/run): this test needs a real Prometheus`);
  }
  const a = await csumtopWithMetrics(lab.A, ['vla', 'flannel.1']);
  const b = await csumtopWithMetrics(lab.B, ['vlb', 'flannel.1']);
  const ksm = await kubeStateMetrics();
  const prom = new Prometheus(
    await freePort(),
    [
      { instance: 'node-a', port: a.port },
      { instance: 'node-b', port: b.port },
    ],
    ksm.port,
  );
  try {
    // Both targets up, and the kernel counters of B published (their baseline is csumtop's start).
    let why = await prom.until(async () => {
      const up = await prom.query('up');
      if (up.length !== 3 || up.some((u) => u.value !== 1)) return `up: ${JSON.stringify(up)}`;
      const k = await prom.scalar('csumtop_kernel_checksum_errors_total{instance="node-b",counter="Udp_InCsumErrors"}');
      return k === 0 ? null : `node-b Udp_InCsumErrors = ${k}`;
    });
    assert.equal(why, null, `Prometheus did not scrape both csumtops: ${why}\n${prom.log.slice(-1500)}`);
    for (const x of [a, b]) {
      const h = await fetch(`http://127.0.0.1:${x.port}/healthz`);
      assert.equal(h.status, 200, 'healthz while capturing');
    }

    const frames: Uint8Array[] = [];
    for (let i = 0; i < N; i++) for (const k of FAULT_KINDS) frames.push(faultFrame(lab.macs, k, i));
    lab.inject(lab.A, 'vla', frames);

    const bad = (node: string, dev: string, layer: string, protocol: string): string =>
      `csumtop_checksums_total{instance="${node}",device="${dev}",layer="${layer}",protocol="${protocol}",verdict="bad"}`;
    // What B's kernel counts for these carriers (test/lab/README.md, measured): bad outer
    // and bad inner UDP in Udp InCsumErrors, the inner TCP SYN in Tcp, the IPv4 header in IpExt.
    const expected: Array<[string, number]> = [
      [bad('node-b', 'vlb', 'outer', 'udp'), N],
      [bad('node-b', 'vlb', 'inner', 'udp'), N],
      [bad('node-b', 'vlb', 'inner', 'tcp'), N],
      [bad('node-b', 'vlb', 'outer', 'ipv4'), N],
      // B decapsulates the carriers whose outer checksums are right: on flannel.1 their
      // bad inner UDP and TCP checksums are outer ones, bad there too (vxlan-live.test.ts).
      [bad('node-b', 'flannel.1', 'outer', 'udp'), N],
      [bad('node-b', 'flannel.1', 'outer', 'tcp'), N],
      ['sum(csumtop_checksums_total{instance="node-b",verdict="bad"})', 6 * N],
      // The same frames leave A: csumtop on A sees them as sent on vla.
      [bad('node-a', 'vla', 'outer', 'udp'), N],
      ['sum(csumtop_checksums_total{instance="node-a",verdict="bad"})', 4 * N],
      ['csumtop_packets_total{instance="node-a",device="vla",direction="sent"} >= bool 25', 1],
      ['csumtop_kernel_checksum_errors_total{instance="node-b",counter="Udp_InCsumErrors"}', 2 * N],
      ['csumtop_kernel_checksum_errors_total{instance="node-b",counter="Tcp_InCsumErrors"}', N],
      ['csumtop_kernel_checksum_errors_total{instance="node-b",counter="IpExt_InCsumErrors"}', N],
      ['sum(csumtop_kernel_checksum_errors_total{instance="node-a"})', 0],
      ['sum(csumtop_capture_drops_total)', 0],
      ['csumtop_interfaces{instance="node-b",state="attached"}', 2],
      [`count(csumtop_build_info{backend="afpacket"})`, 2],
    ];
    let values: string[] = [];
    why = await prom.until(async () => {
      values = [];
      let wrong: string | null = null;
      for (const [q, want] of expected) {
        const got = await prom.scalar(q);
        values.push(`${q} = ${got}`);
        if (got !== want && wrong === null) wrong = `${q}: ${got}, expected ${want}`;
      }
      return wrong;
    });
    t.diagnostic(values.join('\n'));
    assert.equal(why, null, `Prometheus never showed the injected faults: ${why}`);
    // The correlation pipeline's view (--metrics runs it): carriers per peer, per verdict.
    // Of each N: bad outer UDP, bad IPv4 header, zero outer checksum (ok), and bad inner
    // UDP plus bad inner TCP (bad_inner 2N). node-b received them from A's underlay
    // address, node-a sent them to B's.
    const carriers = (node: string, peer: string, direction: string, verdict: string): string =>
      `csumtop_vxlan_peer_carriers_total{instance="${node}",peer="${peer}",direction="${direction}",verdict="${verdict}"}`;
    const peerExpected: Array<[string, number]> = [];
    for (const [node, peer, direction] of [
      ['node-b', UNDERLAY_A, 'received'],
      ['node-a', UNDERLAY_B, 'sent'],
    ] as const) {
      peerExpected.push(
        [carriers(node, peer, direction, 'bad_outer'), N],
        [carriers(node, peer, direction, 'bad_inner'), 2 * N],
        [carriers(node, peer, direction, 'bad_ipv4'), N],
        [carriers(node, peer, direction, 'ok'), N],
      );
    }
    why = await prom.until(async () => {
      for (const [q, want] of peerExpected) {
        const got = await prom.scalar(q);
        if (got !== want) return `${q}: ${got}, expected ${want}`;
      }
      return null;
    });
    t.diagnostic(
      `peers: ${JSON.stringify((await prom.query('csumtop_vxlan_peer_carriers_total')).map((r) => [r.metric.instance, r.metric.peer, r.metric.direction, r.metric.verdict, r.value]))}`,
    );
    assert.equal(why, null, `the node x peer counters never showed the injected carriers: ${why}`);
    // No other peer: the lab has two nodes.
    assert.deepEqual([...new Set((await prom.query('csumtop_vxlan_peer_carriers_total')).map((r) => `${r.metric.instance} ${r.metric.peer}`))].sort(), [
      `node-a ${UNDERLAY_B}`,
      `node-b ${UNDERLAY_A}`,
    ]);
    // Findings hold while their evidence is fresh (10 s): read them now.
    const findings = (await prom.query('csumtop_finding == 1')).map((r) => `${r.metric.instance} ${r.metric.severity} ${r.metric.id} ${r.metric.subject}`);
    t.diagnostic(`findings: ${findings.join('; ')}`);
    assert.ok(findings.includes(`node-b critical vxlan-outer-bad-from-peer ${UNDERLAY_A}`), findings.join('; '));
    // The sender cannot see the receiver drop anything (issue 13): a warning there.
    assert.ok(findings.includes(`node-a warning vxlan-outer-bad-sent ${UNDERLAY_B}`), findings.join('; '));

    // csumtop cluster against this Prometheus, now: the active findings.
    const early = await runCluster(['--prometheus', prom.url, '--window', '1m', '--json']);
    assert.equal(early.code, 1, `cluster: bad carriers in the window must give exit 1: ${early.stderr}`);
    const earlyView = JSON.parse(early.stdout) as ClusterView;
    for (const [node, id, subject, severity] of [
      ['node-b', 'vxlan-outer-bad-from-peer', UNDERLAY_A, 'critical'],
      ['node-a', 'vxlan-outer-bad-sent', UNDERLAY_B, 'warning'],
    ]) {
      assert.ok(
        earlyView.findings.some((f) => f.instance === node && f.id === id && f.severity === severity && f.subject === subject),
        `cluster findings lack ${node} ${id} ${subject}: ${JSON.stringify(earlyView.findings)}`,
      );
    }
    // No kube_node_info yet: peers by address, and the table says why.
    assert.equal(earlyView.peerNames, null);
    const earlyText = await runCluster(['--prometheus', prom.url, '--window', '1m']);
    assert.match(earlyText.stdout, /^Peers are shown by address: Prometheus has no kube_node_info/m, earlyText.stdout);
    // kube-state-metrics appears: its kube_node_info names both lab nodes by their underlay address.
    ksm.set(
      [
        '# HELP kube_node_info Information about a cluster node.',
        '# TYPE kube_node_info gauge',
        `kube_node_info{node="node-a",internal_ip="${UNDERLAY_A}",kernel_version="${os.release()}"} 1`,
        `kube_node_info{node="node-b",internal_ip="${UNDERLAY_B}",kernel_version="${os.release()}"} 1`,
        '',
      ].join('\n'),
    );
    why = await prom.until(async () => ((await prom.query('kube_node_info')).length === 2 ? null : 'kube_node_info not scraped yet'));
    assert.equal(why, null, why ?? '');

    // The matrix once Prometheus holds 8 s of samples: increase() extrapolates to the
    // window's end by at most half a scrape interval, so it reads at most ~1/8 high.
    await sleep(8000);
    const json = await runCluster(['--prometheus', prom.url, '--window', '1m', '--json']);
    assert.equal(json.code, 1, json.stderr);
    const view = JSON.parse(json.stdout) as ClusterView;
    assert.deepEqual(view.nodes, ['node-a', 'node-b']);
    assert.deepEqual(view.peers, [UNDERLAY_A, UNDERLAY_B]);
    assert.deepEqual(view.peerNames, { [UNDERLAY_A]: ['node-a'], [UNDERLAY_B]: ['node-b'] });
    assert.deepEqual(
      view.matrix.map((c) => `${c.instance} ${c.peer} ${c.direction}`),
      [`node-a ${UNDERLAY_B} sent`, `node-b ${UNDERLAY_A} received`],
    );
    const near = (got: number | null, injected: number): boolean => got !== null && got >= injected && got <= injected * 1.25;
    for (const c of view.matrix) {
      assert.ok(near(c.bad, 4 * N), `${c.instance} x ${c.peer}: bad ${c.bad}, injected ${4 * N}`);
      assert.ok(near(c.total, 5 * N), `${c.instance} x ${c.peer}: total ${c.total}, injected ${5 * N}`);
    }
    const nodeB = view.totals.find((x) => x.instance === 'node-b');
    assert.ok(nodeB, JSON.stringify(view.totals));
    assert.ok(near(nodeB.badChecksums, 6 * N), `node-b bad checksums ${nodeB.badChecksums}, expected about ${6 * N}`);
    assert.ok(near(nodeB.kernelChecksumErrors, 4 * N), `node-b kernel ${nodeB.kernelChecksumErrors}, expected about ${4 * N}`);
    assert.equal(nodeB.captureDrops, 0);
    const text = await runCluster(['--prometheus', prom.url, '--window', '1m']);
    assert.equal(text.code, 1, text.stderr);
    t.diagnostic(text.stdout);
    assert.match(
      text.stdout,
      new RegExp(`RECEIVED from each peer.*\\nnode +${UNDERLAY_A.replace(/\./g, '\\.')} \\(node-a\\)\\nnode-b +2\\d/[23]\\d\\n`),
      text.stdout,
    );
    assert.match(
      text.stdout,
      new RegExp(`SENT to each peer.*\\nnode +${UNDERLAY_B.replace(/\./g, '\\.')} \\(node-b\\)\\nnode-a +2\\d/[23]\\d\\n`),
      text.stdout,
    );
    assert.match(text.stdout, /^Peer names: kube_node_info \(kube-state-metrics\), internal_ip -> node\.$/m);

    // Still exact a few scrapes later: nothing counted twice.
    await sleep(2500);
    for (const [q, want] of [...expected, ...peerExpected]) assert.equal(await prom.scalar(q), want, q);
  } finally {
    await prom.stop();
    ksm.close();
    const ra = await a.ct.stop();
    const rb = await b.ct.stop();
    t.diagnostic(`csumtop A exit ${ra.code}, B exit ${rb.code}`);
  }
  assert.ok(!fs.existsSync(prom.dir), 'the Prometheus data directory must be removed');
  // The metrics ports are closed once csumtop exited.
  for (const x of [a, b]) await assert.rejects(fetch(`http://127.0.0.1:${x.port}/healthz`), 'metrics port still open after exit');
});
