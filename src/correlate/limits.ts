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
 * Resident memory follows the cap: memoryBoundBytes() below, asserted by
 * test/lab/million-flows.test.ts (a new flow per frame, 50,000 frames/s, through the
 * stop). Per flow of --max-flows, allocated once (resident from the start live, as entries
 * are written for a capture file: test/unit/table-residency.test.ts): the
 * native carrier-flow table (carrierFlowBytesPerEntry(): sizeof(CarrierFlowSlot) 216 + at
 * most 32 of index = 248 bytes, native/flow/carrier_flows.h), open DNS queries and SYN
 * attempts (native: DNS_BYTES_PER_ENTRY, 244, and SYN_BYTES_PER_ENTRY, 164, i.e.
 * TxnTable::kBytesPerEntry + sizeof(DnsEntry / SynEntry) in native/flow/dns_txns.h and
 * syn_txns.h), none of them a JavaScript object per entry (docs/line-rate.md), and
 * per capture thread the native bad-flow table (at most 216 bytes: native/flow/bad_flows.h;
 * a capture file's is resident only for the bad flows it keeps).
 */

/** Resident memory besides the per-flow tables and the rings: Node and the addon, V8's
 * heap between collections and the batches in flight at a high packet rate. Measured in
 * test/lab/million-flows.test.ts: 314-351 MiB peak in all at --max-flows 65536 with a
 * 32 MiB ring on a quiet machine, 480 MiB while other lab tests loaded both cores and
 * JavaScript fell behind (18% of the events dropped): what is left after the tables and
 * the ring of the latter, with ~10% to spare. */
export const BASE_MEMORY_BYTES = 440 * 2 ** 20;

/** Bytes per flow of --max-flows: carrier flow 248 + DNS 244 + SYN 164 (all native; the
 * unit tests check each against the sizes the addon reports), and the native bad-flow
 * table's 216 at most per capture thread: a 4-byte index of up to 4 slots per flow (16), the
 * flow (sizeof(BadFlow) 192) and its slot's number in a vector that may have doubled (8);
 * test/unit/bad-flow-table.test.ts checks the mapped bytes. It was 768 (2 to 4 slots of 192
 * bytes per flow) until the flows moved out of the slots. */
export const TABLE_BYTES_PER_FLOW = 656;
export const NATIVE_BYTES_PER_FLOW_PER_THREAD = 216;

/**
 * The resident memory csumtop stays under at these options, whatever the traffic:
 * BASE_MEMORY_BYTES + the rings + --max-flows x (TABLE_BYTES_PER_FLOW +
 * NATIVE_BYTES_PER_FLOW_PER_THREAD x --threads). At the defaults (65536 flows, one
 * thread) on one interface (the default 8 MiB ring): 440 + 8 + 54.5 = 502.5 MiB.
 */
export function memoryBoundBytes(o: { maxFlows: number; threads: number; ringBytes: number }): number {
  return BASE_MEMORY_BYTES + o.ringBytes + o.maxFlows * (TABLE_BYTES_PER_FLOW + NATIVE_BYTES_PER_FLOW_PER_THREAD * o.threads);
}

/** Default --max-flows. */
export const DEFAULT_MAX_FLOWS = 65536;

/**
 * Bad flows listed in a live run's final report (most frequent first; the report's
 * flowCount says how many there were): the report of a full 65,536-flow table took ~300
 * MB of JavaScript heap as the capture stopped (measured in test/lab/million-flows), past
 * the DaemonSet's memory limit, so a pod being stopped was OOM-killed before it could
 * print it. The per-interval JSON lines have already carried every bad frame.
 */
export const MAX_REPORT_FLOWS_LIVE = 4096;

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
 * interfaces (native/flow/sends.h), and retransmission times listed per SYN;
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
