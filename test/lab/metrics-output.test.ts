/**
 * Where the per-interval text lines of a live capture go (issue 19). Without `--json`,
 * `--duration` or a dashboard, csumtop prints one line per interface per interval on
 * standard output so a running capture is never silent; with `--metrics` it is an
 * exporter, read at /metrics, and standard output keeps the report alone: the lines go to
 * standard error when that is a terminal, nowhere otherwise.
 *
 * Live on the loopback device of a namespace this file creates (a few UDP datagrams);
 * the terminal case in tmux. Fails, never skips, when it cannot run here.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';

import { BIN, Csumtop, ROOT, createNamespace, describeRun, labProblem, runAsync, sh, sleep, uniqueNs } from './lab.js';
import { TmuxSession, descendants, killTmuxServer, tmuxProblem } from '../ui/tmux.js';

const T = { timeout: 30_000 };
/** An interval line (src/cli/live-mode.ts progressLines): "12:00:01 ns/lo   4 pkt/s ...". */
const INTERVAL_LINE = /^\d\d:\d\d:\d\d \S+\/lo\s+\d+ pkt\/s/m;

after(() => killTmuxServer());

/** A namespace with its loopback up, and a remover. */
function loopbackNamespace(): { ns: string; remove: () => void } {
  const ns = uniqueNs('M');
  const remove = createNamespace(ns);
  sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  return { ns, remove };
}

/** UDP datagrams to 127.0.0.1:9 inside `ns`, five a second for `seconds`: packets on lo in every interval. */
async function traffic(ns: string, seconds: number): Promise<void> {
  const py = `import socket, time\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nfor _ in range(${seconds * 5}):\n    s.sendto(b'csumtop', ('127.0.0.1', 9))\n    time.sleep(0.2)\n`;
  await runAsync('ip', ['netns', 'exec', ns, 'python3', '-c', py], (seconds + 5) * 1000);
}

/** csumtop on `ns`/lo for three intervals of 1 s, stopped with SIGINT as an operator would. */
async function run(ns: string, extra: string[]): Promise<Awaited<ReturnType<Csumtop['stop']>>> {
  const ct = new Csumtop(['--netns', ns, '-i', 'lo', '--interval', '1', ...extra]);
  try {
    const sent = traffic(ns, 3).catch((e: Error) => e);
    await sleep(3200);
    const err = await sent;
    if (err) assert.fail(err.message);
    return await ct.stop();
  } finally {
    if (ct.running) process.kill(ct.pid, 'SIGKILL');
  }
}

test(
  '--metrics without --json: standard output holds the report only, no interval lines (standard error, not a terminal, gets none either); without --metrics the lines are there',
  T,
  async () => {
    const problem = labProblem();
    if (problem) assert.fail(problem);
    const { ns, remove } = loopbackNamespace();
    try {
      const plain = await run(ns, []);
      assert.equal(plain.code, 0, describeRun(plain));
      assert.match(plain.stdout, INTERVAL_LINE, `without --metrics the interval lines are on standard output: ${describeRun(plain)}`);

      const r = await run(ns, ['--metrics', '127.0.0.1:0']);
      assert.equal(r.code, 0, describeRun(r));
      assert.match(r.stderr, /serving metrics on http:\/\/127\.0\.0\.1:\d+/);
      assert.doesNotMatch(r.stdout, INTERVAL_LINE, `an interval line on standard output with --metrics: ${describeRun(r)}`);
      assert.doesNotMatch(r.stderr, INTERVAL_LINE, 'standard error is a pipe here: no interval line');
      assert.ok(r.stdout.includes(`Interface ${ns}/lo (namespace ${ns}`), describeRun(r));
      // The report, whole, is all there is: its first line opens standard output.
      assert.match(r.stdout, /^csumtop \S+: live capture \(afpacket\) for /, describeRun(r));
    } finally {
      remove();
    }
  },
);

test(
  '--metrics with standard error on a terminal and standard output redirected: the interval lines on the terminal, the file holds the report only',
  T,
  async () => {
    const problem = labProblem() ?? tmuxProblem();
    if (problem) assert.fail(problem);
    const { ns, remove } = loopbackNamespace();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csumtop-metrics-'));
    const out = path.join(dir, 'report.txt');
    const t = new TmuxSession(['sh', '-c', `exec "$0" --netns "$1" -i lo --interval 1 --metrics 127.0.0.1:0 > "$2"`, BIN, ns, out], {
      width: 160,
      height: 40,
      cwd: ROOT,
    });
    try {
      const sent = traffic(ns, 3).catch((e: Error) => e);
      const screen = await t.waitFor((x) => INTERVAL_LINE.test(x), 10_000, 'an interval line on the terminal (standard error)');
      assert.match(screen, new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${ns}/lo\\s+\\d+ pkt/s\\s+\\d+ bad/s`, 'm'));
      const err = await sent;
      if (err) assert.fail(err.message);
      // SIGINT to csumtop alone (Ctrl-C would reach the shell tmux runs it under too).
      const pid = descendants(t.panePid()).find((p) => fs.existsSync(`/proc/${p}/comm`) && fs.readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'node');
      assert.ok(pid, "csumtop's node process");
      process.kill(pid, 'SIGINT');
      assert.equal(await t.exitStatus(10_000), 0);
      const report = fs.readFileSync(out, 'utf8');
      assert.ok(report.includes(`Interface ${ns}/lo (namespace ${ns}`), report);
      assert.doesNotMatch(report, INTERVAL_LINE, 'an interval line in the redirected standard output');
    } finally {
      t.kill();
      remove();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);
