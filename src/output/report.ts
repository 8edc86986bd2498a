/**
 * Builds the ReportDocument (src/model/report.ts) from a finished analysis. The text
 * report and --json both render this one object, so they cannot disagree.
 */
import * as path from 'node:path';

import { formatTimeNs } from '../model/addr.js';
import {
  REPORT_VERSION,
  type BadFrameReport,
  type ChecksumRow,
  type FlowReport,
  type InterfaceReport,
  type ReportDocument,
} from '../model/report.js';
import { KINDS, LAYERS, MALFORMED_REASONS, STATUSES, TUNNELS, type MalformedReason } from '../model/verdict.js';
import type { FileRun } from '../capture/file-run.js';
import { nativeLayout, type FileInterface, type NativeLayout } from '../native/analyzer.js';
import { badChecksumFromNative, endpointFromNative, isVniTunnel } from './records.js';

export interface ToolInfo {
  version: string;
  checksumPath: string;
}

/** pcapng if_name; else the file's name, with #N when the file has several interfaces. */
export function interfaceNames(filePath: string, ifaces: FileInterface[], count: number): string[] {
  const base = path.basename(filePath);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = ifaces[i]?.name;
    names.push(name ? name : count > 1 ? `${base}#${i}` : base);
  }
  return names;
}

function percent(bad: number, total: number): number {
  return total === 0 ? 0 : Math.round((bad / total) * 100 * 1000) / 1000;
}

function interfaceReport(
  name: string,
  linktype: number,
  c: Float64Array,
  base: number,
  L: NativeLayout,
): InterfaceReport {
  const at = (slot: number): number => c[base + slot];
  const malformedReasons: Partial<Record<MalformedReason, number>> = {};
  for (let r = 1; r < L.numMalformed; r++) {
    const n = at(L.malformedBase + r);
    if (n > 0) malformedReasons[MALFORMED_REASONS[r]] = n;
  }
  const checksums: ChecksumRow[] = [];
  for (let layer = 0; layer < L.numLayers; layer++) {
    for (let kind = 0; kind < L.numKinds; kind++) {
      const counts = STATUSES.map((_, s) => at(L.csumBase + (layer * L.numKinds + kind) * L.numStatus + s));
      const packets = counts.reduce((a, b) => a + b, 0);
      if (packets === 0) continue;
      const [ok, bad, absent, unverifiable, pending, validated] = counts;
      checksums.push({
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
  return {
    name,
    linktype,
    frames: at(L.slots.frames),
    bytes: at(L.slots.bytes),
    badFrames: at(L.slots.badFrames),
    malformed: at(L.slots.malformed),
    malformedReasons,
    truncated: at(L.slots.truncated),
    unsupported: at(L.slots.unsupported),
    checksums,
  };
}

function badMaskNames(mask: number, numKinds: number): string[] {
  const out: string[] = [];
  for (let bit = 0; bit < 32; bit++) {
    if (mask & (1 << bit)) out.push(`${LAYERS[Math.floor(bit / numKinds)]}/${KINDS[bit % numKinds]}`);
  }
  return out;
}

export function buildReport(run: FileRun, tool: ToolInfo): ReportDocument {
  const L = nativeLayout();
  const count = Math.floor(run.counters.length / L.counterStride);
  const names = interfaceNames(run.path, run.interfaces, count);
  const interfaces: InterfaceReport[] = [];
  for (let i = 0; i < count; i++) {
    interfaces.push(interfaceReport(names[i], run.interfaces[i]?.linktype ?? -1, run.counters, i * L.counterStride, L));
  }
  const flows: FlowReport[] = run.flows
    .map((f) => ({
      interface: names[f.iface] ?? `#${f.iface}`,
      outer: endpointFromNative(f.outer),
      tunnel: f.hasInner ? TUNNELS[f.tunnel] ?? 'none' : 'none',
      vni: f.hasInner && isVniTunnel(f.tunnel) ? f.vni : null,
      inner: f.inner ? endpointFromNative(f.inner) : null,
      badChecksums: badMaskNames(f.badMask, L.numKinds),
      count: f.count,
      first: formatTimeNs(f.firstNs),
      last: formatTimeNs(f.lastNs),
      example: { frame: f.exampleFrame, checksums: f.example.map(badChecksumFromNative) },
      _first: f.firstNs,
    }))
    // Most frequent first; ties by first appearance so the order is stable.
    .sort((a, b) => b.count - a.count || (a._first < b._first ? -1 : a._first > b._first ? 1 : 0))
    .map(({ _first, ...rest }) => rest);

  const sum = (slot: number): number => {
    let s = 0;
    for (let i = 0; i < count; i++) s += run.counters[i * L.counterStride + slot];
    return s;
  };
  const doc: ReportDocument = {
    version: REPORT_VERSION,
    tool: { name: 'csumtop', version: tool.version, checksumPath: tool.checksumPath },
    source: {
      kind: 'file',
      path: run.path,
      format: run.stats.format,
      frames: run.stats.frames,
      bytes: sum(L.slots.bytes),
      first: run.stats.frames > 0 ? formatTimeNs(run.stats.firstNs) : null,
      last: run.stats.frames > 0 ? formatTimeNs(run.stats.lastNs) : null,
      cutShort: run.cutShort !== null,
      warnings: run.error ? [...run.warnings, run.error] : run.warnings,
    },
    totals: {
      frames: sum(L.slots.frames),
      badFrames: sum(L.slots.badFrames),
      badChecksums: sum(L.slots.badChecksums),
      malformed: sum(L.slots.malformed),
      looksLikeOffload: sum(L.slots.looksPartial),
    },
    interfaces,
    flows,
    flowsEvicted: run.stats.flowsEvicted,
  };
  if (run.badFrames) {
    doc.badFrames = run.badFrames.map(
      (r): BadFrameReport => ({
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
      }),
    );
  }
  return doc;
}
