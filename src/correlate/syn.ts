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
 * retransmission, whatever its IPv4 id (native/flow/sends.h).
 *
 * The attempts live in the addon (native/flow/syn_txns.h, issue 14: the rules above are
 * implemented and commented there); this wrapper hands it each batch's events and
 * interface places in one call and makes objects only for the attempts the report lists.
 * test/oracle/syn.ts keeps the former JavaScript implementation as the oracle of the
 * differential tests (test/unit/native-txns.test.ts).
 */
import type { SynAttempt, SynSummary } from '../model/correlation.js';
import { endpointAt, type EventFlags } from '../native/events.js';
import { createSynTxns, txnLayout, type NativeSynSummary } from '../native/txns.js';
import { isoOf } from './context.js';
import { DEFAULT_MAX_FLOWS } from './limits.js';
import { Places } from './places.js';
import { attributionAt, TxnTracker } from './txn-views.js';

/** Bytes per attempt of the cap, allocated once in the addon (native/flow/syn_txns.h kSynBytesPerEntry). */
export const SYN_BYTES_PER_ENTRY = txnLayout().syn.bytesPerEntry;

export interface SynOptions {
  /** Unanswered this long: reported as unanswered (Linux gives up after ~127 s). */
  timeoutNs: number;
  maxAttempts: number;
  maxListed: number;
  /** Sightings of one SYN this close on different interfaces are one send (the
   * carrier/overlay match window, src/correlate/matcher.ts; default 1 s). */
  copyWindowNs?: number;
  /** The table's memory in use from the start (true, live capture: memory flat while it
   * fills) or as entries are written (false, a capture file). Default true. */
  resident?: boolean;
}

/**
 * The delay bucket of a connection answered after n retransmissions: the n-th goes out
 * 1 + 2 + ... + 2^(n-1) = 2^n - 1 s after the first SYN (initial RTO 1 s, doubled each
 * time: RFC 6298 2.1 and 5.5, Linux TCP_TIMEOUT_INIT), so 1 s, 3 s, 7 s ... 63 s.
 */
export function delayBucket(retransmissions: number): string {
  return `${2 ** retransmissions - 1}s`;
}

export class SynTracker extends TxnTracker<NativeSynSummary> {
  constructor(_F: EventFlags, opts: SynOptions = { timeoutNs: 3.5e9, maxAttempts: DEFAULT_MAX_FLOWS, maxListed: 100 }, places = new Places()) {
    super(createSynTxns(opts.maxAttempts, opts.timeoutNs, opts.copyWindowNs ?? 1e9, opts.maxListed, opts.resident ?? true), opts.maxAttempts, places);
  }

  summary(): SynSummary {
    const n = this.t.summary();
    const c = n.counts;
    const delayedBy: Record<string, number> = {};
    for (let k = 0; k < n.delayedBy.length; k += 2) delayedBy[delayBucket(n.delayedBy[k])] = n.delayedBy[k + 1];
    const L = txnLayout().syn;
    const buf = n.listed;
    const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
    const slowList: SynAttempt[] = [];
    for (let off = 0; off + L.size <= buf.length; off += L.size) {
      const inner = endpointAt(buf, off + L.client, this.E);
      const delay = view.getFloat64(off + L.delay, true);
      const at = view.getUint32(off + L.timesOff, true);
      slowList.push({
        client: inner.src,
        clientPort: inner.sport ?? 0,
        server: inner.dst,
        serverPort: inner.dport ?? 0,
        syns: view.getUint32(off + L.syns, true),
        answered: buf[off + L.answered] !== 0,
        refused: buf[off + L.refused] !== 0,
        delaySeconds: Number.isNaN(delay) ? null : delay,
        retransmitAt: Array.from(n.times.subarray(at, at + view.getUint32(off + L.timesN, true))),
        firstSeen: isoOf(view.getFloat64(off + L.firstNs, true)),
        attributedTo: buf[off + L.attributed] !== 0 ? attributionAt(view, buf, off, L.attribution, this.E, this.places) : null,
      });
    }
    return { connections: c[0], answered: c[1], refused: c[2], unanswered: c[3], retransmitted: c[4], attributed: c[5], delayedBy, slowList };
  }
}
