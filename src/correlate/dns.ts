/**
 * DNS query -> answer (RFC 1035 4.1.1: the answer repeats the query's id and question,
 * from the server's port 53 to the client's port): unanswered queries, retries, latency
 * and the query name. The same packet seen on several interfaces (pod veth, flannel.1,
 * inside a carrier on eth0) is one query; the same query seen again on an interface that
 * already saw it is a retry (a new send), whatever its IPv4 id (native/flow/sends.h).
 * An answer inside a carrier with a bad checksum does not count as answered: the client's
 * kernel drops that carrier.
 *
 * The queries live in the addon (native/flow/dns_txns.h, issue 14: the rules are
 * implemented and commented there); this wrapper hands it each batch's events, names and
 * interface places in one call and makes objects only for the queries the report lists.
 * test/oracle/dns.ts keeps the former JavaScript implementation as the oracle of the
 * differential tests (test/unit/native-txns.test.ts).
 */
import type { DnsSummary, DnsTransaction } from '../model/correlation.js';
import { endpointAt, type EventFlags } from '../native/events.js';
import { createDnsTxns, txnLayout, type NativeDnsSummary } from '../native/txns.js';
import { isoOf } from './context.js';
import { DEFAULT_MAX_FLOWS } from './limits.js';
import { Places } from './places.js';
import { attributionAt, TxnTracker } from './txn-views.js';

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

/** Bytes per query of the cap, allocated once in the addon (native/flow/dns_txns.h kDnsBytesPerEntry). */
export const DNS_BYTES_PER_ENTRY = txnLayout().dns.bytesPerEntry;

/**
 * At most this many unanswered queries are kept past their timeout for resends and late
 * answers, the oldest going first (native/flow/dns_txns.h kMaxKeptUnanswered says why).
 */
export const MAX_KEPT_UNANSWERED = txnLayout().dns.maxKeptUnanswered;

export interface DnsOptions {
  /** A query unanswered this long is unanswered: glibc's resolv.conf default timeout is 5 s. */
  timeoutNs: number;
  maxTransactions: number;
  maxListed: number;
  /** Sightings of one query this close on different interfaces are one send (the
   * carrier/overlay match window, src/correlate/matcher.ts; default 1 s). */
  copyWindowNs?: number;
  /** The table's memory in use from the start (true, live capture: memory flat while it
   * fills) or as entries are written (false, a capture file). Default true. */
  resident?: boolean;
}

export class DnsTracker extends TxnTracker<NativeDnsSummary> {
  constructor(_F: EventFlags, opts: DnsOptions = { timeoutNs: 5e9, maxTransactions: DEFAULT_MAX_FLOWS, maxListed: 100 }, places = new Places()) {
    super(createDnsTxns(opts.maxTransactions, opts.timeoutNs, opts.copyWindowNs ?? 1e9, opts.maxListed, opts.resident ?? true), opts.maxTransactions, places);
  }

  summary(): DnsSummary {
    const n = this.t.summary();
    const c = n.counts;
    const L = txnLayout().dns;
    const buf = n.listed;
    const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
    const unansweredList: DnsTransaction[] = [];
    for (let off = 0; off + L.size <= buf.length; off += L.size) {
      const inner = endpointAt(buf, off + L.client, this.E);
      const qtype = view.getUint16(off + L.qtype, true);
      const answered = buf[off + L.answered] !== 0;
      const rcode = buf[off + L.rcode];
      const latency = view.getFloat64(off + L.latency, true);
      const nameOff = view.getUint32(off + L.nameOff, true);
      unansweredList.push({
        client: inner.src,
        clientPort: inner.sport ?? 0,
        server: inner.dst,
        serverPort: inner.dport ?? 53,
        id: view.getUint16(off + L.id, true),
        name: n.names.toString('latin1', nameOff, nameOff + view.getUint32(off + L.nameLen, true)),
        qtype: QTYPES[qtype] ?? String(qtype),
        queries: view.getUint32(off + L.queries, true),
        answered,
        rcode: answered ? (RCODES[rcode] ?? String(rcode)) : null,
        latencyMs: Number.isNaN(latency) ? null : latency,
        firstSeen: isoOf(view.getFloat64(off + L.firstNs, true)),
        attributedTo: buf[off + L.attributed] !== 0 ? attributionAt(view, buf, off, L.attribution, this.E, this.places) : null,
      });
    }
    return {
      queries: c[0],
      answered: c[1],
      unanswered: c[2],
      retries: c[3],
      attributed: c[4],
      latencyP50Ms: n.latency.length > 0 ? n.latency[0] : null,
      latencyMaxMs: n.latency.length > 0 ? n.latency[1] : null,
      unansweredList,
    };
  }
}
