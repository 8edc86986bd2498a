/**
 * The dashboard's state and the reducer that moves it: key presses and new snapshots in,
 * a new state (and the side effects the adapter must run) out. No terminal here, so
 * every behaviour of the keys is unit-testable (bandwhich keeps UI state apart from
 * drawing the same way).
 *
 * What the screen shows is derived from the state by the view functions at the bottom
 * (filter, baseline, sort), which the formatter (format.ts) and the reducer share: the
 * selection is kept by row identity, not index, so rows re-sorting under a new
 * snapshot do not move the cursor to another row.
 */
import {
  RATE_WINDOWS,
  type BadFlowView,
  type CorrelationSnapshot,
  type DnsSummary,
  type InterfaceRates,
  type KernelCounterView,
  type KernelDropCount,
  type RateWindowName,
  type RateWindows,
} from '../model/correlation.js';
import type { ChecksumCounterName } from '../model/host-facts.js';
import { SEVERITIES, type Finding } from '../model/findings.js';
import type { Endpoint } from '../model/report.js';
import type { InterfaceFacts } from '../model/interface.js';
import { nextAliases } from './names.js';

export const PANES = ['interfaces', 'flows', 'findings'] as const;
export type PaneId = (typeof PANES)[number];

/** Sort orders per pane, cycled by `s`; the first is the default. */
export const SORTS = {
  interfaces: ['bad/s', 'packets/s', 'name'],
  flows: ['count', 'last seen', 'peer'],
  findings: ['severity', 'last seen'],
} as const satisfies Record<PaneId, readonly string[]>;
export type SortName<P extends PaneId> = (typeof SORTS)[P][number];

/**
 * What the capture side knows of an interface that the snapshot does not carry: the
 * facts the dashboard shows (src/model/interface.ts; the label is InterfaceRates.interface)
 * and how its capture stands.
 */
export type InterfaceMeta = Pick<InterfaceFacts, 'label' | 'namespace' | 'kind' | 'txChecksumOffload'> & {
  attached: boolean;
  /** Attached but administratively down (absent: not known). */
  down?: boolean;
  /** Cumulative frames the kernel dropped because the ring was full. */
  ringDrops: number;
};

/** The header's facts, fixed for a run. */
export interface RunInfo {
  host: string;
  kernel: string;
  /** "afpacket", "libpcap", "file". */
  backend: string;
  /** "live", "replay FILE", "demo". */
  mode: string;
  /** Date.now() at start (live) ; uptime is measured against the snapshot clock. */
  startedMs: number;
}

/** One interval's worth of data: the pipeline's snapshot plus capture-side facts. */
export interface DashboardUpdate {
  snapshot: CorrelationSnapshot;
  interfaces: InterfaceMeta[];
  /** Sum of ring drops; batch-queue drops are snapshot.eventsDropped. */
  captureDrops: number;
  /** Date.now() when the update was made (uptime, "x s ago"). */
  nowMs: number;
  /** Names of the peers' addresses known when the update was made (src/host/peer-names.ts); absent with -n. */
  peerNames?: ReadonlyMap<string, string>;
}

/** Counters as they were when `c` was pressed: the screen shows increases since then. */
export interface Baseline {
  atMs: number;
  /** ISO time of the snapshot at the clear; findings last seen before it are hidden. */
  atTime: string;
  flowCounts: Map<string, number>;
  /** Each flow's artefact frames at the clear (BadFlowView.artefacts). */
  flowArtefacts: Map<string, number>;
  /** Each interface's rates at the clear: the `total` window counts from them. */
  rates: Map<string, InterfaceRates>;
  kernel: Map<string, Partial<Record<ChecksumCounterName, number | null>>>;
  ringDrops: Map<string, number>;
  captureDrops: number;
  /** Index into badHistory's timeline: entries older than the clear are zeroed. */
  historyClearedAtMs: number;
  /** DNS totals at the clear. */
  dns: DnsTotals;
  /** Each finding's evidence count at the clear (CorrelationSnapshot.findingCounts). */
  findingCounts: Record<string, number>;
}

/** A finding raised, gone quiet or fixed, or cleared, as the findings history lists it. */
export interface FindingEvent {
  /** The snapshot's time (capture time for files). */
  time: string;
  event: 'raised' | 'quiet' | 'fixed?' | 'cleared';
  key: string;
  severity: Finding['severity'];
  title: string;
  subject: Finding['subject'];
}

/** Most events the history keeps (oldest go first). */
export const MAX_HISTORY = 500;

/** The cumulative DNS counts of a snapshot (src/correlate/dns.ts). */
export type DnsTotals = Pick<DnsSummary, 'queries' | 'answered' | 'unanswered' | 'attributed'>;

/** DNS totals as they were at one update: the DNS line's recent window is their difference. */
export interface DnsPoint extends DnsTotals {
  nowMs: number;
}

/** How far back the DNS line's "last N s" looks. */
export const DNS_WINDOW_MS = 10_000;

/**
 * A remedy the dashboard can apply itself with `F`. Only the demo offers one: it applies
 * csumtop's own remedy for what `--demo-broken` broke, inside its lab (src/lab/demo.ts).
 */
export interface FixState {
  /** Where and what, for the help and the status line: "node 1: ethtool -K ...". */
  what: string;
  phase: 'ready' | 'applying' | 'applied' | 'failed';
  /** Date.now() when it took effect; null before. */
  appliedAtMs: number | null;
  /** Totals at the first update after it took effect: the fix line shows what grew since. */
  since: FixBaseline | null;
}

/**
 * Frames captured just before a fix can reach the correlation (and its counts) a little
 * later, under load hundreds of ms later: counting "since" from the first update a
 * second after the fix keeps them out, so a working fix does not show a stray +1.
 */
export const FIX_SETTLE_MS = 1000;

export interface FixBaseline {
  /** ISO time of that update's snapshot (nothing before it is counted as "since"). */
  time: string;
  /** Carriers received from peers with a bad outer UDP checksum (from-peer badOuter). */
  badOuterReceived: number;
  /** Udp InCsumErrors since start over the captured namespaces; null when unreadable. */
  udpInCsumErrors: number | null;
  dnsAnswered: number;
  dnsUnanswered: number;
}

/** The totals a FixBaseline holds, from one snapshot. */
export function fixTotals(snapshot: CorrelationSnapshot): FixBaseline {
  let badOuterReceived = 0;
  for (const p of snapshot.peers) if (p.direction === 'from-peer') badOuterReceived += p.badOuter;
  let udp: number | null = null;
  for (const k of snapshot.kernel) {
    const v = k.sinceStart.udpInCsumErrors;
    if (typeof v === 'number') udp = (udp ?? 0) + v;
  }
  return { time: snapshot.time, badOuterReceived, udpInCsumErrors: udp, dnsAnswered: snapshot.dns.answered, dnsUnanswered: snapshot.dns.unanswered };
}

export type View =
  | { kind: 'main' }
  | { kind: 'help'; scroll: number }
  | { kind: 'finding'; key: string; scroll: number }
  | { kind: 'flow'; key: string; scroll: number }
  | { kind: 'history'; scroll: number };

export interface DashboardState {
  run: RunInfo;
  /** The newest update received (capture never stops). */
  latest: DashboardUpdate | null;
  /** What the screen shows: `latest` unless paused. */
  shown: DashboardUpdate | null;
  paused: boolean;
  focus: PaneId;
  /** Selected row per pane by identity (interface label, flow key, finding key). */
  selected: Record<PaneId, string | null>;
  sort: { interfaces: number; flows: number; findings: number };
  /** Applied filter (lower case), '' for none. */
  filter: string;
  /** Text being typed after `/`, null when not typing. */
  filterInput: string | null;
  view: View;
  /** One line for the status bar: what the last action did. */
  status: string | null;
  baseline: Baseline | null;
  /** Newest last, bounded: warnings never go to stdout/stderr while the screen is up. */
  warnings: string[];
  /** The replay reached its end: the view is frozen on the final snapshot. */
  finished: boolean;
  /** DNS totals of the recent updates, oldest first, spanning at least DNS_WINDOW_MS. */
  dnsHistory: DnsPoint[];
  /** The remedy `F` applies; null when this run has none (everything but the demo). */
  fix: FixState | null;
  /** Index into RATE_WINDOWS: the window every rate on screen is taken over (`r` cycles). */
  window: number;
  /** Aliases of long namespace names ("ns1"), stable for the run (src/ui/names.ts). */
  aliases: ReadonlyMap<string, string>;
  /** Findings raised and cleared, oldest first, bounded (H shows it). */
  history: FindingEvent[];
}

/** What the header says of each window. */
export const WINDOW_WORDS: Record<RateWindowName, string> = { s1: '1s rates', s10: '10s rates', s60: '60s rates', total: 'totals' };

export const MAX_WARNINGS = 50;

/** A key press, normalised by the adapter: `name` as blessed's key.full ("C-c", "enter", "tab", "S-tab", "up", "space", "escape", "backspace") and `ch` for printable characters. */
export interface KeyEvent {
  name: string;
  ch?: string;
}

export type Action =
  | { type: 'key'; key: KeyEvent }
  | { type: 'update'; update: DashboardUpdate }
  | { type: 'warning'; text: string }
  | { type: 'status'; text: string }
  | { type: 'finished' }
  /** The adapter ran the fix `F` asked for: `text` says what happened. */
  | { type: 'fix-done'; ok: boolean; text: string; atMs: number };

/** What the adapter must do after a key: the reducer itself stays pure. */
export type Effect = { type: 'quit' } | { type: 'write-pcap'; flows: BadFlowView[] } | { type: 'apply-fix' };

export interface Step {
  state: DashboardState;
  effects: Effect[];
}

/** `fix`: what `F` applies (the demo's remedy), if this run offers one. */
export function initialState(run: RunInfo, fix: string | null = null): DashboardState {
  return {
    run,
    latest: null,
    shown: null,
    paused: false,
    focus: 'interfaces',
    selected: { interfaces: null, flows: null, findings: null },
    sort: { interfaces: 0, flows: 0, findings: 0 },
    filter: '',
    filterInput: null,
    view: { kind: 'main' },
    status: null,
    baseline: null,
    warnings: [],
    finished: false,
    dnsHistory: [],
    fix: fix === null ? null : { what: fix, phase: 'ready', appliedAtMs: null, since: null },
    window: 0,
    aliases: new Map(),
    history: [],
  };
}

export function reduce(state: DashboardState, action: Action): Step {
  switch (action.type) {
    case 'update': {
      const u = action.update;
      let fix = state.fix;
      // "Since" starts at the first update made FIX_SETTLE_MS after the fix took effect.
      if (fix && fix.phase === 'applied' && fix.since === null && fix.appliedAtMs !== null && u.nowMs >= fix.appliedAtMs + FIX_SETTLE_MS)
        fix = { ...fix, since: fixTotals(u.snapshot) };
      const aliases = nextAliases(state.aliases, namespacesOf(u.snapshot));
      const history = nextHistory(state.history, state.latest?.snapshot.findings ?? [], u.snapshot);
      return {
        state: { ...state, latest: u, shown: state.paused ? state.shown : u, dnsHistory: nextDnsHistory(state.dnsHistory, u), fix, aliases, history },
        effects: [],
      };
    }
    case 'warning': {
      const warnings = [...state.warnings, action.text];
      if (warnings.length > MAX_WARNINGS) warnings.splice(0, warnings.length - MAX_WARNINGS);
      return { state: { ...state, warnings }, effects: [] };
    }
    case 'status':
      return { state: { ...state, status: action.text }, effects: [] };
    case 'finished':
      return { state: { ...state, finished: true }, effects: [] };
    case 'fix-done':
      if (!state.fix) return same(state);
      return same({
        ...state,
        fix: { ...state.fix, phase: action.ok ? 'applied' : 'failed', appliedAtMs: action.ok ? action.atMs : null, since: null },
        status: action.text,
      });
    case 'key':
      return reduceKey(state, action.key);
  }
}

function same(state: DashboardState): Step {
  return { state, effects: [] };
}

function reduceKey(state: DashboardState, key: KeyEvent): Step {
  // Ctrl-C always quits, even while typing a filter (what users of top/iftop expect).
  if (key.name === 'C-c') return { state, effects: [{ type: 'quit' }] };
  if (state.filterInput !== null) return reduceFilterInput(state, key);
  if (state.view.kind === 'help') {
    // Any of these closes help; other keys are ignored so help is not left by accident.
    if (key.name === 'q') return { state, effects: [{ type: 'quit' }] };
    if (key.ch === '?' || key.name === 'escape' || key.name === 'enter') return same({ ...state, view: { kind: 'main' } });
    // Help can be longer than 80x24 (the names of a cluster's namespaces): it scrolls.
    const by = scrollBy(key);
    if (by !== 0) return same({ ...state, view: { ...state.view, scroll: Math.max(0, by === -Infinity ? 0 : state.view.scroll + by) } });
    return same(state);
  }
  if (state.view.kind !== 'main') {
    if (key.name === 'q') return { state, effects: [{ type: 'quit' }] };
    // Details can be longer than the screen (evidence, remedies, a 4096-byte frame).
    const by = scrollBy(key);
    if (by !== 0) {
      const scroll = Math.max(0, by === -Infinity ? 0 : state.view.scroll + by);
      return same({ ...state, view: { ...state.view, scroll } });
    }
    if (key.name === 'escape' || key.name === 'backspace' || key.ch === 'h') return same({ ...state, view: { kind: 'main' } });
    if (key.ch === '?') return same({ ...state, view: { kind: 'help', scroll: 0 } });
    if (key.ch === 'f' && state.view.kind === 'finding') return same(findingFlows(state, state.view.key));
    if (key.name === 'space' || key.ch === 'p') return same(togglePause(state));
    return same(state);
  }
  switch (key.ch ?? '') {
    case 'q':
      return { state, effects: [{ type: 'quit' }] };
    case '?':
      return same({ ...state, view: { kind: 'help', scroll: 0 } });
    case 'p':
    case ' ':
      return same(togglePause(state));
    case 'j':
      return same(move(state, 1));
    case 'k':
      return same(move(state, -1));
    case 'g':
      return same(move(state, -Infinity));
    case 'G':
      return same(move(state, Infinity));
    case 's':
      return same(cycleSort(state));
    case 'H':
      return same({ ...state, view: { kind: 'history', scroll: 0 } });
    case 'r': {
      const window = (state.window + 1) % RATE_WINDOWS.length;
      return same({
        ...state,
        window,
        status: `showing ${WINDOW_WORDS[RATE_WINDOWS[window]]}${RATE_WINDOWS[window] === 'total' ? (state.baseline ? ' since clear' : ' since start') : ' (per second)'}; r cycles 1s, 10s, 60s rates and totals`,
      });
    }
    case '/':
      return same({ ...state, filterInput: state.filter });
    case 'c':
      return same(clearCounters(state));
    case 'F':
      return pressFix(state);
    case 'w': {
      const flows = visibleFlows(state).filter((f) => f.sample?.bytes);
      if (flows.length === 0) return same({ ...state, status: 'w: no sampled bad frame to write yet' });
      return { state, effects: [{ type: 'write-pcap', flows }] };
    }
  }
  switch (key.name) {
    case 'space':
      return same(togglePause(state));
    case 'tab':
      return same({ ...state, focus: PANES[(PANES.indexOf(state.focus) + 1) % PANES.length] });
    case 'S-tab':
      return same({ ...state, focus: PANES[(PANES.indexOf(state.focus) + PANES.length - 1) % PANES.length] });
    case 'down':
      return same(move(state, 1));
    case 'up':
      return same(move(state, -1));
    case 'pagedown':
      return same(move(state, 10));
    case 'pageup':
      return same(move(state, -10));
    case 'enter':
      return same(openDetail(state));
    case 'escape':
      // Esc on the main view clears an applied filter (one step back).
      return same(state.filter !== '' ? { ...state, filter: '', status: 'filter cleared' } : state);
  }
  return same(state);
}

/** Lines a key scrolls a detail or the help by (-Infinity: to the top); 0 for other keys. */
function scrollBy(key: KeyEvent): number {
  return key.ch === 'j' || key.name === 'down'
    ? 1
    : key.ch === 'k' || key.name === 'up'
      ? -1
      : key.name === 'pagedown'
        ? 10
        : key.name === 'pageup'
          ? -10
          : key.ch === 'g'
            ? -Infinity
            : 0;
}

function reduceFilterInput(state: DashboardState, key: KeyEvent): Step {
  const text = state.filterInput ?? '';
  if (key.name === 'enter') {
    const filter = text.trim().toLowerCase();
    // The applied filter is said once, by the status line's [filter: ...] mark (format.ts):
    // repeating it as the status printed "[filter: :53]  filter: :53" (issue 19).
    return same({ ...state, filter, filterInput: null, status: filter === '' ? 'filter cleared' : null });
  }
  if (key.name === 'escape') return same({ ...state, filterInput: null });
  if (key.name === 'backspace') return same({ ...state, filterInput: text.slice(0, -1) });
  if (key.name === 'C-u') return same({ ...state, filterInput: '' });
  // Printable characters only; anything longer than a host:port pattern needs is cut.
  if (key.ch !== undefined && key.ch.length === 1 && key.ch >= ' ' && key.ch !== '\x7f' && text.length < 64) {
    return same({ ...state, filterInput: text + key.ch });
  }
  return same(state);
}

function pressFix(state: DashboardState): Step {
  const fix = state.fix;
  if (!fix) return same({ ...state, status: 'F: nothing to apply here (only csumtop --demo-broken applies a remedy itself, inside its lab)' });
  if (fix.phase === 'applying') return same({ ...state, status: `F: being applied: ${fix.what}` });
  if (fix.phase === 'applied') return same({ ...state, status: `F: already applied: ${fix.what}` });
  // 'ready', or 'failed' (tried again).
  return { state: { ...state, fix: { ...fix, phase: 'applying' }, status: `applying ${fix.what}` }, effects: [{ type: 'apply-fix' }] };
}

/** The DNS history with this update's totals, cut to what the window needs. */
function nextDnsHistory(history: DnsPoint[], u: DashboardUpdate): DnsPoint[] {
  const d = u.snapshot.dns;
  const out = [...history, { nowMs: u.nowMs, queries: d.queries, answered: d.answered, unanswered: d.unanswered, attributed: d.attributed }];
  // Keep the newest point at or before the window's start: the window is measured from it.
  while (out.length > 2 && out[1].nowMs <= u.nowMs - DNS_WINDOW_MS) out.shift();
  return out;
}

function togglePause(state: DashboardState): DashboardState {
  if (state.paused) return { ...state, paused: false, shown: state.latest, status: 'resumed' };
  return { ...state, paused: true, status: 'paused: capture continues, the screen is frozen (space resumes)' };
}

function cycleSort(state: DashboardState): DashboardState {
  const pane = state.focus;
  const n = SORTS[pane].length;
  const next = (state.sort[pane] + 1) % n;
  return { ...state, sort: { ...state.sort, [pane]: next }, status: `${pane} sorted by ${SORTS[pane][next]}` };
}

/** Row identities of the focused pane, in screen order. */
function rowKeys(state: DashboardState, pane: PaneId): string[] {
  if (pane === 'interfaces') return visibleInterfaces(state).map((r) => r.rates.interface);
  if (pane === 'flows') return visibleFlows(state).map(flowKey);
  return visibleFindings(state).map((f) => f.key);
}

function move(state: DashboardState, delta: number): DashboardState {
  const pane = state.focus;
  const keys = rowKeys(state, pane);
  if (keys.length === 0) return state;
  const cur = selectedIndex(keys, state.selected[pane]);
  const next = Math.max(0, Math.min(keys.length - 1, Number.isFinite(delta) ? cur + delta : delta > 0 ? keys.length - 1 : 0));
  return { ...state, selected: { ...state.selected, [pane]: keys[next] } };
}

/** Index of the selected key, or 0 (the first row) when nothing or a vanished row is selected. */
export function selectedIndex(keys: string[], selected: string | null): number {
  if (selected === null) return 0;
  const i = keys.indexOf(selected);
  return i < 0 ? 0 : i;
}

function openDetail(state: DashboardState): DashboardState {
  const pane = state.focus;
  const keys = rowKeys(state, pane);
  if (keys.length === 0) return { ...state, status: `no ${pane === 'interfaces' ? 'interface' : pane === 'flows' ? 'bad flow' : 'finding'} to open` };
  const key = keys[selectedIndex(keys, state.selected[pane])];
  if (pane === 'flows') return { ...state, view: { kind: 'flow', key, scroll: 0 } };
  if (pane === 'findings') return { ...state, view: { kind: 'finding', key, scroll: 0 } };
  // An interface has no detail view of its own: Enter narrows everything to it.
  return { ...state, filter: key.toLowerCase(), status: null };
}

/**
 * From a finding's detail to its flows (issue 19): the flows pane, filtered to the
 * finding's subject (its peer, else its interface, else its namespace, which labels carry).
 */
function findingFlows(state: DashboardState, key: string): DashboardState {
  const f = findFinding(state, key);
  const subject = f ? (f.subject.peer ?? f.subject.interface ?? f.subject.namespace ?? null) : null;
  if (!f || !subject) return { ...state, status: 'f: this finding names no peer, interface or namespace to filter its flows by' };
  const filter = (f.subject.peer ? `${PEER_FILTER}${subject}` : subject).toLowerCase();
  const n = visibleFlows({ ...state, filter }).length;
  return {
    ...state,
    view: { kind: 'main' },
    focus: 'flows',
    filter,
    selected: { ...state.selected, flows: null },
    status:
      n === 0 ? `no bad flow of ${subject} in the table (Esc clears the filter)` : `${n} bad flow${n === 1 ? '' : 's'} of ${subject} (Esc clears the filter)`,
  };
}

function clearCounters(state: DashboardState): DashboardState {
  const u = state.latest;
  if (!u) return state;
  const flowCounts = new Map<string, number>();
  const flowArtefacts = new Map<string, number>();
  for (const f of u.snapshot.badFlows) {
    flowCounts.set(flowKey(f), f.count);
    flowArtefacts.set(flowKey(f), f.artefacts);
  }
  const rates = new Map(u.snapshot.rates.map((r) => [r.interface, r]));
  const kernel = new Map<string, Partial<Record<ChecksumCounterName, number | null>>>();
  for (const k of u.snapshot.kernel) kernel.set(k.namespace, { ...k.sinceStart });
  const ringDrops = new Map<string, number>();
  for (const i of u.interfaces) ringDrops.set(i.label, i.ringDrops);
  return {
    ...state,
    baseline: {
      atMs: u.nowMs,
      atTime: u.snapshot.time,
      flowCounts,
      flowArtefacts,
      rates,
      kernel,
      ringDrops,
      captureDrops: u.captureDrops,
      historyClearedAtMs: u.nowMs,
      dns: { queries: u.snapshot.dns.queries, answered: u.snapshot.dns.answered, unanswered: u.snapshot.dns.unanswered, attributed: u.snapshot.dns.attributed },
      findingCounts: { ...(u.snapshot.findingCounts ?? {}) },
    },
    status: 'counters cleared: the screen shows increases from now (the exit status still counts everything)',
  };
}

// ------------------------------------------------------------------ views

/** A stable identity for a bad flow: interface, outer and inner 5-tuples, VNI. */
export function flowKey(f: Pick<BadFlowView, 'interface' | 'outer' | 'vni' | 'inner'>): string {
  const ep = (e: Endpoint | null): string => (e ? `${e.src}:${e.sport ?? ''}>${e.dst}:${e.dport ?? ''}/${e.proto}` : '-');
  return `${f.interface}|${ep(f.outer)}|${f.vni ?? ''}|${ep(f.inner)}`;
}

/**
 * Does a row match the filter? The filter is one word matched against the interface
 * label, the peer and every address and port of the row ("eth0", "10.0.0.5", ":53",
 * "8472"): an operator types whatever they are looking at.
 */
/**
 * Whether a row's fields match the filter: a substring of any field, or exactly one with
 * ":PORT" (a port) and "peer:ADDR" (a peer node; the panes give only their peer fields
 * for it, so a flow merely addressed to that node is not "its" flow).
 */
function matches(filter: string, fields: Array<string | number | null | undefined>): boolean {
  if (filter === '') return true;
  const exact = filter.startsWith(':') ? 1 : filter.startsWith(PEER_FILTER) ? PEER_FILTER.length : 0;
  const f = filter.slice(exact);
  for (const x of fields) {
    if (x === null || x === undefined) continue;
    const s = String(x).toLowerCase();
    if (exact > 0 ? s === f : s.includes(f)) return true;
  }
  return false;
}

/** The filter prefix that keeps one peer's rows (f on a finding about a peer sets it). */
export const PEER_FILTER = 'peer:';

function isPeerFilter(filter: string): boolean {
  return filter.startsWith(PEER_FILTER);
}

export interface InterfaceRow {
  rates: InterfaceRates;
  meta: InterfaceMeta | null;
  /** badHistory with entries from before a clear zeroed. */
  history: number[];
  ringDrops: number;
}

export function visibleInterfaces(state: DashboardState): InterfaceRow[] {
  const u = state.shown;
  if (!u) return [];
  const metas = new Map(u.interfaces.map((m) => [m.label, m]));
  const b = state.baseline;
  const rows: InterfaceRow[] = [];
  // Peers and ports per interface, only when a filter needs them (1000 interfaces x 200
  // flows each second otherwise).
  const peersOf = new Map<string, string[]>();
  const portsOf = new Map<string, Array<number | null | undefined>>();
  if (state.filter !== '') {
    for (const p of u.snapshot.peers) for (const i of [p.underlay, p.overlay]) if (i !== null) peersOf.set(i, [...(peersOf.get(i) ?? []), p.peer]);
    for (const f of u.snapshot.badFlows)
      portsOf.set(f.interface, [...(portsOf.get(f.interface) ?? []), f.outer?.sport, f.outer?.dport, f.inner?.sport, f.inner?.dport]);
  }
  for (const r of u.snapshot.rates) {
    const meta = metas.get(r.interface) ?? null;
    if (!matches(state.filter, [r.interface, r.namespace, meta?.kind, ...(peersOf.get(r.interface) ?? [])])) {
      // A port filter keeps the interfaces where flows with that port were seen.
      if (!(state.filter.startsWith(':') && matches(state.filter, portsOf.get(r.interface) ?? []))) continue;
    }
    let history = r.badHistory;
    if (b) {
      const secondsSince = Math.floor((u.nowMs - b.historyClearedAtMs) / 1000);
      const keep = Math.max(0, Math.min(history.length, secondsSince));
      history = history.map((v, i) => (i >= history.length - keep ? v : 0));
    }
    const drops = meta?.ringDrops ?? 0;
    rows.push({ rates: r, meta, history, ringDrops: b ? Math.max(0, drops - (b.ringDrops.get(r.interface) ?? 0)) : drops });
  }
  const order = SORTS.interfaces[state.sort.interfaces];
  rows.sort((x, y) => {
    if (order === 'name') return x.rates.interface.localeCompare(y.rates.interface);
    const k = order === 'bad/s' ? 'badFrames' : 'packets';
    const v = (r: InterfaceRow): number => windowed(state, r.rates, (q) => q[k]);
    return v(y) - v(x) || y.rates[k].s60 - x.rates[k].s60 || x.rates.interface.localeCompare(y.rates.interface);
  });
  return rows;
}

/** Bad flows after filter and baseline (counts since `c`; flows with none since are hidden). */
export function visibleFlows(state: DashboardState): BadFlowView[] {
  const u = state.shown;
  if (!u) return [];
  const b = state.baseline;
  const out: BadFlowView[] = [];
  for (const f of u.snapshot.badFlows) {
    const peerName = f.peer !== null ? (u.peerNames?.get(f.peer) ?? null) : null;
    const fields = isPeerFilter(state.filter)
      ? [f.peer, peerName]
      : [
          f.interface,
          f.peer,
          peerName,
          f.dnsName,
          f.outer?.src,
          f.outer?.dst,
          f.outer?.sport,
          f.outer?.dport,
          f.inner?.src,
          f.inner?.dst,
          f.inner?.sport,
          f.inner?.dport,
        ];
    if (!matches(state.filter, fields)) continue;
    if (b) {
      const count = f.count - (b.flowCounts.get(flowKey(f)) ?? 0);
      if (count <= 0) continue;
      out.push({ ...f, count, artefacts: Math.max(0, f.artefacts - (b.flowArtefacts.get(flowKey(f)) ?? 0)) });
    } else out.push(f);
  }
  const order = SORTS.flows[state.sort.flows];
  out.sort((x, y) => {
    // Real errors first in every order: offload artefacts are not errors (issue 19), and
    // the most frequent rows were artefacts in a capture taken on the sending host.
    const errors = Number(hasError(y)) - Number(hasError(x));
    if (errors !== 0) return errors;
    if (order === 'last seen') return y.lastSeen.localeCompare(x.lastSeen) || y.count - x.count;
    if (order === 'peer') return (x.peer ?? '').localeCompare(y.peer ?? '') || y.count - x.count;
    return y.count - x.count || y.lastSeen.localeCompare(x.lastSeen);
  });
  return out;
}

export function visibleFindings(state: DashboardState): Finding[] {
  const u = state.shown;
  if (!u) return [];
  const b = state.baseline;
  const out = u.snapshot.findings.filter(
    (f) =>
      matches(state.filter, isPeerFilter(state.filter) ? [f.subject.peer] : [f.subject.interface, f.subject.peer, f.subject.namespace, f.id]) &&
      // After `c`, a finding whose evidence stopped before the clear is history, not news.
      (!b || f.lastSeen >= b.atTime),
  );
  const order = SORTS.findings[state.sort.findings];
  out.sort((x, y) => {
    if (order === 'last seen') return y.lastSeen.localeCompare(x.lastSeen);
    return SEVERITIES.indexOf(x.severity) - SEVERITIES.indexOf(y.severity) || y.lastSeen.localeCompare(x.lastSeen);
  });
  return out;
}

/** Kernel counters per namespace with `c` applied to the since-start totals. */
export function visibleKernel(state: DashboardState): KernelCounterView[] {
  const u = state.shown;
  if (!u) return [];
  const b = state.baseline;
  return (
    u.snapshot.kernel
      // A filter keeps the namespaces it names or that hold a matching interface.
      .filter((k) => matches(state.filter, [k.namespace]) || u.snapshot.rates.some((r) => r.namespace === k.namespace && matches(state.filter, [r.interface])))
      .map((k) => {
        if (!b) return k;
        const base = b.kernel.get(k.namespace) ?? {};
        const sinceStart: Partial<Record<ChecksumCounterName, number | null>> = {};
        for (const [name, v] of Object.entries(k.sinceStart) as Array<[ChecksumCounterName, number | null]>) {
          const b0 = base[name];
          sinceStart[name] = v === null ? null : v - (typeof b0 === 'number' ? b0 : 0);
        }
        return { ...k, sinceStart };
      })
  );
}

/** The kernel's drop verdicts (issue 18) the filter keeps, by namespace or device; null when they are off. */
export function visibleKernelDrops(state: DashboardState): KernelDropCount[] | null {
  const k = state.shown?.snapshot.kernelDrops;
  if (!k) return null;
  return k.drops.filter((d) => matches(state.filter, [d.namespace, d.device]));
}

export function findFlow(state: DashboardState, key: string): BadFlowView | null {
  return state.shown?.snapshot.badFlows.find((f) => flowKey(f) === key) ?? null;
}

export function findFinding(state: DashboardState, key: string): Finding | null {
  return state.shown?.snapshot.findings.find((f) => f.key === key) ?? null;
}

export function captureDropsShown(state: DashboardState): number {
  const u = state.shown;
  if (!u) return 0;
  return state.baseline ? Math.max(0, u.captureDrops - state.baseline.captureDrops) : u.captureDrops;
}

export interface DnsView {
  /** Totals since start (since `c` after a clear). */
  total: DnsTotals;
  /** Increase over the recent window, and how long that window really is (ms). */
  recent: DnsTotals;
  recentMs: number;
}

/**
 * DNS as the DNS line shows it: totals, and what changed over the last DNS_WINDOW_MS of
 * updates (a query is decided unanswered only after csumtop's DNS timeout, so an
 * unanswered count lags its queries by that long). Null before the first update.
 */
export function dnsView(state: DashboardState): DnsView | null {
  const u = state.shown;
  if (!u) return null;
  const d = u.snapshot.dns;
  const b = state.baseline?.dns ?? { queries: 0, answered: 0, unanswered: 0, attributed: 0 };
  const total = {
    queries: d.queries - b.queries,
    answered: d.answered - b.answered,
    unanswered: d.unanswered - b.unanswered,
    attributed: d.attributed - b.attributed,
  };
  // The window ends at the shown update (paused: the frozen one) and starts no earlier
  // than a clear; the newest point at or before its start is where it is measured from.
  const points = state.dnsHistory.filter((p) => p.nowMs <= u.nowMs);
  const windowStart = Math.max(u.nowMs - DNS_WINDOW_MS, state.baseline?.atMs ?? -Infinity);
  let start: DnsPoint | undefined = points[0];
  for (const p of points) if (p.nowMs <= windowStart) start = p;
  const recent = start
    ? {
        queries: d.queries - start.queries,
        answered: d.answered - start.answered,
        unanswered: d.unanswered - start.unanswered,
        attributed: d.attributed - start.attributed,
      }
    : { queries: 0, answered: 0, unanswered: 0, attributed: 0 };
  return { total, recent, recentMs: start ? u.nowMs - start.nowMs : 0 };
}

/** Some frame of the flow had a bad checksum that is not an offload artefact. */
export function hasError(f: Pick<BadFlowView, 'count' | 'artefacts'>): boolean {
  return f.count > f.artefacts;
}

/** The namespaces a snapshot names (rows, flows, findings): what may need an alias. */
function namespacesOf(s: CorrelationSnapshot): string[] {
  const out = new Set<string>();
  for (const r of s.rates) out.add(r.namespace);
  for (const f of s.badFlows) out.add(f.namespace);
  for (const f of s.findings) if (f.subject.namespace) out.add(f.subject.namespace);
  return [...out];
}

/** The window the screen shows rates over. */
export function rateWindow(state: DashboardState): RateWindowName {
  return RATE_WINDOWS[state.window];
}

/**
 * One of an interface's rates over the chosen window; for `total`, the count since the
 * start, or since `c` (the rates held at the clear are subtracted).
 */
export function windowed(state: DashboardState, r: InterfaceRates, pick: (r: InterfaceRates) => RateWindows | undefined): number {
  const w = rateWindow(state);
  const v = pick(r);
  if (!v) return 0;
  if (w !== 'total') return v[w];
  const base = state.baseline?.rates.get(r.interface);
  return Math.max(0, v.total - (base ? (pick(base)?.total ?? 0) : 0));
}

/**
 * The history with what changed between two snapshots' findings: a key new to the list is
 * raised, one gone is cleared, a state that appeared (the evidence stopped growing) is
 * quiet or fixed?. A finding listed again without new evidence (a replay's final view
 * lists every finding that ever held) is not raised again.
 */
export function nextHistory(history: FindingEvent[], before: Finding[], snap: CorrelationSnapshot): FindingEvent[] {
  const prev = new Map(before.map((f) => [f.key, f]));
  const now = new Map(snap.findings.map((f) => [f.key, f]));
  const events: FindingEvent[] = [];
  const ev = (f: Finding, event: FindingEvent['event']): FindingEvent => ({
    time: snap.time,
    event,
    key: f.key,
    severity: f.severity,
    title: f.title,
    subject: f.subject,
  });
  const lastCleared = new Map<string, string>();
  for (const e of history) if (e.event === 'cleared') lastCleared.set(e.key, e.time);
  for (const f of snap.findings) {
    const p = prev.get(f.key);
    if (!p) {
      const cleared = lastCleared.get(f.key);
      if (cleared === undefined || f.lastSeen > cleared) events.push(ev(f, 'raised'));
    } else if (f.state && (!p.state || p.state.kind !== f.state.kind)) events.push(ev(f, f.state.kind === 'fixed' ? 'fixed?' : 'quiet'));
  }
  for (const f of before) if (!now.has(f.key)) events.push(ev(f, 'cleared'));
  if (events.length === 0) return history;
  const out = [...history, ...events];
  return out.length > MAX_HISTORY ? out.slice(out.length - MAX_HISTORY) : out;
}

/**
 * A finding's evidence count as the findings pane shows it: since start, or its growth
 * since `c`; null when the snapshot carries none (sources without a tracker).
 */
export function findingCount(state: DashboardState, f: Finding): { n: number; sinceClear: boolean } | null {
  const n = state.shown?.snapshot.findingCounts?.[f.key];
  if (n === undefined) return null;
  const b = state.baseline;
  return b ? { n: Math.max(0, n - (b.findingCounts[f.key] ?? 0)), sinceClear: true } : { n, sinceClear: false };
}
