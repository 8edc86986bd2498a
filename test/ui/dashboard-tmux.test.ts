/**
 * The real dashboard in a real terminal (tmux), on the namespace lab with injected
 * faults: what each pane shows, pause, filter, detail, help, resize, NO_COLOR, and that
 * every way out gives the terminal back. One csumtop runs for the sequence of cases that
 * share it (node:test runs a file's tests in order); each case is bounded.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';

import { BIN, ROOT, faultFrame, sharedLab, sleep, type Lab } from '../lab/lab.js';
import { readCaptureFile } from '../../src/native/capture-file.js';
import { TmuxSession, colourEscapes, descendants, killTmuxServer, tmuxProblem } from './tmux.js';

const theLab = sharedLab();
const problem = tmuxProblem();
const T = { timeout: 30_000 };

after(() => killTmuxServer());

function needTmux(): void {
  if (problem) assert.fail(problem);
}

/** N carriers of one flow (same ports) with a bad outer UDP checksum, A -> B. */
function badOuter(lab: Lab, n: number, i: number): void {
  lab.inject(
    lab.A,
    'vla',
    Array.from({ length: n }, () => faultFrame(lab.macs, 'bad-outer-udp', i)),
  );
}

/** `w` writes into csumtop's working directory: a directory of the test's own. */
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'csumtop-ui-'));
after(() => fs.rmSync(workDir, { recursive: true, force: true }));

function startDashboard(lab: Lab, width: number, height: number, env: Record<string, string> = {}): TmuxSession {
  return new TmuxSession([BIN, '--netns', lab.A, '--netns', lab.B], { width, height, env, cwd: workDir });
}

/** The row of a pane that contains `needle`. */
function rowOf(screen: string, needle: string): string {
  // Not the answer banner under the header ("!! CRITICAL (... seen on B/vlb) ..." and its
  // continuation lines): a row of the panes, which start with the interfaces' title.
  const lines = screen.split('\n');
  const panes = lines.findIndex((x) => /^(>>| {2}) ?Interfaces \d/.test(x) || /^\s*Interfaces \d/.test(x));
  const l = lines.slice(Math.max(0, panes)).find((x) => x.includes(needle));
  assert.ok(l, `no row with ${needle}:\n${screen}`);
  return l;
}

// ------------------------------------------------------------------ one session, 120x40

let s: TmuxSession | null = null;
let lab: Lab;

test("120x40: the panes show the lab's four interfaces, the injected bad flow with its count, and the finding", T, async () => {
  needTmux();
  lab = theLab();
  s = startDashboard(lab, 120, 40);
  await s.waitFor((x) => /Interfaces 4\b/.test(x), 10_000, 'four interfaces');
  badOuter(lab, 6, 7);
  const screen = await s.waitFor(
    (x) => /!! CRITICAL (?:\[[^\]]*\] )?VXLAN carriers from 192\.168\.189\.4/.test(x) && /:41007>:8472.*\b6\s+\d+s/.test(x),
    10_000,
    'the bad flow and its finding',
  );
  // Each by its whole name, or by the alias the names line spells out (issue 19).
  const aliases = new Map([...screen.matchAll(/\b(ns\d+) = (\S+?),?(?=\s|$)/g)].map((m) => [m[2], m[1]]));
  for (const i of [`${lab.A}/vla`, `${lab.A}/flannel.1`, `${lab.B}/vlb`, `${lab.B}/flannel.1`]) {
    const [ns, dev] = i.split('/');
    const shown = aliases.has(ns) ? `${aliases.get(ns)}/${dev}` : i;
    assert.match(screen, new RegExp(`\\s${shown.replace(/[.]/g, '\\.')}\\s`), `interface ${i}`);
  }
  // B receives the 6 carriers: its flow row says peer 192.168.189.4, count 6, outer/udp.
  // Marked ! (a real error, issue 19), the subject before the title.
  const flow = screen.split('\n').find((l) => l.startsWith('  ! 192.168.189.4') && l.includes(':41007>:8472'));
  assert.ok(flow, screen);
  assert.match(flow, /outer\/udp\s+6\s/);
  assert.match(screen, /csumtop live .*pkt\/s/);
  assert.match(screen, /kernel .*Udp InCsumErrors \S+\/s \+6/, "B's kernel counted the 6 drops");
  // The kernel's own verdict (issue 18, as root): 6 drops in B, each matched to the bad carrier captured on vlb.
  // B by its whole name or its alias (the names line, issue 19).
  const nsB = aliases.get(lab.B) ?? lab.B;
  await s.waitFor(
    (x) => new RegExp(`kernel .*${nsB}: drops 6 \\(6 seen bad\\), Udp InCsumErrors`).test(x),
    5000,
    "the kernel strip with B's 6 drops, all seen bad",
  );
  // The answer first: the top banner, under the header, says who, what and the command.
  const top = screen.split('\n').slice(1, 4).join(' ');
  assert.match(top, new RegExp(`^!! CRITICAL \\(node 192\\.168\\.189\\.4, seen on ${lab.B}/vlb\\): 6 of \\d+ carriers`), screen);
  assert.match(top.replace(/\s+/g, ' '), /Run on peer 192\.168\.189\.4: ethtool -K flannel\.1 tx-checksum-ip-generic off/, screen);
});

test('space pauses: the numbers stay frozen while capture goes on; space again shows the new counts', T, async () => {
  needTmux();
  assert.ok(s, 'the session of the previous case');
  s.send('Space');
  const frozen = await s.waitFor((x) => /\[PAUSED\]/.test(x), 3000, 'PAUSED in the header');
  badOuter(lab, 4, 7);
  await sleep(2500);
  const later = s.capture();
  assert.equal(later, frozen, 'the screen changed while paused');
  s.send('Space');
  await s.waitFor((x) => !/\[PAUSED\]/.test(x) && /:41007>:8472.*outer\/udp\s+10\s/.test(x), 5000, 'the count 10 after resuming');
});

test('/ filters: typed text, Enter narrows the rows to the matching interface; Esc clears', T, async () => {
  needTmux();
  assert.ok(s);
  s.send('/');
  s.type('vlb');
  await s.waitFor((x) => /^\/vlb_/m.test(x), 3000, 'the filter being typed');
  s.send('Enter');
  const screen = await s.waitFor((x) => /\[filter: vlb\]/.test(x), 3000, 'the applied filter');
  assert.match(screen, /Interfaces 1 of 4/);
  assert.match(screen, new RegExp(`${lab.B}/vlb`));
  assert.doesNotMatch(screen, new RegExp(`${lab.A}/vla`));
  s.send('Escape');
  await s.waitFor((x) => /Interfaces 4,/.test(x), 3000, 'all four interfaces again');
});

test('Enter on a bad flow shows the sampled frame: found 0xffff, expected, checksum bytes bracketed; Esc back', T, async () => {
  needTmux();
  assert.ok(s);
  s.send('/');
  s.type(':41007');
  s.send('Enter');
  await s.waitFor((x) => /\[filter: :41007\]/.test(x), 3000, 'port filter');
  s.send('Tab');
  await s.waitFor((x) => />> Bad flows/.test(x), 3000, 'focus on the flows pane');
  s.send('Enter');
  const screen = await s.waitFor((x) => /Sampled frame #/.test(x), 3000, 'the flow detail');
  assert.match(screen, /outer\/udp: found 0xffff expected 0x[0-9a-f]{4} at byte 40/);
  assert.match(screen, /\[ff ff\]/);
  s.send('Escape');
  await s.waitFor((x) => />> Bad flows/.test(x) && !/Sampled frame/.test(x), 3000, 'back to the panes');
  s.send('Escape');
  await s.waitFor((x) => !/\[filter:/.test(x), 3000, 'filter cleared');
});

test('? opens the help and ? closes it', T, async () => {
  needTmux();
  assert.ok(s);
  s.send('?');
  const help = await s.waitFor((x) => /Help: keys/.test(x), 3000, 'help');
  assert.match(help, /space, p\s+pause/);
  s.send('?');
  await s.waitFor((x) => !/Help: keys/.test(x) && /Interfaces 4/.test(x), 3000, 'help closed');
});

test('resize-window re-lays out: compact at 80x24, the wide columns at 200x60', T, async () => {
  needTmux();
  assert.ok(s);
  s.resize(80, 24);
  const small = await s.waitFor((x) => /\? help {2}q quit/.test(x) && !/KIND/.test(x), 5000, 'the compact layout');
  const rows = small.replace(/\n$/, '').split('\n');
  assert.equal(rows.length, 24);
  assert.ok(
    rows.every((r) => [...r].length <= 80),
    'no line wider than 80',
  );
  assert.match(small, /INTERFACE\s+PKT\/S\s+BAD\/S/);
  s.resize(200, 60);
  const big = await s.waitFor((x) => /BAD\/S LAST 60s/.test(x) && /OUTER\s+VNI/.test(x), 5000, 'the wide layout');
  assert.match(rowOf(big, `${lab.B}/vlb`), /veth/);
  s.resize(120, 40);
});

test('w writes the bad frames of the shown flows to a pcap named in the status line (mode 0600)', T, async () => {
  needTmux();
  assert.ok(s);
  s.send('w');
  const screen = await s.waitFor((x) => /wrote \d+ bad frames to \S+\.pcap/.test(x), 5000, 'the path in the status line');
  const [, n, file] = /wrote (\d+) bad frames to (\S+\.pcap)/.exec(screen)!;
  assert.equal(path.dirname(file), fs.realpathSync(workDir));
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  const back = readCaptureFile(file);
  assert.equal(back.frames.length, Number(n));
  // 10 carriers of flow 41007 were injected, seen on A's vla (sent) and on B's vlb.
  assert.ok(Number(n) >= 10, `only ${n} frames written`);
  assert.ok(
    back.frames.every((f) => f.data.readUInt16BE(34) === 41007),
    'every frame is of the shown flow (outer source port 41007)',
  );
});

test('c clears the counters: the flow counts start again from the next injected frames', T, async () => {
  needTmux();
  assert.ok(s);
  s.send('c');
  await s.waitFor((x) => /counters cleared/.test(x) && /Bad flows 0 of \d+/.test(x), 5000, 'no bad flow since the clear');
  badOuter(lab, 2, 7);
  await s.waitFor((x) => /:41007>:8472.*outer\/udp\s+2\s/.test(x), 5000, 'the count 2 since the clear');
});

test('q quits: alternate screen left, cursor visible, exit status 1 (bad checksums seen)', T, async () => {
  needTmux();
  assert.ok(s);
  s.send('q');
  const code = await s.exitStatus();
  assert.equal(code, 1);
  const st = s.paneState();
  assert.equal(st.alternate, false, 'still on the alternate screen');
  assert.equal(st.cursorVisible, true, 'cursor hidden after exit');
  assert.doesNotMatch(s.capture(), /Interfaces|Bad flows/, 'dashboard text left on the normal screen');
  // What q leaves on the terminal: the answer, one sentence per critical finding, and the totals.
  const left = s.capture().split('\n').join('');
  assert.match(
    left,
    new RegExp(
      `CRITICAL \\(node 192\\.168\\.189\\.4, seen on ${lab.B}/vlb\\): \\d+ of \\d+ carriers from node 192\\.168\\.189\\.4 on ${lab.B}/vlb had a wrong outer UDP checksum`,
    ),
    left,
  );
  assert.match(left, /Run on peer 192\.168\.189\.4: ethtool -K flannel\.1 tx-checksum-ip-generic off/, left);
  assert.match(left, /csumtop: \d+ frames captured, \d+ with bad checksums\.EXIT=1/, left);
  s.kill();
  s = null;
});

// ------------------------------------------------------------------ colour and signals

test('NO_COLOR=1: not one colour escape on screen; without it the critical row is coloured', T, async () => {
  needTmux();
  lab = theLab();
  const plain = startDashboard(lab, 80, 24, { NO_COLOR: '1' });
  const coloured = startDashboard(lab, 80, 24);
  try {
    await plain.waitFor((x) => /Interfaces 4\b/.test(x), 10_000, 'NO_COLOR dashboard up');
    await coloured.waitFor((x) => /Interfaces 4\b/.test(x), 10_000, 'colour dashboard up');
    badOuter(lab, 3, 9);
    await plain.waitFor((x) => /!! CRITICAL/.test(x), 10_000, 'a critical finding (NO_COLOR)');
    await coloured.waitFor((x) => /!! CRITICAL/.test(x), 10_000, 'a critical finding (colour)');
    const p = plain.capture(true);
    assert.deepEqual(colourEscapes(p), [], 'NO_COLOR output has colour escapes');
    assert.ok(colourEscapes(coloured.capture(true)).length > 0, 'the colour run shows colour (the check above can fail)');
  } finally {
    plain.send('q');
    coloured.send('q');
    await plain.exitStatus().catch(() => 0);
    await coloured.exitStatus().catch(() => 0);
    plain.kill();
    coloured.kill();
  }
});

for (const sig of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) {
  test(`${sig} to csumtop: the terminal is restored and csumtop exits`, T, async () => {
    needTmux();
    lab = theLab();
    const t = startDashboard(lab, 100, 30);
    try {
      await t.waitFor((x) => /Interfaces 4\b/.test(x), 10_000, 'dashboard up');
      const node = descendants(t.panePid()).find((p) => /node/.test(fs.readFileSync(`/proc/${p}/comm`, 'utf8')));
      assert.ok(node, "csumtop's node process");
      process.kill(node, sig);
      const code = await t.exitStatus();
      assert.ok(code === 0 || code === 1, `exit status ${code}`);
      const st = t.paneState();
      assert.equal(st.alternate, false);
      assert.equal(st.cursorVisible, true);
    } finally {
      t.kill();
    }
  });
}

test('an uncaught exception while the screen is up: terminal restored, the error printed after, exit 70 (EX_SOFTWARE, as without the screen)', T, async () => {
  needTmux();
  // A tiny program that starts the real screen and throws from a timer.
  const script = `
    const { DashboardScreen } = require(${JSON.stringify(`${ROOT}/dist/src/ui/screen.js`)});
    const scr = new DashboardScreen({ run: { host: 'h', kernel: 'k', backend: 'b', mode: 'test', startedMs: Date.now() }, intervalMs: 1000, colour: true, ascii: false, writePcap: () => '' });
    scr.start();
    setTimeout(() => { throw new Error('boom from a timer'); }, 800);
  `;
  const t = new TmuxSession(['node', '-e', script], { width: 80, height: 24 });
  try {
    await t.waitFor((x) => /csumtop test/.test(x), 5000, 'the screen');
    const code = await t.exitStatus();
    assert.equal(code, 70);
    assert.match(t.capture(), /boom from a timer/);
    const st = t.paneState();
    assert.equal(st.alternate, false);
    assert.equal(st.cursorVisible, true);
  } finally {
    t.kill();
  }
});

test('while the screen is up, console and stderr output goes to the warnings pane, never to the terminal', T, async () => {
  needTmux();
  const script = `
    const { DashboardScreen } = require(${JSON.stringify(`${ROOT}/dist/src/ui/screen.js`)});
    const scr = new DashboardScreen({ run: { host: 'h', kernel: 'k', backend: 'b', mode: 'test', startedMs: Date.now() }, intervalMs: 200, colour: false, ascii: false, writePcap: () => '' });
    scr.start();
    console.error('first stray message');
    process.stderr.write('second stray message\\n');
    scr.quit.then(() => { scr.destroy(); process.exit(0); });
  `;
  const t = new TmuxSession(['node', '-e', script], { width: 100, height: 24 });
  try {
    await t.waitFor((x) => /warning \(2, newest\): second stray message/.test(x), 5000, 'the newest warning in its pane');
    t.send('q');
    assert.equal(await t.exitStatus(), 0);
    assert.doesNotMatch(t.capture(), /stray message/, 'a warning reached the terminal');
  } finally {
    t.kill();
  }
});
