/**
 * Renders a ReportDocument as the plain-text report of `csumtop -r`: per interface a
 * table of layer x protocol, then the flows with bad checksums, then notes.
 */
import { hex16 } from '../model/addr.js';
import { printable } from './printable.js';
import { blindSentence } from '../model/blind.js';
import { answerLines } from './answer.js';
import { renderCorrelation, renderFindings } from './text-findings.js';
import type { BadChecksum } from '../model/bad-frame.js';
import type { Endpoint } from '../model/endpoint.js';
import type { BadFrameReport, FlowReport, InterfaceReport, ListedReports, ReportDocument } from '../model/report.js';

const LINKTYPE_NAMES: Record<number, string> = {
  0: 'BSD loopback',
  1: 'Ethernet',
  9: 'PPP, not decoded',
  12: 'raw IP',
  14: 'raw IP',
  50: 'PPP in HDLC, not decoded',
  101: 'raw IP',
  105: '802.11, not decoded',
  108: 'OpenBSD loopback',
  113: 'Linux cooked (SLL)',
  127: '802.11 radiotap, not decoded',
  228: 'raw IPv4',
  229: 'raw IPv6',
  239: 'Linux NFLOG',
  276: 'Linux cooked v2 (SLL2)',
  281: 'Broadcom DSA tag, not decoded',
  282: 'Broadcom DSA tag (prepended), not decoded',
  284: 'Marvell DSA tag, not decoded',
  285: 'Marvell EDSA tag, not decoded',
};

const PROTO_NAMES: Record<number, string> = { 1: 'icmp', 4: 'ipip', 6: 'tcp', 17: 'udp', 41: 'ipv6', 47: 'gre', 58: 'icmpv6' };

export function protoName(p: number): string {
  return PROTO_NAMES[p] ?? `proto ${p}`;
}

function hostPort(addr: string, port: number | null, family: 4 | 6): string {
  if (port === null) return addr;
  return family === 6 ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/** "10.0.0.1:5353 > 10.0.0.2:53 udp" (ICMP shows type/code instead of ports). */
export function formatEndpoint(e: Endpoint): string {
  const p = protoName(e.proto);
  if (e.proto === 1 || e.proto === 58) {
    const tc = e.sport !== null ? ` type ${e.sport} code ${e.dport}` : '';
    return `${e.src} > ${e.dst} ${p}${tc}`;
  }
  return `${hostPort(e.src, e.sport, e.family)} > ${hostPort(e.dst, e.dport, e.family)} ${p}`;
}

/** "outer udp 0x7427 -> 0x6287" in tcpdump's notation; marks likely offload. */
export function formatBadChecksum(b: BadChecksum): string {
  const note = b.looksLikeOffload ? ' (pseudo-header sum only: transmit offload?)' : '';
  return `${b.layer} ${b.protocol} ${hex16(b.found)} -> ${hex16(b.expected)}${note}`;
}

function pad(s: string | number, n: number, left = false): string {
  const t = String(s);
  return left ? t.padEnd(n) : t.padStart(n);
}

function tunnelText(tunnel: string, vni: number | null): string {
  if (tunnel === 'none') return '';
  // The JSON field is `vni` for every tunnel; for GRE it holds the key (RFC 2890).
  return vni === null ? tunnel : `${tunnel} ${tunnel === 'gre' ? 'key' : 'vni'} ${vni}`;
}

/** "link-type 3, mpls-payload 1" */
function reasonList(reasons: Record<string, number | undefined>): string {
  return Object.entries(reasons)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

function flowLine(f: FlowReport): string[] {
  const lines = [
    `  ${pad(f.count, 8)}  ${f.interface}  ${formatEndpoint(f.outer)}` + (f.inner ? `  [${tunnelText(f.tunnel, f.vni)}]  ${formatEndpoint(f.inner)}` : ''),
    `            bad: ${f.badChecksums.join(', ')}; first ${f.first}, last ${f.last}`,
    `            e.g. frame ${f.example.frame}: ${f.example.checksums.map(formatBadChecksum).join('; ')}`,
  ];
  return lines;
}

export function formatBadFrame(b: BadFrameReport): string {
  const where = b.outer ? formatEndpoint(b.outer) : '';
  const inner = b.inner ? `  [${tunnelText(b.tunnel, b.vni)}]  ${formatEndpoint(b.inner)}` : '';
  const dir = b.direction ? ` ${b.direction}` : '';
  return `${b.frame} ${b.time} ${b.interface}${dir} ${where}${inner}  ${b.checksums.map(formatBadChecksum).join('; ')}`;
}

function liveDescription(i: InterfaceReport): string {
  if (i.folded !== undefined) return `${i.folded} interface${i.folded === 1 ? '' : 's'} that vanished before those listed, counts added together`;
  const parts = [`namespace ${i.namespace}`];
  if (i.kind) parts.push(i.kind);
  if (i.role && i.role !== i.kind) parts.push(i.role);
  if (i.driver && i.driver !== i.kind) parts.push(`driver ${i.driver}`);
  if (i.txChecksumOffload !== undefined && i.txChecksumOffload !== null) parts.push(`tx checksum offload ${i.txChecksumOffload ? 'on' : 'off'}`);
  if (i.vxlan) {
    const v = i.vxlan;
    parts.push(
      `vni ${v.vni ?? '?'} port ${v.port ?? '?'}` +
        (v.underlay ? ` over ${v.underlay}` : '') +
        (v.udpCsum === null ? '' : v.udpCsum ? ' udpcsum' : ' noudpcsum'),
    );
  }
  if (i.attached === false) parts.push('gone');
  return parts.join(', ');
}

/** The whole text report as one string (tests, short reports); textReportPieces streams it. */
export function renderText(doc: ReportDocument, opts: { maxFlows: number }, list: ListedReports | null = null): string {
  return [...textReportPieces(doc, opts, list)].join('');
}

/** Lines of the bad-frame list per piece. */
const LIST_LINES_PER_PIECE = 1024;

/**
 * The text report in pieces: everything up to the bad-frame list, the list a thousand
 * lines at a time (made from the packed records only as the reader takes them: issue 17
 * item 10), then the notes and warnings.
 */
export function* textReportPieces(doc: ReportDocument, opts: { maxFlows: number }, list: ListedReports | null = null): Generator<string> {
  let out: string[] = [];
  const s = doc.source;
  const span = s.first ? `, ${s.first} .. ${s.last}` : '';
  // The answer first (issue 13 s.5): one sentence per critical finding, then what
  // csumtop could not see (s.3), then the evidence.
  const answer = answerLines(doc.findings ?? []);
  const blind = doc.blind ? blindSentence(doc.blind) : null;
  out.push(...answer);
  if (blind !== null) out.push(blind);
  if (answer.length > 0 || blind !== null) out.push('');
  if (s.kind === 'live') {
    out.push(
      `csumtop ${doc.tool.version}: live capture (${s.path}) for ${s.durationSeconds ?? 0} s, ${s.frames} frames, ` +
        `${s.bytes} bytes, ${s.captureDrops ?? 0} dropped by the kernel${span}`,
    );
  } else {
    out.push(`csumtop ${doc.tool.version}: ${s.path} (${s.format}, ${s.frames} frames, ${s.bytes} bytes${span})`);
  }
  if (s.filter) {
    // A generated filter may be kilobytes long (--json keeps it whole).
    const e = s.filter.expression;
    const shown = e.length <= 200 ? e : `${e.slice(0, 200)}... (${e.length} characters)`;
    out.push(
      `filter: ${printable(shown)}` +
        (s.filter.skipped !== undefined ? ` (${s.filter.skipped} frames did not match and are not counted)` : ' (only matching frames are counted)'),
    );
  }
  if (s.count?.reached) out.push(`stopped at ${s.count.limit} frames (-c ${s.count.limit})`);
  out.push(`checksum engine: ${doc.tool.checksumPath}`);
  out.push('');
  if (doc.findings) out.push(...renderFindings(doc.findings));
  const live = s.kind === 'live';
  for (const i of doc.interfaces) {
    const lt = i.namespace !== undefined ? liveDescription(i) : (LINKTYPE_NAMES[i.linktype] ?? `link type ${i.linktype}`);
    out.push(
      `Interface ${i.name} (${lt}): ${i.frames} frames, ${i.badFrames} with bad checksums, ` +
        `${i.malformed} malformed, ${i.truncated} truncated` +
        (i.unsupported ? `, ${i.unsupported} not decoded` : '') +
        (i.namespace !== undefined ? `, ${i.outgoing ?? 0} sent by this host, ${i.captureDrops ?? 0} dropped` : ''),
    );
    if (i.checksums.length > 0) {
      out.push(
        `  ${pad('layer', 5, true)}  ${pad('protocol', 8, true)} ${pad('packets', 10)} ${pad('ok', 10)} ${pad('bad', 8)} ${pad('bad%', 8)} ${pad('absent', 8)} ${pad('unverif.', 8)}` +
          (live ? ` ${pad('pending', 8)} ${pad('valid.', 8)}` : ''),
      );
      for (const r of i.checksums) {
        out.push(
          `  ${pad(r.layer, 5, true)}  ${pad(r.protocol, 8, true)} ${pad(r.packets, 10)} ${pad(r.ok, 10)} ${pad(r.bad, 8)} ${pad(r.badPercent.toFixed(3), 8)} ${pad(r.absent, 8)} ${pad(r.unverifiable, 8)}` +
            (live ? ` ${pad(r.pending, 8)} ${pad(r.validated, 8)}` : ''),
        );
      }
    }
    const reasons = Object.entries(i.malformedReasons);
    if (reasons.length > 0) {
      out.push(`  malformed: ${reasons.map(([k, v]) => `${k} ${v}`).join(', ')}`);
    }
    if (i.unsupported > 0) out.push(`  not decoded: ${reasonList(i.unsupportedReasons)}`);
    out.push('');
  }
  if (doc.correlation) out.push(...renderCorrelation(doc.correlation));
  const flowCount = doc.flowCount ?? doc.flows.length;
  const t = doc.totals;
  if (t.notVerified > 0) {
    // Never "No bad checksums." over frames csumtop could not look into (issue 13).
    out.push(
      `Not verified: ${t.notVerified} of ${t.frames} frames, which csumtop cannot decode in full ` +
        `(${reasonList(t.notVerifiedReasons)}); checksums inside them are not counted.`,
    );
  }
  if (flowCount === 0) {
    out.push(t.notVerified > 0 ? 'No bad checksums in the frames verified.' : 'No bad checksums.');
  } else {
    const shown = doc.flows.slice(0, opts.maxFlows);
    out.push(`Flows with bad checksums (${shown.length} of ${flowCount}, most frequent first):`);
    for (const f of shown) out.push(...flowLine(f));
  }
  if (doc.flowsEvicted > 0) out.push(`(${doc.flowsEvicted} more flows not kept: the flow table was full)`);
  // Interface names, DNS names, namespaces and warnings come from files, packets and
  // the kernel: no line may carry a control character to the terminal (printable.ts).
  const flush = (): string => {
    const text = out.map((l) => printable(l) + '\n').join('');
    out = [];
    return text;
  };
  if (list) {
    out.push('');
    out.push(`Frames with bad checksums (${list.count}):`);
    yield flush();
    for (const b of list.reports()) {
      out.push(`  ${formatBadFrame(b)}`);
      if (out.length >= LIST_LINES_PER_PIECE) yield flush();
    }
  }
  if (doc.totals.looksLikeOffload > 0) {
    out.push('');
    out.push(
      `Note: ${doc.totals.looksLikeOffload} of ${doc.totals.badChecksums} bad checksums hold exactly the pseudo-header sum. ` +
        'That is what transmit checksum offload leaves in a packet captured on the sending host before the NIC ' +
        "fills it in: likely not an error on the wire. A file does not carry the kernel's per-packet checksum " +
        'status; capture live with csumtop on that host to have the kernel tell.',
    );
  }
  if (doc.written) {
    out.push('');
    const w = doc.written;
    const extra = [
      w.contextFrames !== undefined ? `${w.contextFrames} context frames` : null,
      w.files !== undefined ? `${w.files} files (rotated)` : null,
      w.notWritten !== undefined ? `${w.notWritten} not written` : null,
    ].filter((x) => x !== null);
    out.push(`Wrote ${w.frames} frames with bad checksums to ${w.path}${extra.length > 0 ? ` (${extra.join(', ')})` : ''}`);
  }
  for (const w of s.warnings) {
    out.push('');
    out.push(`warning: ${w}`);
  }
  yield flush();
}
