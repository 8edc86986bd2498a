/**
 * Test oracle: the JavaScript SYN tracker that native/flow/syn_txns.h replaced (issue 14),
 * kept only for the differential tests (test/unit/native-txns.test.ts). Not used by
 * csumtop; the rules are commented where they live now, in the native table.
 *
 * TCP SYN -> SYN-ACK or RST (RFC 9293 3.5): connections that needed retransmitted SYNs
 * and the delay they cost, and connections refused. Linux retransmits a SYN after 1 s and
 * doubles the wait (TCP_TIMEOUT_INIT, net/ipv4/tcp_timer.c; net.ipv4.tcp_syn_retries
 * times, 6 by default), so a connection answered after one, two or six retransmissions
 * took 1 s, 3 s or 63 s: the "TCP to a Service takes 1/3/63 s" symptom of VXLAN checksum
 * incidents.
 *
 * Every outcome is matched by the transaction key (native/flow/events.h `txn`): the
 * client's and server's addresses and ports and the ISN, which the SYN carries as its seq
 * and the answer as its ack - 1, from the reversed tuple:
 *  - answered: a SYN-ACK <SEQ=y><ACK=ISN+1><CTL=SYN,ACK> (RFC 9293 3.5, figure 6);
 *  - refused: a RST <SEQ=0><ACK=ISN+1><CTL=RST,ACK>, what a host with no listener on the
 *    port sends (RFC 9293 3.5 "Reset Generation" group 1, 3.10.7.1), and netfilter's
 *    REJECT --reject-with tcp-reset too. The SYN reached a TCP that said no: it is neither
 *    unanswered nor a symptom of bad carriers;
 *  - unanswered: neither within the timeout.
 * A SYN-ACK or RST in a carrier with a bad checksum does not count: the client's kernel
 * drops it, so for the client the SYN is still unanswered.
 *
 * One SYN seen on several interfaces (pod veth, flannel.1, inside its carrier on eth0)
 * is one SYN; the same SYN seen again on an interface that already saw it is a
 * retransmission, whatever its IPv4 id (src/correlate/sends.ts).
 */
import type { Attribution, SynAttempt, SynSummary, TableUse } from '../../src/model/correlation.js';
import { endpointAt, type EndpointOffsets, type EventBatch, type EventFlags } from '../../src/native/events.js';
import { isoOf, type InterfaceDirectory } from '../../src/correlate/context.js';
import { MAX_COPIES } from '../../src/correlate/limits.js';
import { placeOf, SEND_SLOTS_BYTES_PER_ENTRY, SendSlots } from './sends.js';
import { attribute, copyAttribution, isBad } from './symptoms.js';
import { TXN_TABLE_BYTES_PER_ENTRY, TxnTable } from './txn-table.js';

/** Bits of an attempt's state. */
const CLOSED = 1; // counted unanswered after the timeout (kept for a late SYN-ACK)
const ANSWERED = 2;
const REFUSED = 4;

/**
 * Bytes per attempt in the table, besides its endpoint (one FlowEndpoint, epSize) and
 * the retransmission times of attempts that had some: index (TXN_TABLE_BYTES_PER_ENTRY),
 * first SYN, decision time and delay (3 x 8), SYNs (4), state (1), the sends
 * (SEND_SLOTS_BYTES_PER_ENTRY).
 */
export const SYN_BYTES_PER_ENTRY = TXN_TABLE_BYTES_PER_ENTRY + 3 * 8 + 4 + 1 + SEND_SLOTS_BYTES_PER_ENTRY;

export interface SynOptions {
  /** Unanswered this long: reported as unanswered (Linux gives up after ~127 s). */
  timeoutNs: number;
  maxAttempts: number;
  maxListed: number;
  /** Sightings of one SYN this close on different interfaces are one send (the
   * carrier/overlay match window, src/correlate/matcher.ts; default 1 s). */
  copyWindowNs?: number;
}

/**
 * The delay bucket of a connection answered after n retransmissions: the n-th goes out
 * 1 + 2 + ... + 2^(n-1) = 2^n - 1 s after the first SYN (initial RTO 1 s, doubled each
 * time: RFC 6298 2.1 and 5.5, Linux TCP_TIMEOUT_INIT), so 1 s, 3 s, 7 s ... 63 s.
 */
export function delayBucket(retransmissions: number): string {
  return `${2 ** retransmissions - 1}s`;
}

export class SynTracker {
  /** Open, decided-but-kept and closed attempts by the native transaction key (a SYN and
   * its SYN-ACK or RST share it). */
  private readonly table: TxnTable;
  private readonly firstNs: Float64Array;
  /** When the SYN-ACK or RST was seen; NaN while undecided. */
  private readonly decidedNs: Float64Array;
  private readonly delaySeconds: Float64Array;
  private readonly syns: Uint32Array;
  private readonly state: Uint8Array;
  private readonly sends: SendSlots;
  /** The client's FlowEndpoint bytes per slot (allocated with the first batch). */
  private endpoints: Uint8Array | null = null;
  private E: EndpointOffsets | null = null;
  /** Seconds after the first SYN of each retransmission, for attempts that had some. */
  private readonly retransmitAt = new Map<number, number[]>();
  private readonly attributions = new Map<number, Attribution>();
  /** The view of each listed attempt, kept up to date while it is in the table. */
  private readonly views = new Map<number, SynAttempt>();
  private readonly slow: SynAttempt[] = [];
  private s = { connections: 0, answered: 0, refused: 0, unanswered: 0, retransmitted: 0, attributed: 0 };
  private readonly delayedBy: Record<string, number> = {};
  evicted = 0;

  constructor(
    private readonly F: EventFlags,
    private readonly opts: SynOptions = { timeoutNs: 3.5e9, maxAttempts: 65536, maxListed: 100 },
  ) {
    const cap = opts.maxAttempts;
    this.table = new TxnTable(cap);
    this.firstNs = new Float64Array(cap);
    this.decidedNs = new Float64Array(cap);
    this.delaySeconds = new Float64Array(cap);
    this.syns = new Uint32Array(cap);
    this.state = new Uint8Array(cap);
    this.sends = new SendSlots(cap, opts.copyWindowNs ?? 1e9);
    // Resident from the start (see TxnTable).
    for (const a of [this.firstNs, this.decidedNs, this.delaySeconds, this.syns, this.state]) a.fill(0);
  }

  /** Bytes of the typed arrays: (SYN_BYTES_PER_ENTRY + epSize) x maxAttempts. */
  get bytes(): number {
    const arrays = [this.firstNs, this.decidedNs, this.delaySeconds, this.syns, this.state];
    return this.table.bytes + arrays.reduce((n, a) => n + a.byteLength, 0) + this.sends.bytes + (this.endpoints?.byteLength ?? 0);
  }

  add(ev: EventBatch, dir: InterfaceDirectory): void {
    const F = this.F;
    for (let i = 0; i < ev.count; i++) {
      const flags = ev.flags(i);
      if (flags & F.syn) this.syn(ev, i, flags, dir);
      else if (flags & F.synAck) this.answer(ev, i, flags, dir, ANSWERED);
      else if (flags & F.rst) this.answer(ev, i, flags, dir, REFUSED);
    }
  }

  private syn(ev: EventBatch, i: number, flags: number, dir: InterfaceDirectory): void {
    const key = ev.txn(i);
    const ts = ev.tsNs(i);
    const place = placeOf(ev.iface(i), ev.direction(i));
    let a = this.table.get(key);
    if (a < 0) {
      a = this.table.add(key);
      if (a < 0) {
        this.evicted++;
        return;
      }
      if (!this.E) {
        this.E = ev.endpointOffsets;
        this.endpoints = new Uint8Array(this.table.cap * this.E.epSize);
      }
      ev.copyInner(i, this.endpoints as Uint8Array, a * this.E.epSize);
      this.firstNs[a] = ts;
      this.decidedNs[a] = NaN;
      this.delaySeconds[a] = NaN;
      this.syns[a] = 1;
      this.state[a] = 0;
      this.sends.start(a, ev.match(i), place, ts);
      this.s.connections++;
    } else if (this.sends.see(a, ev.match(i), place, ts)) {
      // A retransmission. Bounded: Linux retransmits a SYN 6 times (tcp_syn_retries); a
      // flood of them must not grow one entry.
      let at = this.retransmitAt.get(a);
      if (!at) this.retransmitAt.set(a, (at = []));
      if (at.length < MAX_COPIES - 1) at.push(Math.round((ts - this.firstNs[a]) / 1e7) / 100);
      this.syns[a]++;
      if (this.syns[a] === 2) this.s.retransmitted++;
      this.refresh(a);
    }
    if (isBad(flags, this.F) && Number.isNaN(this.decidedNs[a])) this.attribute(a, ev, i, dir);
  }

  private attribute(a: number, ev: EventBatch, i: number, dir: InterfaceDirectory): void {
    const at = attribute(this.attributions.get(a) ?? null, ev, i, this.F, dir);
    if (at) this.attributions.set(a, at);
    this.refresh(a);
  }

  /** A SYN-ACK (answered) or a RST+ACK (refused) for an open SYN: the first good one decides. */
  private answer(ev: EventBatch, i: number, flags: number, dir: InterfaceDirectory, outcome: number): void {
    const a = this.table.get(ev.txn(i));
    // A RST that answers no SYN seen (of an established connection): not ours. A copy of
    // the answer on another interface once decided: nothing new.
    if (a < 0 || !Number.isNaN(this.decidedNs[a])) return;
    if (isBad(flags, this.F)) {
      this.attribute(a, ev, i, dir);
      return;
    }
    const closed = (this.state[a] & CLOSED) !== 0;
    if (closed) {
      // Answered after it was counted unanswered (a 7 s or later retransmission).
      this.s.unanswered--;
      if (this.attributions.has(a)) this.s.attributed--;
    }
    this.delaySeconds[a] = Math.round((ev.tsNs(i) - this.firstNs[a]) / 1e7) / 100;
    // Kept for the copy window: the SYN and its answer seen on another interface may come
    // in a later batch (another capture thread), and must find this attempt decided rather
    // than open a second one (advance() forgets it).
    this.decidedNs[a] = ev.tsNs(i);
    this.state[a] |= outcome;
    this.refresh(a);
    if (outcome === REFUSED) {
      // Listed whatever its delay: a refused connection is what the operator asks about.
      this.s.refused++;
      if (!closed) this.list(a);
      return;
    }
    this.s.answered++;
    if (this.syns[a] > 1) {
      const b = delayBucket(this.syns[a] - 1);
      this.delayedBy[b] = (this.delayedBy[b] ?? 0) + 1;
      if (!closed) this.list(a);
    }
  }

  /** The attempt at slot a as the report shows it. */
  private viewOf(a: number): SynAttempt {
    const E = this.E as EndpointOffsets;
    const inner = endpointAt(this.endpoints as Uint8Array, a * E.epSize, E);
    const v: SynAttempt = {
      client: inner.src,
      clientPort: inner.sport ?? 0,
      server: inner.dst,
      serverPort: inner.dport ?? 0,
      syns: 0,
      answered: false,
      refused: false,
      delaySeconds: null,
      retransmitAt: [],
      firstSeen: isoOf(this.firstNs[a]),
      attributedTo: null,
    };
    this.fill(v, a);
    return v;
  }

  /** The fields of a view that change while its attempt is in the table. */
  private fill(v: SynAttempt, a: number): void {
    v.syns = this.syns[a];
    v.answered = (this.state[a] & ANSWERED) !== 0;
    v.refused = (this.state[a] & REFUSED) !== 0;
    v.delaySeconds = Number.isNaN(this.delaySeconds[a]) ? null : this.delaySeconds[a];
    v.retransmitAt = this.retransmitAt.get(a) ?? v.retransmitAt;
    v.attributedTo = this.attributions.get(a) ?? null;
  }

  /** A listed attempt's view follows its attempt. */
  private refresh(a: number): void {
    if (this.views.size === 0) return;
    const v = this.views.get(a);
    if (v) this.fill(v, a);
  }

  private list(a: number): void {
    let v = this.views.get(a);
    if (!v) this.views.set(a, (v = this.viewOf(a)));
    this.slow.unshift(v);
    if (this.slow.length > this.opts.maxListed) {
      const gone = this.slow.pop() as SynAttempt;
      // A view that fell off the list no longer follows its attempt (unless listed twice).
      if (!this.slow.includes(gone)) {
        for (const [k, w] of this.views) {
          if (w === gone) {
            this.views.delete(k);
            break;
          }
        }
      }
    }
  }

  private forget(a: number): void {
    this.table.delete(a);
    this.sends.release(a);
    if (this.retransmitAt.size > 0) this.retransmitAt.delete(a);
    if (this.attributions.size > 0) this.attributions.delete(a);
    if (this.views.size > 0) this.views.delete(a);
  }

  /** Closes attempt a: counted unanswered; listed by listClosed(). */
  private close(a: number, closed: number[]): void {
    this.state[a] |= CLOSED;
    this.s.unanswered++;
    if (this.attributions.has(a)) this.s.attributed++;
    closed.push(a);
  }

  /** Lists the attempts closed now, in order: only the newest maxListed stay listed, so only those get a view. */
  private listClosed(closed: number[]): void {
    for (const a of closed.slice(-this.opts.maxListed)) this.list(a);
  }

  advance(nowNs: number): void {
    const closed: number[] = [];
    for (let a = this.table.first(); a >= 0;) {
      const next = this.table.nextOf(a);
      if (!Number.isNaN(this.decidedNs[a])) {
        if (nowNs - this.decidedNs[a] >= (this.opts.copyWindowNs ?? 1e9)) this.forget(a);
      } else if (nowNs - this.firstNs[a] >= this.opts.timeoutNs) {
        if (this.state[a] & CLOSED) {
          // Keep it a while for a late SYN-ACK; forget it after 130 s (Linux's last retry).
          if (nowNs - this.firstNs[a] > 130e9) this.forget(a);
        } else {
          this.close(a, closed);
        }
      }
      a = next;
    }
    this.listClosed(closed);
  }

  flush(): void {
    const closed: number[] = [];
    for (let a = this.table.first(); a >= 0; a = this.table.nextOf(a)) {
      if (this.state[a] & CLOSED || !Number.isNaN(this.decidedNs[a])) continue;
      this.close(a, closed);
    }
    this.listClosed(closed);
  }

  /** SYNs waiting or kept for a late SYN-ACK: evicted counts SYNs not tracked (table full). */
  tableUse(): TableUse {
    return { size: this.table.size, cap: this.opts.maxAttempts, evicted: this.evicted };
  }

  summary(): SynSummary {
    return {
      ...this.s,
      delayedBy: { ...this.delayedBy },
      slowList: this.slow.map((v) => ({ ...v, retransmitAt: [...v.retransmitAt], attributedTo: copyAttribution(v.attributedTo) })),
    };
  }
}
