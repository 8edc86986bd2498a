/**
 * `csumtop cluster --prometheus URL` against a small local HTTP server that answers the
 * six PromQL queries like Prometheus 2.42 does (fixtures in samples/prometheus-samples.ts):
 * the matrix and totals as a table and as JSON, the exit statuses, and a clear message
 * (exit 2) when Prometheus is unreachable, answers an error, or is not Prometheus.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { after, before, test } from 'node:test';
import { performance } from 'node:perf_hooks';

import { clusterMain } from '../../src/cli/cluster.js';
import { instantQuery, PrometheusError, prometheusBase } from '../../src/cluster/prometheus-api.js';
import { clusterQueries } from '../../src/cluster/view.js';
import type { ClusterView } from '../../src/model/cluster.js';
import { BIN } from '../fixtures/harness.js';
import * as S from './samples/prometheus-samples.js';

/**
 * 'hang': never answers; 'stall': headers and the start of a body, then nothing;
 * 'endless': a body that never ends (as fast as the client reads).
 */
type Answer = { status: number; body: string; contentType?: string } | 'hang' | 'stall' | 'endless';

/** Routes per path prefix: the answer for each query, or one answer for all. */
const routes = new Map<string, (query: string) => Answer>();
const asked: string[] = [];
let server: Server;
let base: string;

function answer(res: ServerResponse, a: Answer): void {
  if (a === 'hang') return; // never answers: the client's timeout must fire
  if (a === 'stall' || a === 'endless') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"status":"success","data":{"resultType":"vector","result":[');
    if (a === 'stall') return;
    const chunk = Buffer.from('{"metric":{},"value":[1,"0"]},'.repeat(2048));
    const pump = (): void => {
      while (!res.destroyed && res.write(chunk));
      if (!res.destroyed) res.once('drain', pump);
    };
    pump();
    return;
  }
  res.writeHead(a.status, { 'content-type': a.contentType ?? 'application/json', 'content-length': Buffer.byteLength(a.body) });
  res.end(a.body);
}

before(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    asked.push(`${req.method} ${url.pathname}`);
    for (const [prefix, route] of routes) {
      if (url.pathname === `${prefix}/api/v1/query`) return answer(res, route(url.searchParams.get('query') ?? ''));
    }
    answer(res, { status: 404, body: '404 page not found\n', contentType: 'text/plain' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const a = server.address();
  base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

function fixtureRoute(window: string, answers: Partial<Record<keyof ReturnType<typeof clusterQueries>, string>>): (q: string) => Answer {
  const q = clusterQueries(window);
  return (query) => {
    for (const [k, text] of Object.entries(q)) {
      if (text === query) return { status: 200, body: answers[k as keyof typeof q] ?? S.EMPTY };
    }
    return { status: 400, body: S.BAD_DATA };
  };
}

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await clusterMain(argv, {
    out: async (t) => {
      out += t;
    },
    warn: async (t) => {
      err += `csumtop: ${t}\n`;
    },
  });
  return { code, out, err };
}

const FULL = { bad: S.BAD, total: S.TOTAL, badChecksums: S.BAD_CHECKSUMS, kernel: S.KERNEL, drops: S.DROPS, findings: S.FINDINGS };

test('the table: one matrix per direction (bad/all, node x peer), per-node totals, findings by severity; exit 1', async () => {
  routes.clear();
  routes.set('', fixtureRoute('5m', FULL));
  const r = await run(['--prometheus', base]);
  assert.equal(r.err, '');
  assert.equal(r.code, 1, 'bad carriers in the window: exit 1');
  const expected = [
    `csumtop cluster: ${base}/, last 5m, 3 node(s)`,
    '',
    "Bad tunnel carriers RECEIVED from each peer (dropped by the node's kernel); bad/all, rows: node, columns: peer",
    'node    192.168.189.4',
    'node-b  5/120',
    'node-c  0/40',
    '',
    "Bad tunnel carriers SENT to each peer (the peer's kernel drops them); bad/all, rows: node, columns: peer",
    'node    192.168.189.5',
    'node-a  5/118',
    '',
    'Per node',
    'node    bad checksums  kernel checksum errors  capture drops',
    'node-a  5              0                       0',
    'node-b  5              5                       0',
    'node-c  0              0                       12',
    '',
    'Active findings (3)',
    'severity  finding                    subject        node',
    'critical  vxlan-outer-bad-sent       192.168.189.5  node-a',
    'critical  vxlan-outer-bad-from-peer  192.168.189.4  node-b',
    'warning   capture-loss               eth0           node-c',
    '',
    'Peers are shown by address: Prometheus has no kube_node_info (scrape kube-state-metrics to name them).',
    '',
  ].join('\n');
  assert.equal(r.out, expected);
});

test('kube_node_info joined: peers named by their node (internal_ip -> node), in the matrix headers, findings and JSON', async () => {
  routes.clear();
  routes.set('', fixtureRoute('5m', { ...FULL, nodeInfo: S.NODE_INFO }));
  const r = await run(['--prometheus', base]);
  assert.equal(r.code, 1, r.err);
  const lines = r.out.split('\n');
  // Two nodes claim 192.168.189.4 (a replaced node's series still in Prometheus): both named.
  assert.ok(lines.includes('node    192.168.189.4 (node-a|node-a-old)'), r.out);
  assert.ok(lines.includes('node    192.168.189.5 (node-b)'), r.out);
  assert.ok(lines.includes('critical  vxlan-outer-bad-from-peer  192.168.189.4 (node-a|node-a-old)  node-b'), r.out);
  const subjectWidth = '192.168.189.4 (node-a|node-a-old)'.length;
  assert.ok(
    lines.includes(`warning   capture-loss               ${'eth0'.padEnd(subjectWidth)}  node-c`),
    `a subject that is no address stays as it is:\n${r.out}`,
  );
  assert.ok(lines.includes('Peer names: kube_node_info (kube-state-metrics), internal_ip -> node.'), r.out);
  assert.ok(!r.out.includes('Peers are shown by address'));
  // Series without internal_ip name nobody, and the table does not claim names.
  routes.set('', fixtureRoute('5m', { ...FULL, nodeInfo: S.NODE_INFO.replace(/"internal_ip":"[^"]*",/g, '') }));
  const unnamed = await run(['--prometheus', base]);
  assert.ok(unnamed.out.includes('Peers are shown by address: kube_node_info has no node with an internal_ip label.'), unnamed.out);
  assert.ok(!unnamed.out.includes('(node-a'), unnamed.out);
  routes.set('', fixtureRoute('5m', { ...FULL, nodeInfo: S.NODE_INFO }));
  const j = await run(['--prometheus', base, '--json']);
  const v = JSON.parse(j.out) as ClusterView;
  assert.deepEqual(v.peerNames, { '192.168.189.4': ['node-a', 'node-a-old'], '192.168.189.5': ['node-b'] });
});

test('--json: the same view as one document, values as Prometheus computed them', async () => {
  routes.clear();
  routes.set('', fixtureRoute('10m', FULL));
  const r = await run(['--prometheus', base, '--window', '10m', '--json']);
  assert.equal(r.code, 1, r.err);
  const v = JSON.parse(r.out) as ClusterView;
  assert.equal(v.version, 1);
  assert.equal(v.window, '10m');
  assert.equal(v.prometheus, `${base}/`);
  assert.deepEqual(v.nodes, ['node-a', 'node-b', 'node-c']);
  assert.deepEqual(v.peers, ['192.168.189.4', '192.168.189.5']);
  assert.deepEqual(v.matrix, [
    { instance: 'node-a', peer: '192.168.189.5', direction: 'sent', bad: 5, total: 118 },
    { instance: 'node-b', peer: '192.168.189.4', direction: 'received', bad: 5.172413793103448, total: 120.3 },
    { instance: 'node-c', peer: '192.168.189.4', direction: 'received', bad: 0, total: 40 },
  ]);
  assert.deepEqual(
    v.totals.find((t) => t.instance === 'node-c'),
    { instance: 'node-c', badChecksums: 0, kernelChecksumErrors: 0, captureDrops: 12 },
  );
  assert.deepEqual(
    v.findings.map((f) => `${f.severity} ${f.id} ${f.subject} ${f.instance}`),
    ['critical vxlan-outer-bad-sent 192.168.189.5 node-a', 'critical vxlan-outer-bad-from-peer 192.168.189.4 node-b', 'warning capture-loss eth0 node-c'],
  );
  assert.ok(!Number.isNaN(Date.parse(v.time)));
  assert.equal(v.peerNames, null, 'no kube_node_info: said as null, not an empty map');
});

test('a healthy cluster: exit 0; no peer series yet is said, not shown as zeros', async () => {
  routes.clear();
  const zero = JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: { instance: 'node-a' }, value: [S.T, '0'] }] } });
  routes.set('', fixtureRoute('5m', { badChecksums: zero, kernel: zero, drops: zero }));
  const r = await run(['--prometheus', base]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /No tunnel carriers per peer in Prometheus for this window/);
  assert.ok(r.out.includes('\nnode-a  0              0                       0\n'), r.out);
  assert.match(r.out, /No active findings\./);
});

test('Prometheus under a path prefix: queries go to PREFIX/api/v1/query', async () => {
  routes.clear();
  routes.set('/prometheus', fixtureRoute('5m', FULL));
  asked.length = 0;
  const r = await run(['--prometheus', `${base}/prometheus`, '--json']);
  assert.equal(r.code, 1, r.err);
  assert.equal(asked.length, 7);
  assert.ok(
    asked.every((a) => a === 'GET /prometheus/api/v1/query'),
    asked.join(', '),
  );
});

test('Prometheus errors, non-Prometheus answers and unreachable addresses: a clear message, exit 2', async () => {
  const cases: Array<[Answer, RegExp]> = [
    [{ status: 400, body: S.BAD_DATA }, /answered HTTP 400: bad_data: invalid parameter "query": .*bad duration syntax/],
    [{ status: 503, body: S.UNAVAILABLE }, /answered HTTP 503: unavailable: TSDB not ready/],
    [
      { status: 502, body: '<html><body>Bad Gateway</body></html>', contentType: 'text/html' },
      /answered HTTP 502 with something that is not JSON \(is this Prometheus\?\): <html>/,
    ],
    [{ status: 200, body: '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,2]}]}}' }, /a result is not \{"metric"/],
    [{ status: 200, body: S.MATRIX }, /expected a vector result, got matrix/],
    [{ status: 200, body: '[1,2]' }, /JSON that is not an API response/],
    [{ status: 200, body: '{"hello":"world"}' }, /not the Prometheus API/],
  ];
  for (const [a, re] of cases) {
    routes.clear();
    routes.set('', () => a);
    const r = await run(['--prometheus', base]);
    assert.equal(r.code, 2, `${re}: ${r.err}`);
    assert.match(r.err, re);
    assert.equal(r.out, '', 'nothing printed on stdout when the view could not be built');
  }
  // Nothing listens there: the port of a server that was just closed.
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const a = closed.address();
  const port = typeof a === 'object' && a ? a.port : 0;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const r = await run(['--prometheus', `http://127.0.0.1:${port}`]);
  assert.equal(r.code, 2);
  assert.match(r.err, new RegExp(`Prometheus at http://127\\.0\\.0\\.1:${port}/ is unreachable: ECONNREFUSED`));
  // A wrong path (no Prometheus there): 404 text.
  routes.clear();
  const wrong = await run(['--prometheus', `${base}/nothing-here`]);
  assert.equal(wrong.code, 2);
  assert.match(wrong.err, /answered HTTP 404 with something that is not JSON/);
});

test('a Prometheus that never answers: the query times out with a message', async () => {
  routes.clear();
  routes.set('', () => 'hang');
  await assert.rejects(
    instantQuery(prometheusBase(base), 'up', { timeoutMs: 300 }),
    (err: unknown) => err instanceof PrometheusError && /did not answer within 0\.3 s \(no response headers/.test(err.message),
  );
});

/** bin/csumtop cluster ARGS: exit code, output, and how long it took. */
async function runBin(argv: string[]): Promise<{ code: number | null; out: string; err: string; ms: number }> {
  const t0 = performance.now();
  const child = spawn(BIN, ['cluster', ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  return { code, out, err, ms: performance.now() - t0 };
}

test('a Prometheus that sends headers and then stalls: exit 2 within the --timeout, one line naming the URL (issue 17)', async () => {
  routes.clear();
  routes.set('', () => 'stall');
  const r = await runBin(['--prometheus', base, '--timeout', '1']);
  assert.equal(r.code, 2, r.err);
  assert.equal(r.out, '');
  // One line, no stack trace: which URL, and that the body never finished.
  assert.equal(r.err.split('\n').filter((l) => l !== '').length, 1, r.err);
  assert.match(
    r.err,
    new RegExp(
      `^csumtop: cluster: Prometheus at ${base.replace(/\./g, '\\.')}/ did not answer within 1 s \\(HTTP 200 headers came, the body did not finish; GET /api/v1/query\\)\n$`,
    ),
  );
  // Bounded by the timeout (plus Node's start-up on a busy machine), not by the server.
  assert.ok(r.ms < 8000, `took ${Math.round(r.ms)} ms`);
});

test('a Prometheus that streams an endless body: exit 2 once 32 MiB were read, one line (issue 17)', async () => {
  routes.clear();
  routes.set('', () => 'endless');
  const r = await runBin(['--prometheus', base, '--timeout', '60']);
  assert.equal(r.code, 2, r.err);
  assert.equal(r.err.split('\n').filter((l) => l !== '').length, 1, r.err);
  assert.match(
    r.err,
    /^csumtop: cluster: Prometheus at http:\/\/127\.0\.0\.1:\d+\/ answered HTTP 200 with a body longer than the 32 MiB csumtop reads for one query \(GET \/api\/v1\/query\)\n$/,
  );
  // A body announced too large is refused before it is read.
  routes.set('', () => ({ status: 200, body: 'x'.repeat(2000) }));
  await assert.rejects(
    instantQuery(prometheusBase(base), 'up', { maxBytes: 1000 }),
    (err: unknown) =>
      err instanceof PrometheusError &&
      /answered HTTP 200 announcing a body of 2000 bytes, longer than the 1000 bytes csumtop reads for one query/.test(err.message),
  );
  // --timeout is checked like the other flags.
  const bad = await run(['--prometheus', base, '--timeout', 'soon']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--timeout: 'soon' is not a number of seconds/);
});

test('usage errors: exit 2 naming the flag', async () => {
  const cases: Array<[string[], RegExp]> = [
    [[], /--prometheus URL is required/],
    [['--prometheus', 'not a url'], /'not a url' is not a URL/],
    [['--prometheus', 'ftp://x'], /must be an http:\/\/ or https:\/\/ URL/],
    [['--prometheus', 'http://x/?q=1'], /must not have a query string/],
    [['--prometheus', base, '--window', '5'], /--window: '5' is not a PromQL duration/],
    [['--prometheus', base, '--window', '5m;drop'], /is not a PromQL duration/],
    [['--prometheus', base, '--bogus'], /Unknown option '--bogus'/],
    [['--prometheus', base, 'extra'], /Unexpected argument 'extra'|unexpected/i],
  ];
  for (const [argv, re] of cases) {
    const r = await run(argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.err, re, argv.join(' '));
  }
  const h = await run(['--help']);
  assert.equal(h.code, 0);
  assert.match(h.out, /^Usage: csumtop cluster --prometheus URL/);
});

test('bin/csumtop cluster dispatches to the subcommand (table on stdout, exit status)', async () => {
  routes.clear();
  routes.set('', fixtureRoute('5m', FULL));
  const child = spawn(BIN, ['cluster', '--prometheus', base], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  assert.equal(code, 1, err);
  assert.match(out, /node-b {2}5\/120\n/);
  assert.match(out, /critical {2}vxlan-outer-bad-from-peer {2}192\.168\.189\.4 {2}node-b/);
});
