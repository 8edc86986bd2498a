/**
 * When a finding is shown: it appears at the first evaluation whose evidence holds
 * (evaluations run every second, well within issue 4's 5 s) and, live, what happens once
 * its evidence stops growing (issue 13):
 *
 * - A loss inside csumtop (events or bad-frame records dropped, capture rings full) since
 *   the evidence last grew means it may have grown unseen: the finding stays as it is, and
 *   its hold starts again from the loss.
 * - A finding whose rule measures the traffic it concerns (carriers from a peer) says what
 *   happened since: "fixed" when that traffic went on with no new bad checksum, enough of
 *   it that the old rate would have shown FIXED_EXPECTED_BAD bad ones; "quiet" when it
 *   stopped too. A fixed finding drops to info once it stayed fixed for `holdNs`; a quiet
 *   one keeps its severity (nothing shows it is fixed). Both stay listed.
 * - Any other finding clears once its evidence has not grown for `holdNs`.
 *
 * A report over a whole capture keeps every finding that ever held.
 */
import type { Finding, FindingState, Severity } from '../model/findings.js';
import { isoOf } from '../correlate/context.js';
import type { DiagnosisInput } from './input.js';
import { RULES, type Candidate } from './rules.js';

/**
 * "fixed" needs this many bad ones expected at the old rate among the good traffic seen
 * since (0 seen where 3 were expected: a chance of about 5% under a Poisson rate), so an
 * intermittent fault (one bad carrier in ten) is not called fixed between two bad ones.
 */
export const FIXED_EXPECTED_BAD = 3;
/** "quiet" (no traffic since) is said after this long without the traffic (ns). */
export const QUIET_AFTER_NS = 3e9;

interface Seen {
  strength: number;
  firstNs: number;
  grewNs: number;
  /**
   * Since when "what happened since" is measured: the last growth of the evidence, or a
   * later loss inside csumtop (what came before it cannot be vouched for); and the
   * traffic count (Candidate.traffic) then.
   */
  baseNs: number;
  trafficAtBase: number | null;
  /** The traffic count when the evidence last grew: the old rate is strength / this. */
  trafficAtGrowth: number | null;
  last: Candidate;
  severity: Severity;
  state: FindingState | undefined;
  /** Listed at the latest evaluation (live). */
  active: boolean;
}

/** "10:21:07 UTC" of a capture time (ns). */
function clock(ns: number): string {
  return `${isoOf(ns).slice(11, 19)} UTC`;
}

export class FindingTracker {
  private readonly seen = new Map<string, Seen>();
  /** csumtop's own losses so far (events, records, ring drops) and when they last grew. */
  private lossTotal = 0;
  private lossNs = -Infinity;

  constructor(private readonly holdNs = 10e9) {}

  /** Active findings now (live), most severe first. */
  evaluate(input: DiagnosisInput): Finding[] {
    const now = input.nowNs;
    const loss = input.eventsDropped + input.recordsDropped + input.interfaces.reduce((a, i) => a + i.captureDrops, 0);
    const lost = loss > this.lossTotal;
    if (lost) this.lossNs = now;
    this.lossTotal = loss;
    for (const rule of RULES) {
      for (const c of rule(input)) {
        const s = this.seen.get(c.key);
        if (!s) {
          this.seen.set(c.key, {
            strength: c.strength,
            firstNs: now,
            grewNs: now,
            baseNs: now,
            trafficAtBase: c.traffic?.count ?? null,
            trafficAtGrowth: c.traffic?.count ?? null,
            last: c,
            severity: c.severity,
            state: undefined,
            active: true,
          });
        } else {
          if (c.strength > s.strength || lost) {
            if (c.strength > s.strength) {
              s.grewNs = now;
              s.trafficAtGrowth = c.traffic?.count ?? null;
            }
            s.baseNs = now;
            s.trafficAtBase = c.traffic?.count ?? null;
          }
          s.strength = c.strength;
          s.last = c;
        }
      }
    }
    for (const s of this.seen.values()) this.judge(s, now, input.live);
    return this.list((s) => s.active);
  }

  /**
   * Each finding's cumulative evidence count (its rule's `strength`: bad carriers, artefacts,
   * drops...) by key: the dashboard shows its growth since `c` (issue 19).
   */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [key, s] of this.seen) out[key] = s.strength;
    return out;
  }

  /** Every finding that held at some point (reports), with its latest state. */
  all(): Finding[] {
    return this.list(() => true);
  }

  /** Sets s.active, s.state and s.severity for this evaluation. */
  private judge(s: Seen, now: number, live: boolean): void {
    s.severity = s.last.severity;
    s.state = undefined;
    // Evidence that stopped arriving through a lossy path is not evidence that stopped:
    // the hold runs from the later of the last growth and the last loss.
    const held = now - Math.max(s.grewNs, this.lossNs) > this.holdNs;
    const t = s.last.traffic;
    if (!live || !t || s.trafficAtBase === null) {
      s.active = !held;
      return;
    }
    s.active = true;
    const since = t.count - s.trafficAtBase;
    const seconds = Math.floor((now - s.baseNs) / 1e9);
    // The old rate: bad ones per unit of traffic up to the last growth.
    const expectedBad = s.trafficAtGrowth ? (since * s.strength) / s.trafficAtGrowth : 0;
    const from = s.baseNs === s.grewNs ? clock(s.grewNs) : `csumtop last lost events (${clock(s.baseNs)}; the last bad one was seen at ${clock(s.grewNs)})`;
    if (since > 0 && expectedBad >= FIXED_EXPECTED_BAD) {
      s.state = {
        kind: 'fixed',
        since: isoOf(s.baseNs),
        seconds,
        trafficSince: since,
        text:
          s.baseNs === s.grewNs
            ? `fixed at ${from}? 0 ${t.bad} in the ${seconds} s since, while ${since} ${t.what} arrived with ${t.good}`
            : `fixed? 0 ${t.bad} in the ${seconds} s since ${from}, while ${since} ${t.what} arrived with ${t.good}`,
      };
      // Traffic has flowed clean for the whole hold: nothing is being lost now.
      if (held) s.severity = 'info';
    } else if (since === 0 && now - s.baseNs >= QUIET_AFTER_NS) {
      s.state = {
        kind: 'quiet',
        since: isoOf(s.baseNs),
        seconds,
        trafficSince: 0,
        text: `no ${t.what} since ${from} (${seconds} s): whether it is fixed cannot be seen`,
      };
    }
  }

  private list(keep: (s: Seen) => boolean): Finding[] {
    const order = { critical: 0, warning: 1, info: 2 };
    return [...this.seen.values()]
      .filter(keep)
      .map((s) => {
        const { strength: _strength, traffic: _traffic, ...f } = s.last;
        return { ...f, severity: s.severity, firstSeen: isoOf(s.firstNs), lastSeen: isoOf(s.grewNs), ...(s.state ? { state: s.state } : {}) };
      })
      .sort((a, b) => order[a.severity] - order[b.severity] || a.key.localeCompare(b.key));
  }
}
