/**
 * `--metrics` under a connection flood (issue 17): any local user can connect to the
 * metrics port, and each connection costs csumtop a file descriptor. csumtop runs here
 * with a hard limit of 256 descriptors (prlimit; Node cannot raise the soft limit past
 * it), and the test opens more idle connections than that, plus slowloris connections
 * that drip a request head one header at a time. /healthz must still answer within a
 * bound, an interface created after the flood must still be attached (capture can still
 * open descriptors), the slowloris connections must be cut off, and csumtop must never
 * hold more sockets than the cap (src/output/metrics/server.ts).
 *
 * Runs as root (CI does); fails, never skips, when it cannot run here.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import * as fs from 'node:fs';
import { test } from 'node:test';

import { HEADERS_TIMEOUT_MS, MAX_CONNECTIONS } from '../../src/output/metrics/server.js';
import { Csumtop, createNamespace, describeRun, labProblem, sh, sleep, uniqueNs, which } from './lab.js';

const FD_LIMIT = 256;
const IDLE = 400;
const SLOWLORIS = 40;
/** How long /healthz may take while the flood holds. */
const HEALTH_BOUND_MS = 3000;

/** Sockets of a process (descriptors that are sockets). */
function socketCount(pid: number): number {
  let n = 0;
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** GET path on a fresh connection; status and how long it took, or the error. */
async function timedGet(port: number, path: string): Promise<{ status: number | null; ms: number; error: string | null }> {
  const t0 = performance.now();
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(10_000), headers: { connection: 'close' } });
    await res.text();
    return { status: res.status, ms: performance.now() - t0, error: null };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return { status: null, ms: performance.now() - t0, error: e.cause?.code ?? e.message };
  }
}

test('--metrics flooded with idle and slowloris connections beyond the descriptor limit: /healthz answers, a new interface is attached, slowloris cut off', async () => {
  const problem = labProblem();
  if (problem) assert.fail(problem);
  if (!which('prlimit')) assert.fail('prlimit (util-linux) is not installed');
  const ns = uniqueNs('F');
  const remove = createNamespace(ns);
  const sockets: Socket[] = [];
  let drip: NodeJS.Timeout | null = null;
  try {
    sh('ip', ['-n', ns, 'link', 'add', 'fa', 'type', 'veth', 'peer', 'name', 'fb']);
    for (const d of ['fa', 'fb']) sh('ip', ['-n', ns, 'link', 'set', d, 'up']);
    const ct = new Csumtop(['--netns', ns, '-i', '*', '--metrics', '127.0.0.1:0', '--json'], { wrap: ['prlimit', `--nofile=${FD_LIMIT}:${FD_LIMIT}`, '--'] });
    try {
      assert.deepEqual(await ct.waitAttached(['fa', 'fb'], 5000), [], describeRun(ct));
      const m = /serving metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(ct.stderr);
      assert.ok(m, describeRun(ct));
      const port = Number(m[1]);
      assert.equal((await timedGet(port, '/healthz')).status, 200);

      // The flood: more idle connections than csumtop has descriptors, opened in bursts.
      for (let k = 0; k < IDLE; k += 50) {
        const burst = await Promise.allSettled(Array.from({ length: 50 }, () => open(port)));
        for (const b of burst) if (b.status === 'fulfilled') sockets.push(b.value.on('error', () => undefined));
      }
      // Slowloris: a request head that never ends, one more header line every 500 ms.
      const slow: Socket[] = [];
      for (let k = 0; k < SLOWLORIS; k++) {
        const s = (await open(port)).on('error', () => undefined);
        s.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
        slow.push(s);
        sockets.push(s);
      }
      const slowStart = performance.now();
      let n = 0;
      drip = setInterval(() => {
        for (const s of slow) if (!s.destroyed) s.write(`X-Slow-${n}: 1\r\n`);
        n++;
      }, 500);
      await sleep(300);
      // csumtop holds at most the cap of them (plus its own sockets: rings, netlink, listener).
      const held = socketCount(ct.pid);
      assert.ok(held <= MAX_CONNECTIONS + 20, `csumtop holds ${held} sockets under the flood (cap ${MAX_CONNECTIONS})`);

      // A probe while the flood holds its connections open.
      const health = await timedGet(port, '/healthz');
      assert.equal(health.status, 200, `/healthz under the flood: ${health.error ?? health.status} after ${Math.round(health.ms)} ms; ${describeRun(ct)}`);
      assert.ok(health.ms < HEALTH_BOUND_MS, `/healthz took ${Math.round(health.ms)} ms`);

      // Capture can still open descriptors: an interface created now is attached.
      const from = ct.lines.length;
      sh('ip', ['-n', ns, 'link', 'add', 'na', 'type', 'veth', 'peer', 'name', 'nb']);
      for (const d of ['na', 'nb']) sh('ip', ['-n', ns, 'link', 'set', d, 'up']);
      assert.deepEqual(await ct.waitAttached(['na', 'nb'], 5000, from), [], `new interfaces not attached under the flood: ${describeRun(ct)}`);
      assert.doesNotMatch(ct.stderr, /Too many open files|EMFILE/, ct.stderr);

      // The slowloris connections still dripping are closed once their head is overdue.
      const deadline = slowStart + HEADERS_TIMEOUT_MS + 4000;
      while (performance.now() < deadline && slow.some((s) => !s.destroyed && !s.readableEnded)) await sleep(100);
      const open_ = slow.filter((s) => !s.destroyed && !s.readableEnded).length;
      assert.equal(open_, 0, `${open_} slowloris connections still open ${Math.round(performance.now() - slowStart)} ms after their head began`);
      // And /metrics still answers, with the kernel counters of the namespace.
      const metrics = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) });
      assert.equal(metrics.status, 200);
      assert.match(await metrics.text(), new RegExp(`csumtop_kernel_checksum_errors_total\\{netns="${ns}",counter="Udp_InCsumErrors"\\}`));

      const r = await ct.stop();
      assert.equal(r.code, 0, describeRun(r));
    } finally {
      if (ct.running) process.kill(ct.pid, 'SIGKILL');
    }
  } finally {
    if (drip) clearInterval(drip);
    for (const s of sockets) s.destroy();
    remove();
  }
});
