/**
 * Dashboard replay of a file whose capture clock jumps (issue 17): frames at t = 1 s and
 * 2 s, then at t = 1.7e9 s (a clock set in between), then one at t = 0.5 s. The replay
 * used to close every empty interval of the gap one by one, synchronously: 1.7e9 ticks
 * at 100% CPU, deaf to q, SIGINT, SIGTERM and SIGHUP. Now a gap longer than the rate
 * windows (60 intervals) is skipped in one step with a warning, as is a clock going
 * back, and the replay answers q and signals within a bound (src/cli/dashboard-mode.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { encode, eth, ipv4, pcapFile, udp } from '../fixtures/lib/index.js';
import { BIN, ROOT } from '../lab/lab.js';
import { TmuxSession, descendants, killTmuxServer, tmuxProblem } from './tmux.js';

const T = { timeout: 60_000 };
/** How long csumtop may take to exit after q or a signal. */
const QUIT_BOUND_MS = 5000;

let dir: string;
let gap: string;

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'csumtop-gap-'));
  gap = path.join(dir, 'gap.pcap');
  const data = encode(eth(ipv4('10.0.0.1', '10.0.0.2', udp(1000, 2000, Buffer.from('x'))))).bytes;
  const at = (ms: bigint): { tsNs: bigint; data: Uint8Array; wirelen: number } => ({ tsNs: ms * 1_000_000n, data, wirelen: data.length });
  writeFileSync(gap, pcapFile({ linktype: 1 }, [at(1000n), at(2000n), at(1_700_000_000_000n), at(1_700_000_001_000n), at(500n)]));
});

after(() => {
  killTmuxServer();
  rmSync(dir, { recursive: true, force: true });
});

/** Ends the session; a csumtop still running (deaf to the session's hang-up) is killed too. */
function end(t: TmuxSession): void {
  try {
    for (const pid of descendants(t.panePid())) process.kill(pid, 'SIGKILL');
  } catch {
    // the session or the process is gone already
  }
  t.kill();
}

/** Presses q (or sends `signal` to csumtop) and returns the exit status and how long it took. */
async function quit(t: TmuxSession, signal?: NodeJS.Signals): Promise<{ status: number; ms: number }> {
  const t0 = Date.now();
  if (signal) {
    const node = descendants(t.panePid()).find((pid) => pid > 0);
    assert.ok(node, 'csumtop is not running');
    for (const pid of descendants(t.panePid())) {
      try {
        process.kill(pid, signal);
      } catch {
        // gone meanwhile
      }
    }
  } else t.send('q');
  const status = await t.exitStatus(QUIT_BOUND_MS + 5000);
  return { status, ms: Date.now() - t0 };
}

test('-r --fast of a file with a 54-year gap: the final view at once, with a warning; q answered within the bound', T, async () => {
  const p = tmuxProblem();
  if (p) assert.fail(p);
  const t = new TmuxSession([BIN, '-r', gap, '--fast'], { width: 160, height: 30, cwd: ROOT });
  try {
    const screen = await t.waitFor((x) => /\[END OF FILE\]/.test(x), 10_000, 'the end of the replay');
    assert.match(screen, /warning: --fast read 19676 days of capture time in one step \(to 2023-11-14T22:13:21\.000Z\): shown as one interval/);
    const q = await quit(t);
    assert.equal(q.status, 0);
    assert.ok(q.ms < QUIT_BOUND_MS, `q took ${q.ms} ms`);
    assert.equal(t.paneState().alternate, false, 'the terminal is restored');
  } finally {
    end(t);
  }
});

test(
  '-r at recorded speed across the gap: the jump and the clock going back are warnings, the replay ends in seconds; q answered within the bound',
  T,
  async () => {
    const p = tmuxProblem();
    if (p) assert.fail(p);
    const t = new TmuxSession([BIN, '-r', gap], { width: 160, height: 30, cwd: ROOT });
    try {
      await t.waitFor(
        (x) =>
          /warning: capture time jumps 19676 days forward, from 1970-01-01T00:00:02\.000Z to 2023-11-14T22:13:20\.000Z: the empty intervals in between are skipped/.test(
            x,
          ),
        10_000,
        'the jump warning',
      );
      // The replay goes on after the gap: the frame at 0.5 s is reported, then the end.
      const end = await t.waitFor((x) => /\[END OF FILE\]/.test(x), 10_000, 'the end of the replay');
      assert.match(
        end,
        /warning \(2, newest\): capture time goes back: a frame at 1970-01-01T00:00:00\.500Z comes after frames up to 2023-11-14T22:13:21\.000Z/,
      );
      const q = await quit(t);
      assert.equal(q.status, 0);
      assert.ok(q.ms < QUIT_BOUND_MS, `q took ${q.ms} ms`);
    } finally {
      end(t);
    }
  },
);

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  test(`-r at recorded speed, ${signal} right after the gap: csumtop exits within the bound`, T, async () => {
    const p = tmuxProblem();
    if (p) assert.fail(p);
    const t = new TmuxSession([BIN, '-r', gap], { width: 160, height: 30, cwd: ROOT });
    try {
      await t.waitFor((x) => /capture time jumps/.test(x), 10_000, 'the jump warning');
      const q = await quit(t, signal);
      // The replay dashboard ends on a signal as after q (README, Signals).
      assert.equal(q.status, 0);
      assert.ok(q.ms < QUIT_BOUND_MS, `${signal} took ${q.ms} ms`);
    } finally {
      end(t);
    }
  });
}
