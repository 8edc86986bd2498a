/**
 * The answer first (issue 13 s.5): one sentence per critical finding, the same in the
 * report's first lines, the dashboard's top banner and what `q` prints when the
 * dashboard closes. Who (node address and device), what (which checksum, how many of
 * how many, what was lost: the first sentence of the finding's summary, which the rules
 * write that way), and the one command to run where. The long evidence follows
 * elsewhere; this is what an operator reads at 3 a.m.
 */
import { blindSentence, type Blindness } from '../model/blind.js';
import type { Finding } from '../model/findings.js';

/** The summary's first sentence (up to the first ". " followed by a capital letter). */
function firstSentence(text: string): string {
  const m = /^(.*?[.!?])\s+(?=[A-Z])/s.exec(text);
  return (m ? m[1] : text).trim();
}

/** "node 10.0.0.2, seen on B/vlb" / "on eth0": where the finding is (interface labels carry their namespace live). */
function who(f: Finding): string {
  const s = f.subject;
  if (s.peer && s.interface) return `node ${s.peer}, seen on ${s.interface}`;
  if (s.peer) return `node ${s.peer}`;
  if (s.interface) return `on ${s.interface}`;
  return s.namespace ? `in ${s.namespace}` : 'here';
}

/** One line: "CRITICAL (who): what. Run on WHERE: COMMAND". */
export function answerSentence(f: Finding): string {
  const what = firstSentence(f.summary).replace(/[.;:]$/, '');
  const step = f.remedy[0];
  const fix = step ? ` Run on ${step.where}: ${step.command}` : '';
  return `${f.severity.toUpperCase()} (${who(f)}): ${what}.${fix}`;
}

/** The answer lines: one per critical finding, most severe first as the tracker orders them. */
export function answerLines(findings: readonly Finding[]): string[] {
  return findings.filter((f) => f.severity === 'critical').map(answerSentence);
}

/**
 * What the live dashboard prints when it closes (`q`, a signal): the answer lines, what
 * was not seen, and one line of totals, so the terminal keeps the conclusion.
 */
export function closingSummary(findings: readonly Finding[], blind: Blindness, totals: { frames: number; badFrames: number }): string {
  const lines = answerLines(findings);
  if (lines.length === 0) lines.push(`No critical finding.`);
  const b = blindSentence(blind);
  if (b !== null) lines.push(b);
  lines.push(`csumtop: ${totals.frames} frames captured, ${totals.badFrames} with bad checksums.`);
  return lines.join('\n') + '\n';
}
