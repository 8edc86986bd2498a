/**
 * The dashboard's text at 80x24, 120x40 and 200x60: which rows, numbers and words each
 * pane shows, from synthetic snapshots whose numbers are chosen per row.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { initialState, reduce, type Action, type DashboardState } from '../../src/ui/dashboard-state.js';
import { allocate, fmtRate, hexDump, renderDashboard, sparkline, wrap, type Line } from '../../src/ui/format.js';
import { dumbKeys, toContent } from '../../src/ui/screen.js';
import { RUN, badCarrier, update } from './synthetic.js';

const SIZES: Array<[number, number]> = [
  [80, 24],
  [120, 40],
  [200, 60],
];

function state(actions: Action[] = []): DashboardState {
  let s = reduce(initialState(RUN), { type: 'update', update: update() }).state;
  for (const a of actions) s = reduce(s, a).state;
  return s;
}

function text(lines: Line[]): string {
  return lines.map((l) => l.text).join('\n');
}

function row(lines: Line[], needle: string): string {
  const l = lines.find((x) => x.text.includes(needle));
  assert.ok(l, `no line contains ${needle}:\n${text(lines)}`);
  return l.text;
}

const key = (name: string, ch?: string): Action => ({ type: 'key', key: ch === undefined ? { name } : { name, ch } });

for (const [W, H] of SIZES) {
  test(`${W}x${H}: exactly H lines of W columns; header, the three panes, kernel strip and status`, () => {
    const lines = renderDashboard(state(), { width: W, height: H, ascii: false });
    assert.equal(lines.length, H);
    for (const l of lines) assert.equal(l.text.length, W, `line not ${W} wide: "${l.text}"`);
    assert.match(lines[0].text, /^csumtop live/);
    assert.match(lines[0].text, /560 pkt\/s/, 'total packets per second: 200 + 150 + 210');
    assert.match(lines[0].text, /drops 3/);
    const t = text(lines);
    assert.match(t, />> Interfaces 3/, 'the focused pane is marked, not only coloured');
    assert.match(t, /Bad flows 3/);
    assert.match(t, /Findings 2/);
    // The interface row: packets/s 200, bad/s 4, outer 4, inner 0, bad % 2.0%, drops 3.
    const vlb = row(lines, 'nsb/vlb ');
    assert.match(vlb, /^> nsb\/vlb\s/, 'selected row marked with >');
    assert.match(vlb, /\s200\s+4\s+4\s+0\s+2\.0%/);
    assert.match(vlb, /[▁▂▃▄▅▆▇█]/, 'a sparkline of the bad rate');
    assert.match(vlb, /\bon\s+3\s*$/, 'tx offload on, 3 ring drops');
    assert.match(row(lines, 'nsa/vla'), /\boff\s+0\s*$/);
    // Severity: symbol AND word.
    assert.match(row(lines, 'VXLAN carriers from'), /!! CRITICAL/);
    // The subject comes first and whole; the title is what gets cut at 80 columns.
    assert.match(row(lines, 'Frames tcpdump'), /i\s+info\s+\[nsb\/flannel\.1\] Frames tcpdump/);
    // Kernel strip: the moving counter with its rate and total.
    assert.match(row(lines, 'kernel nsb'), /nsb: Udp( InCsumErrors|Csum) 4\/s \+40/);
    // Flows: peer, counts 12/11/10 by count, inner port 53.
    const flowRows = lines.filter((l) => l.text.includes('192.168.189.4 ') && /outer\/udp/.test(l.text));
    // 80 columns end on COUNT; wider ones on COUNT LAST.
    assert.deepEqual(
      flowRows.map((l) => Number((W < 120 ? /(\d+)\s*$/ : /(\d+)\s+\d+s\s*$/).exec(l.text)?.[1])),
      [12, 11, 10],
    );
    assert.ok(
      flowRows.every((l) => /10\.244\.1\.10:53/.test(l.text)),
      text(lines),
    );
  });

  test(`${W}x${H}: paused header says PAUSED; filter shows in the status line; help lists the keys`, () => {
    const paused = renderDashboard(state([key('space')]), { width: W, height: H, ascii: false });
    assert.match(paused[0].text, /\[PAUSED\]/);
    const typing = renderDashboard(state([key('/', '/'), key('v', 'v')]), { width: W, height: H, ascii: false });
    assert.match(typing[H - 1].text, /^\/v_/);
    const filtered = renderDashboard(state([key('/', '/'), key('v', 'v'), key('l', 'l'), key('a', 'a'), key('enter')]), { width: W, height: H, ascii: false });
    assert.match(filtered[H - 1].text, /\[filter: vla\] Esc clears/);
    assert.match(text(filtered), /Interfaces 1 of 3/);
    assert.doesNotMatch(text(filtered), /nsb\/vlb/);
    // Said once (issue 19: "[filter: :53]  filter: :53"), whether typed after / or set by
    // Enter on an interface row.
    const port = renderDashboard(state([key('/', '/'), key(':', ':'), key('5', '5'), key('3', '3'), key('enter')]), { width: W, height: H, ascii: false });
    assert.equal(port[H - 1].text.split(':53').length - 1, 1, `the filter once: "${port[H - 1].text}"`);
    const entered = renderDashboard(state([key('enter')]), { width: W, height: H, ascii: false });
    assert.match(entered[H - 1].text, /\[filter: nsb\/vlb\] Esc clears/);
    assert.equal(entered[H - 1].text.split('nsb/vlb').length - 1, 1, `the filter once: "${entered[H - 1].text}"`);
    const help = renderDashboard(state([key('?', '?')]), { width: W, height: H, ascii: false });
    for (const k of ['q, Ctrl-C', 'space, p', 'Tab', '/', 'Enter', 'Esc', 'w ', 'c '])
      assert.match(text(help), new RegExp(`^  ${k.replace(/[/]/g, '\\/')}`, 'm'), k);
  });

  test(`${W}x${H}: dropped events are explained in words: a banner line per kind of drop, whole, and the help's legend`, () => {
    const u = update();
    u.snapshot.eventsDropped = 1500;
    u.snapshot.blind = { ringDrops: 2, eventsDropped: 1500, recordsDropped: 7 };
    const s = reduce(initialState(RUN), { type: 'update', update: u }).state;
    const lines = renderDashboard(s, { width: W, height: H, ascii: false });
    // Every kind whole on its line (the sentence was cut after two lines at 80 columns,
    // and "events dropped 1500" in the header meant nothing on its own).
    assert.match(row(lines, 'events dropped 1500:'), /^! {2}events dropped 1500: csumtop fell behind; correlation is a lower bound\s*$/);
    assert.match(row(lines, 'capture drops 2:'), /^! {2}capture drops 2: capture ring full; every count is a lower bound\s*$/);
    assert.match(row(lines, 'bad frames not listed 7:'), /^! {2}bad frames not listed 7: csumtop fell behind; flow list is incomplete\s*$/);
    const help = text(renderDashboard(reduce(s, { type: 'key', key: { name: 'S-?', ch: '?' } }).state, { width: W, height: H, ascii: false })).replace(
      /\s+/g,
      ' ',
    );
    assert.match(help, /events dropped = packets not correlated because csumtop fell behind: flows, matches, DNS\/SYN and findings are a lower bound\./);
    assert.match(help, /Severity: /, 'the legend does not push the severities off the help');
  });

  test(`${W}x${H}: flow detail shows found/expected and marks the checksum bytes in the hex dump`, () => {
    const lines = renderDashboard(state([key('tab'), key('enter')]), { width: W, height: H, ascii: false });
    const c = badCarrier(2); // the first flow by count is n = 2
    const t = text(lines);
    assert.match(t, /Bad flow on nsb\/vlb, peer 192\.168\.189\.4/);
    assert.match(t, new RegExp(`outer/udp: found 0x${c.found.toString(16)} expected 0x${c.expected.toString(16).padStart(4, '0')} at byte ${c.offset}`));
    const marked = `[${c.found.toString(16).slice(0, 2)} ${c.found.toString(16).slice(2)}]`;
    assert.ok(t.includes(marked), `the found bytes ${marked} are bracketed:\n${t}`);
  });

  test(`${W}x${H}: finding detail shows evidence and the remedy command unwrapped`, () => {
    const lines = renderDashboard(state([key('S-tab'), key('enter')]), { width: W, height: H, ascii: false });
    const t = text(lines);
    assert.match(t, /!! CRITICAL\s+VXLAN carriers/);
    assert.match(t, /- bad outer UDP checksums: 42 \(nsb\/vlb, last 10 s\)/);
    assert.match(t, /on peer 192\.168\.189\.4:/);
    assert.match(t, /\$ ethtool -K flannel\.1 tx-checksum-ip-generic off/);
  });
}

test('compact layout at 80x24 drops the kind and validated columns; 120x40 has them', () => {
  assert.doesNotMatch(text(renderDashboard(state(), { width: 80, height: 24, ascii: false })), /\bKIND\b/);
  const wide = renderDashboard(state(), { width: 120, height: 40, ascii: false });
  assert.match(text(wide), /INTERFACE\s+KIND/);
  assert.match(row(wide, 'nsb/flannel.1'), /nsb\/flannel\.1\s+vxlan\s+150\s+0\s+0\s+0\s+0%\s+75\s+20/, 'validated/s 20 and pending/s 75 on the wide layout');
});

test('many interfaces: the pane says which rows are in view and keeps the selection visible', () => {
  let s = reduce(initialState(RUN), { type: 'update', update: update({ extraInterfaces: 40 }) }).state;
  for (let i = 0; i < 30; i++) s = reduce(s, key('j', 'j')).state;
  const lines = renderDashboard(s, { width: 80, height: 24, ascii: false });
  // Under the header and the banner (the synthetic snapshot has a critical finding).
  const title = lines.find((l) => /Interfaces \d+/.test(l.text));
  assert.match(title?.text ?? '', /Interfaces 43 \[rows \d+-\d+\]/);
  assert.ok(
    lines.some((l) => l.text.startsWith('> ')),
    'the selected row is on screen',
  );
});

test('TERM=dumb: ASCII only', () => {
  for (const [W, H] of SIZES) {
    const t = text(renderDashboard(state(), { width: W, height: H, ascii: true }));
    assert.doesNotMatch(t, /[^\x20-\x7e\n]/, 'non-ASCII character on a dumb terminal');
  }
});

test('NO_COLOR: the painted content has no colour tag; with colour the critical row is red', () => {
  const lines = renderDashboard(state(), { width: 120, height: 40, ascii: false });
  const plain = toContent(lines, false);
  assert.doesNotMatch(plain, /\{(\/)?[a-z-]+(-fg|-bg)\}|\{bold\}|\{inverse\}/);
  assert.match(toContent(lines, true), /\{red-fg\}/);
  // Braces in data are escaped, never taken for tags.
  assert.match(toContent([{ text: 'ENV{INTERFACE}', tone: 'plain' }], false), /ENV\{open\}INTERFACE\{close\}/);
});

test('sparkline: newest at the right, bursts kept by max, zero blank, ASCII levels', () => {
  const v = new Array<number>(60).fill(0);
  v[59] = 8;
  v[0] = 1;
  assert.equal(sparkline(v, 60, false).at(-1), '█');
  assert.equal(sparkline(v, 60, false)[0], '▁');
  assert.equal(sparkline(v, 60, false).slice(1, 59).trim(), '');
  assert.equal(sparkline(v, 10, false).length, 10);
  assert.equal(sparkline(v, 10, false).at(-1), '█', 'a one-second burst survives down-sampling');
  assert.equal(sparkline(v, 10, true).at(-1), '@');
  assert.equal(sparkline(new Array<number>(60).fill(0), 10, false), ' '.repeat(10));
});

test('hexDump brackets the checksum bytes and keeps columns aligned', () => {
  const bytes = Uint8Array.from({ length: 20 }, (_, i) => i);
  const d = hexDump(bytes, [{ offset: 4, length: 2 }], 80);
  assert.equal(d[0], '0000  00 01 02 03[04 05]06 07 08 09 0a 0b 0c 0d 0e 0f  ................');
  assert.ok(
    d[1].startsWith('0010  10 11 12 13 ') && d[1].endsWith(' ....') && d[1].indexOf(' ....') === d[0].indexOf(' ................'),
    `the ASCII column stays aligned: ${d[1]}`,
  );
  // Split across lines: closed at the end of one, opened at the start of the next.
  const e = hexDump(bytes, [{ offset: 15, length: 2 }], 80);
  assert.match(e[0], /0e\[0f\] \.{16}$/);
  assert.match(e[1], /^0010 \[10\]11/);
  // Narrow: 8 bytes a line.
  assert.equal(hexDump(bytes, [], 40)[1].slice(0, 4), '0008');
});

test('allocate gives panes what they need and never less than one row', () => {
  assert.deepEqual(allocate(15, [3, 3, 2], [0.45, 0.3, 0.25]), [10, 3, 2]);
  assert.deepEqual(
    allocate(15, [50, 50, 50], [0.45, 0.3, 0.25]),
    [6, 4, 5].map((x, i) => [6, 4, 3][i] + (i === 0 ? 2 : 0) || x),
  );
  const a = allocate(3, [9, 9, 9], [0.45, 0.3, 0.25]);
  assert.deepEqual(a, [1, 1, 1]);
});

test('rates and wrapping', () => {
  assert.deepEqual([0, 0.44, 12.4, 9999, 12345, 4_500_000, 12_300_000].map(fmtRate), ['0', '0.4', '12', '9999', '12.3k', '4500k', '12.3M']);
  assert.deepEqual(wrap('a bb ccc dddd', 6), ['a bb', 'ccc', 'dddd']);
});

test('dumb terminal keys: raw bytes to the key events the reducer knows', () => {
  assert.deepEqual(dumbKeys('q'), [{ name: 'q', ch: 'q' }]);
  assert.deepEqual(dumbKeys('\x03\r\t \x7f\x1b'), [
    { name: 'C-c' },
    { name: 'enter' },
    { name: 'tab' },
    { name: 'space', ch: ' ' },
    { name: 'backspace' },
    { name: 'escape' },
  ]);
  assert.deepEqual(dumbKeys('\x1b[A\x1b[B'), [{ name: 'up' }, { name: 'down' }]);
});

test('a detail longer than the screen scrolls with j and says which lines are shown', () => {
  const u = update();
  const f = u.snapshot.findings.find((x) => x.severity === 'critical')!;
  f.evidence = Array.from({ length: 40 }, (_, i) => ({ name: `evidence ${i}`, value: i }));
  let s = reduce(initialState(RUN), { type: 'update', update: u }).state;
  s = reduce(reduce(s, key('S-tab')).state, key('enter')).state;
  const top = renderDashboard(s, { width: 80, height: 24, ascii: false });
  assert.match(top[23].text, /^lines 1-22 of \d+: j\/k scroll/);
  assert.match(text(top), /evidence 0:/);
  for (let i = 0; i < 10; i++) s = reduce(s, key('j', 'j')).state;
  const down = renderDashboard(s, { width: 80, height: 24, ascii: false });
  assert.match(down[23].text, /^lines 11-32 of/);
  assert.doesNotMatch(text(down), /evidence 0:/);
  assert.match(text(down), /evidence 20:/);
});

test('an interface that is down or gone says so in its row, in words (not by colour)', () => {
  const u = update();
  u.interfaces = u.interfaces.map((m) => (m.label === 'nsa/vla' ? { ...m, down: true } : m.label === 'nsb/flannel.1' ? { ...m, attached: false } : m));
  const s = reduce(initialState(RUN), { type: 'update', update: u }).state;
  for (const [w, h] of SIZES) {
    const lines = renderDashboard(s, { width: w, height: h, ascii: false });
    // At 80 columns a long label is cut, never the state word.
    assert.match(row(lines, 'nsa/vla'), /nsa\/vla \(down\)/, `${w}x${h}`);
    assert.match(row(lines, 'nsb/flann'), /nsb\/flann[^ ]* \(gone\)/, `${w}x${h}`);
    assert.doesNotMatch(row(lines, 'nsb/vlb'), /\((down|gone)\)/, `${w}x${h}`);
  }
});

test('the DNS line: answered and unanswered over the last seconds and since start; none seen is said', () => {
  assert.ok(renderDashboard(state(), { width: 120, height: 40, ascii: false }).some((l) => l.text.startsWith('DNS: no query seen')));
  let s = initialState(RUN);
  for (let t = 1; t <= 12; t++)
    s = reduce(s, { type: 'update', update: update({ t, dns: { queries: t * 2, answered: t * 2 - 2, unanswered: 2, attributed: 2 } }) }).state;
  for (const [W, H] of SIZES) {
    const l = row(renderDashboard(s, { width: W, height: H, ascii: false }), 'DNS last');
    assert.match(l, /^DNS last 10 s: 20 answered, 0 unanswered/, `${W}x${H}`);
    if (W >= 120) assert.match(l, /since start: 24 queries, 22 answered, 2 unanswered \(2 after bad carriers\)/);
  }
});

test("the demo's fix: F in the help and the key hint only when offered; after it, what grew since", () => {
  const FIX = 'node 1: ethtool -K flannel.1 tx-checksum-ip-generic off';
  const plain = state([key('?', '?')]);
  assert.doesNotMatch(text(renderDashboard(plain, { width: 200, height: 60, ascii: false })), /^ {2}F /m, 'no fix offered: no F in the help');
  let s = reduce(initialState(RUN, FIX), { type: 'update', update: update({ t: 10, badOuterFromPeer: 7, udpSinceStart: 7 }) }).state;
  const main = renderDashboard(s, { width: 200, height: 60, ascii: false });
  assert.match(row(main, 'fix:'), /fix: not applied; F applies csumtop's remedy inside the lab: node 1: ethtool -K flannel\.1 tx-checksum-ip-generic off/);
  assert.match(main[main.length - 1].text, /^F fix {2}q quit/);
  const help = renderDashboard(reduce(s, { type: 'key', key: { name: 'S-?', ch: '?' } }).state, { width: 200, height: 60, ascii: false });
  assert.match(
    text(help),
    /^ {2}F {16}apply the fix: csumtop's remedy for what this demo broke, inside the lab \(node 1: ethtool -K flannel\.1 tx-checksum-ip-generic off\)/m,
  );
  s = reduce(s, { type: 'key', key: { name: 'S-f', ch: 'F' } }).state;
  s = reduce(s, { type: 'fix-done', ok: true, text: 'applied', atMs: RUN.startedMs + 10_500 }).state;
  for (const [t, bad, udp, answered] of [
    [12, 8, 8, 0],
    [14, 8, 8, 6],
  ])
    s = reduce(s, { type: 'update', update: update({ t, badOuterFromPeer: bad, udpSinceStart: udp, dns: { answered } }) }).state;
  const after = row(renderDashboard(s, { width: 200, height: 60, ascii: false }), 'fix applied');
  assert.match(after, /^fix applied 4 s ago; since 12:00:12 UTC: bad outer carriers received \+0, Udp InCsumErrors \+0, DNS answered \+6 unanswered \+0/);
  s = reduce(s, { type: 'update', update: update({ t: 15, badOuterFromPeer: 9, udpSinceStart: 10, dns: { answered: 6 } }) }).state;
  const grew = renderDashboard(s, { width: 200, height: 60, ascii: false }).find((l) => l.text.startsWith('fix applied'))!;
  assert.match(grew.text, /bad outer carriers received \+1, Udp InCsumErrors \+2/);
  assert.equal(grew.tone, 'warning', 'a fix that did not stop the drops is not shown as a success');
});

test("kernel strip: the kernel's drop verdicts per namespace first, with what csumtop saw of them (seen bad, unseen, verified good, waiting); the filter applies; nothing while they are off", () => {
  const none = { seenBad: 0, seenGood: 0, seenUnverified: 0, notCaptured: 0, ringDrop: 0, notSeen: 0, tableFull: 0 };
  const u = update();
  u.snapshot.kernelDrops = {
    drops: [
      {
        namespace: 'nsb',
        device: 'vlb',
        reason: 'UDP_CSUM',
        peer: '192.168.189.4',
        total: 9,
        interval: 2,
        outcomes: { ...none, seenBad: 6, seenGood: 1 },
        pending: 2,
        frame: 40,
      },
      {
        namespace: 'nsb',
        device: 'flannel.1',
        reason: 'UDP_CSUM',
        peer: '10.244.0.0',
        total: 3,
        interval: 0,
        outcomes: { ...none, notCaptured: 3 },
        pending: 0,
        frame: null,
      },
    ],
    other: 0,
    otherOutcomes: none,
    matchWindowMs: 2000,
    matching: true,
    keys: { size: 2, cap: 512, evicted: 0 },
    ringFull: 0,
  };
  const on = reduce(initialState(RUN), { type: 'update', update: u }).state;
  const wide = renderDashboard(on, { width: 200, height: 60, ascii: false });
  const strip = wide.find((l) => l.text.startsWith('kernel '))!;
  assert.match(strip.text, /^kernel nsb: drops 12 \(6 seen bad, 3 unseen, 1 verified good, 2 waiting\), Udp InCsumErrors 4\/s \+40 \| nsa: no checksum errors/);
  assert.equal(strip.tone, 'warning', 'drops in the last interval');
  // A filter naming the tunnel device keeps its drops only.
  let filtered = on;
  for (const a of [key('/', '/'), ...[...'flannel'].map((c) => key(c, c)), key('enter')]) filtered = reduce(filtered, a).state;
  assert.match(
    renderDashboard(filtered, { width: 200, height: 60, ascii: false }).find((l) => l.text.startsWith('kernel '))!.text,
    /^kernel nsb: drops 3 \(0 seen bad, 3 unseen\), Udp/,
  );
  // Drops in a namespace csumtop does not capture (no counters read there) come last.
  u.snapshot.kernelDrops!.drops.push({ ...u.snapshot.kernelDrops!.drops[1], namespace: 'netns:4026532', total: 1, outcomes: { ...none, notCaptured: 1 } });
  const other = reduce(initialState(RUN), { type: 'update', update: u }).state;
  assert.match(
    renderDashboard(other, { width: 200, height: 60, ascii: false }).find((l) => l.text.startsWith('kernel '))!.text,
    /\| netns:4026532: drops 1 \(0 seen bad, 1 unseen\)/,
  );
  // Off: the strip as before.
  assert.match(renderDashboard(state(), { width: 200, height: 60, ascii: false }).find((l) => l.text.startsWith('kernel '))!.text, /^kernel nsb: Udp/);
});

test('kernel strip at 80 columns: whole namespaces only, those with drops or errors now first, the rest counted', () => {
  const none = { seenBad: 0, seenGood: 0, seenUnverified: 0, notCaptured: 0, ringDrop: 0, notSeen: 0, tableFull: 0 };
  const u = update();
  const drop = (namespace: string, total: number, interval: number) => ({
    namespace,
    device: 'eth0',
    reason: 'UDP_CSUM' as const,
    peer: '192.168.189.4',
    total,
    interval,
    outcomes: { ...none, seenBad: total },
    pending: 0,
    frame: 40,
  });
  u.snapshot.kernelDrops = {
    // Two quiet namespaces csumtop does not capture, and one (nsx) with drops this interval;
    // nsb has Udp InCsumErrors this second, nsa nothing.
    drops: [drop('netns:4026531', 5, 0), drop('netns:4026532', 7, 0), drop('nsx', 1234, 3)],
    other: 0,
    otherOutcomes: none,
    matchWindowMs: 2000,
    matching: true,
    keys: { size: 3, cap: 512, evicted: 0 },
    ringFull: 0,
  };
  const s = reduce(initialState(RUN), { type: 'update', update: u }).state;
  const wide = renderDashboard(s, { width: 200, height: 60, ascii: false }).find((l) => l.text.startsWith('kernel '))!.text;
  assert.doesNotMatch(wide, /more \(\/ filters\)/, 'at 200 columns everything fits');
  const narrow = renderDashboard(s, { width: 80, height: 24, ascii: false }).find((l) => l.text.startsWith('kernel '))!;
  assert.ok(narrow.text.length <= 80, narrow.text);
  // The namespaces moving now (nsb's errors, nsx's drops) come first, whole, nsx in the
  // short wording; the three quiet ones are counted.
  assert.match(narrow.text.trimEnd(), /^kernel nsb: UdpCsum 4\/s \+40 \| nsx: drops 1,?234 \(1,?234 bad\) \| \+3 more \(\/ filters\)$/);
  assert.equal(narrow.tone, 'warning');
  assert.doesNotMatch(narrow.text, /~$/, 'not cut');
  // Nothing moving this second: a namespace with errors since start still comes before a
  // quiet one ("no checksum errors"), whatever their order in the snapshot.
  const still = update();
  still.snapshot.kernel = [
    { namespace: 'nsa', perSecond: { udpInCsumErrors: 0 }, sinceStart: { udpInCsumErrors: 0 } },
    { namespace: 'nsb-with-a-longer-name-than-that', perSecond: { udpInCsumErrors: 0 }, sinceStart: { udpInCsumErrors: 40 } },
  ];
  const q = reduce(initialState(RUN), { type: 'update', update: still }).state;
  const line80 = renderDashboard(q, { width: 80, height: 24, ascii: false }).find((l) => l.text.startsWith('kernel '))!.text;
  assert.match(line80, /^kernel nsb-with-a-longer-name-than-that: UdpCsum 0\/s \+40 \| \+1 more/, line80);
});
