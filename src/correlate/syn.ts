/**
 * TCP SYN -> SYN-ACK (RFC 9293 3.5): connections that needed retransmitted SYNs and the
 * delay they cost. Linux retransmits a SYN after 1 s and doubles the wait
 * (TCP_TIMEOUT_INIT, net/ipv4/tcp_timer.c), so a connection answered after one, two or
 * six retransmissions took 1 s, 3 s or 63 s: the "TCP to a Service takes 1/3/63 s"
 * symptom of domain.md. Copies of one SYN on several interfaces share the native match
 * key; a retransmission repeats the ISN with a new IPv4 id.
 */
import type { SynAttempt, SynSummary, TableUse } from '../model/correlation.js';
import type { EventBatch, EventFlags } from '../native/events.js';
import { isoOf, type InterfaceDirectory } from './context.js';
import { MAX_COPIES } from './limits.js';
import { attribute, isBad } from './symptoms.js';

interface Attempt {
  view: SynAttempt;
  firstNs: number;
  copies: Set<number>;
  closed: boolean;
}

export interface SynOptions {
  /** Unanswered this long: reported as unanswered (Linux gives up after ~127 s). */
  timeoutNs: number;
  maxAttempts: number;
  maxListed: number;
}

/** The delay bucket of a connection answered after n retransmissions: 2^(n+1) - 1 s. */
export function delayBucket(retransmissions: number): string {
  return `${2 ** (retransmissions + 1) - 1}s`;
}

export class SynTracker {
  /** Keyed by the native transaction key (a SYN and its SYN-ACK share it). */
  private readonly open = new Map<number, Attempt>();
  private readonly slow: SynAttempt[] = [];
  private s = { connections: 0, answered: 0, unanswered: 0, retransmitted: 0, attributed: 0 };
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
      else if (flags & F.synAck) this.synAck(ev, i, flags, dir);
    }
  }

  private syn(ev: EventBatch, i: number, flags: number, dir: InterfaceDirectory): void {
    const key = ev.txn(i);
    const match = ev.match(i);
    const ts = ev.tsNs(i);
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
          syns: 1, answered: false, delaySeconds: null, retransmitAt: [], firstSeen: isoOf(ts), attributedTo: null,
        },
        firstNs: ts,
        copies: new Set([match]),
        closed: false,
      };
      this.open.set(key, a);
      this.s.connections++;
    } else if (!a.copies.has(match)) {
      // Bounded: Linux retransmits a SYN 6 times (tcp_syn_retries); a flood of copies
      // must not grow one entry.
      if (a.copies.size < MAX_COPIES) {
        a.copies.add(match);
        a.view.retransmitAt.push(Math.round((ts - a.firstNs) / 1e7) / 100);
      }
      a.view.syns++;
      if (a.view.syns === 2) this.s.retransmitted++;
    }
    if (isBad(flags, this.F)) a.view.attributedTo = attribute(a.view.attributedTo, ev, i, this.F, dir);
  }

  private synAck(ev: EventBatch, i: number, flags: number, dir: InterfaceDirectory): void {
    const key = ev.txn(i);
    const a = this.open.get(key);
    if (!a) return;
    if (isBad(flags, this.F)) {
      a.view.attributedTo = attribute(a.view.attributedTo, ev, i, this.F, dir);
      return;
    }
    if (a.view.answered) return;
    if (a.closed) {
      // Answered after it was counted unanswered (a 7 s or later retransmission).
      this.s.unanswered--;
      if (a.view.attributedTo) this.s.attributed--;
    }
    a.view.answered = true;
    a.view.delaySeconds = Math.round((ev.tsNs(i) - a.firstNs) / 1e7) / 100;
    this.s.answered++;
    if (a.view.syns > 1) {
      const b = delayBucket(a.view.syns - 1);
      this.delayedBy[b] = (this.delayedBy[b] ?? 0) + 1;
      this.list(a.view);
    }
    this.open.delete(key);
  }

  private list(v: SynAttempt): void {
    this.slow.unshift(v);
    if (this.slow.length > this.opts.maxListed) this.slow.pop();
  }

  advance(nowNs: number): void {
    for (const [key, a] of this.open) {
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
      if (a.closed || a.view.answered) continue;
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
    return { ...this.s, delayedBy: { ...this.delayedBy }, slowList: this.slow.map((v) => ({ ...v, retransmitAt: [...v.retransmitAt] })) };
  }
}
