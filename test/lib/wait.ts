/**
 * Waiting in tests: the one sleep and the polling helpers every test uses instead of its
 * own copy (test/lab/lab.ts re-exports them). Polling a condition, rather than sleeping a
 * fixed time, keeps a test as fast as the machine allows and its limit a real bound.
 */
import assert from 'node:assert/strict';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `cond` every `everyMs` until it holds: whether it did within `ms`. */
export async function within(cond: () => boolean, ms: number, everyMs = 20): Promise<boolean> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) return false;
    await sleep(everyMs);
  }
  return true;
}

/** Polls `cond` every 20 ms until it holds: the milliseconds that took; fails the test, naming `what`, after `ms`. */
export async function until(what: string, cond: () => boolean, ms: number): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (cond()) return Date.now() - t0;
    if (Date.now() - t0 > ms) assert.fail(`${what}: not within ${ms} ms`);
    await sleep(20);
  }
}
