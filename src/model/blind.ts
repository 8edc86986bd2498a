/**
 * What csumtop did not see, on the way from the wire to its outputs (issue 13 s.3:
 * "never silently blind"). Every output says it where the operator looks, in the same
 * words: the dashboard's banner, the report's first lines, a `warning` JSON line, and
 * the metrics (csumtop_blind_total).
 *
 * The native counters (frames, checksum verdicts, bad frames) see every frame the kernel
 * hands over, so totals and the exit status stay exact; what the drops below cost is the
 * detail: flows, matches, DNS/SYN symptoms, per-frame lines, and therefore findings.
 */
export interface Blindness {
  /** Frames the kernel dropped because a capture ring was full (PACKET_STATISTICS): not even counted. */
  ringDrops: number;
  /** Correlation events dropped because JavaScript fell behind (its queue of batches full; libpcap: a batch full). */
  eventsDropped: number;
  /** Bad frames counted natively but not reported one by one (the same causes). */
  recordsDropped: number;
}

export const NOT_BLIND: Blindness = { ringDrops: 0, eventsDropped: 0, recordsDropped: 0 };

export function isBlind(b: Blindness): boolean {
  return b.ringDrops > 0 || b.eventsDropped > 0 || b.recordsDropped > 0;
}

/**
 * The kinds of drop, in the order they are said, with the words for each: `words` for the
 * report's sentence, `line` for the dashboard's banner, one line each that fits 80
 * columns with its count (at most 77 characters for a count of up to 9 digits), named as
 * the dashboard's header names the count.
 */
const PARTS: Array<{ key: keyof Blindness; words: (n: number) => string; line: (n: number) => string }> = [
  {
    key: 'ringDrops',
    words: (n) => `the kernel dropped ${n} frames before csumtop saw them (capture ring full: every count is a lower bound)`,
    line: (n) => `capture drops ${n}: capture ring full; every count is a lower bound`,
  },
  {
    key: 'eventsDropped',
    words: (n) => `${n} packets were counted but not correlated (csumtop fell behind: flows, matches, DNS/SYN symptoms and findings are incomplete)`,
    line: (n) => `events dropped ${n}: csumtop fell behind; correlation is a lower bound`,
  },
  {
    key: 'recordsDropped',
    words: (n) => `${n} bad frames were counted but not reported one by one (csumtop fell behind: the flow list and per-frame lines miss them)`,
    line: (n) => `bad frames not listed ${n}: csumtop fell behind; flow list is incomplete`,
  },
];

/** One sentence saying what was not seen so far, or null when nothing was dropped. */
export function blindSentence(b: Blindness): string | null {
  const said = PARTS.filter((p) => b[p.key] > 0).map((p) => p.words(b[p.key]));
  if (said.length === 0) return null;
  return `NOT SEEING EVERYTHING: ${said.join('; ')}.`;
}

/**
 * What was not seen so far as short lines, one per kind of drop (the dashboard's banner:
 * at 80 columns the sentence took up to five lines and was cut after two, hiding what
 * "events dropped" meant, issue 19). Empty when nothing was dropped.
 */
export function blindLines(b: Blindness): string[] {
  return PARTS.filter((p) => b[p.key] > 0).map((p) => p.line(b[p.key]));
}

/** Whether `now` dropped more of any kind than `before`. */
export function blindGrew(now: Blindness, before: Blindness): boolean {
  return PARTS.some((p) => now[p.key] > before[p.key]);
}
