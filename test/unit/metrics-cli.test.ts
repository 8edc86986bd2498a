/**
 * `--metrics [ADDR:]PORT` on the command line and the HTTP endpoint itself: addresses
 * parsed or refused with a message, a port in use refused before capture starts (exit 2),
 * /metrics and /healthz answered, /healthz turning 503 when capture stalls or stops, and
 * the port released on close.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { test } from 'node:test';

import { parseOptions, UsageError } from '../../src/cli/args.js';
import { nativeLayout } from '../../src/native/analyzer.js';
import { DEFAULT_METRICS_HOST, parseListenAddress } from '../../src/output/metrics/address.js';
import { LiveMetrics } from '../../src/output/metrics/live.js';
import { MetricsListenError, MetricsServer } from '../../src/output/metrics/server.js';
import { BIN } from '../fixtures/harness.js';
import { parseExposition, value } from '../lib/exposition.js';

test('--metrics accepts PORT, IPv4:PORT and [IPv6]:PORT; the default address is loopback', () => {
  assert.deepEqual(parseOptions(['--metrics', '9977']).metrics, { host: DEFAULT_METRICS_HOST, port: 9977, family: 4 });
  assert.equal(DEFAULT_METRICS_HOST, '127.0.0.1');
  assert.deepEqual(parseOptions(['--metrics', '0.0.0.0:9977']).metrics, { host: '0.0.0.0', port: 9977, family: 4 });
  assert.deepEqual(parseOptions(['--metrics', '[::1]:9100']).metrics, { host: '::1', port: 9100, family: 6 });
  assert.deepEqual(parseOptions(['--metrics', '[::]:9100']).metrics, { host: '::', port: 9100, family: 6 });
  assert.equal(parseOptions([]).metrics, null);
  assert.equal(parseOptions(['--metrics', '1']).metricsMaxPeers, 64);
  assert.equal(parseOptions(['--metrics', '1', '--metrics-max-peers', '5']).metricsMaxPeers, 5);
});

test('--metrics mistakes are usage errors that say what is wrong', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--metrics', 'abc'], /--metrics: 'abc': 'abc' is not a port number/],
    [['--metrics', '70000'], /'70000' is not a port number \(0-65535\)/],
    [['--metrics', ''], /expected \[ADDR:\]PORT/],
    [['--metrics', '::1:9100'], /IPv6 address needs brackets/],
    [['--metrics', '[::1]'], /written \[ADDR\]:PORT/],
    [['--metrics', '[1.2.3.4]:80'], /'1\.2\.3\.4' is not an IPv6 address/],
    [['--metrics', 'localhost:9100'], /'localhost' is not an IPv4 address .*host names are not looked up/],
    [['--metrics', '300.1.1.1:9100'], /'300\.1\.1\.1' is not an IPv4 address/],
    [['--metrics', '1.2.3.4:'], /'' is not a port number/],
    [['--metrics-max-peers', '5'], /--metrics-max-peers only applies with --metrics/],
    [['--metrics', '9977', '--metrics-max-peers', '0'], /--metrics-max-peers: '0' is not a whole number/],
    [['-r', 'x.pcap', '--metrics', '9977'], /--metrics is for live capture/],
  ];
  for (const [argv, re] of cases) {
    assert.throws(
      () => parseOptions(argv),
      (err: unknown) => err instanceof UsageError && re.test(err.message),
      argv.join(' '),
    );
  }
  assert.throws(() => parseListenAddress('9977x'));
});

function occupy(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve({ server, port: typeof a === 'object' && a ? a.port : 0 });
    });
  });
}

test('a port in use: exit 2 with a clear message, before any capture starts', async () => {
  const { server, port } = await occupy();
  try {
    // -i names an interface that does not exist: had capture started, the message would be about it.
    const r = spawnSync(BIN, ['--metrics', `127.0.0.1:${port}`, '-i', 'csumtop-no-such-if0', '--duration', '1'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`--metrics: cannot listen on 127\\.0\\.0\\.1:${port}: the port is already in use`));
    assert.doesNotMatch(r.stderr, /no such interface/);
  } finally {
    server.close();
  }
  const bad = spawnSync(BIN, ['--metrics', '192.0.2.77:9977', '--duration', '1'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /cannot listen on 192\.0\.2\.77:9977: this host has no such address/);
  const usage = spawnSync(BIN, ['--metrics', 'nope'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /--metrics: 'nope'/);
});

test('the server: /metrics, /healthz 200 then 503, 404 and 405; close() frees the port', async () => {
  let why: string | null = null;
  const server = await MetricsServer.listen(
    { host: '127.0.0.1', port: 0, family: 4 },
    { metrics: async () => 'csumtop_x_total 3\n', contentType: 'text/plain; version=0.0.4; charset=utf-8', unhealthy: () => why },
  );
  const base = `http://127.0.0.1:${server.address.port}`;
  assert.equal(server.url, `${base}/metrics`);
  const m = await fetch(`${base}/metrics`);
  assert.equal(m.status, 200);
  assert.match(m.headers.get('content-type') ?? '', /version=0\.0\.4/);
  assert.equal(await m.text(), 'csumtop_x_total 3\n');
  const h = await fetch(`${base}/healthz`);
  assert.equal(h.status, 200);
  assert.equal(await h.text(), 'ok\n');
  why = 'capture stopped';
  const h2 = await fetch(`${base}/healthz`);
  assert.equal(h2.status, 503);
  assert.equal(await h2.text(), 'capture stopped\n');
  assert.equal((await fetch(`${base}/other`)).status, 404);
  assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);

  // Same port again while it is held: refused with MetricsListenError.
  await assert.rejects(
    MetricsServer.listen(
      { host: '127.0.0.1', port: server.address.port, family: 4 },
      { metrics: async () => '', contentType: 'text/plain', unhealthy: () => null },
    ),
    (err: unknown) => err instanceof MetricsListenError && /already in use/.test(err.message),
  );
  await server.close();
  const again = await MetricsServer.listen(
    { host: '127.0.0.1', port: server.address.port, family: 4 },
    { metrics: async () => '', contentType: 'text/plain', unhealthy: () => null },
  );
  await again.close();
  await assert.rejects(fetch(`${base}/healthz`), 'a closed server still answered');
});

test('IPv6 loopback: [::1]:PORT serves /healthz', async () => {
  const server = await MetricsServer.listen({ host: '::1', port: 0, family: 6 }, { metrics: async () => '', contentType: 'text/plain', unhealthy: () => null });
  try {
    assert.equal(server.url, `http://[::1]:${server.address.port}/metrics`);
    const h = await fetch(`http://[::1]:${server.address.port}/healthz`);
    assert.equal(h.status, 200);
  } finally {
    await server.close();
  }
});

test('LiveMetrics: scrapes read the live interfaces; /healthz turns 503 when batches stop or capture stops', async () => {
  let now = 1_000_000;
  const warnings: string[] = [];
  const L = nativeLayout();
  const c = new Float64Array(L.counterStride);
  c[L.slots.frames] = 12;
  const live = await LiveMetrics.start({
    listen: { host: '127.0.0.1', port: 0, family: 4 },
    maxPeers: 64,
    batchMs: 100,
    engines: 2,
    namespaces: [{ label: 'host', path: null }],
    tool: { version: '1.2.3', checksumPath: 'scalar', backend: 'afpacket' },
    layout: L,
    interfaces: () => [{ id: 0, name: 'eth0', namespace: 'host', attached: true, counters: c, captureDrops: 2 }],
    warn: (w) => warnings.push(w),
    now: () => now,
  });
  const base = `http://127.0.0.1:${live.server.address.port}`;
  try {
    // The first scrape publishes the interface at 0, the next one its counts.
    const first = parseExposition(await (await fetch(`${base}/metrics`)).text());
    assert.equal(value(first, 'csumtop_packets_total', { device: 'eth0', direction: 'received' }), 0);
    const e = parseExposition(await (await fetch(`${base}/metrics`)).text());
    assert.equal(value(e, 'csumtop_packets_total', { device: 'eth0', direction: 'received' }), 12);
    assert.equal(value(e, 'csumtop_capture_drops_total', { device: 'eth0' }), 2);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    // Engine 0 keeps delivering, engine 1 went quiet for longer than max(5 s, 20 batches).
    now += 4000;
    live.batch(0);
    now += 1500;
    live.batch(0);
    const stalled = await fetch(`${base}/healthz`);
    assert.equal(stalled.status, 503);
    assert.match(await stalled.text(), /capture stalled: engine 1 delivered no batch for 5500 ms/);
    live.batch(1);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    live.stopped('capture stopped: csumtop is exiting');
    const stopped = await fetch(`${base}/healthz`);
    assert.equal(stopped.status, 503);
    assert.equal(await stopped.text(), 'capture stopped: csumtop is exiting\n');
    assert.deepEqual(warnings, []);
  } finally {
    await live.close();
  }
  await assert.rejects(fetch(`${base}/healthz`), 'the endpoint must be closed');
});
