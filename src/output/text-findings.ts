/**
 * The findings and correlation part of the text report: what is wrong and what to do
 * first (an operator reads the top of the report at 3 a.m.), then the per-peer
 * underlay-vs-overlay comparison and the DNS / TCP SYN symptoms.
 */
import type { Attribution } from '../model/correlation.js';
import type { ReportCorrelation } from '../model/report.js';
import { SEVERITY_SYMBOL, type Finding } from '../model/findings.js';
import { badOf, matchText, resolvedOf, sumMatch } from '../model/kernel-match.js';

/**
 * The bad carrier a symptom travelled in. "from" names the node that sent the carrier
 * (its outer source address) and "to" the node it was sent to, whichever of the two
 * captured it: never the pod addresses inside.
 */
export function carrierWords(a: Attribution): string {
  return `carrier from ${a.sender} to ${a.receiver} on ${a.interface} had bad ${a.checksums.join(', ')} (frames ${a.frames.join(', ')})`;
}

export function renderFindings(findings: Finding[]): string[] {
  const out: string[] = [];
  if (findings.length === 0) {
    out.push('Findings: none');
    out.push('');
    return out;
  }
  out.push(`Findings (${findings.length}):`);
  for (const f of findings) {
    out.push(`[${SEVERITY_SYMBOL[f.severity]}] ${f.severity.toUpperCase()} ${f.title}`);
    out.push(`    ${f.summary}`);
    if (f.state) out.push(`    since: ${f.state.text}`);
    for (const e of f.evidence) out.push(`    - ${e.name}: ${String(e.value)}${e.detail ? ` (${e.detail})` : ''}`);
    for (const r of f.remedy) {
      out.push(`    remedy on ${r.where}: ${r.command}`);
      out.push(`      why: ${r.why}`);
      if (r.persist) out.push(`      persist: ${r.persist}`);
    }
    if (f.references.length > 0) out.push(`    references: ${f.references.join('; ')}`);
  }
  out.push('');
  return out;
}

/** Kernel drop rows in the text report; the JSON report has every one. */
const MAX_KERNEL_DROP_LINES = 20;

export function renderCorrelation(c: ReportCorrelation): string[] {
  const out: string[] = [];
  if (c.peers.length > 0 || c.overlayUnattributed > 0) {
    out.push('Carriers per peer (underlay vs overlay):');
    for (const p of c.peers) {
      const match =
        p.delivered === null
          ? 'overlay not captured'
          : `delivered ${p.delivered}, lost ${p.lost} (${p.lostBad} with bad checksums)` +
            (p.unmatchedOverlay > 0 ? `, ${p.unmatchedOverlay} overlay packets never encapsulated` : '');
      out.push(
        // The underlay label already names a namespace other than the host's ("ns/eth0");
        // a capture file's interfaces have none.
        `  ${p.underlay} ${p.direction} ${p.peer}${p.vni !== null ? ` vni ${p.vni}` : ''}: ${p.carriers} carriers, ` +
          `bad outer ${p.badOuter}, bad inner ${p.badInner}, bad ipv4 ${p.badIpv4}; ${match}`,
      );
    }
    if (c.overlayUnattributed > 0) out.push(`  overlay packets never encapsulated, to no known peer: ${c.overlayUnattributed}`);
    out.push('');
  }
  const d = c.dns;
  if (d.queries > 0) {
    out.push(
      `DNS: ${d.queries} queries, ${d.answered} answered, ${d.unanswered} unanswered (${d.attributed} in carriers with bad checksums), ${d.retries} retries` +
        (d.latencyP50Ms !== null ? `, latency median ${d.latencyP50Ms} ms, max ${d.latencyMaxMs} ms` : ''),
    );
    for (const q of d.unansweredList.slice(0, 10)) {
      out.push(
        `  unanswered: ${q.name} ${q.qtype} id ${q.id} ${q.client}:${q.clientPort} -> ${q.server}:${q.serverPort} (${q.queries} sent)` +
          (q.attributedTo ? `; ${carrierWords(q.attributedTo)}` : ''),
      );
    }
    out.push('');
  }
  const k = c.kernelDrops;
  if (k && (k.drops.length > 0 || k.other > 0 || k.ringFull > 0)) {
    out.push(
      k.matching
        ? `Kernel drops (kernel verdict: eBPF on skb:kfree_skb; each looked for among the frames captured up to ${k.matchWindowMs / 1000} s before it):`
        : 'Kernel drops (kernel verdict: eBPF on skb:kfree_skb; not matched to captured frames: the libpcap backend does not hand its frames over):',
    );
    for (const d of k.drops.slice(0, MAX_KERNEL_DROP_LINES)) {
      const seen = k.matching ? `, ${matchText(sumMatch([d]), badOf(d.reason))}${d.frame !== null ? ` (last matched frame ${d.frame})` : ''}` : '';
      out.push(`  ${d.namespace} ${d.device} ${d.reason} from ${d.peer ?? 'unknown'}: ${d.total} dropped${seen}`);
    }
    if (k.drops.length > MAX_KERNEL_DROP_LINES) out.push(`  and ${k.drops.length - MAX_KERNEL_DROP_LINES} more (the JSON report has them all)`);
    if (k.other > 0) {
      const seen = k.matching
        ? `, ${matchText({ total: k.other, outcomes: k.otherOutcomes, pending: k.other - resolvedOf(k.otherOutcomes) }, 'the checksum the kernel names bad')}`
        : '';
      out.push(`  under keys past the table's ${k.keys.cap}: ${k.other} dropped${seen}`);
    }
    if (k.ringFull > 0) out.push(`  ${k.ringFull} more drops the kernel made were not counted: csumtop's eBPF ring buffer was full`);
    out.push('');
  }
  const s = c.syn;
  if (s.connections > 0) {
    const delays = Object.entries(s.delayedBy)
      .map(([k, v]) => `${v} after ${k}`)
      .join(', ');
    out.push(
      `TCP: ${s.connections} connection attempts, ${s.answered} answered, ${s.refused} refused (RST), ${s.unanswered} unanswered (${s.attributed} in carriers with bad checksums), ` +
        `${s.retransmitted} needed retransmitted SYNs${delays ? ` (${delays})` : ''}`,
    );
    for (const a of s.slowList.slice(0, 10)) {
      const outcome = a.answered ? `answered after ${a.delaySeconds} s` : a.refused ? `refused after ${a.delaySeconds} s` : 'unanswered';
      out.push(
        `  ${outcome}: ${a.client}:${a.clientPort} -> ${a.server}:${a.serverPort}, ${a.syns} ${a.syns === 1 ? 'SYN' : 'SYNs'}` +
          (a.attributedTo ? `; ${carrierWords(a.attributedTo)}` : ''),
      );
    }
    out.push('');
  }
  return out;
}
