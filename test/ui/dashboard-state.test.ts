/**
 * The dashboard's reducer: what each key does to the state, on synthetic snapshots.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  dnsView,
  flowKey,
  initialState,
  reduce,
  visibleFindings,
  visibleFlows,
  visibleInterfaces,
  visibleKernel,
  type Action,
  type DashboardState,
  type Effect,
  type KeyEvent,
} from '../../src/ui/dashboard-state.js';
import { INFO_FINDING, RUN, badFlow, finding, update } from './synthetic.js';

function k(name: string, ch?: string): Action {
  return { type: 'key', key: ch === undefined ? { name } : ({ name, ch } satisfies KeyEvent) };
}

/** Typed characters as the adapter reports them. */
function typed(text: string): Action[] {
  return [...text].map((c) => k(c, c));
}

function run(actions: Action[], start: DashboardState = initialState(RUN)): { state: DashboardState; effects: Effect[] } {
  let state = start;
  const effects: Effect[] = [];
  for (const a of actions) {
    const step = reduce(state, a);
    state = step.state;
    effects.push(...step.effects);
  }
  return { state, effects };
}

const loaded = (): DashboardState => run([{ type: 'update', update: update() }]).state;

test('q and Ctrl-C quit; Ctrl-C even while typing a filter', () => {
  assert.deepEqual(run([k('q', 'q')], loaded()).effects, [{ type: 'quit' }]);
  assert.deepEqual(run([k('C-c')], loaded()).effects, [{ type: 'quit' }]);
  assert.deepEqual(run([k('/', '/'), ...typed('q'), k('C-c')], loaded()).effects, [{ type: 'quit' }], 'q typed into the filter must not quit; Ctrl-C must');
});

test('pause freezes the shown snapshot while updates keep arriving; resume shows the newest', () => {
  const first = update({ t: 10, bad: 4 });
  const second = update({ t: 11, bad: 9 });
  let s = run([{ type: 'update', update: first }, k('space')]).state;
  assert.equal(s.paused, true);
  s = run([{ type: 'update', update: second }], s).state;
  assert.equal(s.shown, first, 'paused: the screen keeps the old snapshot');
  assert.equal(s.latest, second, 'capture continues: the newest is kept');
  assert.equal(visibleInterfaces(s)[0].rates.badFrames.s1, 4);
  s = run([k('p', 'p')], s).state;
  assert.equal(s.paused, false);
  assert.equal(s.shown, second);
  assert.equal(visibleInterfaces(s)[0].rates.badFrames.s1, 9);
});

test('Tab cycles the panes forward, Shift-Tab backward', () => {
  const s = loaded();
  assert.equal(s.focus, 'interfaces');
  assert.equal(run([k('tab')], s).state.focus, 'flows');
  assert.equal(run([k('tab'), k('tab')], s).state.focus, 'findings');
  assert.equal(run([k('tab'), k('tab'), k('tab')], s).state.focus, 'interfaces');
  assert.equal(run([k('S-tab')], s).state.focus, 'findings');
});

test('j/k and arrows move the selection within bounds, kept by row identity across updates', () => {
  let s = run([k('tab'), k('j', 'j')], loaded()).state;
  const flows = visibleFlows(s);
  assert.equal(flows.length, 3);
  assert.equal(s.selected.flows, flowKey(flows[1]));
  s = run([k('down'), k('down'), k('down')], s).state;
  assert.equal(s.selected.flows, flowKey(flows[2]), 'stops at the last row');
  s = run([k('up'), k('k', 'k'), k('k', 'k')], s).state;
  assert.equal(s.selected.flows, flowKey(flows[0]), 'stops at the first row');
  // The selected flow moves to another position when counts change: the selection follows it.
  s = run([k('j', 'j')], s).state;
  const chosen = s.selected.flows;
  const u = update();
  u.snapshot.badFlows[1].count = 1000; // flows[1] was count 11, now first by count
  s = run([{ type: 'update', update: u }], s).state;
  assert.equal(flowKey(visibleFlows(s)[0]), chosen);
  assert.equal(s.selected.flows, chosen);
});

test('s cycles the sort of the focused pane only', () => {
  let s = loaded();
  assert.deepEqual(
    visibleInterfaces(s).map((r) => r.rates.interface),
    ['nsb/vlb', 'nsa/vla', 'nsb/flannel.1'],
    'default: bad/s, then packets',
  );
  s = run([k('s', 's')], s).state;
  assert.deepEqual(
    visibleInterfaces(s).map((r) => r.rates.interface),
    ['nsa/vla', 'nsb/vlb', 'nsb/flannel.1'],
    'packets/s',
  );
  s = run([k('s', 's')], s).state;
  assert.deepEqual(
    visibleInterfaces(s).map((r) => r.rates.interface),
    ['nsa/vla', 'nsb/flannel.1', 'nsb/vlb'],
    'name',
  );
  assert.equal(s.sort.flows, 0, 'the flows pane keeps its sort');
  assert.match(s.status ?? '', /interfaces sorted by name/);
  s = run([k('tab'), k('s', 's')], s).state;
  assert.deepEqual(
    visibleFlows(s).map((f) => f.lastSeen),
    [...visibleFlows(s).map((f) => f.lastSeen)].sort().reverse(),
    'flows by last seen',
  );
});

test('/ filters by interface, peer or port: typed text, Enter applies, Esc cancels', () => {
  let s = run([k('/', '/'), ...typed('vla')], loaded()).state;
  assert.equal(s.filterInput, 'vla');
  assert.equal(visibleInterfaces(s).length, 3, 'nothing applied while typing');
  s = run([k('enter')], s).state;
  assert.equal(s.filter, 'vla');
  assert.deepEqual(
    visibleInterfaces(s).map((r) => r.rates.interface),
    ['nsa/vla'],
  );
  assert.equal(visibleFlows(s).length, 0, 'no bad flow on nsa/vla');
  assert.deepEqual(
    visibleKernel(s).map((x) => x.namespace),
    ['nsa'],
  );

  // Esc while typing keeps the old filter.
  s = run([k('/', '/'), k('backspace'), k('backspace'), k('backspace'), ...typed('zzz'), k('escape')], s).state;
  assert.equal(s.filter, 'vla');
  assert.equal(s.filterInput, null);

  // A port: ":53" matches the port exactly, so flows to 53 stay and 5300x-only rows would not.
  s = run([k('escape'), k('/', '/'), ...typed(':53'), k('enter')], s).state;
  assert.equal(s.filter, ':53');
  assert.equal(visibleFlows(s).length, 3);
  assert.deepEqual(
    visibleInterfaces(s).map((r) => r.rates.interface),
    ['nsb/vlb'],
    'the interface where port 53 flows were seen',
  );
  s = run([k('escape'), k('/', '/'), ...typed(':41001'), k('enter')], s).state;
  assert.deepEqual(
    visibleFlows(s).map((f) => f.outer?.sport),
    [41001],
  );

  // A peer address.
  s = run([k('escape'), k('/', '/'), ...typed('192.168.189.4'), k('enter')], s).state;
  assert.equal(visibleFlows(s).length, 3);
  assert.deepEqual(
    visibleFindings(s).map((f) => f.id),
    ['vxlan-outer-bad-from-peer'],
  );

  // Esc on the main view clears the filter.
  s = run([k('escape')], s).state;
  assert.equal(s.filter, '');
  assert.equal(visibleFlows(s).length, 3);
});

test('Enter opens the detail of a finding or a flow, Esc goes back; Enter on an interface filters to it', () => {
  let s = run([k('S-tab'), k('enter')], loaded()).state;
  assert.deepEqual(s.view, { kind: 'finding', key: 'vxlan-outer-bad-from-peer/192.168.189.4', scroll: 0 }, 'critical sorts first');
  s = run([k('j', 'j'), k('down'), k('k', 'k')], s).state;
  assert.equal(s.view.kind === 'finding' ? s.view.scroll : -1, 1, 'j/k scroll a detail');
  s = run([k('escape')], s).state;
  assert.deepEqual(s.view, { kind: 'main' });
  s = run([k('tab'), k('enter')], loaded()).state;
  assert.equal(s.view.kind, 'flow');
  assert.equal(s.view.kind === 'flow' ? s.view.key : '', flowKey(visibleFlows(s)[0]));
  s = run([k('j', 'j'), k('escape')], s).state;
  assert.deepEqual(s.view, { kind: 'main' });
  s = run([k('enter')], loaded()).state;
  assert.equal(s.filter, 'nsb/vlb');
  assert.equal(s.view.kind, 'main');
});

test('? opens help and ? or Esc closes it; other keys do nothing while it is open', () => {
  let s = run([k('?', '?')], loaded()).state;
  assert.equal(s.view.kind, 'help');
  s = run([k('j', 'j'), k('tab'), k('s', 's')], s).state;
  assert.equal(s.view.kind, 'help');
  assert.equal(s.focus, 'interfaces');
  assert.equal(run([k('?', '?')], s).state.view.kind, 'main');
  assert.equal(run([k('escape')], s).state.view.kind, 'main');
});

test('w asks the adapter to write the sampled frames of the shown flows; nothing to write says so', () => {
  const { effects } = run([k('w', 'w')], loaded());
  assert.equal(effects.length, 1);
  const e = effects[0];
  assert.equal(e.type, 'write-pcap');
  assert.equal(e.type === 'write-pcap' ? e.flows.length : 0, 3);
  const filtered = run([k('/', '/'), ...typed(':41002'), k('enter'), k('w', 'w')], loaded());
  assert.deepEqual(
    filtered.effects.map((x) => (x.type === 'write-pcap' ? x.flows.map((f) => f.outer?.sport) : [])),
    [[41002]],
    'only what the filter shows',
  );
  const none = run([{ type: 'update', update: update({ flows: 0 }) }, k('w', 'w')]);
  assert.deepEqual(none.effects, []);
  assert.match(none.state.status ?? '', /no sampled bad frame/);
});

test('c clears counters: flow counts, kernel totals and ring drops count from the clear', () => {
  let s = run([k('c', 'c')], loaded()).state;
  assert.ok(s.baseline);
  assert.equal(visibleFlows(s).length, 0, 'no flow has new bad frames yet');
  assert.equal(visibleKernel(s).find((x) => x.namespace === 'nsb')?.sinceStart.udpInCsumErrors, 0);
  assert.equal(visibleInterfaces(s).find((r) => r.rates.interface === 'nsb/vlb')?.ringDrops, 0);
  assert.ok(
    visibleInterfaces(s).every((r) => r.history.every((v) => v === 0)),
    'sparklines start empty',
  );
  // Two seconds later flow 0 has 5 more bad frames and the kernel counted 7 more.
  const later = update({ t: 12 });
  later.snapshot.badFlows[0].count += 5;
  later.snapshot.kernel[0].sinceStart.udpInCsumErrors = 47;
  s = run([{ type: 'update', update: later }], s).state;
  assert.deepEqual(
    visibleFlows(s).map((f) => f.count),
    [5],
  );
  assert.equal(visibleKernel(s).find((x) => x.namespace === 'nsb')?.sinceStart.udpInCsumErrors, 7);
  const hist = visibleInterfaces(s).find((r) => r.rates.interface === 'nsb/vlb')!.history;
  assert.deepEqual(hist.slice(0, 58), new Array<number>(58).fill(0), 'history before the clear is zeroed');
  assert.ok(hist[58] > 0 && hist[59] > 0, 'the two seconds since the clear are kept');
});

test('warnings are kept in the state, bounded', () => {
  let s = loaded();
  for (let i = 0; i < 60; i++) s = run([{ type: 'warning', text: `w${i}` }], s).state;
  assert.equal(s.warnings.length, 50);
  assert.equal(s.warnings[49], 'w59');
});

// ------------------------------------------------------------------ the demo's fix (F)

const FIX = 'node 1: ethtool -K flannel.1 tx-checksum-ip-generic off';

test('F asks the adapter to apply the fix only where the run offers one, once at a time, and again after a failure', () => {
  const none = run([k('S-f', 'F')], loaded());
  assert.deepEqual(none.effects, [], 'no fix offered (everything but --demo-broken): F does nothing');
  assert.match(none.state.status ?? '', /nothing to apply here/);

  const offered = run([{ type: 'update', update: update() }], initialState(RUN, FIX)).state;
  assert.equal(offered.fix?.phase, 'ready');
  let r = run([k('S-f', 'F')], offered);
  assert.deepEqual(r.effects, [{ type: 'apply-fix' }]);
  assert.equal(r.state.fix?.phase, 'applying');
  assert.match(r.state.status ?? '', /applying node 1: ethtool/);
  assert.deepEqual(run([k('S-f', 'F')], r.state).effects, [], 'F while the fix runs does not run it twice');

  const failed = run([{ type: 'fix-done', ok: false, text: 'fix failed: ethtool exited 1', atMs: 1 }], r.state).state;
  assert.equal(failed.fix?.phase, 'failed');
  assert.equal(failed.status, 'fix failed: ethtool exited 1');
  assert.deepEqual(run([k('S-f', 'F')], failed).effects, [{ type: 'apply-fix' }], 'F tries a failed fix again');

  r = run([{ type: 'fix-done', ok: true, text: 'applied', atMs: RUN.startedMs + 10_500 }], r.state);
  assert.equal(r.state.fix?.phase, 'applied');
  assert.equal(r.state.fix?.appliedAtMs, RUN.startedMs + 10_500);
  assert.deepEqual(run([k('S-f', 'F')], r.state).effects, [], 'an applied fix is not applied again');
  assert.match(run([k('S-f', 'F')], r.state).state.status ?? '', /already applied/);
});

test('the fix\'s "since" totals come from the first update made a second after it took effect', () => {
  let s = run(
    [{ type: 'update', update: update({ t: 10, badOuterFromPeer: 7, udpSinceStart: 7, dns: { answered: 1, unanswered: 5 } }) }],
    initialState(RUN, FIX),
  ).state;
  s = run([k('S-f', 'F'), { type: 'fix-done', ok: true, text: 'applied', atMs: RUN.startedMs + 10_500 }], s).state;
  assert.equal(s.fix?.since, null, 'the update before the fix is not its baseline: it may hold bad carriers sent before');
  s = run([{ type: 'update', update: update({ t: 11, badOuterFromPeer: 8, udpSinceStart: 8, dns: { answered: 1, unanswered: 6 } }) }], s).state;
  assert.equal(s.fix?.since, null, 'half a second after the fix: frames captured before it may still be arriving');
  s = run([{ type: 'update', update: update({ t: 11.5, badOuterFromPeer: 8, udpSinceStart: 8, dns: { answered: 1, unanswered: 6 } }) }], s).state;
  assert.deepEqual(s.fix?.since, { time: s.shown!.snapshot.time, badOuterReceived: 8, udpInCsumErrors: 8, dnsAnswered: 1, dnsUnanswered: 6 });
  s = run([{ type: 'update', update: update({ t: 12, badOuterFromPeer: 9, udpSinceStart: 9, dns: { answered: 3, unanswered: 6 } }) }], s).state;
  assert.equal(s.fix?.since?.badOuterReceived, 8, 'set once');
});

test('DNS view: totals since start (or since c) and the increase over the last 10 s of updates', () => {
  let s = initialState(RUN);
  assert.equal(dnsView(s), null);
  // Broken for 10 s (every query unanswered), then answered at 2 a second.
  for (let t = 1; t <= 25; t++) {
    const answered = t <= 10 ? 0 : (t - 10) * 2;
    s = run(
      [{ type: 'update', update: update({ t, dns: { queries: t * 2, answered, unanswered: Math.min(t, 10) * 2, attributed: Math.min(t, 10) * 2 } }) }],
      s,
    ).state;
    if (t === 3)
      assert.deepEqual(
        dnsView(s)?.recent,
        { queries: 4, answered: 0, unanswered: 4, attributed: 4 },
        'a window shorter than 10 s at start: from the first update',
      );
    if (t === 10) assert.deepEqual({ ...dnsView(s)!.recent, ms: dnsView(s)!.recentMs }, { queries: 18, answered: 0, unanswered: 18, attributed: 18, ms: 9000 });
  }
  const v = dnsView(s)!;
  assert.equal(v.recentMs, 10_000);
  assert.deepEqual(v.recent, { queries: 20, answered: 20, unanswered: 0, attributed: 0 }, 'updates 15..25: DNS recovered');
  assert.deepEqual(v.total, { queries: 50, answered: 30, unanswered: 20, attributed: 20 });
  assert.ok(s.dnsHistory.length <= 12, `history bounded to the window: ${s.dnsHistory.length}`);
  const cleared = run(
    [k('c', 'c'), { type: 'update', update: update({ t: 26, dns: { queries: 52, answered: 32, unanswered: 20, attributed: 20 } }) }],
    s,
  ).state;
  assert.deepEqual(dnsView(cleared)!.total, { queries: 2, answered: 2, unanswered: 0, attributed: 0 }, 'c: since the clear');
  assert.deepEqual(dnsView(cleared)!.recent, { queries: 2, answered: 2, unanswered: 0, attributed: 0 }, 'c: the window starts no earlier than the clear');
});

// ------------------------------------------------------------------ issue 19

test('r cycles the window 1 s, 10 s, 60 s, totals; sorting by bad/s follows it; totals count from c', async () => {
  const { glanceUpdate, NODE_B } = await import('./synthetic.js');
  const { RATE_WINDOWS } = await import('../../src/model/correlation.js');
  const { rateWindow, windowed } = await import('../../src/ui/dashboard-state.js');
  // NODE_A/eth0: one bad frame in the last second, little before; NODE_B/eth0: a burst
  // every 4 s (none in the last second), more over 10 s.
  const u0 = glanceUpdate();
  u0.snapshot.rates[3].badFrames = { s1: 1, s10: 0.1, s60: 0.1, total: 6 };
  let s = run([{ type: 'update', update: u0 }]).state;
  assert.equal(visibleInterfaces(s)[0].rates.interface, u0.snapshot.rates[3].interface, '1 s: the one bad now');
  const seen: string[] = [];
  for (let i = 0; i < 4; i++) {
    seen.push(rateWindow(s));
    s = run([k('r', 'r')], s).state;
  }
  assert.deepEqual(seen, [...RATE_WINDOWS]);
  assert.equal(rateWindow(s), 's1', 'back to 1 s after totals');
  // Over 10 s NODE_B/eth0's bursts (0.3 bad/s) put it first.
  const eth0 = `${NODE_B}/eth0`;
  s = run([k('r', 'r')], s).state;
  assert.equal(visibleInterfaces(s)[0].rates.interface, eth0, '10 s: the bursts');
  assert.ok(windowed(s, visibleInterfaces(s)[0].rates, (r) => r.badFrames) > 0);
  // Totals: 12 since start; after c, a later update's growth only.
  s = run([k('r', 'r'), k('r', 'r')], s).state;
  assert.equal(rateWindow(s), 'total');
  const row = (st: DashboardState) => visibleInterfaces(st).find((r) => r.rates.interface === eth0)!.rates;
  assert.equal(
    windowed(s, row(s), (r) => r.badFrames),
    12,
  );
  s = run([k('c', 'c')], s).state;
  assert.equal(
    windowed(s, row(s), (r) => r.badFrames),
    0,
    'nothing since the clear',
  );
  const later = glanceUpdate(11);
  later.snapshot.rates[0].badFrames = { ...later.snapshot.rates[0].badFrames, total: 15 };
  s = run([{ type: 'update', update: later }], s).state;
  assert.equal(
    windowed(s, row(s), (r) => r.badFrames),
    3,
    '15 - 12 since the clear',
  );
});

test('flows with a real error come first in every sort order, artefact-only flows after them', async () => {
  const { glanceUpdate } = await import('./synthetic.js');
  const { hasError } = await import('../../src/ui/dashboard-state.js');
  let s = run([{ type: 'update', update: glanceUpdate() }, k('tab')]).state;
  for (let i = 0; i < 3; i++) {
    const flows = visibleFlows(s);
    assert.deepEqual(flows.map(hasError), [true, false, false, false], `sort ${s.sort.flows}`);
    s = run([k('s', 's')], s).state;
  }
  // After c, a flow's artefacts are counted since the clear as its frames are.
  const u = glanceUpdate(11);
  s = run([k('c', 'c')], s).state;
  const f = u.snapshot.badFlows[1];
  f.count += 5;
  f.artefacts += 5;
  s = run([{ type: 'update', update: u }], s).state;
  assert.deepEqual(
    visibleFlows(s).map((x) => [x.count, x.artefacts]),
    [[5, 5]],
  );
});

test('long namespaces get aliases in name order, stable for the run: a new one never renumbers the others', async () => {
  const { glanceUpdate, NODE_A, NODE_B } = await import('./synthetic.js');
  const { rates } = await import('./synthetic.js');
  let s = run([{ type: 'update', update: glanceUpdate() }]).state;
  assert.deepEqual(
    [...s.aliases],
    [
      [NODE_A, 'ns1'],
      [NODE_B, 'ns2'],
    ],
  );
  // "nsb" is short: no alias. A namespace sorting before the others, seen later, is ns3.
  const u = glanceUpdate(11);
  u.snapshot.rates.push(rates('demo10619-aaa/eth0', 'demo10619-aaa'), rates('nsb/eth0', 'nsb'));
  s = run([{ type: 'update', update: u }], s).state;
  assert.deepEqual(
    [...s.aliases],
    [
      [NODE_A, 'ns1'],
      [NODE_B, 'ns2'],
      ['demo10619-aaa', 'ns3'],
    ],
  );
});

test("f on a finding's detail: the flows pane, filtered to the finding's peer (not to flows merely addressed to it)", () => {
  const u = update();
  // A flow from another node whose carriers go to 192.168.189.4: a substring filter would keep it.
  const other = badFlow(7, {
    peer: '192.168.189.7',
    outer: { family: 4, src: '192.168.189.7', dst: '192.168.189.4', proto: 17, sport: 41007, dport: 8472 },
  });
  u.snapshot.badFlows.push(other);
  const start = run([{ type: 'update', update: u }]).state;
  assert.equal(visibleFlows({ ...start, filter: '192.168.189.4' }).length, 4, 'the plain filter matches addresses anywhere');
  const key = finding().key;
  const { state } = run([k('tab'), k('tab'), k('enter'), k('f', 'f')], { ...start, selected: { ...start.selected, findings: key } });
  assert.equal(state.view.kind, 'main');
  assert.equal(state.focus, 'flows');
  assert.equal(state.filter, 'peer:192.168.189.4');
  const shown = visibleFlows(state);
  assert.equal(shown.length, 3);
  assert.ok(shown.every((f) => f.peer === '192.168.189.4'));
  assert.match(state.status ?? '', /^3 bad flows of 192\.168\.189\.4 \(Esc clears the filter\)$/);
  // The finding stays listed under its own filter; the other finding (no peer) does not.
  assert.deepEqual(
    visibleFindings(state).map((f) => f.key),
    [key],
  );
  // A finding about an interface filters by its label.
  const info = run([k('tab'), k('tab'), k('enter'), k('f', 'f')], { ...start, selected: { ...start.selected, findings: INFO_FINDING.key } }).state;
  assert.equal(info.filter, 'nsb/flannel.1');
  // Esc clears it.
  assert.equal(run([k('escape')], state).state.filter, '');
});
