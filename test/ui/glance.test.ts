/**
 * The dashboard answers at a glance (issue 19): the text of every pane at 80x24, 120x40
 * and 200x60 for a lab with long namespace names, offload artefacts more frequent than
 * the one real error, and a DNS flow.
 *
 * The screens are kept as snapshot files (test/ui/snapshots/glance-WxH*.txt, like
 * bandwhich's insta snapshots) for a reviewer to read; a change of layout shows up as a
 * diff there. `CSUMTOP_UPDATE_SNAPSHOTS=1 node --test dist/test/ui/glance.test.js`
 * rewrites them. What matters is asserted on its own, whatever the layout: no identity
 * cut, artefacts marked and listed after the real error, artefacts apart from the errors.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import { initialState, reduce, type Action, type DashboardState } from '../../src/ui/dashboard-state.js';
import { ARTEFACT_MARK, ERROR_MARK, renderDashboard, type Line } from '../../src/ui/format.js';
import { ROOT } from '../lab/lab.js';
import { NODE_A, NODE_B, RUN, glanceUpdate } from './synthetic.js';

const SIZES: Array<[number, number]> = [
  [80, 24],
  [120, 40],
  [200, 60],
];
const SNAPSHOTS = path.join(ROOT, 'test', 'ui', 'snapshots');

function key(name: string, ch?: string): Action {
  return { type: 'key', key: ch === undefined ? { name } : { name, ch } };
}

function state(actions: Action[] = []): DashboardState {
  let s = reduce(initialState(RUN), { type: 'update', update: glanceUpdate() }).state;
  for (const a of actions) s = reduce(s, a).state;
  return s;
}

function screen(s: DashboardState, w: number, h: number): Line[] {
  const lines = renderDashboard(s, { width: w, height: h, ascii: false });
  assert.equal(lines.length, h);
  for (const l of lines) assert.equal(l.text.length, w, `line not ${w} wide: "${l.text}"`);
  return lines;
}

/** Compares with the snapshot file, or writes it when asked to (or when it is new). */
function matchSnapshot(name: string, lines: Line[]): void {
  // Trailing blanks are cut so the files read (and diff) well; the width is asserted above.
  const text = lines.map((l) => l.text.trimEnd()).join('\n') + '\n';
  const file = path.join(SNAPSHOTS, `${name}.txt`);
  if (process.env.CSUMTOP_UPDATE_SNAPSHOTS === '1' || !existsSync(file)) {
    mkdirSync(SNAPSHOTS, { recursive: true });
    writeFileSync(file, text);
    if (process.env.CSUMTOP_UPDATE_SNAPSHOTS !== '1') assert.fail(`${file} was missing and has been written: read it, then run again`);
    return;
  }
  assert.equal(text, readFileSync(file, 'utf8'), `${name} differs from ${file} (CSUMTOP_UPDATE_SNAPSHOTS=1 rewrites it)`);
}

/** The rows of the flows pane: those starting with a flow mark after the selection column. */
function flowRows(lines: Line[]): string[] {
  return lines.map((l) => l.text).filter((t) => /^[> ] [!~] /.test(t));
}

/** What the legend says each alias stands for ("ns1" -> "demo10619-node-a"). */
function legend(lines: Line[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const l of lines) for (const m of l.text.matchAll(/\b(ns\d+) = ([\w.-]+)/g)) out.set(m[1], m[2]);
  return out;
}

/** The full label an on-screen identity stands for, through the legend. */
function expand(id: string, names: Map<string, string>): string {
  const [ns, dev] = id.split('/');
  return dev === undefined ? id : `${names.get(ns) ?? ns}/${dev}`;
}

for (const [W, H] of SIZES) {
  const views: Array<[string, Action[]]> = [
    ['main', []],
    // `r` three times: totals since start, the header says so.
    ['totals', [key('r', 'r'), key('r', 'r'), key('r', 'r')]],
    // Enter on the first flow (the real error, listed first).
    ['flow-detail', [key('tab'), key('enter')]],
    ['help', [key('S-?', '?')]],
  ];
  for (const [view, keys] of views) {
    test(`${W}x${H}, ${view}: the screen is the reviewed snapshot`, () => {
      matchSnapshot(`glance-${W}x${H}-${view}`, screen(state(keys), W, H));
    });
  }

  test(`${W}x${H}: no identity is cut: every row names its namespace/device whole, or by an alias the legend spells out`, () => {
    const lines = screen(state(), W, H);
    const names = legend(lines);
    const ids = (re: RegExp): string[] => lines.map((l) => re.exec(l.text)?.[1]).filter((x): x is string => x !== undefined);
    // Interface pane rows: the label is the first word after the selection column.
    const ifaces = ids(/^[> ] ((?:[\w.-]+\/)?(?:eth0|flannel\.1))\s/)
      .map((x) => expand(x, names))
      .sort();
    assert.deepEqual(ifaces, [`${NODE_A}/eth0`, `${NODE_A}/flannel.1`, `${NODE_B}/eth0`, `${NODE_B}/flannel.1`], lines.map((l) => l.text).join('\n'));
    // Flow rows: the interface column.
    const flows = flowRows(lines).map((t) => expand(/\s((?:[\w.-]+\/)?(?:eth0|flannel\.1))\s/.exec(t)?.[1] ?? '?', names));
    assert.deepEqual(flows, [`${NODE_B}/eth0`, `${NODE_B}/flannel.1`, `${NODE_A}/flannel.1`, `${NODE_B}/flannel.1`]);
    // The two flows of NODE_B/flannel.1 differ by their destination port: both whole.
    const fl = flowRows(lines).filter((t) => t.includes('flannel.1'));
    assert.match(fl[0], /:44001\b/);
    assert.match(fl[2], /:44002\b/);
    // Finding subjects, whole, before the title.
    const subjects = ids(/\[(?:peer [\d.]+ )?((?:[\w.-]+\/)(?:eth0|flannel\.1))\]/).map((x) => expand(x, names));
    assert.deepEqual(subjects, [`${NODE_B}/eth0`, `${NODE_B}/flannel.1`]);
    // No "~" inside an identity (the old cut was "demo10619~/flannel.1").
    assert.ok(!lines.some((l) => /demo10619[^-\s]*~/.test(l.text)), 'a namespace was cut');
  });

  test(`${W}x${H}: offload artefacts are marked ${ARTEFACT_MARK}, listed after the real error, and not counted as errors`, () => {
    const lines = screen(state(), W, H);
    const rows = flowRows(lines);
    assert.equal(rows.length, 4);
    // The error first although the artefact flows are 30 times more frequent.
    assert.deepEqual(
      rows.map((t) => t[2]),
      [ERROR_MARK, ARTEFACT_MARK, ARTEFACT_MARK, ARTEFACT_MARK],
    );
    assert.match(rows[0], /192\.168\.189\.4/);
    assert.match(lines.map((l) => l.text).join('\n'), /Bad flows 4 \(1 with errors, 3 offload artefacts only\)/);
    // Interface table: flannel.1 rows carry their artefacts in OFFL/S and 0 bad; the
    // table's column titles say which is which.
    const cols = lines.find((l) => /INTERFACE\s+(KIND\s+)?PKT\/S/.test(l.text))!.text;
    const at = (title: string): number => cols.indexOf(title) + title.length;
    const cell = (row: string, title: string): string => row.slice(0, at(title)).trimEnd().split(/\s+/).pop()!;
    const fl = lines.map((l) => l.text).filter((t) => /flannel\.1\s/.test(t) && /^[> ] \S/.test(t) && !/^[> ] [!~] /.test(t));
    assert.equal(fl.length, 2);
    for (const r of fl) {
      assert.equal(cell(r, 'BAD/S'), '0', r);
      assert.match(cell(r, 'OFFL/S'), /^(35|40)$/, r);
    }
  });

  test(`${W}x${H}: the DNS flow carries its query name where there is room, and says where to read it where not`, () => {
    const lines = screen(state([key('tab'), key('enter')]), W, H);
    // The flow detail (Enter on the error flow) always names it.
    assert.match(lines.map((l) => l.text).join('\n'), /DNS kubernetes\.default\.svc\.cluster\.local/);
    const main = screen(state(), W, H).map((l) => l.text);
    const row = flowRows(screen(state(), W, H))[0];
    if (W >= 120) assert.match(row, /kubernetes\./, 'a DNS NAME column from 120 columns');
    else
      assert.ok(
        main.some((t) => /INNER FLOW \(DNS name: Enter\)/.test(t)),
        main.join('\n'),
      );
    if (W >= 200) assert.match(row, /kubernetes\.default\.svc\.cluster\.local/, 'whole at 200 columns');
  });
}

test('findings: evidence counts since start, +N since c; H lists each finding raised and cleared with its time', () => {
  const before = glanceUpdate(8);
  const raisedLater = before.snapshot.findings[0];
  before.snapshot.findings = before.snapshot.findings.slice(1);
  let s = reduce(initialState(RUN), { type: 'update', update: before }).state;
  s = reduce(s, { type: 'update', update: glanceUpdate(10) }).state;
  let lines = screen(s, 120, 40).map((l) => l.text);
  const critical = lines.find((t) => t.includes('VXLAN carriers from'))!;
  assert.match(critical, /\s12\s+\d+s$/, 'the count since start before c');
  s = reduce(s, key('c', 'c')).state;
  const later = glanceUpdate(12);
  later.snapshot.findingCounts![raisedLater.key] = 15;
  // Its evidence grew after the clear (a finding that stopped before it is hidden after c).
  later.snapshot.findings[0].lastSeen = later.snapshot.time;
  later.snapshot.findings = later.snapshot.findings.slice(0, 1);
  s = reduce(s, { type: 'update', update: later }).state;
  lines = screen(s, 120, 40).map((l) => l.text);
  assert.match(
    lines.find((t) => t.includes('VXLAN carriers from'))!,
    /\s\+3\s+\d+s$/,
    '15 - 12 since the clear',
  );
  assert.match(lines.join('\n'), /count of evidence since clear/);
  // The history: the info finding raised at 8 s, the critical one at 10 s, the info one cleared at 12 s.
  s = reduce(s, key('H', 'H')).state;
  for (const [W, H] of SIZES) matchSnapshot(`glance-${W}x${H}-history`, screen(s, W, H));
  const h = screen(s, 120, 40).map((l) => l.text);
  const events = h.filter((t) => /^\s+\d\d:\d\d:\d\d\s/.test(t)).map((t) => t.trim().split(/\s+/).slice(0, 2).join(' '));
  assert.deepEqual(events, ['12:00:12 cleared', '12:00:10 raised', '12:00:08 raised']);
  assert.match(
    h.find((t) => t.includes('12:00:10'))!,
    /raised\s+!! CRITICAL \[ns2\/eth0\] VXLAN carriers from 192\.168\.189\.4/,
  );
  // Esc goes back to the panes.
  assert.equal(reduce(s, key('escape')).state.view.kind, 'main');
});

test('without a DNS flow on screen there is no DNS NAME column: its width goes to the flows', () => {
  const u = glanceUpdate();
  for (const f of u.snapshot.badFlows) f.dnsName = null;
  const s = reduce(initialState(RUN), { type: 'update', update: u }).state;
  for (const [W, H] of SIZES) {
    const t = renderDashboard(s, { width: W, height: H, ascii: false })
      .map((l) => l.text)
      .join('\n');
    assert.doesNotMatch(t, /DNS NAME|DNS name/, `${W}x${H}`);
  }
});
