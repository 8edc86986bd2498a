/**
 * The replay dashboard of examples/incident.pcapng in a real terminal (tmux), for issue
 * 19: the rate window key `r` (1 s, 10 s, 60 s, totals, named in the header) and the
 * offload artefacts of that capture (70 checksums holding only the pseudo-header sum)
 * counted apart from the 9 real errors, in the interface table and the flows pane; a
 * finding's flows (f), a flow's latest frames, and peer names from /etc/hosts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';

import { BIN, ROOT } from '../lab/lab.js';
import { TmuxSession, killTmuxServer, tmuxProblem } from './tmux.js';

const T = { timeout: 60_000 };
const INCIDENT = `${ROOT}/examples/incident.pcapng`;

after(() => killTmuxServer());

async function replay(width: number, height: number): Promise<TmuxSession> {
  const p = tmuxProblem();
  if (p) assert.fail(p);
  const t = new TmuxSession([BIN, '-r', INCIDENT, '--fast'], { width, height, cwd: ROOT });
  await t.waitFor((x) => /\[END OF FILE\]/.test(x), 15_000, 'the end of the replay');
  return t;
}

/** The cells of an interface row under the column titles of the interface table. */
function cells(screen: string, iface: string): Record<string, string> {
  const lines = screen.split('\n');
  const head = lines.find((l) => /^\s+INTERFACE\s+(KIND\s+)?PKT/.test(l));
  assert.ok(head, screen);
  const row = lines.find((l) => new RegExp(`^[> ] ${iface.replace('.', '\\.')}\\s`).test(l));
  assert.ok(row, `no row for ${iface}:\n${screen}`);
  const out: Record<string, string> = {};
  // Numeric columns are right-aligned: a cell ends where its title ends.
  for (const m of head.matchAll(/[A-Z%/]+/g)) {
    const end = m.index! + m[0].length;
    out[m[0]] = row.slice(0, end).trimEnd().split(/\s+/).pop()!;
  }
  return out;
}

test('r cycles the rate window, the header names it; totals count the 9 errors apart from the 70 artefacts', T, async () => {
  const t = await replay(120, 40);
  try {
    assert.match(t.capture().split('\n')[0], /\[1s rates\]/);
    t.send('r');
    await t.waitFor((x) => /\[10s rates\]/.test(x.split('\n')[0]), 3000, 'the 10 s window in the header');
    t.send('r');
    await t.waitFor((x) => /\[60s rates\]/.test(x.split('\n')[0]), 3000, 'the 60 s window in the header');
    t.send('r');
    const screen = await t.waitFor((x) => /\[totals\]/.test(x.split('\n')[0]), 3000, 'totals in the header');
    assert.match(screen, /showing totals since start/);
    // The same numbers as the text report: eth0 had 9 carriers with a wrong outer UDP
    // checksum and 35 inner pseudo-header sums; flannel.1 35 pseudo-header sums, no error.
    const eth0 = cells(screen, 'eth0');
    assert.equal(eth0.PKTS, '81', screen);
    assert.equal(eth0.BAD, '9', screen);
    assert.equal(eth0.OUT, '9', screen);
    assert.equal(eth0.IN, '0', screen);
    assert.equal(eth0.OFFL, '35', screen);
    const fl = cells(screen, 'flannel.1');
    assert.equal(fl.BAD, '0', screen);
    assert.equal(fl.OFFL, '35', screen);
    t.send('r');
    await t.waitFor((x) => /\[1s rates\]/.test(x.split('\n')[0]), 3000, 'back to the 1 s window');
  } finally {
    t.kill();
  }
});

test('the flows pane lists the three flows with real errors first, marked !, then the artefacts, marked ~', T, async () => {
  const t = await replay(120, 40);
  try {
    const screen = t.capture();
    assert.match(screen, /Bad flows 67 \(3 with errors, 64 offload artefacts only\)/);
    const rows = screen.split('\n').filter((l) => /^[> ] [!~] /.test(l));
    assert.ok(rows.length > 5, screen);
    assert.deepEqual(
      rows.slice(0, 3).map((r) => r[2]),
      ['!', '!', '!'],
      screen,
    );
    for (const r of rows.slice(0, 3)) assert.match(r, /192\.168\.56\.11\s/);
    assert.ok(
      rows.slice(3).every((r) => r[2] === '~'),
      screen,
    );
    // The DNS queries the bad carriers held are named (the native DNS parse).
    assert.match(rows.slice(0, 3).join('\n'), /kubernetes\./);
  } finally {
    t.kill();
  }
});

test('H opens the findings history: each finding raised, with its capture time; Esc goes back', T, async () => {
  const t = await replay(120, 40);
  try {
    t.send('Tab');
    t.send('Tab');
    await t.waitFor((x) => /^>> Findings 2, .*H: history/m.test(x), 3000, 'the findings pane focused, saying H');
    t.send('H');
    const screen = await t.waitFor((x) => /Findings history: \d+ events/.test(x), 3000, 'the history view');
    const events = screen.split('\n').filter((l) => /^\s+\d\d:\d\d:\d\d\s+raised\s/.test(l));
    // Both findings of the capture, raised at 10:00:01 capture time (the file's clock, UTC);
    // the final view listing them again raises nothing twice.
    assert.equal(events.length, 2, screen);
    assert.ok(
      events.some((l) => /\[eth0\] VXLAN carriers from 192\.168\.56\.11/.test(l)),
      screen,
    );
    assert.ok(
      events.some((l) => /offload artifacts/.test(l)),
      screen,
    );
    assert.ok(
      events.every((l) => /^\s+10:00:0\d\s/.test(l)),
      screen,
    );
    t.send('Escape');
    await t.waitFor((x) => /^>> Findings 2/m.test(x), 3000, 'back to the panes');
  } finally {
    t.kill();
  }
});

test("f on a finding's detail shows its flows (filtered to its peer); Enter on one lists its latest bad frames", T, async () => {
  const t = await replay(120, 40);
  try {
    t.send('Tab');
    t.send('Tab');
    let screen = await t.waitFor((x) => /^>> Findings 2/m.test(x), 3000, 'the findings pane focused');
    // Select the finding about the peer that sent the bad carriers.
    for (let i = 0; i < 2 && !/^> .*192\.168\.56\.11/m.test(screen); i++) {
      t.send('j');
      screen = await t.waitFor(() => true, 500, 'the next finding');
    }
    assert.match(screen, /^> .*192\.168\.56\.11/m, screen);
    t.send('Enter');
    await t.waitFor((x) => /VXLAN carriers from 192\.168\.56\.11.*\(f its flows, Esc back\)/.test(x), 3000, "the finding's detail, offering f");
    t.send('f');
    screen = await t.waitFor((x) => /3 bad flows of 192\.168\.56\.11 \(Esc clears the filter\)/.test(x), 3000, "the finding's flows");
    assert.match(screen, /^>> Bad flows/m, 'the flows pane has the focus');
    const rows = screen.split('\n').filter((l) => /^[> ] [!~] /.test(l));
    assert.equal(rows.length, 3, screen);
    for (const r of rows) assert.match(r, /^[> ] ! .*192\.168\.56\.11/, screen);
    t.send('Enter');
    screen = await t.waitFor((x) => /Latest \d+ bad frames?/.test(x), 3000, "the flow's latest frames");
    const frames = screen.split('\n').filter((l) => /^\s+#\d+\s+2024-03-05T10:00:\S+Z\s+-\s+outer\/udp 0x[0-9a-f]{4}!=0x[0-9a-f]{4}/.test(l));
    const n = Number(/Latest (\d+) bad frames?/.exec(screen)![1]);
    assert.equal(frames.length, n, screen);
    // Newest first, as the title says: frame numbers fall.
    const numbers = frames.map((l) => Number(/#(\d+)/.exec(l)![1]));
    assert.deepEqual(
      numbers,
      [...numbers].sort((a, b) => b - a),
      screen,
    );
  } finally {
    t.kill();
  }
});

test('peer names: a name from /etc/hosts (bind-mounted in a mount namespace of the test) replaces the address; -n keeps addresses', T, async () => {
  const p = tmuxProblem();
  if (p) assert.fail(p);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'csumtop-hosts-'));
  const hosts = path.join(dir, 'hosts');
  // The peer that sent the bad carriers, and a name too long for the PEER column (shown
  // in the detail only, never cut).
  writeFileSync(hosts, '127.0.0.1 localhost\n192.168.56.11 node-a\n192.168.56.12 node-b-with-a-name-longer-than-15\n');
  // unshare -m: a private mount namespace (util-linux's default propagation), so the bind
  // mount is seen by this csumtop only and goes away with it.
  const inNs = (args: string[]): string[] => ['unshare', '-m', 'sh', '-c', 'mount --bind "$0" /etc/hosts && exec "$@"', hosts, BIN, ...args];
  const t = new TmuxSession(inNs(['-r', INCIDENT, '--fast']), { width: 120, height: 40, cwd: ROOT });
  const n = new TmuxSession(inNs(['-n', '-r', INCIDENT, '--fast']), { width: 120, height: 40, cwd: ROOT });
  try {
    let screen = await t.waitFor((x) => /\[END OF FILE\]/.test(x), 15_000, 'the end of the replay');
    const rows = screen.split('\n').filter((l) => /^[> ] [!~] /.test(l));
    assert.ok(rows.length > 3, screen);
    for (const r of rows.slice(0, 3)) assert.match(r, /^[> ] ! node-a\s/, screen);
    // The other peer's name does not fit the column whole: its address stays (overlay rows have no peer).
    for (const r of rows.slice(3)) assert.match(r, /^[> ] ~ (192\.168\.56\.12|-)\s/, screen);
    t.send('Tab');
    await t.waitFor((x) => /^>> Bad flows/m.test(x), 3000, 'the flows pane focused');
    t.send('Enter');
    screen = await t.waitFor((x) => /Bad flow on eth0, peer 192\.168\.56\.11 \(node-a\)/.test(x), 3000, 'the name in the flow detail');
    // The hosts file of this machine was not changed.
    assert.doesNotMatch(readFileSync('/etc/hosts', 'utf8'), /node-a/);
    const plain = await n.waitFor((x) => /\[END OF FILE\]/.test(x), 15_000, 'the end of the -n replay');
    assert.doesNotMatch(plain, /node-a/);
    assert.match(plain, /^[> ] ! 192\.168\.56\.11\s/m, plain);
  } finally {
    t.kill();
    n.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
