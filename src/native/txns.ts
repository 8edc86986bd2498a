/**
 * Typed view of the native DNS and SYN transaction tables (native/napi/txn_napi.cc,
 * native/flow/syn_txns.h; issue 14): one call per batch, packed summaries whose layout
 * the addon exports (txnLayout(), from offsetof).
 */
import { fastLayout, loadAddon } from './addon.js';

/** Offsets of TxnAttribution (native/flow/txn_attribution.h) within a listed record. */
export interface AttributionLayout {
  outer: number;
  frames: number;
  place: number;
  sent: number;
  nChecksums: number;
  checksums: number;
  nFrames: number;
}

/** SynListed (native/flow/syn_txns.h) and the table's bytes per attempt of the cap. */
export interface SynListedLayout {
  size: number;
  client: number;
  firstNs: number;
  delay: number;
  syns: number;
  timesOff: number;
  timesN: number;
  answered: number;
  refused: number;
  attributed: number;
  attribution: AttributionLayout;
  /** TxnTable::kBytesPerEntry + sizeof(SynEntry): the table is this x cap bytes. */
  bytesPerEntry: number;
}

/** DnsListed (native/flow/dns_txns.h) and the table's bytes per query of the cap. */
export interface DnsListedLayout {
  size: number;
  client: number;
  firstNs: number;
  latency: number;
  queries: number;
  nameOff: number;
  nameLen: number;
  id: number;
  qtype: number;
  answered: number;
  rcode: number;
  attributed: number;
  attribution: AttributionLayout;
  /** TxnTable::kBytesPerEntry + sizeof(DnsEntry): the table is this x cap bytes. */
  bytesPerEntry: number;
  /** kMaxKeptUnanswered: unanswered queries kept for resends and late answers. */
  maxKeptUnanswered: number;
}

export interface TxnLayout {
  syn: SynListedLayout;
  dns: DnsListedLayout;
  txnTableBytesPerEntry: number;
  unlistedPlace: number;
}

export interface NativeSynSummary {
  /** connections, answered, refused, unanswered, retransmitted, attributed */
  counts: Float64Array;
  /** (retransmissions, count) pairs, in the order the buckets first filled. */
  delayedBy: Float64Array;
  /** SynListed records, most recent first. */
  listed: Buffer;
  /** Retransmission times (s after the first SYN) the records point into. */
  times: Float64Array;
}

/** What the DNS and SYN tables have in common (native/napi/txn_napi.cc TxnsWrap). */
export interface NativeTxnTable<Summary> {
  /** One batch: its FrameEvents, its name buffer, the (id, place, flags) words of the listed interfaces. */
  add(events: Buffer, names: Buffer, placePairs: Uint32Array): void;
  /** Transactions older than the timeout are decided. */
  advance(nowNs: number): void;
  /** Every transaction still open is decided (the end of a file or a capture). */
  flush(): void;
  summary(): Summary;
  /** [size, cap, evicted] */
  tableUse(): Float64Array;
  /** Bytes the table allocated (at most bytesPerEntry x cap). */
  bytes(): number;
}

export type NativeSynTxns = NativeTxnTable<NativeSynSummary>;

export interface NativeDnsSummary {
  /** queries, answered, unanswered, retries, attributed */
  counts: Float64Array;
  /** [median, worst] answer latency in ms; empty when nothing was answered. */
  latency: Float64Array;
  /** DnsListed records, most recent first. */
  listed: Buffer;
  /** The query names the records point into. */
  names: Buffer;
}

export type NativeDnsTxns = NativeTxnTable<NativeDnsSummary>;

interface TxnAddon {
  DnsTxns: new (cap: number, timeoutNs: number, copyWindowNs: number, maxListed: number, resident: boolean) => NativeDnsTxns;
  SynTxns: new (cap: number, timeoutNs: number, copyWindowNs: number, maxListed: number, resident: boolean) => NativeSynTxns;
  txnLayout(): TxnLayout;
}

let layout: TxnLayout | null = null;

export function txnLayout(): TxnLayout {
  return (layout ??= fastLayout((loadAddon() as unknown as TxnAddon).txnLayout()));
}

/** `resident`: the table's memory in use from the start (live capture) or as transactions
 * come (a capture file); native/flow/table_memory.h, Residency. */
export function createSynTxns(cap: number, timeoutNs: number, copyWindowNs: number, maxListed: number, resident = true): NativeSynTxns {
  return new (loadAddon() as unknown as TxnAddon).SynTxns(cap, timeoutNs, copyWindowNs, maxListed, resident);
}

export function createDnsTxns(cap: number, timeoutNs: number, copyWindowNs: number, maxListed: number, resident = true): NativeDnsTxns {
  return new (loadAddon() as unknown as TxnAddon).DnsTxns(cap, timeoutNs, copyWindowNs, maxListed, resident);
}
