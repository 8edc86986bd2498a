/**
 * Test oracle only (issue 14): the JavaScript implementation the native transaction
 * tables (native/flow/dns_txns.h, syn_txns.h, sends.h, txn_table.h) replaced, kept for the
 * differential tests of test/unit/native-txns.test.ts. Not used by csumtop.
 *
 * Which sightings of one DNS query or TCP SYN are new sends (retries) and which are the
 * same packet seen again on another interface, shared by the DNS and SYN trackers.
 *
 * A DNS query or SYN is captured several times on its way: on the pod's veth, on the
 * overlay device (flannel.1), inside its carrier on the underlay (eth0), and on the other
 * node. All those copies carry the same native `match` key (addresses, ports, IPv4 id,
 * length). A retry carries the same key too whenever its IPv4 id repeats: Linux gives DF
 * packets of a socket without a connected peer id 0 (include/net/ip.h
 * ip_select_ident_segs; the seed capture's SYN-ACKs are `id 0, flags [DF]`), other stacks
 * and middleboxes repeat ids too, while a retransmitted SYN repeats its ISN (RFC 9293
 * 3.8.1; Linux resends it net.ipv4.tcp_syn_retries times, after 1 s and doubling) and a
 * retried query its id and question (RFC 1035 4.2.1, 7.2; glibc's res_send resends the
 * same buffer). So the key alone cannot tell a copy from a retry. The rule:
 *
 *  - a sighting on an interface (and direction) where this send was not seen yet, within
 *    `windowNs` of the send's first sighting, is the same packet (one send): the
 *    carrier/overlay matcher uses the same window for the same pair
 *    (src/correlate/matcher.ts);
 *  - a sighting on an interface (and direction) where the send was already seen is a new
 *    send: one interface sees one packet once per direction, so a second sighting there is
 *    the sender sending again. The direction counts because loopback shows every packet
 *    twice, as sent and as received (net/core/dev.c dev_queue_xmit_nit, then netif_rx).
 *    Without a direction (a file without pcapng flags) both count as one direction.
 *
 * Only sends younger than the window can still gain copies, so only those are kept
 * (and at most MAX_COPIES of them): the memory per transaction is bounded by the
 * retry rate, not by how long the transaction stays open.
 */
import { PACKET_OUTGOING } from '../../src/native/events.js';
import { MAX_COPIES } from '../../src/correlate/limits.js';

/** Interfaces one send is remembered on (veth, bridge, overlay, underlay, both nodes ...). */
const MAX_PLACES = 16;

interface Send {
  match: number;
  ts: number;
  /** Where it was seen: interface id * 2 + 1 when sent by the capturing host. */
  places: number[];
}

/** The place of a sighting: interface and direction as one number. */
export function placeOf(iface: number, direction: number): number {
  return iface * 2 + (direction === PACKET_OUTGOING ? 1 : 0);
}

export class Sends {
  private readonly recent: Send[] = [];

  constructor(private readonly windowNs: number) {}

  /** Starts from one send already seen at `places` (SendSlots handing over its inline send). */
  seed(match: number, ts: number, places: number[]): this {
    this.recent.push({ match, ts, places });
    return this;
  }

  /**
   * Records one sighting (native match key, placeOf(), capture time); true when it is a
   * new send, false when it is a copy of a send already counted.
   */
  see(match: number, place: number, ts: number): boolean {
    // Newest first: a retry sent 1 s later must not take a copy meant for the next one.
    for (let k = this.recent.length - 1; k >= 0; k--) {
      const s = this.recent[k];
      // Abs: batches of different capture threads arrive in any order.
      if (s.match !== match || Math.abs(ts - s.ts) >= this.windowNs || s.places.includes(place)) continue;
      if (s.places.length < MAX_PLACES) s.places.push(place);
      return false;
    }
    // Sends older than the window can take no more copies: forget them.
    while (this.recent.length > 0 && (ts - this.recent[0].ts >= this.windowNs || this.recent.length >= MAX_COPIES)) this.recent.shift();
    this.recent.push({ match, ts, places: [place] });
    return true;
  }
}

/** Places of a transaction's first send kept inline; a fifth place or a second send moves it to a Sends. */
const INLINE_PLACES = 4;

/** Bytes per slot of SendSlots: match and time (2 x 8), places (INLINE_PLACES x 4), their count (1). */
export const SEND_SLOTS_BYTES_PER_ENTRY = 16 + 4 * INLINE_PLACES + 1;

/**
 * Sends for every slot of a TxnTable, the same rule as Sends, with no object for the
 * common case: a transaction sent once and seen on up to INLINE_PLACES interfaces (pod
 * veth, overlay, underlay) lives in typed arrays; a retry or more places moves that
 * transaction to a Sends object (retries are the rare, interesting case).
 */
export class SendSlots {
  private readonly match: Float64Array;
  private readonly ts: Float64Array;
  private readonly places: Int32Array;
  private readonly count: Uint8Array;
  private readonly moved = new Map<number, Sends>();

  constructor(
    cap: number,
    private readonly windowNs: number,
  ) {
    this.match = new Float64Array(cap);
    this.ts = new Float64Array(cap);
    this.places = new Int32Array(cap * INLINE_PLACES);
    this.count = new Uint8Array(cap);
    // Resident from the start (see TxnTable).
    for (const a of [this.match, this.ts, this.places, this.count]) a.fill(0);
  }

  /** Bytes of the typed arrays (SEND_SLOTS_BYTES_PER_ENTRY per slot). */
  get bytes(): number {
    return this.match.byteLength + this.ts.byteLength + this.places.byteLength + this.count.byteLength;
  }

  /** The first sighting of a new transaction at `slot`: its first send. */
  start(slot: number, match: number, place: number, ts: number): void {
    if (this.moved.size > 0) this.moved.delete(slot);
    this.match[slot] = match;
    this.ts[slot] = ts;
    this.places[slot * INLINE_PLACES] = place;
    this.count[slot] = 1;
  }

  /** Sends.see for the transaction at `slot`: true for a new send, false for a copy. */
  see(slot: number, match: number, place: number, ts: number): boolean {
    const moved = this.moved.size > 0 ? this.moved.get(slot) : undefined;
    if (moved) return moved.see(match, place, ts);
    const n = this.count[slot];
    const at = slot * INLINE_PLACES;
    if (match === this.match[slot] && Math.abs(ts - this.ts[slot]) < this.windowNs) {
      let seen = false;
      for (let k = 0; k < n; k++) if (this.places[at + k] === place) seen = true;
      if (!seen && n < INLINE_PLACES) {
        this.places[at + n] = place;
        this.count[slot] = n + 1;
        return false;
      }
    } else if (ts - this.ts[slot] >= this.windowNs) {
      // A new send after the first can take no more copies: Sends would forget it.
      this.start(slot, match, place, ts);
      return true;
    }
    const places: number[] = [];
    for (let k = 0; k < n; k++) places.push(this.places[at + k]);
    const sends = new Sends(this.windowNs).seed(this.match[slot], this.ts[slot], places);
    this.moved.set(slot, sends);
    return sends.see(match, place, ts);
  }

  /** The transaction at `slot` is gone. */
  release(slot: number): void {
    if (this.moved.size > 0) this.moved.delete(slot);
  }
}
