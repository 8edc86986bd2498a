/**
 * Test oracle only (issue 14): the JavaScript implementation the native transaction
 * tables (native/flow/dns_txns.h, syn_txns.h, sends.h, txn_table.h) replaced, kept for the
 * differential tests of test/unit/native-txns.test.ts. Not used by csumtop.
 *
 * DNS query -> answer (RFC 1035 4.1.1: the answer repeats the query's id and question,
 * from the server's port 53 to the client's port): unanswered queries, retries, latency
 * and the query name. The same packet seen on several interfaces (pod veth, flannel.1,
 * inside a carrier on eth0) is one query; the same query seen again on an interface that
 * already saw it is a retry (a new send), whatever its IPv4 id (src/correlate/sends.ts).
 * An answer inside a carrier with a bad checksum does not count as answered: the client's
 * kernel drops that carrier.
 */
import type { Attribution, DnsSummary, DnsTransaction, TableUse } from '../../src/model/correlation.js';
import { endpointAt, type EndpointOffsets, type EventBatch, type EventFlags } from '../../src/native/events.js';
import { isoOf, type InterfaceDirectory } from '../../src/correlate/context.js';
import { placeOf, SEND_SLOTS_BYTES_PER_ENTRY, SendSlots } from './sends.js';
import { attribute, copyAttribution, isBad } from './symptoms.js';
import { TXN_TABLE_BYTES_PER_ENTRY, TxnTable } from './txn-table.js';

// RFC 1035 3.2.2 and the IANA registry, for the common ones; others print as numbers.
const QTYPES: Record<number, string> = {
  1: 'A',
  2: 'NS',
  5: 'CNAME',
  6: 'SOA',
  12: 'PTR',
  15: 'MX',
  16: 'TXT',
  28: 'AAAA',
  33: 'SRV',
  65: 'HTTPS',
  255: 'ANY',
};
const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

/** Query name bytes kept in the table per query; a longer name (rare: most are under 64) is kept as a string aside. */
const NAME_INLINE = 64;

/** Bits of a query's state. */
const CLOSED = 1; // counted unanswered after the timeout (kept for resends and a late answer)
const ANSWERED = 2;

/**
 * Bytes per query in the table, besides its client endpoint (one FlowEndpoint, epSize)
 * and a name longer than NAME_INLINE: index (TXN_TABLE_BYTES_PER_ENTRY), first and last
 * send, latency, name hash (4 x 8), queries (4), id and qtype (2 x 2), state, rcode and
 * name length (3), the name (NAME_INLINE), the sends (SEND_SLOTS_BYTES_PER_ENTRY).
 */
export const DNS_BYTES_PER_ENTRY = TXN_TABLE_BYTES_PER_ENTRY + 4 * 8 + 4 + 2 * 2 + 3 + NAME_INLINE + SEND_SLOTS_BYTES_PER_ENTRY;

/**
 * How long a query counted unanswered is kept for resends with the same id and for a
 * late answer: the stub resolver resends the same query after its timeout (glibc
 * resolv.conf `timeout:5 attempts:2` by default, so the resend comes exactly when csumtop's
 * 5 s timeout closes the first send), and a resend is the same transaction, not a new
 * query. Also the window in which a new id for the same name counts as a retry.
 */
const RESEND_KEEP_NS = 30e9;

/**
 * At most this many unanswered queries are kept past their timeout for resends and late
 * answers (the oldest go first): a flood of queries nobody answers would otherwise hold
 * RESEND_KEEP_NS / timeout = 6 times the open table for nothing but that (the hostile-
 * traffic lab saw resident memory climb through its whole 20 s blast). A stub resolver's
 * resend comes within seconds, so the newest kept are the ones that matter.
 */
export const MAX_KEPT_UNANSWERED = 4096;

export interface DnsOptions {
  /** A query unanswered this long is unanswered: glibc's resolv.conf default timeout is 5 s. */
  timeoutNs: number;
  maxTransactions: number;
  maxListed: number;
  /** Sightings of one query this close on different interfaces are one send (the
   * carrier/overlay match window, src/correlate/matcher.ts; default 1 s). */
  copyWindowNs?: number;
}

export class DnsTracker {
  /** Open and kept queries by the native transaction key (query and answer share it). */
  private readonly table: TxnTable;
  private readonly firstNs: Float64Array;
  /** The latest send (kept unanswered queries are forgotten RESEND_KEEP_NS after it). */
  private readonly lastNs: Float64Array;
  private readonly latencyMs: Float64Array;
  /** Client address, name and qtype hashed: the key of lastUnanswered. */
  private readonly nameKey: Float64Array;
  private readonly queries: Uint32Array;
  private readonly id: Uint16Array;
  private readonly qtype: Uint16Array;
  private readonly state: Uint8Array;
  private readonly rcode: Uint8Array;
  private readonly nameLen: Uint8Array;
  private readonly names: Uint8Array;
  /** Names longer than NAME_INLINE, by slot. */
  private readonly longNames = new Map<number, string>();
  private readonly sends: SendSlots;
  /** The client's FlowEndpoint bytes per slot (allocated with the first batch, which
   * carries the layout). */
  private endpoints: Uint8Array | null = null;
  private E: EndpointOffsets | null = null;
  private readonly attributions = new Map<number, Attribution>();
  /** The view of each query counted unanswered (listed): kept up to date while its query
   * is in the table, as the list shows it (summary() hands out copies). */
  private readonly views = new Map<number, DnsTransaction>();
  /** Keys of the queries counted unanswered and kept, oldest first (some may be gone since). */
  private kept: number[] = [];
  private readonly lastUnanswered = new Map<number, number>();
  private readonly latencies: number[] = [];
  private readonly unansweredList: DnsTransaction[] = [];
  private s = { queries: 0, answered: 0, unanswered: 0, retries: 0, attributed: 0 };
  evicted = 0;

  constructor(
    private readonly F: EventFlags,
    private readonly opts: DnsOptions = { timeoutNs: 5e9, maxTransactions: 65536, maxListed: 100 },
  ) {
    const cap = opts.maxTransactions;
    this.table = new TxnTable(cap);
    this.firstNs = new Float64Array(cap);
    this.lastNs = new Float64Array(cap);
    this.latencyMs = new Float64Array(cap);
    this.nameKey = new Float64Array(cap);
    this.queries = new Uint32Array(cap);
    this.id = new Uint16Array(cap);
    this.qtype = new Uint16Array(cap);
    this.state = new Uint8Array(cap);
    this.rcode = new Uint8Array(cap);
    this.nameLen = new Uint8Array(cap);
    this.names = new Uint8Array(cap * NAME_INLINE);
    this.sends = new SendSlots(cap, opts.copyWindowNs ?? 1e9);
    // Resident from the start (see TxnTable).
    for (const a of [
      this.firstNs,
      this.lastNs,
      this.latencyMs,
      this.nameKey,
      this.queries,
      this.id,
      this.qtype,
      this.state,
      this.rcode,
      this.nameLen,
      this.names,
    ])
      a.fill(0);
  }

  /** Bytes of the typed arrays: (DNS_BYTES_PER_ENTRY + epSize) x maxTransactions. */
  get bytes(): number {
    const arrays = [
      this.firstNs,
      this.lastNs,
      this.latencyMs,
      this.nameKey,
      this.queries,
      this.id,
      this.qtype,
      this.state,
      this.rcode,
      this.nameLen,
      this.names,
    ];
    return this.table.bytes + arrays.reduce((n, a) => n + a.byteLength, 0) + this.sends.bytes + (this.endpoints?.byteLength ?? 0);
  }

  add(ev: EventBatch, dir: InterfaceDirectory): void {
    const F = this.F;
    for (let i = 0; i < ev.count; i++) {
      const flags = ev.flags(i);
      if (flags & F.dnsQuery) this.query(ev, i, flags, dir);
      else if (flags & F.dnsAnswer) this.answer(ev, i, flags, dir);
    }
  }

  private query(ev: EventBatch, i: number, flags: number, dir: InterfaceDirectory): void {
    const key = ev.txn(i);
    const ts = ev.tsNs(i);
    const place = placeOf(ev.iface(i), ev.direction(i));
    let t = this.table.get(key);
    if (t < 0) {
      t = this.table.add(key);
      if (t < 0) {
        this.evicted++;
        return;
      }
      this.begin(t, ev, i, ts);
      this.sends.start(t, ev.match(i), place, ts);
      this.s.queries++;
      // A new id for a name this client just failed to resolve is a retry (the stub
      // resolver moved on to its next attempt).
      const last = this.lastUnanswered.size > 0 ? this.lastUnanswered.get(this.nameKey[t]) : undefined;
      if (last !== undefined && ts - last < RESEND_KEEP_NS) this.s.retries++;
    } else if (this.sends.see(t, ev.match(i), place, ts)) {
      // The same id and question sent again: a retry of this query (RFC 1035 4.2.1),
      // also after it was counted unanswered.
      this.queries[t]++;
      this.s.retries++;
      if (ts > this.lastNs[t]) this.lastNs[t] = ts;
      this.refresh(t);
    }
    if (isBad(flags, this.F)) {
      const had = this.attributions.has(t);
      this.attribute(t, ev, i, dir);
      // Counted unanswered already: the count of attributed ones follows.
      if (this.state[t] === CLOSED && !had && this.attributions.has(t)) this.s.attributed++;
    }
  }

  /** Fills slot `t` for the query of event i. */
  private begin(t: number, ev: EventBatch, i: number, ts: number): void {
    if (!this.E) {
      this.E = ev.endpointOffsets;
      this.endpoints = new Uint8Array(this.table.cap * this.E.epSize);
    }
    const E = this.E;
    const ep = this.endpoints as Uint8Array;
    ev.copyInner(i, ep, t * E.epSize);
    this.firstNs[t] = ts;
    this.lastNs[t] = ts;
    this.latencyMs[t] = NaN;
    this.queries[t] = 1;
    this.id[t] = ev.dnsId(i);
    this.qtype[t] = ev.dnsQtype(i);
    this.state[t] = 0;
    this.rcode[t] = 0;
    const len = ev.dnsNameLength(i);
    ev.copyDnsName(i, this.names, t * NAME_INLINE, NAME_INLINE);
    if (len > NAME_INLINE) this.longNames.set(t, ev.dnsName(i));
    else if (this.longNames.size > 0) this.longNames.delete(t);
    this.nameLen[t] = Math.min(len, NAME_INLINE);
    this.nameKey[t] = this.hashName(t, len > NAME_INLINE ? (this.longNames.get(t) as string) : null);
  }

  /**
   * The client's address, the query name and its qtype as one 53-bit number: FNV-1a
   * (two 32-bit lanes with different offsets) over the bytes. A collision would count a
   * new id for another name as a retry; at 53 bits and 4096 names kept it does not happen.
   */
  private hashName(t: number, long: string | null): number {
    const E = this.E as EndpointOffsets;
    const ep = this.endpoints as Uint8Array;
    let a = 0x811c9dc5;
    let b = 0x01000193 ^ 0x5bd1e995;
    const mix = (byte: number): void => {
      a = Math.imul(a ^ byte, 0x01000193);
      b = Math.imul(b ^ byte, 0x01000193) ^ (b >>> 15);
    };
    const at = t * E.epSize;
    const family = ep[at + E.epFamily];
    mix(family);
    for (let k = 0, n = family === 6 ? 16 : 4; k < n; k++) mix(ep[at + E.epSrc + k]);
    if (long !== null) for (let k = 0; k < long.length; k++) mix(long.charCodeAt(k) & 0xff);
    else for (let k = 0, o = t * NAME_INLINE, n = this.nameLen[t]; k < n; k++) mix(this.names[o + k]);
    mix(this.qtype[t] & 0xff);
    mix(this.qtype[t] >>> 8);
    return (a >>> 0) * 2097152 + (b >>> 11);
  }

  private nameOf(t: number): string {
    const long = this.longNames.size > 0 ? this.longNames.get(t) : undefined;
    if (long !== undefined) return long;
    const o = t * NAME_INLINE;
    return Buffer.from(this.names.buffer, this.names.byteOffset + o, this.nameLen[t]).toString('latin1');
  }

  private attribute(t: number, ev: EventBatch, i: number, dir: InterfaceDirectory): void {
    const a = attribute(this.attributions.get(t) ?? null, ev, i, this.F, dir);
    if (a) this.attributions.set(t, a);
    this.refresh(t);
  }

  /** The query at slot t as the report shows it. */
  private viewOf(t: number): DnsTransaction {
    const E = this.E as EndpointOffsets;
    const inner = endpointAt(this.endpoints as Uint8Array, t * E.epSize, E);
    const qtype = this.qtype[t];
    const v: DnsTransaction = {
      client: inner.src,
      clientPort: inner.sport ?? 0,
      server: inner.dst,
      serverPort: inner.dport ?? 53,
      id: this.id[t],
      name: this.nameOf(t),
      qtype: QTYPES[qtype] ?? String(qtype),
      queries: 0,
      answered: false,
      rcode: null,
      latencyMs: null,
      firstSeen: isoOf(this.firstNs[t]),
      attributedTo: null,
    };
    this.fill(v, t);
    return v;
  }

  /** The fields of a view that change while its query is in the table. */
  private fill(v: DnsTransaction, t: number): void {
    v.queries = this.queries[t];
    v.answered = (this.state[t] & ANSWERED) !== 0;
    v.rcode = v.answered ? (RCODES[this.rcode[t]] ?? String(this.rcode[t])) : null;
    v.latencyMs = Number.isNaN(this.latencyMs[t]) ? null : this.latencyMs[t];
    v.attributedTo = this.attributions.get(t) ?? null;
  }

  /** A listed query's view follows its query. */
  private refresh(t: number): void {
    if (this.views.size === 0) return;
    const v = this.views.get(t);
    if (v) this.fill(v, t);
  }

  private answer(ev: EventBatch, i: number, flags: number, dir: InterfaceDirectory): void {
    const t = this.table.get(ev.txn(i));
    if (t < 0) return;
    if (isBad(flags, this.F)) {
      this.attribute(t, ev, i, dir);
      return;
    }
    const state = this.state[t];
    if (state & ANSWERED) return;
    if (state & CLOSED) {
      // The answer to a resend after the timeout: answered late, not unanswered.
      this.s.unanswered--;
      if (this.attributions.has(t)) this.s.attributed--;
      const v = this.views.get(t);
      const k = v ? this.unansweredList.indexOf(v) : -1;
      if (k >= 0) this.unansweredList.splice(k, 1);
      // The name was resolved after all: a new id for it is no retry of a failure.
      if (this.lastUnanswered.get(this.nameKey[t]) === this.firstNs[t]) this.lastUnanswered.delete(this.nameKey[t]);
    }
    this.state[t] = state | ANSWERED;
    this.rcode[t] = ev.dnsFlags(i) & 0xf;
    const latency = Math.round((ev.tsNs(i) - this.firstNs[t]) / 1e4) / 100;
    this.latencyMs[t] = latency;
    this.s.answered++;
    this.latencies.push(latency);
    if (this.latencies.length > 4096) this.latencies.splice(0, this.latencies.length - 4096);
    this.refresh(t);
  }

  /** A view that fell off the list no longer follows its query. */
  private dropListed(v: DnsTransaction): void {
    for (const [t, w] of this.views) {
      if (w === v) {
        this.views.delete(t);
        return;
      }
    }
  }

  private forget(t: number): void {
    this.table.delete(t);
    this.sends.release(t);
    if (this.attributions.size > 0) this.attributions.delete(t);
    if (this.views.size > 0) this.views.delete(t);
    if (this.longNames.size > 0) this.longNames.delete(t);
  }

  /**
   * Queries older than the timeout are decided: answered ones are forgotten, unanswered
   * ones counted and kept RESEND_KEEP_NS after their latest send.
   */
  advance(nowNs: number): void {
    // Closed now, in order: only the newest maxListed get a view (the list keeps those).
    const closed: number[] = [];
    for (let t = this.table.first(); t >= 0;) {
      const next = this.table.nextOf(t);
      const state = this.state[t];
      if (state & CLOSED) {
        if (state & ANSWERED || nowNs - this.lastNs[t] >= RESEND_KEEP_NS) this.forget(t);
      } else if (nowNs - this.firstNs[t] >= this.opts.timeoutNs) {
        if (state & ANSWERED) {
          this.forget(t);
        } else {
          this.state[t] = CLOSED;
          this.kept.push(this.table.keyOf(t));
          this.s.unanswered++;
          if (this.attributions.has(t)) this.s.attributed++;
          this.lastUnanswered.set(this.nameKey[t], this.firstNs[t]);
          closed.push(t);
        }
      }
      t = next;
    }
    for (const t of closed.slice(-this.opts.maxListed)) {
      const v = this.viewOf(t);
      this.views.set(t, v);
      this.unansweredList.unshift(v);
      if (this.unansweredList.length > this.opts.maxListed) this.dropListed(this.unansweredList.pop() as DnsTransaction);
    }
    this.forgetOldestKept();
    if (this.lastUnanswered.size > 4096) this.lastUnanswered.clear();
  }

  flush(): void {
    this.advance(Number.POSITIVE_INFINITY);
  }

  /** Keeps at most MAX_KEPT_UNANSWERED decided-unanswered queries, forgetting the oldest. */
  private forgetOldestKept(): void {
    const keptSlot = (k: number): number => {
      const t = this.table.get(k);
      return t >= 0 && this.state[t] === CLOSED ? t : -1;
    };
    // Drop keys whose query is gone already (answered late, or forgotten after the keep).
    if (this.kept.length > 2 * MAX_KEPT_UNANSWERED) this.kept = this.kept.filter((k) => keptSlot(k) >= 0);
    let excess = -MAX_KEPT_UNANSWERED;
    for (const k of this.kept) if (keptSlot(k) >= 0) excess++;
    let i = 0;
    for (; i < this.kept.length && excess > 0; i++) {
      const t = keptSlot(this.kept[i]);
      if (t >= 0) {
        this.forget(t);
        excess--;
      }
    }
    if (i > 0) this.kept = this.kept.slice(i);
  }

  /** Open queries: evicted counts the queries not tracked because the table was full. */
  tableUse(): TableUse {
    return { size: this.table.size, cap: this.opts.maxTransactions, evicted: this.evicted };
  }

  summary(): DnsSummary {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return {
      ...this.s,
      latencyP50Ms: sorted.length ? sorted[Math.floor((sorted.length - 1) / 2)] : null,
      latencyMaxMs: sorted.length ? sorted[sorted.length - 1] : null,
      // Copies: a kept unanswered query still counts resends (a snapshot never changes).
      unansweredList: this.unansweredList.map((v) => ({ ...v, attributedTo: copyAttribution(v.attributedTo) })),
    };
  }
}
