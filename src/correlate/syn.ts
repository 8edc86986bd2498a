/**
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
import type { SynAttempt, SynSummary, TableUse } from '../model/correlation.js';
import type { EventBatch, EventFlags } from '../native/events.js';
import { isoOf, type InterfaceDirectory } from './context.js';
import { MAX_COPIES } from './limits.js';
import { placeOf, Sends } from './sends.js';
import { attribute, copyAttribution, isBad } from './symptoms.js';

interface Attempt {
  view: SynAttempt;
  firstNs: number;
  sends: Sends;
  closed: boolean;
  /** When the SYN-ACK or RST was seen; null while undecided. */
  decidedNs: number | null;
}

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
  /** Keyed by the native transaction key (a SYN and its SYN-ACK share it). */
  private readonly open = new Map<number, Attempt>();
  private readonly slow: SynAttempt[] = [];
  private s = { connections: 0, answered: 0, refused: 0, unanswered: 0, retransmitted: 0, attributed: 0 };
  private readonly delayedBy: Record<string, number> = {};
  evicted = 0;

  constructor(
    private readonly F: EventFlags,
    private readonly opts: SynOptions = { timeoutNs: 3.5e9, maxAttempts: 65536, maxListed: 100 },
  ) {}

  add(ev: EventBatch, dir: InterfaceDirectory): void {
    const F = this.F;
    for (let i = 0; i < ev.count; i++) {
      const flags = ev.flags(i);
      if (flags & F.syn) this.syn(ev, i, flags, dir);
      else if (flags & F.synAck) this.answer(ev, i, flags, dir, 'answered');
      else if (flags & F.rst) this.answer(ev, i, flags, dir, 'refused');
    }
  }

  private syn(ev: EventBatch, i: number, flags: number, dir: InterfaceDirectory): void {
    const key = ev.txn(i);
    const ts = ev.tsNs(i);
    const place = placeOf(ev.iface(i), ev.direction(i));
    let a = this.open.get(key);
    if (!a) {
      if (this.open.size >= this.opts.maxAttempts) {
        this.evicted++;
        return;
      }
      const inner = ev.inner(i);
      a = {
        view: {
          client: inner.src, clientPort: inner.sport ?? 0, server: inner.dst, serverPort: inner.dport ?? 0,
          syns: 1, answered: false, refused: false, delaySeconds: null, retransmitAt: [], firstSeen: isoOf(ts), attributedTo: null,
        },
        firstNs: ts,
        sends: new Sends(this.opts.copyWindowNs ?? 1e9),
        closed: false,
        decidedNs: null,
      };
      a.sends.see(ev.match(i), place, ts);
      this.open.set(key, a);
      this.s.connections++;
    } else if (a.sends.see(ev.match(i), place, ts)) {
      // A retransmission. Bounded: Linux retransmits a SYN 6 times (tcp_syn_retries); a
      // flood of them must not grow one entry.
      if (a.view.retransmitAt.length < MAX_COPIES - 1) a.view.retransmitAt.push(Math.round((ts - a.firstNs) / 1e7) / 100);
      a.view.syns++;
      if (a.view.syns === 2) this.s.retransmitted++;
    }
    if (isBad(flags, this.F) && a.decidedNs === null) a.view.attributedTo = attribute(a.view.attributedTo, ev, i, this.F, dir);
  }

  /** A SYN-ACK (answered) or a RST+ACK (refused) for an open SYN: the first good one decides. */
  private answer(ev: EventBatch, i: number, flags: number, dir: InterfaceDirectory, outcome: 'answered' | 'refused'): void {
    const key = ev.txn(i);
    const a = this.open.get(key);
    // A RST that answers no SYN seen (of an established connection): not ours. A copy of
    // the answer on another interface once decided: nothing new.
    if (!a || a.decidedNs !== null) return;
    if (isBad(flags, this.F)) {
      a.view.attributedTo = attribute(a.view.attributedTo, ev, i, this.F, dir);
      return;
    }
    if (a.closed) {
      // Answered after it was counted unanswered (a 7 s or later retransmission).
      this.s.unanswered--;
      if (a.view.attributedTo) this.s.attributed--;
    }
    a.view.delaySeconds = Math.round((ev.tsNs(i) - a.firstNs) / 1e7) / 100;
    // Kept for the copy window: the SYN and its answer seen on another interface may come
    // in a later batch (another capture thread), and must find this attempt decided rather
    // than open a second one (advance() forgets it).
    a.decidedNs = ev.tsNs(i);
    if (outcome === 'refused') {
      // Listed whatever its delay: a refused connection is what the operator asks about.
      a.view.refused = true;
      this.s.refused++;
      if (!a.closed) this.list(a.view);
      return;
    }
    a.view.answered = true;
    this.s.answered++;
    if (a.view.syns > 1) {
      const b = delayBucket(a.view.syns - 1);
      this.delayedBy[b] = (this.delayedBy[b] ?? 0) + 1;
      if (!a.closed) this.list(a.view);
    }
  }

  private list(v: SynAttempt): void {
    this.slow.unshift(v);
    if (this.slow.length > this.opts.maxListed) this.slow.pop();
  }

  advance(nowNs: number): void {
    for (const [key, a] of this.open) {
      if (a.decidedNs !== null) {
        if (nowNs - a.decidedNs >= (this.opts.copyWindowNs ?? 1e9)) this.open.delete(key);
        continue;
      }
      if (nowNs - a.firstNs < this.opts.timeoutNs) continue;
      if (a.closed) {
        // Keep it a while for a late SYN-ACK; forget it after 130 s (Linux's last retry).
        if (nowNs - a.firstNs > 130e9) this.open.delete(key);
        continue;
      }
      a.closed = true;
      this.s.unanswered++;
      if (a.view.attributedTo) this.s.attributed++;
      this.list(a.view);
    }
  }

  flush(): void {
    for (const a of this.open.values()) {
      if (a.closed || a.decidedNs !== null) continue;
      a.closed = true;
      this.s.unanswered++;
      if (a.view.attributedTo) this.s.attributed++;
      this.list(a.view);
    }
  }

  /** SYNs waiting or kept for a late SYN-ACK: evicted counts SYNs not tracked (table full). */
  tableUse(): TableUse {
    return { size: this.open.size, cap: this.opts.maxAttempts, evicted: this.evicted };
  }

  summary(): SynSummary {
    return { ...this.s, delayedBy: { ...this.delayedBy }, slowList: this.slow.map((v) => ({ ...v, retransmitAt: [...v.retransmitAt], attributedTo: copyAttribution(v.attributedTo) })) };
  }
}
