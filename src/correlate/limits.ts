/**
 * The caps of every correlation table that grows with traffic (docs/design.md,
 * principle 4: "Bounded everything": fixed caps, an eviction policy, a counter).
 *
 * `--max-flows N` (default 65536) sets the per-flow tables: the native bad-flow table
 * (per capture thread), carrier flows, open DNS queries and SYN attempts, and the bad-flow
 * view (at most 4096: each entry keeps up to 4 KiB of its latest frame for the hex dump).
 * The others are fixed: they grow with the packet rate within a short window, or with
 * the number of peer nodes, not with flows.
 *
 * Resident memory follows the cap: RSS <= 320 MiB + 10 KiB x --max-flows, asserted by
 * test/lab/million-flows.test.ts (a new flow per frame). Measured there (VmHWM): 394 MiB
 * at --max-flows 16384 and 695 MiB at 65536 with 25,000 new flows/s, up to 859 MiB at
 * 65536 with 50,000/s when correlation keeps up; ~1.1 KiB per flow is live JavaScript
 * data after a full collection: V8 lets its heap grow to about three times its live
 * data before collecting. The native bad-flow
 * table is 384-768 bytes per flow per capture thread (flow/bad_flows.h). The carrier-flow
 * table holds no object per flow: carrierFlowBytesPerEntry() (161) x --max-flows bytes,
 * allocated once (docs/line-rate.md); DNS and SYN transactions are still objects.
 */

/** Default --max-flows. */
export const DEFAULT_MAX_FLOWS = 65536;

/** The bad-flow view (dashboard, JSON): its entries hold a sampled frame of up to 4 KiB. */
export const MAX_BAD_FLOW_VIEW = 4096;

/**
 * Packets waiting for their other side (carrier <-> decapsulated packet), per table per
 * namespace. Each waits at most the match window (1 s), so this is the packet rate one
 * node can be matched at: 262144 covers the ~210,000 frames/s one sender reaches on the
 * benchmark machine (bench/RESULTS-live.md).
 */
export const MAX_PENDING = 262144;

/** Peers (other nodes) per underlay interface and direction with their own row; 5000 is
 * Kubernetes' largest supported cluster ("Considerations for large clusters"). */
export const MAX_PEERS = 8192;

/** Sends of one DNS query or SYN remembered while they can still gain copies on other
 * interfaces (src/correlate/sends.ts), and retransmission times listed per SYN;
 * retransmissions beyond it still count. */
export const MAX_COPIES = 64;

export interface CorrelationLimits {
  carrierFlows: number;
  badFlowView: number;
  dnsTransactions: number;
  synAttempts: number;
  pending: number;
  peers: number;
}

/** The caps for `--max-flows N`. */
export function correlationLimits(maxFlows: number): CorrelationLimits {
  return {
    carrierFlows: maxFlows,
    badFlowView: Math.min(maxFlows, MAX_BAD_FLOW_VIEW),
    dnsTransactions: maxFlows,
    synAttempts: maxFlows,
    pending: MAX_PENDING,
    peers: MAX_PEERS,
  };
}
