/**
 * What csumtop's capture says of the packets the kernel dropped (issue 18): each kernel
 * drop is matched to the frame csumtop captured of it (native/kdrops/frame_match.h), and
 * the findings say how many were seen, with which verdict, and why the others were not.
 * Every count here is one the native matcher resolved; drops it has not resolved yet are
 * said to be waiting, never counted as seen.
 */
import { KERNEL_DROP_OUTCOMES, type KernelDropCount, type KernelDropOutcome, type KernelDropOutcomes, type KernelDropReason } from './correlation.js';

export function noOutcomes(): KernelDropOutcomes {
  return { seenBad: 0, seenGood: 0, seenUnverified: 0, notCaptured: 0, ringDrop: 0, notSeen: 0, tableFull: 0 };
}

export function resolvedOf(o: KernelDropOutcomes): number {
  return KERNEL_DROP_OUTCOMES.reduce((s, k) => s + o[k], 0);
}

export interface KernelMatch {
  total: number;
  outcomes: KernelDropOutcomes;
  pending: number;
}

export function sumMatch(rows: readonly KernelDropCount[]): KernelMatch {
  const outcomes = noOutcomes();
  let total = 0;
  let pending = 0;
  for (const r of rows) {
    total += r.total;
    pending += r.pending;
    for (const k of KERNEL_DROP_OUTCOMES) outcomes[k] += r.outcomes[k];
  }
  return { total, outcomes, pending };
}

/** The drops csumtop did not see, by why. */
export const UNSEEN = ['notCaptured', 'ringDrop', 'notSeen', 'tableFull'] as const satisfies readonly KernelDropOutcome[];

export function unseenOf(m: KernelMatch): number {
  return UNSEEN.reduce((s, k) => s + m.outcomes[k], 0);
}

/** Why a drop was not seen, or what csumtop saw when it does not agree. */
export const OUTCOME_WORDS: Record<Exclude<KernelDropOutcome, 'seenBad'>, string> = {
  seenGood: 'seen by csumtop with that checksum verified good (csumtop disagrees)',
  seenUnverified: 'seen by csumtop, which could not verify that checksum (offload or truncation)',
  notCaptured: 'not seen: the device is not captured',
  ringDrop: "not seen: csumtop's capture ring of the device dropped frames then",
  notSeen: 'not seen on the captured device (a capture filter, -c, or NAT rewrote the packet before the drop)',
  tableFull: "not matched: csumtop's bounded match tables overflowed, so whether it was seen is not known",
};

/**
 * "all 6 seen by csumtop with a bad outer checksum", or "4 of 6 seen by csumtop with a bad
 * outer checksum; 2 not seen: the device is not captured". `bad` names the checksum
 * the kernel's reason is about, as csumtop reports it.
 */
export function matchText(m: KernelMatch, bad: string): string {
  if (m.total === 0) return 'none';
  const seen = m.outcomes.seenBad;
  if (seen === m.total) return `all ${m.total} seen by csumtop with ${bad}`;
  const parts = [`${seen} of ${m.total} seen by csumtop with ${bad}`];
  for (const k of Object.keys(OUTCOME_WORDS) as Array<keyof typeof OUTCOME_WORDS>) {
    if (m.outcomes[k] > 0) parts.push(`${m.outcomes[k]} ${OUTCOME_WORDS[k]}`);
  }
  if (m.pending > 0) parts.push(`${m.pending} not matched yet (waiting for their frame, or csumtop stopped first)`);
  return parts.join('; ');
}

/** The checksum (or header) a kernel drop reason says was bad, in csumtop's words. */
export function badOf(reason: KernelDropReason): string {
  switch (reason) {
    case 'UDP_CSUM':
      return 'a bad UDP checksum';
    case 'TCP_CSUM':
      return 'a bad TCP checksum';
    case 'ICMP_CSUM':
      return 'a bad ICMP checksum';
    case 'IP_CSUM':
      return 'a bad IPv4 header checksum';
    case 'IP_INHDR':
      return 'a malformed IPv4 header';
    case 'SKB_CSUM':
      return 'a bad checksum';
  }
}
