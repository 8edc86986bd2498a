/**
 * DNS query -> answer (RFC 1035 4.1.1: the answer repeats the query's id and question,
 * from the server's port 53 to the client's port): unanswered queries, retries, latency
 * and the query name. The same packet seen on several interfaces (pod veth, flannel.1,
 * inside a carrier on eth0) is one query; the same query seen again on an interface that
 * already saw it is a retry (a new send), whatever its IPv4 id (src/correlate/sends.ts).
 * An answer inside a carrier with a bad checksum does not count as answered: the client's
 * kernel drops that carrier.
 */
import type { DnsSummary, DnsTransaction, TableUse } from '../model/correlation.js';
import type { EventBatch, EventFlags } from '../native/events.js';
import { isoOf, type InterfaceDirectory } from './context.js';
import { placeOf, Sends } from './sends.js';
import { attribute, copyAttribution, isBad } from './symptoms.js';

// RFC 1035 3.2.2 and the IANA registry, for the common ones; others print as numbers.
const QTYPES: Record<number, string> = { 1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV', 65: 'HTTPS', 255: 'ANY' };
const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

interface Txn {
  view: DnsTransaction;
  firstNs: number;
  /** The latest send (kept unanswered queries are forgotten RESEND_KEEP_NS after it). */
  lastNs: number;
  sends: Sends;
  /** Counted unanswered after the timeout (kept for resends and a late answer). */
  closed: boolean;
}

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
  /** Keyed by the native transaction key (query and answer share it): no string per packet. */
  private readonly open = new Map<number, Txn>();
  /** Keys of the queries counted unanswered and kept, oldest first (some may be gone since). */
  private kept: number[] = [];
  private readonly lastUnanswered = new Map<string, number>();
  private readonly latencies: number[] = [];
  private readonly unansweredList: DnsTransaction[] = [];
  private s = { queries: 0, answered: 0, unanswered: 0, retries: 0, attributed: 0 };
  evicted = 0;

  constructor(
    private readonly F: EventFlags,
    private readonly opts: DnsOptions = { timeoutNs: 5e9, maxTransactions: 65536, maxListed: 100 },
  ) {}

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
    let t = this.open.get(key);
    if (!t) {
      if (this.open.size >= this.opts.maxTransactions) {
        this.evicted++;
        return;
      }
      const inner = ev.inner(i);
      const name = ev.dnsName(i);
      const qtype = QTYPES[ev.dnsQtype(i)] ?? String(ev.dnsQtype(i));
      t = {
        view: {
          client: inner.src, clientPort: inner.sport ?? 0, server: inner.dst, serverPort: inner.dport ?? 53, id: ev.dnsId(i),
          name, qtype, queries: 1, answered: false, rcode: null, latencyMs: null, firstSeen: isoOf(ts), attributedTo: null,
        },
        firstNs: ts,
        lastNs: ts,
        sends: new Sends(this.opts.copyWindowNs ?? 1e9),
        closed: false,
      };
      t.sends.see(ev.match(i), placeOf(ev.iface(i), ev.direction(i)), ts);
      this.open.set(key, t);
      this.s.queries++;
      // A new id for a name this client just failed to resolve is a retry (the stub
      // resolver moved on to its next attempt).
      const nameKey = `${inner.src}|${name}|${qtype}`;
      const last = this.lastUnanswered.get(nameKey);
      if (last !== undefined && ts - last < RESEND_KEEP_NS) this.s.retries++;
    } else if (t.sends.see(ev.match(i), placeOf(ev.iface(i), ev.direction(i)), ts)) {
      // The same id and question sent again: a retry of this query (RFC 1035 4.2.1),
      // also after it was counted unanswered.
      t.view.queries++;
      this.s.retries++;
      if (ts > t.lastNs) t.lastNs = ts;
    }
    if (isBad(flags, this.F)) {
      const had = t.view.attributedTo !== null;
      t.view.attributedTo = attribute(t.view.attributedTo, ev, i, this.F, dir);
      // Counted unanswered already: the count of attributed ones follows.
      if (t.closed && !had && t.view.attributedTo !== null && !t.view.answered) this.s.attributed++;
    }
  }

  private answer(ev: EventBatch, i: number, flags: number, dir: InterfaceDirectory): void {
    const t = this.open.get(ev.txn(i));
    if (!t) return;
    if (isBad(flags, this.F)) {
      t.view.attributedTo = attribute(t.view.attributedTo, ev, i, this.F, dir);
      return;
    }
    if (t.view.answered) return;
    if (t.closed) {
      // The answer to a resend after the timeout: answered late, not unanswered.
      this.s.unanswered--;
      if (t.view.attributedTo) this.s.attributed--;
      const k = this.unansweredList.indexOf(t.view);
      if (k >= 0) this.unansweredList.splice(k, 1);
      // The name was resolved after all: a new id for it is no retry of a failure.
      const nameKey = `${t.view.client}|${t.view.name}|${t.view.qtype}`;
      if (this.lastUnanswered.get(nameKey) === t.firstNs) this.lastUnanswered.delete(nameKey);
    }
    t.view.answered = true;
    t.view.rcode = RCODES[ev.dnsFlags(i) & 0xf] ?? String(ev.dnsFlags(i) & 0xf);
    t.view.latencyMs = Math.round((ev.tsNs(i) - t.firstNs) / 1e4) / 100;
    this.s.answered++;
    this.latencies.push(t.view.latencyMs);
    if (this.latencies.length > 4096) this.latencies.splice(0, this.latencies.length - 4096);
  }

  /**
   * Queries older than the timeout are decided: answered ones are forgotten, unanswered
   * ones counted and kept RESEND_KEEP_NS after their latest send.
   */
  advance(nowNs: number): void {
    for (const [key, t] of this.open) {
      if (t.closed) {
        if (t.view.answered || nowNs - t.lastNs >= RESEND_KEEP_NS) this.open.delete(key);
        continue;
      }
      if (nowNs - t.firstNs < this.opts.timeoutNs) continue;
      if (t.view.answered) {
        this.open.delete(key);
        continue;
      }
      t.closed = true;
      this.kept.push(key);
      this.s.unanswered++;
      if (t.view.attributedTo) this.s.attributed++;
      this.lastUnanswered.set(`${t.view.client}|${t.view.name}|${t.view.qtype}`, t.firstNs);
      this.unansweredList.unshift(t.view);
      if (this.unansweredList.length > this.opts.maxListed) this.unansweredList.pop();
    }
    this.forgetOldestKept();
    if (this.lastUnanswered.size > 4096) this.lastUnanswered.clear();
  }

  flush(): void {
    this.advance(Number.POSITIVE_INFINITY);
  }

  /** Keeps at most MAX_KEPT_UNANSWERED decided-unanswered queries, forgetting the oldest. */
  private forgetOldestKept(): void {
    // Drop keys whose query is gone already (answered late, or forgotten after the keep).
    if (this.kept.length > 2 * MAX_KEPT_UNANSWERED) this.kept = this.kept.filter((k) => this.open.get(k)?.closed === true);
    let excess = this.kept.filter((k) => this.open.get(k)?.closed === true).length - MAX_KEPT_UNANSWERED;
    let i = 0;
    for (; i < this.kept.length && excess > 0; i++) {
      const t = this.open.get(this.kept[i]);
      if (t?.closed && !t.view.answered) {
        this.open.delete(this.kept[i]);
        excess--;
      }
    }
    if (i > 0) this.kept = this.kept.slice(i);
  }

  /** Open queries: evicted counts the queries not tracked because the table was full. */
  tableUse(): TableUse {
    return { size: this.open.size, cap: this.opts.maxTransactions, evicted: this.evicted };
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
