/**
 * The dashboard as text: every pane laid out for a given width and height, from the
 * state alone. No terminal here: the adapter (screen.ts) only paints these lines, and
 * the tests read them at 80x24, 120x40 and 200x60.
 *
 * Nothing is said by colour alone (docs/design.md): the focused pane is marked ">>", the
 * selected row ">", severities carry their word next to the symbol, PAUSED is written.
 * A line's `tone` only lets the adapter add colour where colour is allowed.
 */
import type { BadFlowView, InterfaceRates, KernelCounterView } from '../model/correlation.js';
import type { ChecksumCounterName } from '../model/host-facts.js';
import { blindLines } from '../model/blind.js';
import { SEVERITY_SYMBOL, type Finding, type Severity } from '../model/findings.js';
import { sumMatch, unseenOf } from '../model/kernel-match.js';
import { answerLines } from '../output/answer.js';
import type { BadChecksum, Endpoint } from '../model/report.js';
import { printable } from '../output/printable.js';
import {
  SORTS,
  WINDOW_WORDS,
  captureDropsShown,
  findingCount,
  dnsView,
  findFinding,
  findFlow,
  fixTotals,
  flowKey,
  hasError,
  rateWindow,
  selectedIndex,
  visibleFindings,
  visibleFlows,
  visibleInterfaces,
  visibleKernel,
  visibleKernelDrops,
  windowed,
  type DashboardState,
  type FindingEvent,
  type InterfaceRow,
  type PaneId,
} from './dashboard-state.js';
import { aliasLabel, aliasText } from './names.js';

export type Tone = 'plain' | 'title' | 'focus' | 'selected' | 'critical' | 'warning' | 'info' | 'paused' | 'dim' | 'mark';

export interface Line {
  /** Exactly `width` characters (padded or cut). */
  text: string;
  tone: Tone;
}

export interface RenderOptions {
  width: number;
  height: number;
  /** TERM=dumb (or a terminal without UTF-8): ASCII glyphs only. */
  ascii: boolean;
}

/** At or below 80x24 (or narrower than 120 columns) panes drop their less urgent columns. */
export function isCompact(o: RenderOptions): boolean {
  return o.width < 120 || o.height <= 24;
}

// ------------------------------------------------------------------ small formatters

const BLOCKS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
const ASCII_LEVELS = ['.', ':', '-', '=', '+', '*', '#', '@'];

/**
 * The last values as `width` cells, newest at the right. Several values per cell take
 * their maximum (a burst must not be averaged away); zero is a blank cell so "nothing
 * bad" reads as empty, the smallest non-zero value still shows.
 */
export function sparkline(values: number[], width: number, ascii: boolean): string {
  if (width <= 0) return '';
  const levels = ascii ? ASCII_LEVELS : BLOCKS;
  const per = Math.max(1, Math.ceil(values.length / width));
  const cells: number[] = [];
  for (let end = values.length; end > 0 && cells.length < width; end -= per) {
    let m = 0;
    for (let i = Math.max(0, end - per); i < end; i++) m = Math.max(m, values[i]);
    cells.unshift(m);
  }
  const max = Math.max(0, ...cells);
  const text = cells.map((v) => (v <= 0 ? ' ' : levels[Math.min(levels.length - 1, Math.floor((v / max) * (levels.length - 1e-9)))])).join('');
  return text.padStart(width, ' ');
}

/** 0.4, 12, 3456, 12.3k, 4.5M: four or five characters for any rate. */
export function fmtRate(n: number): string {
  if (!Number.isFinite(n) || n <= 0) return '0';
  if (n < 10) return (Math.round(n * 10) / 10).toString();
  if (n < 10_000) return Math.round(n).toString();
  if (n < 10_000_000) return `${(n / 1000).toFixed(n < 100_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

export function fmtCount(n: number): string {
  if (n < 100_000) return String(n);
  if (n < 100_000_000) return `${(n / 1000).toFixed(0)}k`;
  return `${(n / 1_000_000).toFixed(0)}M`;
}

export function hex16(v: number): string {
  return `0x${v.toString(16).padStart(4, '0')}`;
}

/**
 * Every cell and line of the dashboard goes through pad(), padLabel() or padL(): they
 * escape what a terminal would interpret (names come from the kernel, files and
 * packets: src/output/printable.ts) before measuring, so a cell keeps its width.
 */
function pad(text: string, w: number): string {
  if (w <= 0) return '';
  const s = printable(text);
  // Cut with a marker so a shortened address is not mistaken for a whole one.
  return s.length > w ? (w > 1 ? s.slice(0, w - 1) + '~' : s.slice(0, w)) : s.padEnd(w, ' ');
}

/**
 * An interface label cut to `w` keeping its end: "long-namespace-name/vlb" becomes
 * "long-nam~/vlb", so rows of one namespace stay distinguishable by interface.
 */
export function padLabel(text: string, w: number): string {
  const label = printable(text);
  if (label.length <= w) return label.padEnd(w, ' ');
  const slash = label.lastIndexOf('/');
  if (slash < 0 || label.length - slash + 2 > w) return pad(label, w);
  const tail = label.slice(slash);
  return `${label.slice(0, w - tail.length - 1)}~${tail}`;
}

function padL(text: string, w: number): string {
  const s = printable(text);
  return s.length > w ? s.slice(0, w) : s.padStart(w, ' ');
}

function line(text: string, width: number, tone: Tone = 'plain'): Line {
  return { text: pad(text, width), tone };
}

/** Milliseconds since epoch of an ISO time with any number of fraction digits. */
export function isoMs(iso: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?$/.exec(iso);
  if (!m) return Date.parse(iso);
  return Date.parse(`${m[1]}.${(m[2] ?? '0').slice(0, 3).padEnd(3, '0')}${m[3] ?? 'Z'}`);
}

/** "3s", "4m", "2h" before `nowIso`. */
export function ago(iso: string, nowIso: string): string {
  const d = Math.max(0, Math.round((isoMs(nowIso) - isoMs(iso)) / 1000));
  if (!Number.isFinite(d)) return '?';
  if (d < 120) return `${d}s`;
  if (d < 7200) return `${Math.round(d / 60)}m`;
  return `${Math.round(d / 3600)}h`;
}

function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

function ep(e: Endpoint | null, arrow: string): string {
  if (!e) return '-';
  const port = (p: number | null): string => (p === null ? '' : `:${p}`);
  return `${e.src}${port(e.sport)}${arrow}${e.dst}${port(e.dport)}`;
}

/**
 * A flow "src:sport>dst:dport" in `w` columns: when it does not fit, the source address
 * gives way from its start ("~1.10:3306>10.244.0.0:44001"), since the ports and the
 * destination are what tell two flows of one interface apart (issue 19); only a flow
 * whose ports and destination alone are too long is cut at its end.
 */
export function fitFlow(e: Endpoint | null, arrow: string, w: number): string {
  const whole = ep(e, arrow);
  if (whole.length <= w || !e) return whole;
  const rest = whole.slice(e.src.length);
  const keep = w - rest.length - 1;
  return keep >= 1 ? `~${e.src.slice(e.src.length - keep)}${rest}` : whole;
}

const SEVERITY_WORD: Record<Severity, string> = { critical: 'CRITICAL', warning: 'WARNING', info: 'info' };

/** "!! CRITICAL": symbol and word, so severity never rests on colour. */
export function severityLabel(s: Severity): string {
  return `${SEVERITY_SYMBOL[s].padEnd(2)} ${SEVERITY_WORD[s]}`;
}

/** Bad (not artefact) checksums of one layer over the shown window. */
function layerRate(state: DashboardState, r: InterfaceRates, layer: 'outer' | 'inner'): number {
  let s = 0;
  for (const k of Object.keys(r.badByChecksum)) if (k.startsWith(`${layer}/`)) s += windowed(state, r, (x) => x.badByChecksum[k]);
  return s;
}

/** Frames with a real bad checksum, of all frames, over the shown window. */
function badPercent(state: DashboardState, r: InterfaceRates): string {
  const packets = windowed(state, r, (x) => x.packets);
  const bad = windowed(state, r, (x) => x.badFrames);
  if (packets <= 0) return bad > 0 ? '100%' : '-';
  const p = (bad / packets) * 100;
  return p === 0 ? '0%' : p < 0.1 ? '<0.1%' : `${p < 10 ? p.toFixed(1) : Math.round(p)}%`;
}

/** Offload over the shown window: checksums the kernel flagged pending plus artefacts recognised by value. */
function offloadRate(state: DashboardState, r: InterfaceRates): number {
  return windowed(state, r, (x) => x.pending) + windowed(state, r, (x) => x.artefacts);
}

/** A rate or, in the totals window, a count. */
function fmtWindow(state: DashboardState, n: number): string {
  return rateWindow(state) === 'total' ? fmtCount(Math.round(n)) : fmtRate(n);
}

/** A column title: "PKT/S" over a rate window, "PKTS" for totals. */
function colName(state: DashboardState, rate: string, total: string): string {
  return rateWindow(state) === 'total' ? total : rate;
}

// ------------------------------------------------------------------ identities

/**
 * How namespaces are written in this frame: whole, or by alias when some row's identity
 * ("namespace/device") would not fit the narrowest identity column (src/ui/names.ts). One
 * decision per frame, so every pane writes a namespace the same way; `used` collects the
 * aliases written, for the legend.
 */
export interface Names {
  on: boolean;
  label: (label: string) => string;
  /** A namespace name alone. */
  namespace: (ns: string) => string;
  text: (text: string) => string;
  used: Set<string>;
}

/** The widest identity ("namespace/device") an identity column gives room to. */
export function identityRoom(o: RenderOptions): number {
  return o.width < 120 ? 14 : o.width < 160 ? 18 : 26;
}

export function namesFor(state: DashboardState, o: RenderOptions): Names {
  const used = new Set<string>();
  // Every row of the snapshot, filtered or not (no second sort of 1000 interfaces per
  // frame): a filter does not change how a namespace is written.
  const snap = state.shown?.snapshot;
  const labels = snap ? [...snap.rates.map((r) => r.interface), ...snap.badFlows.map((f) => f.interface)] : [];
  const room = identityRoom(o);
  const on = state.aliases.size > 0 && labels.some((l) => printable(l).length > room);
  if (!on) return { on, label: (l) => l, namespace: (ns) => ns, text: (t) => t, used };
  // Every alias the panes may write, known before they are laid out (the legend's room).
  for (const l of labels) if (aliasLabel(l, state.aliases) !== l) used.add(l.slice(0, l.indexOf('/')));
  for (const f of visibleFindings(state)) aliasText(`${f.title} ${f.subject.interface ?? ''}`, state.aliases, used);
  for (const k of visibleKernel(state)) if (state.aliases.has(k.namespace)) used.add(k.namespace);
  return {
    on,
    label: (l) => {
      const a = aliasLabel(l, state.aliases);
      if (a !== l) used.add(l.slice(0, l.indexOf('/')));
      return a;
    },
    namespace: (ns) => {
      const a = state.aliases.get(ns);
      if (a !== undefined) used.add(ns);
      return a ?? ns;
    },
    text: (t) => aliasText(t, state.aliases, used),
    used,
  };
}

/** "names: ns1 = demo10619-node-a, ns2 = ..." for the aliases written, at most two lines. */
function legendLines(state: DashboardState, names: Names, o: RenderOptions): Line[] {
  if (names.used.size === 0) return [];
  const items = [...names.used]
    .map((ns) => `${state.aliases.get(ns)} = ${ns}`)
    .sort((a, b) => Number(a.split(' ')[0].slice(2)) - Number(b.split(' ')[0].slice(2)));
  const lines = wrap(`names: ${items.join(', ')}`, o.width);
  if (lines.length <= 2) return lines.map((l) => line(l, o.width, 'dim'));
  // The rest are in the help (?), whole: a legend cut mid-name would mislead.
  const kept: string[] = [];
  let text = 'names:';
  for (const it of items) {
    const next = `${text} ${it},`;
    if (wrap(`${next} +${items.length} more in ? help`, o.width).length > 2) break;
    text = next;
    kept.push(it);
  }
  return wrap(`${text} +${items.length - kept.length} more in ? help`, o.width).map((l) => line(l, o.width, 'dim'));
}

// ------------------------------------------------------------------ header, strips

function header(state: DashboardState, o: RenderOptions): Line {
  const u = state.shown;
  const run = state.run;
  const c = isCompact(o);
  // At 80 columns the kernel release gives way to the rate window (help and the report say it).
  const parts = c
    ? [`csumtop ${run.mode}`, run.host, run.backend]
    : [`csumtop ${run.mode}`, `host ${run.host}`, `kernel ${run.kernel}`, `backend ${run.backend}`];
  if (u) {
    const pps = u.snapshot.rates.reduce((s, r) => s + windowed(state, r, (x) => x.packets), 0);
    const total = rateWindow(state) === 'total';
    parts.push(
      `up ${duration(u.nowMs - run.startedMs)}`,
      total ? `${fmtCount(Math.round(pps))} pkts` : `${fmtRate(pps)} pkt/s`,
      `${c ? 'drops' : 'capture drops'} ${fmtCount(captureDropsShown(state))}`,
    );
    if (u.snapshot.eventsDropped > 0) parts.push(`events dropped ${fmtCount(u.snapshot.eventsDropped)}`);
  } else parts.push('waiting for the first interval...');
  const flags: string[] = [];
  // The window every rate on screen is over (`r`), never cut: it changes what numbers mean.
  flags.push(`${WINDOW_WORDS[rateWindow(state)]}${rateWindow(state) === 'total' && state.baseline ? ' since clear' : ''}`);
  if (state.paused) flags.push('PAUSED');
  if (state.finished) flags.push('END OF FILE');
  if (state.baseline) flags.push(`cleared ${ago(state.baseline.atTime, u?.snapshot.time ?? state.baseline.atTime)} ago`);
  const left = parts.join('  ');
  const right = flags.map((f) => `[${f}]`).join(' ');
  const room = o.width - right.length - 1;
  const text = right ? `${pad(left, Math.max(0, room))} ${right}` : left;
  return line(text, o.width, state.paused ? 'paused' : 'title');
}

const COUNTER_SHORT: Partial<Record<ChecksumCounterName, string>> = {
  udpInCsumErrors: 'Udp InCsumErrors',
  tcpInCsumErrors: 'Tcp InCsumErrors',
  ipInHdrErrors: 'Ip InHdrErrors',
  ipInCsumErrors: 'IpExt InCsumErrors',
  icmpInCsumErrors: 'Icmp InCsumErrors',
  udp6InCsumErrors: 'Udp6 InCsumErrors',
} as Partial<Record<ChecksumCounterName, string>>;

/**
 * The kernel's drop verdicts per namespace (issue 18), on the kernel strip before that
 * namespace's counters: how many it dropped since start and what csumtop saw of them
 * (docs/kernel-drops.md), e.g. "drops 11 (9 seen bad, 2 unseen)". Empty when off.
 */
function kernelDropsByNamespace(state: DashboardState, compact = false): { text: Map<string, string>; moving: Set<string> } {
  const text = new Map<string, string>();
  const rows = visibleKernelDrops(state) ?? [];
  const matching = state.shown?.snapshot.kernelDrops?.matching === true;
  for (const ns of [...new Set(rows.map((d) => d.namespace))]) {
    const m = sumMatch(rows.filter((d) => d.namespace === ns));
    if (!matching) {
      text.set(ns, `drops ${fmtCount(m.total)}`); // the backend does not match them to frames
      continue;
    }
    const said = [`${fmtCount(m.outcomes.seenBad)} ${compact ? 'bad' : 'seen bad'}`];
    const unseen = unseenOf(m);
    if (unseen > 0) said.push(`${fmtCount(unseen)} unseen`);
    if (m.outcomes.seenGood > 0) said.push(`${fmtCount(m.outcomes.seenGood)} ${compact ? 'good' : 'verified good'}`);
    if (m.outcomes.seenUnverified > 0) said.push(`${fmtCount(m.outcomes.seenUnverified)} unverified`);
    if (m.pending > 0) said.push(`${fmtCount(m.pending)} waiting`);
    text.set(ns, `drops ${fmtCount(m.total)} (${said.join(', ')})`);
  }
  return { text, moving: new Set(rows.filter((d) => d.interval > 0).map((d) => d.namespace)) };
}

function kernelStrip(state: DashboardState, o: RenderOptions, names: Names): Line {
  const views = visibleKernel(state);
  const compact = isCompact(o);
  const drops = kernelDropsByNamespace(state, compact);
  // Namespaces with drops and no counters read (one csumtop does not capture) come last.
  const dropsOnly = [...drops.text]
    .filter(([ns]) => !views.some((k) => k.namespace === ns))
    .map(([ns, t]) => ({ text: `${names.namespace(ns)}: ${t}`, moving: drops.moving.has(ns) }));
  if (views.length === 0 && dropsOnly.length === 0) return line('kernel: no checksum counters read', o.width, 'dim');
  const one = (k: KernelCounterView): string => {
    const items: string[] = [];
    const verdict = drops.text.get(k.namespace);
    if (verdict !== undefined) items.push(verdict);
    for (const [name, label] of Object.entries(COUNTER_SHORT) as Array<[ChecksumCounterName, string]>) {
      const total = k.sinceStart[name];
      if (total === undefined || total === null) continue;
      const per = k.perSecond[name] ?? 0;
      // Zero counters are left out: the strip is one line and a moving one must stay visible.
      if (total === 0 && (per ?? 0) === 0) continue;
      items.push(`${compact ? label.replace(' InCsumErrors', 'Csum').replace(' InHdrErrors', 'Hdr') : label} ${fmtRate(per ?? 0)}/s +${fmtCount(total)}`);
    }
    return `${names.namespace(k.namespace)}: ${items.length > 0 ? items.join(', ') : 'no checksum errors'}`;
  };
  const movingNs = (k: KernelCounterView): boolean => drops.moving.has(k.namespace) || Object.values(k.perSecond).some((v) => typeof v === 'number' && v > 0);
  // Quiet: no drop verdict and every counter zero since start ("no checksum errors").
  const quietNs = (k: KernelCounterView): boolean =>
    !drops.text.has(k.namespace) && Object.values(k.sinceStart).every((v) => v === null || v === undefined || v === 0);
  const entries = [...views.map((k) => ({ text: one(k), moving: movingNs(k), quiet: quietNs(k) })), ...dropsOnly.map((e) => ({ ...e, quiet: false }))];
  const tone = entries.some((e) => e.moving) ? 'warning' : 'plain';
  const all = `kernel ${entries.map((e) => e.text).join(' | ')}`;
  if (printable(all).length <= o.width) return line(all, o.width, tone);
  // Too long (80 columns, many namespaces): whole namespaces only, those moving now first,
  // then those with errors or drops since start, the quiet ones last; the rest are counted,
  // not cut in the middle of a number (issue 19).
  const order = [...entries.filter((e) => e.moving), ...entries.filter((e) => !e.moving && !e.quiet), ...entries.filter((e) => !e.moving && e.quiet)];
  const kept: string[] = [];
  for (let i = 0; i < order.length; i++) {
    const rest = order.length - i - 1;
    const tail = rest > 0 ? ` | +${rest} more (/ filters)` : '';
    const next = `kernel ${[...kept, order[i].text].join(' | ')}${tail}`;
    if (kept.length > 0 && printable(next).length > o.width) break;
    kept.push(order[i].text);
  }
  const left = order.length - kept.length;
  return line(`kernel ${kept.join(' | ')}${left > 0 ? ` | +${left} more (/ filters)` : ''}`, o.width, tone);
}

/**
 * DNS as csumtop saw it: answered and unanswered over the last seconds (the recovery, or
 * the breakage, shows here first) and since start. A query counts as unanswered only
 * after the DNS timeout, so that number lags its queries.
 */
function dnsLine(state: DashboardState, o: RenderOptions): Line {
  const v = dnsView(state);
  if (!v) return line('', o.width, 'dim');
  if (v.total.queries === 0 && v.total.answered === 0 && v.total.unanswered === 0) return line('DNS: no query seen', o.width, 'dim');
  const secs = Math.round(v.recentMs / 1000);
  const recent = `DNS last ${secs} s: ${fmtCount(v.recent.answered)} answered, ${fmtCount(v.recent.unanswered)} unanswered`;
  const attributed = v.total.attributed > 0 ? ` (${fmtCount(v.total.attributed)} after bad carriers)` : '';
  const total = `${state.baseline ? 'since clear' : 'since start'}: ${fmtCount(v.total.queries)} queries, ${fmtCount(v.total.answered)} answered, ${fmtCount(v.total.unanswered)} unanswered${attributed}`;
  return line(`${recent}  |  ${total}`, o.width, v.recent.unanswered > 0 ? 'warning' : 'plain');
}

/** The demo's remedy (`F`): not applied yet, or applied and what grew since. */
function fixLine(state: DashboardState, o: RenderOptions): Line {
  const fix = state.fix!;
  if (fix.phase === 'ready') return line(`fix: not applied; F applies csumtop's remedy inside the lab: ${fix.what}`, o.width, 'info');
  if (fix.phase === 'applying') return line(`fix: applying ${fix.what}`, o.width, 'info');
  if (fix.phase === 'failed') return line(`fix: FAILED (status line says why; F tries again): ${fix.what}`, o.width, 'warning');
  const u = state.shown;
  const ago = u && fix.appliedAtMs !== null ? ` ${Math.max(0, Math.round((u.nowMs - fix.appliedAtMs) / 1000))} s ago` : '';
  // What was applied is in the help and was in the status line: the room is for what grew.
  const head = `fix applied${ago}`;
  // Paused on a screen from before the fix, or the first second after it (FIX_SETTLE_MS).
  if (!u || !fix.since || u.snapshot.time < fix.since.time) return line(`${head}; counting starts a second after it`, o.width, 'mark');
  const now = fixTotals(u.snapshot);
  const since = fix.since;
  const bits = [`bad outer carriers received +${fmtCount(now.badOuterReceived - since.badOuterReceived)}`];
  if (now.udpInCsumErrors !== null && since.udpInCsumErrors !== null) bits.push(`Udp InCsumErrors +${fmtCount(now.udpInCsumErrors - since.udpInCsumErrors)}`);
  bits.push(`DNS answered +${fmtCount(now.dnsAnswered - since.dnsAnswered)} unanswered +${fmtCount(now.dnsUnanswered - since.dnsUnanswered)}`);
  const grew = now.badOuterReceived > since.badOuterReceived || (now.udpInCsumErrors ?? 0) > (since.udpInCsumErrors ?? 0);
  return line(`${head}; since ${utcClock(since.time)}: ${bits.join(', ')}`, o.width, grew ? 'warning' : 'mark');
}

/** "11:42:08" (UTC) of an ISO time. */
function utcClock(iso: string): string {
  const m = /T(\d\d:\d\d:\d\d)/.exec(iso);
  return m ? `${m[1]} UTC` : iso;
}

function warningLine(state: DashboardState, o: RenderOptions): Line {
  const n = state.warnings.length;
  if (n === 0) return line('', o.width, 'dim');
  const last = state.warnings[n - 1];
  return line(`warning${n > 1 ? ` (${n}, newest)` : ''}: ${last}`, o.width, 'warning');
}

const KEY_HINT = 'q quit  ? help  space pause  Tab pane  j/k move  s sort  r rates  / filter  Enter detail  Esc back  w pcap  c clear';
const FIX_HINT = 'F fix';

function statusLine(state: DashboardState, o: RenderOptions): Line {
  if (state.filterInput !== null) return line(`/${state.filterInput}_   (interface, peer or port; Enter applies, Esc cancels)`, o.width, 'focus');
  const bits: string[] = [];
  // The one place the applied filter is shown, with how to undo it.
  if (state.filter) bits.push(`[filter: ${state.filter}] Esc clears`);
  if (state.status) bits.push(state.status);
  bits.push(
    isCompact(o) ? `? help  q quit${state.fix?.phase === 'ready' ? `  ${FIX_HINT}` : ''}` : `${state.fix?.phase === 'ready' ? `${FIX_HINT}  ` : ''}${KEY_HINT}`,
  );
  return line(bits.join('  '), o.width, 'dim');
}

// ------------------------------------------------------------------ panes

interface PaneText {
  /** "Interfaces 5 of 7": kept whole; `detail` is cut first when the line is short. */
  title: string;
  detail: string;
  columns: string | null;
  /** Rows are laid out only when on screen: a pane may hold 1000 interfaces. */
  count: number;
  row: (i: number) => string;
  tone: (i: number) => Tone;
  /** Row index of the selection. */
  selected: number;
}

function interfacePane(state: DashboardState, o: RenderOptions, names: Names): PaneText {
  const rows = visibleInterfaces(state);
  const compact = isCompact(o);
  // Wide: the name gets 27-40 columns and the sparkline what is left (up to one cell a second).
  // The label carries the namespace ("ns/eth0"), so no column of its own.
  const nameW = compact ? Math.max(10, o.width - 2 - 59 - 1) : Math.max(27, Math.min(40, o.width - 2 - 74 - 60));
  const sparkW = compact ? 10 : Math.max(10, Math.min(60, o.width - 2 - 74 - nameW));
  const n = (rate: string, total: string): string => colName(state, rate, total);
  const cols = compact
    ? `${pad('INTERFACE', nameW)} ${padL(n('PKT/S', 'PKTS'), 6)}${padL(n('BAD/S', 'BAD'), 6)}${padL('OUT', 6)}${padL('IN', 6)}${padL('BAD%', 6)}${padL(n('OFFL/S', 'OFFL'), 7)} ${pad('BAD 60s', sparkW)} ${pad('TX', 3)}${padL('DROPS', 6)}`
    : `${pad('INTERFACE', nameW)} ${pad('KIND', 8)}${padL(n('PKT/S', 'PKTS'), 8)}${padL(n('BAD/S', 'BAD'), 7)}${padL('OUT', 7)}${padL('IN', 7)}${padL('BAD%', 7)}${padL(n('OFFL/S', 'OFFL'), 8)}${padL(n('VALID/S', 'VALID'), 9)} ${pad('BAD/S LAST 60s', sparkW)} ${pad('TX', 3)}${padL('DROPS', 7)}`;
  const tx = (v: boolean | null | undefined): string => (v === true ? 'on' : v === false ? 'off' : '?');
  const text = (r: InterfaceRow): string => {
    const x = r.rates;
    // The state word is kept whole when the label is cut: it is the only sign of it.
    const word = r.meta && !r.meta.attached ? ' (gone)' : r.meta?.down ? ' (down)' : '';
    const name = padLabel(names.label(x.interface), nameW - word.length).trimEnd() + word;
    const spark = sparkline(r.history, sparkW, o.ascii);
    const v = (pick: (q: InterfaceRates) => InterfaceRates['packets']): string => fmtWindow(state, windowed(state, x, pick));
    const outer = fmtWindow(state, layerRate(state, x, 'outer'));
    const inner = fmtWindow(state, layerRate(state, x, 'inner'));
    const offl = fmtWindow(state, offloadRate(state, x));
    return compact
      ? `${padLabel(name, nameW)} ${padL(
          v((q) => q.packets),
          6,
        )}${padL(
          v((q) => q.badFrames),
          6,
        )}${padL(outer, 6)}${padL(inner, 6)}${padL(badPercent(state, x), 6)}${padL(offl, 7)} ${spark} ${pad(tx(r.meta?.txChecksumOffload), 3)}${padL(fmtCount(r.ringDrops), 6)}`
      : `${padLabel(name, nameW)} ${pad(r.meta?.kind ?? '-', 8)}${padL(
          v((q) => q.packets),
          8,
        )}${padL(
          v((q) => q.badFrames),
          7,
        )}${padL(outer, 7)}${padL(inner, 7)}${padL(badPercent(state, x), 7)}${padL(offl, 8)}${padL(
          v((q) => q.validated),
          9,
        )} ${spark} ${pad(tx(r.meta?.txChecksumOffload), 3)}${padL(fmtCount(r.ringDrops), 7)}`;
  };
  const tone = (r: InterfaceRow): Tone => (r.rates.badFrames.s1 > 0 ? 'critical' : r.rates.badFrames.s60 > 0 ? 'warning' : 'plain');
  const keys = rows.map((r) => r.rates.interface);
  const total = state.shown?.snapshot.rates.length ?? 0;
  return {
    title: `Interfaces ${rows.length}${rows.length !== total ? ` of ${total}` : ''}`,
    detail: `sorted by ${SORTS.interfaces[state.sort.interfaces]}; BAD = frames with a bad checksum, OUT/IN = bad outer/inner checksums, OFFL = offload artefacts (not errors)`,
    columns: cols,
    count: rows.length,
    row: (i) => text(rows[i]),
    tone: (i) => tone(rows[i]),
    selected: selectedIndex(keys, state.selected.interfaces),
  };
}

/** The mark of a bad flow's row: its frames had a real bad checksum, or only offload artefacts. */
export const ERROR_MARK = '!';
export const ARTEFACT_MARK = '~';

function flowPane(state: DashboardState, o: RenderOptions, names: Names): PaneText {
  const flows = visibleFlows(state);
  const compact = isCompact(o);
  const now = state.shown?.snapshot.time ?? '';
  const w = o.width - 2;
  const full = o.width >= 160;
  // The identity column is as wide as the widest identity shown (aliases when long: names.ts).
  const ifW = Math.min(identityRoom(o), Math.max(9, ...flows.map((f) => printable(names.label(f.interface)).length)));
  // DNS NAME has a column of its own only when a flow on screen carries DNS (issue 19).
  const dnsLen = Math.max(0, ...flows.map((f) => printable(f.dnsName ?? '').length));
  const innerLen = Math.max(10, ...flows.map((f) => ep(f.inner, full ? ' > ' : '>').length));
  const mark = (f: BadFlowView): string => (hasError(f) ? ERROR_MARK : ARTEFACT_MARK);
  // A peer's name replaces its address when it fits the column whole: a cut name could
  // make two peers read the same, an address never does.
  const peerCell = (p: string | null): string => {
    if (p === null) return '-';
    const n = peerNameOf(state, p);
    return n !== null && n.length <= 15 ? n : p;
  };
  let cols: string;
  let text: (f: BadFlowView) => string;
  if (compact) {
    // 80 columns: the outer ports and the last-seen age give way (both are in the detail);
    // the DNS name follows the inner flow and is cut first.
    const csW = 9;
    const restW = Math.max(16, w - 2 - 16 - (ifW + 1) - (csW + 1) - 6);
    // The name follows the inner flow (which is never cut for it): said in the column
    // title only when some row has room for it, else where to read it.
    const named = flows.some((f) => f.dnsName && ep(f.inner ?? f.outer, '>').length + 9 <= restW);
    const innerTitle = dnsLen === 0 ? 'INNER FLOW' : named ? 'INNER FLOW  DNS NAME' : 'INNER FLOW (DNS name: Enter)';
    cols = `  ${pad('PEER', 15)} ${pad('INTERFACE', ifW)} ${pad(innerTitle, restW)} ${pad('BAD', csW)}${padL('COUNT', 6)}`;
    text = (f) => {
      const flow = fitFlow(f.inner ?? f.outer, '>', restW);
      const dns = f.dnsName && flow.length + 9 <= restW ? ` ${f.dnsName}` : '';
      return `${mark(f)} ${pad(peerCell(f.peer), 15)} ${padLabel(names.label(f.interface), ifW)} ${pad(flow + dns, restW)} ${pad(f.badChecksums.join(','), csW)}${padL(fmtCount(f.count), 6)}`;
    };
  } else {
    const csW = full ? 19 : 9;
    // Below 160 columns the outer addresses are the peer and this node: ports say the rest.
    const outerW = full ? 40 : 12;
    const rest = Math.max(20, w - 2 - 16 - (ifW + 1) - (outerW + 1) - 5 - (csW + 1) - 8 - 6);
    // The inner flow (identity) first; DNS NAME gets the rest when that is worth a column.
    const withDns = dnsLen > 0 && rest - Math.min(innerLen, rest) - 1 >= 10;
    const innerW = withDns ? Math.max(innerLen, rest - Math.min(dnsLen, 48) - 1) : rest;
    const dnsW = withDns ? rest - innerW - 1 : 0;
    const dnsCol = (t: string): string => (withDns ? ` ${pad(t, dnsW)}` : '');
    const innerTitle = dnsLen > 0 && !withDns ? 'INNER (DNS name: Enter)' : 'INNER';
    cols = `  ${pad('PEER', 15)} ${pad('INTERFACE', ifW)} ${pad(full ? 'OUTER' : 'OUTER PORTS', outerW)} ${padL('VNI', 4)} ${pad(innerTitle, innerW)}${dnsCol('DNS NAME')} ${pad(full ? 'BAD CHECKSUMS' : 'BAD', csW)} ${padL('COUNT', 7)} ${padL('LAST', 5)}`;
    const outerText = (e: Endpoint | null): string => (full ? ep(e, ' > ') : e ? `:${e.sport ?? ''}>:${e.dport ?? ''}` : '-');
    text = (f) =>
      `${mark(f)} ${pad(peerCell(f.peer), 15)} ${padLabel(names.label(f.interface), ifW)} ${pad(outerText(f.outer), outerW)} ${padL(f.vni === null ? '-' : String(f.vni), 4)} ${pad(fitFlow(f.inner, full ? ' > ' : '>', innerW), innerW)}${dnsCol(f.dnsName ?? '')} ${pad(f.badChecksums.join(','), csW)} ${padL(fmtCount(f.count), 7)} ${padL(ago(f.lastSeen, now), 5)}`;
  }
  const total = state.shown?.snapshot.badFlows.length ?? 0;
  const errors = flows.filter(hasError).length;
  return {
    title: `Bad flows ${flows.length}${flows.length !== total ? ` of ${total}` : ''} (${errors} with errors, ${flows.length - errors} offload artefacts only)`,
    detail: `${ERROR_MARK} bad checksum, ${ARTEFACT_MARK} offload artefact (pseudo-header sum only, not an error); errors first, then by ${SORTS.flows[state.sort.flows]}${state.baseline ? ', counts since clear' : ''}`,
    columns: cols,
    count: flows.length,
    row: (i) => text(flows[i]),
    tone: (i) => (hasError(flows[i]) ? 'plain' : 'dim'),
    selected: selectedIndex(flows.map(flowKey), state.selected.flows),
  };
}

/**
 * What a finding is about, for a row: the peer (left out when the title names it, as
 * "VXLAN carriers from 192.168.189.4 ..." does, so the title keeps its room) and the
 * namespace/device, always: a title may be cut, the subject never.
 */
function subjectText(f: { title: string; subject: Finding['subject'] }, names: Names): string {
  const { peer, interface: iface } = f.subject;
  return [peer && !f.title.includes(peer) ? `peer ${peer}` : '', iface ? names.label(iface) : ''].filter(Boolean).join(' ');
}

function findingPane(state: DashboardState, o: RenderOptions, names: Names): PaneText {
  const list = visibleFindings(state);
  const now = state.shown?.snapshot.time ?? '';
  const text = (f: (typeof list)[number]): string => {
    // The subject (peer, namespace/device) comes before the title and is never cut: two
    // findings of one rule differ only by it. The title is cut instead (Enter shows it whole).
    const subject = subjectText(f, names);
    // Its evidence count (bad carriers, artefacts...): since start, or "+N" since `c`, so a
    // fix is checked by pressing c and watching it stay +0 (issue 19).
    const c = findingCount(state, f);
    const right = ` ${padL(c === null ? '' : `${c.sinceClear ? '+' : ''}${fmtCount(c.n)}`, 7)} ${padL(ago(f.lastSeen, now), 5)}`;
    // A live finding whose evidence stopped growing says what happened since (issue 13).
    const since = f.state ? `[${f.state.kind === 'fixed' ? 'FIXED?' : 'QUIET'} ${f.state.text}] ` : '';
    const head = `${pad(severityLabel(f.severity), 11)} ${subject ? `[${subject}] ` : ''}`;
    return `${pad(head + since + names.text(f.title), o.width - 2 - right.length)}${right}`;
  };
  return {
    title: `Findings ${list.length}`,
    detail: `sorted by ${SORTS.findings[state.sort.findings]}; count of evidence${state.baseline ? ' since clear' : ''}; Enter: evidence and remedy, H: history`,
    columns: null,
    count: list.length,
    row: (i) => text(list[i]),
    tone: (i) => list[i].severity,
    selected: selectedIndex(
      list.map((f) => f.key),
      state.selected.findings,
    ),
  };
}

/** Heights for the three panes (rows only) out of `room`, by need, never below 1. */
export function allocate(room: number, want: number[], share: number[]): number[] {
  const n = want.length;
  const got = new Array<number>(n).fill(1);
  let left = room - n;
  if (left <= 0) return got;
  for (let i = 0; i < n; i++) {
    const g = Math.min(Math.max(0, want[i] - 1), Math.floor(room * share[i]) - 1, left);
    if (g > 0) {
      got[i] += g;
      left -= g;
    }
  }
  // What one pane does not need goes to the others, in order of need.
  for (let i = 0; i < n && left > 0; i++) {
    const g = Math.min(Math.max(0, want[i] - got[i]), left);
    got[i] += g;
    left -= g;
  }
  got[0] += left;
  return got;
}

function paneLines(p: PaneText, pane: PaneId, state: DashboardState, o: RenderOptions, rowsRoom: number, empty: string): Line[] {
  const focused = state.focus === pane;
  const sel = Math.min(p.selected, Math.max(0, p.count - 1));
  const first = Math.max(0, Math.min(sel - Math.floor(rowsRoom / 2), p.count - rowsRoom));
  const shownCount = Math.min(rowsRoom, p.count - first);
  // Which rows are in view goes next to the count: a silent cut would hide rows.
  const range = shownCount < p.count ? ` [rows ${first + 1}-${first + shownCount}]` : '';
  const out: Line[] = [line(`${focused ? '>> ' : '   '}${p.title}${range}, ${p.detail}`, o.width, focused ? 'focus' : 'title')];
  if (p.columns !== null) out.push(line(`  ${p.columns}`, o.width, 'dim'));
  if (p.count === 0) {
    out.push(line(`  ${empty}`, o.width, 'dim'));
    for (let i = 1; i < rowsRoom; i++) out.push(line('', o.width));
    return out;
  }
  for (let i = first; i < first + shownCount; i++) {
    const isSel = focused && i === sel;
    out.push(line(`${isSel ? '> ' : '  '}${p.row(i)}`, o.width, isSel ? 'selected' : p.tone(i)));
  }
  for (let i = shownCount; i < rowsRoom; i++) out.push(line('', o.width));
  return out;
}

// ------------------------------------------------------------------ views

export function renderDashboard(state: DashboardState, o: RenderOptions): Line[] {
  let body: Line[];
  let scroll = 0;
  if (state.view.kind === 'help') body = helpView(state, o);
  else if (state.view.kind === 'finding') body = findingDetail(state, state.view.key, o);
  else if (state.view.kind === 'flow') body = flowDetail(state, state.view.key, o);
  else if (state.view.kind === 'history') body = historyView(state, o);
  else body = mainView(state, o);
  if (state.view.kind !== 'main') scroll = state.view.scroll;
  const room = Math.max(0, o.height - 2);
  // A detail longer than the screen scrolls (j/k); the status line says where it is.
  const first = Math.max(0, Math.min(scroll, body.length - room));
  const out = [header(state, o), ...body.slice(first, first + room)];
  while (out.length < o.height - 1) out.push(line('', o.width));
  out.push(
    body.length > room && state.view.kind !== 'main'
      ? line(`lines ${first + 1}-${first + room} of ${body.length}: j/k scroll, Esc back`, o.width, 'dim')
      : statusLine(state, o),
  );
  return out.slice(0, o.height);
}

function mainView(state: DashboardState, o: RenderOptions): Line[] {
  const names = namesFor(state, o);
  const ifp = interfacePane(state, o, names);
  const flp = flowPane(state, o, names);
  const fdp = findingPane(state, o, names);
  const top = banner(state, o);
  const legend = legendLines(state, names, o);
  // header + DNS + kernel + warning + status + 3 titles + 2 column lines (+ the demo's fix line) + the banner + the names legend
  const room = Math.max(3, o.height - 10 - (state.fix ? 1 : 0) - top.length - legend.length);
  const [a, b, c] = allocate(room, [ifp.count || 1, flp.count || 1, fdp.count || 1], [0.45, 0.3, 0.25]);
  const waiting = state.shown ? null : 'waiting for the first interval';
  return [
    ...top,
    ...paneLines(ifp, 'interfaces', state, o, a, waiting ?? (state.filter ? `no interface matches "${state.filter}"` : 'no interface captured')),
    ...paneLines(flp, 'flows', state, o, b, waiting ?? (state.filter ? `no bad flow matches "${state.filter}"` : 'no bad checksum seen')),
    ...paneLines(fdp, 'findings', state, o, c, waiting ?? 'no finding'),
    ...legend,
    ...(state.fix ? [fixLine(state, o)] : []),
    dnsLine(state, o),
    kernelStrip(state, o, names),
    warningLine(state, o),
  ];
}

/**
 * The top banner: each critical finding's answer (who, what, the command; the same
 * sentence as the report's first line, src/output/answer.ts), then what csumtop did not
 * see (src/model/blind.ts), wrapped so the command is on screen. Nothing when all is
 * well and seen. At 80x24 one answer is shown and the rest counted.
 */
function banner(state: DashboardState, o: RenderOptions): Line[] {
  const u = state.shown;
  if (!u) return [];
  const out: Line[] = [];
  // The filter applies here as in every pane (visibleFindings: the snapshot's findings).
  const answers = answerLines(visibleFindings(state));
  const shown = isCompact(o) ? 1 : 2;
  const said = (text: string, mark: string, tone: Tone, most: number): void => {
    wrap(text, Math.max(10, o.width - 3))
      .slice(0, most)
      .forEach((t, k) => out.push(line(`${k === 0 ? mark.padEnd(2) : '  '} ${t}`, o.width, tone)));
  };
  for (const a of answers.slice(0, shown)) {
    // The command is never cut: what happened gets two lines at most (cut with ~), the
    // "Run on WHERE: COMMAND" step all the lines it needs.
    const run = a.lastIndexOf('. Run on ');
    if (run < 0) {
      said(a, SEVERITY_SYMBOL.critical, 'critical', 3);
      continue;
    }
    const what = wrap(a.slice(0, run + 1), Math.max(10, o.width - 3));
    const kept = what.slice(0, 2);
    if (what.length > 2) kept[1] = `${kept[1].slice(0, Math.max(0, o.width - 4))}~`;
    kept.forEach((t, k) => out.push(line(`${k === 0 ? SEVERITY_SYMBOL.critical.padEnd(2) : '  '} ${t}`, o.width, 'critical')));
    for (const t of wrap(a.slice(run + 2), Math.max(10, o.width - 3))) out.push(line(`   ${t}`, o.width, 'critical'));
  }
  if (answers.length > shown) out.push(line(`   and ${answers.length - shown} more critical (findings pane, Enter for the evidence)`, o.width, 'critical'));
  // What was not seen: one line per kind of drop, each saying what it costs, never cut
  // at 80 columns (the header's "events dropped" count alone meant nothing to a reader).
  for (const l of blindLines(u.snapshot.blind)) out.push(line(`${SEVERITY_SYMBOL.warning.padEnd(2)} ${l}`, o.width, 'warning'));
  return out;
}

export const HELP_KEYS: Array<[string, string]> = [
  ['q, Ctrl-C', 'quit: the terminal is restored and keeps the answer (critical findings, what was not seen, totals)'],
  ['?', 'this help (? or Esc closes it)'],
  ['space, p', 'pause: capture continues, the screen freezes'],
  ['Tab, Shift-Tab', 'next / previous pane'],
  ['j k, arrows', 'move the selection (PgUp/PgDn, g/G); in a detail, scroll'],
  ['s', 'cycle the sort order of the focused pane'],
  ['r', 'rate window: 1 s, 10 s, 60 s rates, then totals (since start, or since c); the header says which'],
  ['/', 'filter by interface, peer, address or port (":53" = port 53, "peer:10.0.0.1" = that peer only); Enter applies, Esc cancels'],
  ['Enter', "detail: a finding's evidence and remedy (f there: its flows), a bad flow's latest frames and sampled frame; on an interface: filter to it"],
  ['Esc', 'back to the panes (from a detail, h or Backspace too); on the panes: clear the filter'],
  ['w', 'write the sampled bad frames of the shown flows to a pcap file (path in the status line)'],
  ['c', 'clear counters: counts and sparklines start again from now'],
  ['H', 'the findings history: each finding raised, gone quiet, fixed? or cleared, with its time'],
];

/** The columns and marks of the panes, in words. */
const COLUMNS_LEGEND =
  "Rates: per s over the header's window (r). BAD, OUT/IN: bad checksums; OFFL: offload artefacts, not errors. Flows: ! error, ~ artefact.";

/** Three lines at 80 columns: with the demo's F line the help still fits 80x24. */
const DROPS_LEGEND =
  'Header: capture drops = frames lost in a full capture ring (every count is a lower bound); ' +
  'events dropped = packets not correlated because csumtop fell behind: flows, matches, DNS/SYN and findings are a lower bound.';

function helpView(state: DashboardState, o: RenderOptions): Line[] {
  const out: Line[] = [line('Help: keys (? or Esc to close)', o.width, 'focus'), line('', o.width)];
  for (const [k, what] of HELP_KEYS) out.push(line(`  ${pad(k, 16)} ${what}`, o.width));
  if (state.fix) out.push(line(`  ${pad('F', 16)} apply the fix: csumtop's remedy for what this demo broke, inside the lab (${state.fix.what})`, o.width));
  out.push(line('', o.width));
  for (const l of wrap(COLUMNS_LEGEND, o.width - 4)) out.push(line(`  ${l}`, o.width, 'dim'));
  // The header's drop counts in words (issue 19), wrapped: they matter most at 80 columns.
  for (const l of wrap(DROPS_LEGEND, o.width - 4)) out.push(line(`  ${l}`, o.width, 'dim'));
  if (state.aliases.size > 0) {
    // Every alias, whole: the names line under the panes may list only those it has room for.
    const all = [...state.aliases].map(([ns, a]) => `${a} = ${ns}`).join(', ');
    for (const l of wrap(`Names: ${all}`, o.width - 4)) out.push(line(`  ${l}`, o.width, 'dim'));
  }
  out.push(
    line(
      `  Severity: ${severityLabel('critical')} traffic lost now (measured); ${severityLabel('warning')} breaks traffic where checked, loss not measured; ${severityLabel('info')} explanation, or fixed.`,
      o.width,
      'dim',
    ),
  );
  return out;
}

/** Breaks text into lines of at most `width` characters at spaces. */
export function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let cur = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (cur && cur.length + 1 + word.length > width) {
      out.push(cur);
      cur = '';
    }
    cur = cur ? `${cur} ${word}` : word;
    while (cur.length > width) {
      out.push(cur.slice(0, width));
      cur = cur.slice(width);
    }
  }
  if (cur) out.push(cur);
  return out;
}

const EVENT_WORD: Record<FindingEvent['event'], string> = { raised: 'raised', quiet: 'quiet', 'fixed?': 'fixed?', cleared: 'cleared' };

/** The findings history (H), newest first: when, what happened, the finding and its subject. */
function historyView(state: DashboardState, o: RenderOptions): Line[] {
  const names = namesFor(state, o);
  const out: Line[] = [line(`Findings history: ${state.history.length} events, newest first (times UTC; Esc back)`, o.width, 'focus')];
  if (state.history.length === 0) out.push(line('  no finding raised yet', o.width, 'dim'));
  for (const e of [...state.history].reverse()) {
    const subject = subjectText(e, names);
    const text = `${utcClock(e.time).replace(' UTC', '')}  ${pad(EVENT_WORD[e.event], 7)} ${pad(severityLabel(e.severity), 11)} ${subject ? `[${subject}] ` : ''}${names.text(e.title)}`;
    out.push(line(`  ${text}`, o.width, e.event === 'raised' ? e.severity : e.event === 'cleared' ? 'dim' : 'mark'));
  }
  out.push(...legendLines(state, names, o));
  return out;
}

function findingDetail(state: DashboardState, key: string, o: RenderOptions): Line[] {
  const f = findFinding(state, key);
  if (!f) return [line(`The finding ${key} is no longer reported. Esc goes back.`, o.width, 'dim')];
  const w = o.width - 4;
  const subject = f.subject.peer ?? f.subject.interface ?? f.subject.namespace;
  const out: Line[] = [line(`${severityLabel(f.severity)}  ${f.title}   (${subject ? 'f its flows, ' : ''}Esc back)`, o.width, f.severity)];
  out.push(line(`  ${f.id}  first ${f.firstSeen}  last ${f.lastSeen}`, o.width, 'dim'));
  const peerName = f.subject.peer ? peerNameOf(state, f.subject.peer) : null;
  if (peerName) out.push(line(`  peer ${f.subject.peer} is ${peerName}`, o.width));
  if (f.state) for (const l of wrap(`since: ${f.state.text}`, w)) out.push(line(`  ${l}`, o.width, 'mark'));
  for (const l of wrap(f.summary, w)) out.push(line(`  ${l}`, o.width));
  out.push(line('Evidence', o.width, 'title'));
  for (const e of f.evidence) {
    for (const l of wrap(`- ${e.name}: ${e.value === null ? 'unknown' : String(e.value)}${e.detail ? ` (${e.detail})` : ''}`, w))
      out.push(line(`  ${l}`, o.width));
  }
  out.push(line('Remedy', o.width, 'title'));
  if (f.remedy.length === 0) out.push(line('  none needed', o.width, 'dim'));
  f.remedy.forEach((r, i) => {
    out.push(line(`  ${i + 1}. on ${r.where}:`, o.width));
    // Commands are never wrapped: a wrapped command copies wrong.
    out.push(line(`     $ ${r.command}`, o.width, 'mark'));
    for (const l of wrap(r.why, w - 3)) out.push(line(`     ${l}`, o.width, 'dim'));
    if (r.persist) for (const l of wrap(`persist: ${r.persist}`, w - 3)) out.push(line(`     ${l}`, o.width, 'dim'));
  });
  if (f.references.length > 0) {
    out.push(line('References', o.width, 'title'));
    for (const l of wrap(f.references.join(', '), w)) out.push(line(`  ${l}`, o.width, 'dim'));
  }
  return out;
}

/**
 * A hex dump with the bytes of each bad checksum field in brackets: "[ff ff]" style,
 * one cell per byte ("[ff" opens, "ff]" closes) so columns stay aligned.
 */
export function hexDump(bytes: Uint8Array, marks: Array<{ offset: number; length: number }>, width: number): string[] {
  const marked = new Uint8Array(bytes.length);
  for (const m of marks) for (let i = m.offset; i < m.offset + m.length && i < bytes.length; i++) marked[i] = 1;
  // Offset (4) + 1, 3 per byte (separator + 2 hex digits), closing separator, ASCII column if it fits.
  const hexW = (n: number): number => 5 + n * 3 + 1;
  let per = 16;
  while (per > 4 && hexW(per) > width) per /= 2;
  const ascii = hexW(per) + 1 + per <= width;
  const out: string[] = [];
  for (let off = 0; off < bytes.length; off += per) {
    let hex = '';
    let text = '';
    const end = Math.min(bytes.length, off + per);
    for (let i = off; i < end; i++) {
      // The separator before a byte opens a marked run, closes the previous one, or is a space.
      const sep = marked[i] && (i === off || !marked[i - 1]) ? '[' : i > off && marked[i - 1] && !marked[i] ? ']' : ' ';
      hex += sep + bytes[i].toString(16).padStart(2, '0');
      text += bytes[i] >= 0x20 && bytes[i] < 0x7f ? String.fromCharCode(bytes[i]) : '.';
    }
    hex += marked[end - 1] ? ']' : ' ';
    hex = hex.padEnd(per * 3 + 1, ' ');
    out.push(`${off.toString(16).padStart(4, '0')} ${hex}${ascii ? ` ${text}` : ''}`.trimEnd());
  }
  return out;
}

function checksumLine(c: BadChecksum): string {
  const at = c.offset !== undefined ? ` at byte ${c.offset}` : '';
  return `${c.layer}/${c.protocol}: found ${hex16(c.found)} expected ${hex16(c.expected)}${at}${c.looksLikeOffload ? ' (looks like offload: field = pseudo-header sum)' : ''}`;
}

/** The name of a peer's address in the shown update, made printable; null when none is known. */
function peerNameOf(state: DashboardState, addr: string): string | null {
  const n = state.shown?.peerNames?.get(addr);
  return n === undefined ? null : printable(n);
}

function flowDetail(state: DashboardState, key: string, o: RenderOptions): Line[] {
  const f: BadFlowView | null = findFlow(state, key);
  if (!f) return [line('This flow is no longer in the table (evicted or cleared). Esc goes back.', o.width, 'dim')];
  const peerName = f.peer ? peerNameOf(state, f.peer) : null;
  const out: Line[] = [line(`Bad flow on ${f.interface}${f.peer ? `, peer ${f.peer}${peerName ? ` (${peerName})` : ''}` : ''}   (Esc back)`, o.width, 'focus')];
  out.push(line(`  outer ${ep(f.outer, ' > ')}   ${f.tunnel}${f.vni !== null ? ` VNI ${f.vni}` : ''}`, o.width));
  out.push(line(`  inner ${ep(f.inner, ' > ')}`, o.width));
  // On a line of its own: a query name is up to 253 characters (RFC 1035 2.3.4).
  if (f.dnsName) for (const l of wrap(`DNS ${f.dnsName}`, o.width - 2)) out.push(line(`  ${l}`, o.width));
  const artefacts =
    f.artefacts === 0
      ? ''
      : f.artefacts === f.count
        ? ', all offload artefacts (pseudo-header sum only, not errors)'
        : `, ${f.artefacts} of them offload artefacts (not errors)`;
  for (const l of wrap(`${f.count} bad frames (${f.badChecksums.join(', ')})${artefacts}, first ${f.firstSeen}, last ${f.lastSeen}`, o.width - 2))
    out.push(line(`  ${l}`, o.width, f.artefacts === f.count ? 'dim' : 'plain'));
  if (f.recent.length > 0) {
    out.push(line(`Latest ${f.recent.length === 1 ? 'bad frame' : `${f.recent.length} bad frames, newest first`}`, o.width, 'title'));
    for (const r of [...f.recent].reverse()) {
      const verdicts = r.checksums
        .map((c) => `${c.layer}/${c.protocol} ${hex16(c.found)}!=${hex16(c.expected)}${c.looksLikeOffload ? ' ~offload' : ''}`)
        .join(', ');
      out.push(line(`  #${r.frame}  ${r.time}  ${r.direction ?? '-'}  ${verdicts}`, o.width, r.checksums.every((c) => c.looksLikeOffload) ? 'dim' : 'plain'));
    }
  }
  const s = f.sample;
  if (!s) {
    out.push(line('  no sampled frame for this flow', o.width, 'dim'));
    return out;
  }
  out.push(line(`Sampled frame #${s.frame} at ${s.time}, ${s.bytes ? s.bytes.length : 0} of ${s.wirelen} bytes captured`, o.width, 'title'));
  for (const c of s.checksums) out.push(line(`  ${checksumLine(c)}`, o.width, 'critical'));
  if (!s.bytes) {
    out.push(line('  the source kept no bytes of this frame', o.width, 'dim'));
    return out;
  }
  const marks = s.checksums.filter((c) => c.offset !== undefined).map((c) => ({ offset: c.offset!, length: 2 }));
  out.push(line(marks.length > 0 ? '  checksum fields are in [brackets]' : '  (the source did not say where the checksum fields are)', o.width, 'dim'));
  for (const l of hexDump(s.bytes, marks, o.width - 2)) out.push(line(`  ${l}`, o.width, 'plain'));
  return out;
}
