/**
 * The metrics server's limits (issue 17, src/output/metrics/server.ts), without capture:
 * past MAX_CONNECTIONS the oldest idle connection is closed and the newest served, a
 * request being answered is not the one closed, and a request head larger than
 * MAX_HEADER_BYTES is refused with 431. The flood against a running csumtop with a
 * small descriptor limit: test/lab/metrics-flood.test.ts.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';

import { MAX_CONNECTIONS, MAX_HEADER_BYTES, MetricsServer } from '../../src/output/metrics/server.js';

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => resolve(s.on('error', () => undefined)));
    s.once('error', reject);
  });
}

function closed(s: Socket): Promise<void> {
  return s.closed || s.destroyed ? Promise.resolve() : new Promise((resolve) => s.once('close', () => resolve()));
}

/** Sends a raw request on a new connection; resolves with the status line. */
function raw(port: number, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => s.write(head));
    let got = '';
    s.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.includes('\r\n')) {
        resolve(got.slice(0, got.indexOf('\r\n')));
        s.destroy();
      }
    });
    s.once('error', reject);
    s.once('close', () => resolve(got));
  });
}

test('past the connection cap the oldest idle connections are closed, a request in progress is kept, and the newest client is served', async () => {
  let release: (text: string) => void = () => undefined;
  const server = await MetricsServer.listen(
    { host: '127.0.0.1', port: 0, family: 4 },
    {
      // /metrics answers only when the test says so: that request stays in progress.
      metrics: () => new Promise<string>((resolve) => (release = resolve)),
      contentType: 'text/plain; version=0.0.4',
      unhealthy: () => null,
    },
  );
  const sockets: Socket[] = [];
  try {
    const port = server.address.port;
    const scrape = fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(10_000) });
    // Idle connections: the cap, minus the scrape's, plus 10 more than fit.
    for (let k = 0; k < MAX_CONNECTIONS + 10; k++) {
      sockets.push(await open(port));
      // Each connection is admitted in order: its 'connection' event before the next.
      await new Promise((r) => setImmediate(r));
    }
    const health = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(5000), headers: { connection: 'close' } });
    assert.equal(health.status, 200);
    assert.equal(await health.text(), 'ok\n');
    // 64 held at most: the scrape, and of the 74 idle ones and the probe, the newest 63.
    // The first 12 idle connections were closed, oldest first; the rest are still open.
    await Promise.all(sockets.slice(0, 12).map(closed));
    await new Promise((r) => setTimeout(r, 100));
    const stillOpen = sockets.filter((s) => !s.destroyed && !s.readableEnded).length;
    assert.equal(stillOpen, MAX_CONNECTIONS + 10 - 12, 'only as many idle connections closed as needed, the oldest ones');
    for (const s of sockets.slice(12)) assert.ok(!s.readableEnded, 'a newer connection was closed before an older one');
    // The scrape in progress was not evicted: it completes.
    release('csumtop_build_info 1\n');
    const res = await scrape;
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'csumtop_build_info 1\n');
  } finally {
    for (const s of sockets) s.destroy();
    await server.close();
  }
});

test(`a request head larger than ${MAX_HEADER_BYTES} bytes is refused with 431; a normal one is served`, async () => {
  const server = await MetricsServer.listen(
    { host: '127.0.0.1', port: 0, family: 4 },
    {
      metrics: async () => 'x 1\n',
      contentType: 'text/plain',
      unhealthy: () => null,
    },
  );
  try {
    const port = server.address.port;
    const big = await raw(port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(MAX_HEADER_BYTES)}\r\n\r\n`);
    assert.match(big, /^HTTP\/1\.1 431 /);
    const ok = await raw(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(ok, /^HTTP\/1\.1 200 /);
  } finally {
    await server.close();
  }
});
