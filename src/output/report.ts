/**
 * Builds the ReportDocument (src/model/report.ts) from the counters, flows and records
 * of any source (a capture file, a live capture). The text report and --json both
 * render this one object, so they cannot disagree.
 */
import type { CorrelationSnapshot } from '../model/correlation.js';

import { formatTimeNs } from '../model/addr.js';
import {
  REPORT_VERSION,
  type BadFrameReport,
  type ChecksumRow,
  type FlowReport,
  type InterfaceReport,
  type ListedReports,
  type ReportDocument,
  type SourceReport,
} from '../model/report.js';
import { KINDS, LAYERS, MALFORMED_REASONS, STATUSES, TUNNELS, UNDECODED_REASONS, type MalformedReason, type UndecodedReason } from '../model/verdict.js';
import { interfaceNames, type FileRun } from '../capture/file-run.js';
import { nativeLayout, type NativeFlow, type NativeLayout } from '../native/analyzer.js';
import { csumSlot } from '../native/counters.js';
import type { DecodedRecord } from '../model/bad-frame.js';
import type { InterfaceFacts } from '../model/interface.js';
import { badChecksumFromNative, isVniTunnel } from '../native/records.js';
import type { ListedFrames } from './listed-frames.js';

export interface ToolInfo {
  version: string;
  checksumPath: string;
}

/**
 * What a source contributes about one interface besides its counters: the name the report
 * gives it (its label) and its link type; a live capture adds the interface as it knows it
 * (its facts, src/model/interface.ts, and how its capture stood at the end).
 */
export interface InterfaceMeta {
  name: string;
  linktype: number;
  live?: LiveInterfaceMeta;
}

/** A live interface at the end of the capture: `ifindex` finds a VXLAN device's underlay
 * among the interfaces of its namespace (vxlan.link). */
export type LiveInterfaceMeta = InterfaceFacts & { ifindex: number; captureDrops: number; attached: boolean; folded?: number };

export interface ReportInput {
  source: Omit<SourceReport, 'bytes'>;
  /** Index i describes counters[i * stride ...] and flows/records with iface i. */
  interfaces: InterfaceMeta[];
  counters: Float64Array;
  flows: NativeFlow[];
  /** How many flows there are, when `flows` holds only the most frequent. */
  flowCount?: number;
  flowsEvicted: number;
  /** --list: the frames kept, and the report row of a record's interface id (live: a vanished one's folded row). */
  badFrames: ListedFrames | null;
  badFrameRow?: (id: number) => number;
  /** Live sources count outgoing frames. */
  live: boolean;
  /** The final correlation snapshot, when correlation ran. */
  correlation?: CorrelationSnapshot | null;
}

function percent(bad: number, total: number): number {
  return total === 0 ? 0 : Math.round((bad / total) * 100 * 1000) / 1000;
}

/** The checksum rows of one interface's counters (only rows with packets). */
export function checksumRows(c: Float64Array, base: number, L: NativeLayout): ChecksumRow[] {
  const rows: ChecksumRow[] = [];
  for (let layer = 0; layer < L.numLayers; layer++) {
    for (let kind = 0; kind < L.numKinds; kind++) {
      const counts = STATUSES.map((_, s) => c[base + csumSlot(L, layer, kind, s)]);
      const packets = counts.reduce((a, b) => a + b, 0);
      if (packets === 0) continue;
      const [ok, bad, absent, unverifiable, pending, validated] = counts;
      rows.push({
        layer: LAYERS[layer],
        protocol: KINDS[kind],
        packets,
        ok,
        bad,
        badPercent: percent(bad, packets),
        absent,
        unverifiable,
        pending,
        validated,
      });
    }
  }
  return rows;
}

function interfaceReport(meta: InterfaceMeta, c: Float64Array, base: number, L: NativeLayout, live: boolean, all: readonly InterfaceMeta[]): InterfaceReport {
  const at = (slot: number): number => c[base + slot] ?? 0;
  const malformedReasons: Partial<Record<MalformedReason, number>> = {};
  for (let r = 1; r < L.numMalformed; r++) {
    const n = at(L.malformedBase + r);
    if (n > 0) malformedReasons[MALFORMED_REASONS[r]] = n;
  }
  const unsupportedReasons: InterfaceReport['unsupportedReasons'] = {};
  for (let r = 1; r < L.numUndecoded; r++) {
    const n = at(L.undecodedBase + r);
    if (n > 0) unsupportedReasons[UNDECODED_REASONS[r] as Exclude<UndecodedReason, 'none'>] = n;
  }
  const report: InterfaceReport = {
    name: meta.name,
    linktype: meta.linktype,
    frames: at(L.slots.frames),
    bytes: at(L.slots.bytes),
    badFrames: at(L.slots.badFrames),
    malformed: at(L.slots.malformed),
    malformedReasons,
    truncated: at(L.slots.truncated),
    unsupported: at(L.slots.unsupported),
    unsupportedReasons,
    checksums: checksumRows(c, base, L),
  };
  const i = meta.live;
  if (live && i) {
    Object.assign(report, {
      namespace: i.namespace,
      kind: i.kind,
      role: i.role,
      driver: i.driver,
      txChecksumOffload: i.txChecksumOffload,
      outgoing: at(L.slots.outgoing),
      captureDrops: i.captureDrops,
      attached: i.attached,
      ...(i.folded !== undefined ? { folded: i.folded } : {}),
      ...(i.vxlan
        ? {
            vxlan: {
              vni: i.vxlan.vni,
              port: i.vxlan.port,
              underlay: all.map((u) => u.live).find((u) => u?.namespace === i.namespace && u.ifindex === i.vxlan!.link)?.name ?? null,
              local: i.vxlan.local,
              udpCsum: i.vxlan.udpCsum,
            },
          }
        : {}),
    });
  }
  return report;
}

function badMaskNames(mask: number, numKinds: number): string[] {
  const out: string[] = [];
  for (let bit = 0; bit < 32; bit++) {
    if (mask & (1 << bit)) out.push(`${LAYERS[Math.floor(bit / numKinds)]}/${KINDS[bit % numKinds]}`);
  }
  return out;
}

function flowReports(flows: NativeFlow[], names: string[], L: NativeLayout): FlowReport[] {
  return (
    flows
      .map((f) => ({
        interface: names[f.iface] ?? `#${f.iface}`,
        outer: f.outer,
        tunnel: f.hasInner ? (TUNNELS[f.tunnel] ?? 'none') : 'none',
        vni: f.hasInner && isVniTunnel(f.tunnel) ? f.vni : null,
        inner: f.inner ?? null,
        badChecksums: badMaskNames(f.badMask, L.numKinds),
        count: f.count,
        first: formatTimeNs(f.firstNs),
        last: formatTimeNs(f.lastNs),
        example: { frame: f.exampleFrame, checksums: f.example.map(badChecksumFromNative) },
        firstNs: f.firstNs,
      }))
      // Most frequent first; ties by first appearance so the order is stable.
      .sort((a, b) => b.count - a.count || (a.firstNs < b.firstNs ? -1 : a.firstNs > b.firstNs ? 1 : 0))
      .map(({ firstNs: _, ...rest }) => rest)
  );
}

export function badFrameReport(r: DecodedRecord, names: string[]): BadFrameReport {
  return {
    frame: r.frame,
    interface: names[r.iface] ?? `#${r.iface}`,
    time: formatTimeNs(r.tsNs),
    caplen: r.caplen,
    wirelen: r.wirelen,
    outer: r.outer,
    tunnel: r.tunnel,
    vni: r.vni,
    inner: r.inner,
    checksums: r.checksums,
    ...(r.direction ? { direction: r.direction } : {}),
  };
}

function notVerifiedReasons(interfaces: InterfaceReport[]): ReportDocument['totals']['notVerifiedReasons'] {
  const out: ReportDocument['totals']['notVerifiedReasons'] = {};
  for (const i of interfaces) {
    for (const [k, v] of Object.entries(i.unsupportedReasons) as [keyof typeof out, number][]) out[k] = (out[k] ?? 0) + v;
  }
  return out;
}

export function buildReport(input: ReportInput, tool: ToolInfo): ReportDocument {
  const L = nativeLayout();
  const count = input.interfaces.length;
  const names = input.interfaces.map((i) => i.name);
  const interfaces = input.interfaces.map((meta, i) => interfaceReport(meta, input.counters, i * L.counterStride, L, input.live, input.interfaces));
  const sum = (slot: number): number => {
    let s = 0;
    for (let i = 0; i < count; i++) s += input.counters[i * L.counterStride + slot] ?? 0;
    return s;
  };
  const doc: ReportDocument = {
    version: REPORT_VERSION,
    tool: { name: 'csumtop', version: tool.version, checksumPath: tool.checksumPath },
    source: { ...input.source, bytes: sum(L.slots.bytes) },
    totals: {
      frames: sum(L.slots.frames),
      badFrames: sum(L.slots.badFrames),
      badChecksums: sum(L.slots.badChecksums),
      malformed: sum(L.slots.malformed),
      looksLikeOffload: sum(L.slots.looksPartial),
      notVerified: sum(L.slots.unsupported),
      notVerifiedReasons: notVerifiedReasons(interfaces),
    },
    interfaces,
    flows: flowReports(input.flows, names, L),
    flowsEvicted: input.flowsEvicted,
  };
  if (input.flowCount !== undefined && input.flowCount > input.flows.length) doc.flowCount = input.flowCount;
  if (input.correlation) {
    const c = input.correlation;
    doc.findings = c.findings;
    doc.correlation = {
      peers: c.peers,
      flows: c.flows,
      flowsEvicted: c.flowsEvicted,
      eventsDropped: c.eventsDropped,
      overlayUnattributed: c.overlayUnattributed,
      dns: c.dns,
      syn: c.syn,
      kernel: c.kernel,
      ...(c.kernelDrops ? { kernelDrops: c.kernelDrops } : {}),
      ...(c.tables ? { tables: c.tables } : {}),
    };
  }
  return doc;
}

/** The report's --list frames, made into report objects as they are written (null without --list). */
export function listedReports(input: ReportInput): ListedReports | null {
  const frames = input.badFrames;
  if (!frames) return null;
  const names = input.interfaces.map((i) => i.name);
  return {
    count: frames.length,
    *reports() {
      for (const r of frames.records(input.badFrameRow)) yield badFrameReport(r, names);
    },
  };
}

/** The report input of a finished capture-file analysis. */
export function fileReportInput(run: FileRun): ReportInput {
  const L = nativeLayout();
  const count = Math.floor(run.counters.length / L.counterStride);
  const names = interfaceNames(run.path, run.interfaces, count);
  return {
    source: {
      kind: 'file',
      path: run.path,
      format: run.stats.format,
      frames: run.stats.frames,
      first: run.stats.frames > 0 ? formatTimeNs(run.stats.firstNs) : null,
      last: run.stats.frames > 0 ? formatTimeNs(run.stats.lastNs) : null,
      cutShort: run.cutShort !== null,
      ...(run.interrupted !== null ? { interrupted: run.interrupted } : {}),
      ...(run.filter !== null ? { filter: run.filter } : {}),
      ...(run.count !== null ? { count: run.count } : {}),
      warnings: run.error ? [...run.warnings, run.error] : run.warnings,
    },
    interfaces: names.map((name, i) => ({ name, linktype: run.interfaces[i]?.linktype ?? -1 })),
    counters: run.counters,
    flows: run.flows,
    flowCount: run.flowCount,
    flowsEvicted: run.stats.flowsEvicted,
    badFrames: run.badFrames,
    live: false,
    correlation: run.correlation,
  };
}
