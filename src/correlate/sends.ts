/**
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
import { PACKET_OUTGOING } from '../native/events.js';
import { MAX_COPIES } from './limits.js';

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
