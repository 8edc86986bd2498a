/**
 * The exit statuses after a signal (src/cli/shutdown.ts) as --help states them; the
 * behaviour itself is proven end to end by test/lab/signals.test.ts and
 * test/ui/signals-tmux.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { HELP } from '../../src/cli/help.js';
import { BUSY_SHARE, eventLoopMeter, Shutdown, SHUTDOWN_LIMIT_MS, signalStatus, type ShutdownOptions } from '../../src/cli/shutdown.js';

test('128 + the signal number, as --help says: 130 SIGINT, 143 SIGTERM, 129 SIGHUP; the 5 s bound', () => {
  assert.deepEqual([signalStatus('SIGINT'), signalStatus('SIGTERM'), signalStatus('SIGHUP')], [130, 143, 129]);
  assert.match(HELP, /status 128\+N\s+\(130 SIGINT, 143 SIGTERM, 129 SIGHUP\)/);
  assert.match(HELP, new RegExp(`a stop making no progress for ${SHUTDOWN_LIMIT_MS / 1000} s`));
});

test('a listener added after the first signal is called at once with it; before, exactly once', () => {
  const s = new Shutdown({ limitMs: 60_000, say: () => undefined });
  const seen: string[] = [];
  s.onStop((sig) => seen.push(`early ${sig}`));
  // What the installed handler does on a signal, without sending one to the test runner.
  (s as unknown as { onSignal: (sig: 'SIGTERM') => void }).onSignal('SIGTERM');
  s.finished();
  s.onStop((sig) => seen.push(`late ${sig}`));
  assert.deepEqual(seen, ['early SIGTERM', 'late SIGTERM']);
  assert.equal(s.signal, 'SIGTERM');
});

/** A Shutdown whose exit is recorded instead of taken, and the first signal given to it. */
function stopping(o: ShutdownOptions): { exited: Promise<{ status: number; at: number; said: string[] }> } {
  const said: string[] = [];
  const t0 = Date.now();
  const before = new Set(process.listeners('exit'));
  let resolve: (v: { status: number; at: number; said: string[] }) => void = () => undefined;
  const exited = new Promise<{ status: number; at: number; said: string[] }>((r) => (resolve = r));
  // The bound's timer is unref'd (it must not hold a finished csumtop): hold the test.
  const hold = setInterval(() => undefined, 1000);
  const s = new Shutdown({
    say: (t) => said.push(t),
    ...o,
    exit: ((status: number) => {
      // exitNow says why from an 'exit' handler: run what it registered, then take it away.
      for (const h of process.listeners('exit')) {
        if (before.has(h)) continue;
        process.removeListener('exit', h);
        (h as () => void)();
      }
      s.finished();
      clearInterval(hold);
      resolve({ status, at: Date.now() - t0, said });
    }) as (status: number) => never,
  });
  (s as unknown as { onSignal: (sig: 'SIGTERM') => void }).onSignal('SIGTERM');
  return { exited };
}

test('the stop bound: an idle stop with nothing drained exits after one interval, 128 + N, saying why', async () => {
  const { exited } = stopping({ limitMs: 100, meter: () => () => 0, pendingOutput: () => 0 });
  const e = await exited;
  assert.equal(e.status, 143);
  assert.ok(e.at >= 90 && e.at < 1000, `exited ${e.at} ms after the signal`);
  assert.match(e.said.join('\n'), /stopping after SIGTERM made no progress for 0.1 s \(idle/);
});

test('the stop bound: output stuck in the pipe (pending, not moving) exits; output that drains keeps the stop going', async () => {
  const stuck = await stopping({ limitMs: 50, meter: () => () => 0, pendingOutput: () => 4096 }).exited;
  assert.ok(stuck.at < 500, `stuck output: exited ${stuck.at} ms after the signal`);
  assert.match(stuck.said.join('\n'), /output not drained/);
  // A slow reader: the pending byte count moves for 6 intervals, then stays.
  let pending = 100_000;
  let checks = 0;
  const slow = await stopping({
    limitMs: 50,
    meter: () => () => 0,
    pendingOutput: () => {
      checks++;
      if (checks <= 6) pending -= 1000;
      return pending;
    },
  }).exited;
  assert.ok(slow.at >= 6 * 50, `a draining reader was cut off after ${slow.at} ms`);
  assert.ok(checks >= 7, `${checks} checks`);
});

test("the stop bound: the stop's own work (event loop busy) is progress, up to the work limit", async () => {
  // Busy for the first 5 intervals (the last batches correlated, the report built), then idle.
  let looks = 0;
  const worked = await stopping({ limitMs: 40, meter: () => () => (++looks <= 5 ? BUSY_SHARE + 0.1 : 0.01), pendingOutput: () => 0 }).exited;
  assert.equal(looks, 6, 'exits at the first idle interval after the work');
  assert.ok(worked.at >= 6 * 40, `exited after ${worked.at} ms`);
  // Busy forever (a stop spinning): exits once the work limit is spent.
  const spun = await stopping({ limitMs: 20, workLimitMs: 200, meter: () => () => 1, pendingOutput: () => 0 }).exited;
  assert.ok(spun.at >= 200 && spun.at < 2000, `a spinning stop exited after ${spun.at} ms (work limit 200 ms)`);
  assert.equal(spun.status, 143);
});

test('eventLoopMeter: near 1 across a synchronous block, near 0 across an idle wait', async () => {
  const meter = eventLoopMeter();
  const until = performance.now() + 150;
  while (performance.now() < until) {
    // busy: what a long synchronous piece of the stop looks like to the bound
  }
  const busy = meter();
  await new Promise((r) => setTimeout(r, 150));
  const idle = meter();
  assert.ok(busy > 0.8, `busy share ${busy}`);
  assert.ok(idle < BUSY_SHARE, `idle share ${idle}`);
});
