/**
 * When a finding is shown: it appears at the first evaluation whose evidence holds
 * (evaluations run every second, well within issue 4's 5 s) and clears once its
 * evidence has not grown for `holdNs` (live). A report over a whole capture keeps
 * every finding that ever held.
 */
import type { Finding } from '../model/findings.js';
import { isoOf } from '../correlate/context.js';
import type { DiagnosisInput } from './input.js';
import { RULES, type Candidate } from './rules.js';

interface Seen {
  strength: number;
  firstNs: number;
  grewNs: number;
  last: Candidate;
}

export class FindingTracker {
  private readonly seen = new Map<string, Seen>();

  constructor(private readonly holdNs = 10e9) {}

  /**
   * Active findings now (live), most severe first. `lossNs`: when csumtop last dropped
   * something on the way to the rules (ring, events, records; 0: never). A finding is
   * held until its evidence has not grown for holdNs while nothing was dropped: evidence
   * that stops arriving through a path that drops is not evidence of a fix (issue 13 s.3).
   */
  evaluate(input: DiagnosisInput, lossNs = 0): Finding[] {
    for (const rule of RULES) {
      for (const c of rule(input)) {
        const s = this.seen.get(c.key);
        if (!s) this.seen.set(c.key, { strength: c.strength, firstNs: input.nowNs, grewNs: input.nowNs, last: c });
        else {
          if (c.strength > s.strength) s.grewNs = input.nowNs;
          s.strength = c.strength;
          s.last = c;
        }
      }
    }
    return this.list((s) => input.nowNs - Math.max(s.grewNs, lossNs) <= this.holdNs);
  }

  /** Every finding that held at some point (reports). */
  all(): Finding[] {
    return this.list(() => true);
  }

  private list(keep: (s: Seen) => boolean): Finding[] {
    const order = { critical: 0, warning: 1, info: 2 };
    return [...this.seen.values()]
      .filter(keep)
      .map((s) => {
        const { strength: _strength, ...f } = s.last;
        return { ...f, firstSeen: isoOf(s.firstNs), lastSeen: isoOf(s.grewNs) };
      })
      .sort((a, b) => order[a.severity] - order[b.severity] || a.key.localeCompare(b.key));
  }
}
