/**
 * Cross-interface matching: the carrier seen on the underlay against the decapsulated
 * packet on the overlay device of the same node (namespace), in both directions, keyed
 * by the inner packet's identity (addresses, ports, IPv4 id, length: the native `match`
 * key). This automates the two-tcpdump comparison of kubernetes/kubernetes#88986: a
 * carrier the receiving kernel dropped for its checksum never appears on flannel.1.
 *
 *  from-peer: received carrier  -> inner packet received on the overlay device
 *  to-peer:   packet sent on the overlay device -> carrier sent on the underlay
 *
 * A carrier still unmatched `windowNs` after it was seen is lost (decapsulation happens
 * in the same softirq, microseconds later; the window covers batch and thread skew).
 *
 * to-peer, an overlay packet that never left as a carrier (no forwarding entry for its
 * destination, a carrier dropped by netfilter before the capture tap) is "unmatched
 * overlay". Only the carrier names the peer, so the peer of such a packet is learned from
 * the traffic itself: the inner destination of every overlay packet that did leave as a
 * carrier to peer P, and the inner source of every carrier received from P, live on P
 * (the routes flannel and calico write send a pod's traffic to its node's VTEP). An
 * unmatched packet to an address not learned yet is counted in `unmatchedUnattributed`.
 *
 * Packets with the same identity (a sender that leaves the IPv4 id at 0 on DF packets,
 * replayed or generated traffic) are counted, not overwritten: every waiting entry holds
 * how many identical packets wait (`n`), so N carriers and N inner packets give N matches.
 *
 * The waiting packets are typed-array tables (Waiting, over a SlotTable kept in arrival
 * order), not an object per packet (issue 14): with an overlay device captured every
 * packet waits once, so objects here were garbage at the packet rate.
 */
import type { PeerCarriers, TableUse } from '../model/correlation.js';
import type { TunnelName } from '../model/verdict.js';
import { PACKET_OUTGOING, type EventBatch, type EventFlags } from '../native/events.js';
import { isoOf, type InterfaceDirectory } from './context.js';
import { SlotTable } from './slot-table.js';

interface PeerAgg {
  view: PeerCarriers;
  firstNs: number;
  lastNs: number;
  /** Interface id and peer address (IPv4 as a number, -1 for IPv6): the to-peer twin's key. */
  iface: number;
  peerV4: number;
  /** Index in CarrierMatcher.peerList (what the waiting tables hold). */
  idx: number;
}

/** The largest frame a 1500-byte MTU sends unsegmented (Ethernet header included). */
const MAX_PLAIN_FRAME = 1514;

/**
 * Packets of one identity (the native match key) waiting for their other side, in
 * arrival order: per slot when the first of them was seen (the window runs from it), how
 * many identical ones wait (`n`), how many of those had a bad checksum, and `ref`: a
 * peer (an index of CarrierMatcher.peerList) or an IPv4 address (-1: IPv6), by table.
 */
class Waiting {
  private readonly index: SlotTable;
  readonly ts: Float64Array;
  readonly n: Uint32Array;
  readonly bad: Uint32Array;
  readonly ref: Float64Array;
  /** awaitCarrier: larger than one Ethernet frame, a GSO super-packet (see add). */
  readonly gso: Uint8Array;

  constructor(readonly cap: number) {
    this.index = new SlotTable(cap);
    this.ts = new Float64Array(cap);
    this.n = new Uint32Array(cap);
    this.bad = new Uint32Array(cap);
    this.ref = new Float64Array(cap);
    this.gso = new Uint8Array(cap);
  }

  get size(): number {
    return this.index.size;
  }

  /** The slot of `key`, or -1. */
  find(key: number): number {
    return this.index.peek(key);
  }

  /** A new entry for `key` (absent, and size < cap): one packet, none bad. */
  add(key: number, ts: number, ref: number): number {
    const s = this.index.add(key);
    this.ts[s] = ts;
    this.n[s] = 1;
    this.bad[s] = 0;
    this.ref[s] = ref;
    this.gso[s] = 0;
    return s;
  }

  /** Takes one packet off `key`'s entry: its slot (values readable until the next add), or -1 when none waited. */
  takeOne(key: number): number {
    const s = this.index.peek(key);
    if (s >= 0 && --this.n[s] === 0) this.index.remove(s);
    return s;
  }

  /** Decrements slot `s` (found), removing it at zero. */
  release(s: number): void {
    if (--this.n[s] === 0) this.index.remove(s);
  }

  /** Removes every entry first seen at or before `limit`, oldest first, calling `gone` with each slot first. */
  expire(limit: number, gone: (s: number) => void): void {
    for (let s = this.index.first(); s >= 0; ) {
      // Arrival order is (nearly) time order: stop at the first young one.
      if (this.ts[s] > limit) break;
      const next = this.index.next(s);
      gone(s);
      this.index.remove(s);
      s = next;
    }
  }
}

interface NsState {
  /** from-peer carriers waiting for their inner packet on the overlay (ref: peer). */
  awaitOverlay: Waiting;
  /** overlay packets received before their carrier's batch arrived (ref: their IPv4 source). */
  earlyOverlay: Waiting;
  /** to-peer: overlay packets sent, waiting for their carrier (ref: their IPv4 destination). Larger than
   * one Ethernet frame: a GSO super-packet, which an underlay without tx-udp_tnl-segmentation segments
   * before the capture tap (net/core/dev.c validate_xmit_skb runs before dev_hard_start_xmit's
   * dev_queue_xmit_nit), so its carriers never match it. Never counted as unmatched. */
  awaitCarrier: Waiting;
  /** to-peer: carriers sent whose overlay packet has not been seen yet (threads and rings drain in any order; ref: peer). */
  earlyCarrier: Waiting;
  /** Inner IPv4 address -> the peer it was last seen behind (either direction's aggregate). */
  peerOfInner: Map<number, PeerAgg>;
  overlay: string | null;
}

export interface MatcherOptions {
  windowNs: number;
  /** Most packets waiting per namespace; beyond it they are not matched (counted). */
  maxPending: number;
  /** Peers with their own row (src/correlate/limits.ts); more are counted under "other". */
  maxPeers?: number;
}

export class CarrierMatcher {
  private readonly ns = new Map<string, NsState>();
  /** Keyed by interface, direction and peer: a number for IPv4 (no string per carrier). */
  private readonly peers = new Map<number | string, PeerAgg>();
  /** Every peer aggregate by its idx (never removed). */
  private readonly peerList: PeerAgg[] = [];
  /** Waiting packets not kept because a pending table was full. */
  overflow = 0;
  /** to-peer overlay packets never encapsulated whose destination maps to no known peer. */
  unmatchedUnattributed = 0;
  /** Carriers counted under peer "other" because the peer table was full. */
  peersFolded = 0;

  constructor(
    private readonly F: EventFlags,
    private readonly opts: MatcherOptions = { windowNs: 1e9, maxPending: 262144 },
  ) {}

  private state(ns: string): NsState {
    let s = this.ns.get(ns);
    if (!s) {
      const cap = this.opts.maxPending;
      s = { awaitOverlay: new Waiting(cap), earlyOverlay: new Waiting(cap), awaitCarrier: new Waiting(cap), earlyCarrier: new Waiting(cap), peerOfInner: new Map(), overlay: null };
      this.ns.set(ns, s);
    }
    return s;
  }

  /** Namespaces with an overlay device captured: only there can carriers be matched. */
  setOverlay(namespace: string, label: string | null): void {
    this.state(namespace).overlay = label;
  }

  private peerOf(ev: EventBatch, i: number, underlay: string, namespace: string, overlay: string | null): PeerAgg {
    const sent = ev.direction(i) === PACKET_OUTGOING;
    const v4 = sent ? ev.outerDstV4(i) : ev.outerSrcV4(i);
    // Interface ids are small (< 2^20): id, direction and address fit in 53 bits.
    let key: number | string = v4 >= 0 ? (ev.iface(i) * 2 + (sent ? 1 : 0)) * 4294967296 + v4 : `${ev.iface(i)}|${sent}|${ev.outer(i).src}|${ev.outer(i).dst}`;
    let p = this.peers.get(key);
    let folded = false;
    if (!p && this.peers.size >= (this.opts.maxPeers ?? Infinity)) {
      // Bounded (spoofed outer sources must not grow it): one "other" row per interface
      // and direction keeps the totals.
      key = `${ev.iface(i)}|${sent}|other`;
      p = this.peers.get(key);
      folded = true;
    }
    if (folded) this.peersFolded++;
    if (!p) {
      const o = ev.outer(i);
      const peerAddr = folded ? 'other' : sent ? o.dst : o.src;
      const direction = sent ? 'to-peer' : 'from-peer';
      const tunnel: TunnelName = ev.tunnel(i);
      const ts = ev.tsNs(i);
      p = {
        view: {
          namespace,
          underlay,
          overlay,
          peer: peerAddr,
          local: sent ? o.src : o.dst,
          direction,
          tunnel,
          vni: tunnel === 'vxlan' || tunnel === 'geneve' ? ev.vni(i) : null,
          carriers: 0,
          badOuter: 0,
          badInner: 0,
          badIpv4: 0,
          delivered: overlay ? 0 : null,
          lost: overlay ? 0 : null,
          lostBad: overlay ? 0 : null,
          unmatchedOverlay: 0,
          inFlight: 0,
          firstSeen: '',
          lastSeen: '',
        },
        firstNs: ts,
        lastNs: ts,
        iface: ev.iface(i),
        peerV4: v4,
        idx: this.peerList.length,
      };
      this.peerList.push(p);
      this.peers.set(key, p);
    }
    return p;
  }

  /** Remembers that inner address `addr` lives behind `p`'s peer (bounded like the pending tables). */
  private learn(st: NsState, addr: number, p: PeerAgg): void {
    if (addr < 0) return;
    if (st.peerOfInner.size >= this.opts.maxPending && !st.peerOfInner.has(addr)) return;
    st.peerOfInner.set(addr, p);
  }

  /**
   * The to-peer aggregate for the peer behind `p` (which may be its from-peer twin, when
   * this node has only received from that peer so far): created empty if needed.
   */
  private toPeerOf(p: PeerAgg): PeerAgg | null {
    if (p.view.direction === 'to-peer') return p;
    if (p.peerV4 < 0) return null;
    const key = (p.iface * 2 + 1) * 4294967296 + p.peerV4;
    let t = this.peers.get(key);
    if (!t) {
      t = {
        view: {
          ...p.view,
          direction: 'to-peer',
          carriers: 0, badOuter: 0, badInner: 0, badIpv4: 0,
          delivered: p.view.delivered === null ? null : 0,
          lost: p.view.lost === null ? null : 0,
          lostBad: p.view.lostBad === null ? null : 0,
          unmatchedOverlay: 0,
          inFlight: 0,
        },
        firstNs: p.lastNs,
        lastNs: p.lastNs,
        iface: p.iface,
        peerV4: p.peerV4,
        idx: this.peerList.length,
      };
      this.peerList.push(t);
      this.peers.set(key, t);
    }
    return t;
  }

  add(ev: EventBatch, dir: InterfaceDirectory): void {
    const F = this.F;
    for (let i = 0; i < ev.count; i++) {
      const flags = ev.flags(i);
      const info = dir(ev.iface(i));
      // Carriers anywhere; on overlay devices every event (plain, or DNS/SYN without the plain flag).
      if (!info || (!(flags & F.carrier) && !info.overlay)) continue;
      const st = this.state(info.namespace);
      const ts = ev.tsNs(i);
      const match = ev.match(i);
      const sent = ev.direction(i) === PACKET_OUTGOING;
      if (flags & F.carrier) {
        const p = this.peerOf(ev, i, info.label, info.namespace, st.overlay);
        const v = p.view;
        const packets = ev.packets(i);
        v.carriers += packets;
        if (flags & F.badOuter) v.badOuter++;
        if (flags & F.badInner) v.badInner++;
        if (flags & F.badIpv4) v.badIpv4++;
        if (ts > p.lastNs) p.lastNs = ts;
        // Coalesced carriers (packets > 1) come only while no overlay device is captured
        // (native/flow/events.h): nothing to match them against.
        if (st.overlay === null || packets > 1) continue;
        if (v.delivered === null) {
          // The overlay device appeared after this peer was first seen.
          v.delivered = 0;
          v.lost = 0;
          v.lostBad = 0;
          v.overlay = st.overlay;
        }
        const bad = (flags & (F.badOuter | F.badInner | F.badIpv4)) !== 0;
        const max = this.opts.maxPending;
        if (!sent) {
          const early = st.earlyOverlay.takeOne(match);
          if (early >= 0) {
            v.delivered!++;
            this.learn(st, st.earlyOverlay.ref[early], p);
          } else {
            const t = st.awaitOverlay;
            const w = t.find(match);
            if (w >= 0 && t.ref[w] === p.idx) {
              t.n[w]++;
              if (bad) t.bad[w]++;
              v.inFlight++;
            } else if (w < 0 && t.size < max) {
              const s = t.add(match, ts, p.idx);
              t.bad[s] = bad ? 1 : 0;
              v.inFlight++;
            } else {
              this.overflow++;
            }
          }
        } else {
          const w = st.awaitCarrier.takeOne(match);
          if (w >= 0) {
            v.delivered!++;
            this.learn(st, st.awaitCarrier.ref[w], p);
          } else {
            const t = st.earlyCarrier;
            const e = t.find(match);
            if (e >= 0 && t.ref[e] === p.idx) t.n[e]++;
            else if (e < 0 && t.size < max) t.add(match, ts, p.idx);
            else this.overflow++;
          }
        }
      } else if (info.overlay) {
        const max = this.opts.maxPending;
        if (!sent) {
          const t = st.awaitOverlay;
          const w = t.find(match);
          if (w >= 0) {
            // The kernel drops a carrier with a bad checksum: the one delivered was good
            // if any good one waits.
            if (t.bad[w] === t.n[w]) t.bad[w]--;
            const peer = this.peerList[t.ref[w]];
            t.release(w);
            peer.view.inFlight--;
            peer.view.delivered!++;
            // The sender of a packet that arrived from P lives on P.
            this.learn(st, ev.outerSrcV4(i), peer);
          } else {
            const o = st.earlyOverlay;
            const e = o.find(match);
            if (e >= 0) o.n[e]++;
            else if (o.size < max) o.add(match, ts, ev.outerSrcV4(i));
            else this.overflow++;
          }
        } else {
          const early = st.earlyCarrier.takeOne(match);
          if (early >= 0) {
            const peer = this.peerList[st.earlyCarrier.ref[early]];
            peer.view.delivered!++;
            this.learn(st, ev.outerDstV4(i), peer);
          } else {
            const t = st.awaitCarrier;
            const w = t.find(match);
            if (w >= 0) t.n[w]++;
            else if (t.size < max) {
              const s = t.add(match, ts, ev.outerDstV4(i));
              t.gso[s] = ev.wirelen(i) > MAX_PLAIN_FRAME ? 1 : 0;
            } else this.overflow++;
          }
        }
      }
    }
  }

  /** Table sizes for the snapshot (CorrelationSnapshot.tables). */
  tableUse(): { peers: TableUse; pending: TableUse } {
    let pending = 0;
    for (const st of this.ns.values()) pending += st.awaitOverlay.size + st.earlyOverlay.size + st.awaitCarrier.size + st.earlyCarrier.size;
    return {
      // The "other" rows come on top of the cap: at most two per underlay interface.
      peers: { size: this.peers.size, cap: this.opts.maxPeers ?? Infinity, evicted: this.peersFolded },
      pending: { size: pending, cap: 4 * this.opts.maxPending * this.ns.size, evicted: this.overflow },
    };
  }

  /** Closes the window for everything seen before nowNs - windowNs. */
  advance(nowNs: number): void {
    const limit = nowNs - this.opts.windowNs;
    for (const st of this.ns.values()) {
      const ao = st.awaitOverlay;
      ao.expire(limit, (s) => {
        const v = this.peerList[ao.ref[s]].view;
        v.inFlight -= ao.n[s];
        v.lost! += ao.n[s];
        v.lostBad! += ao.bad[s];
      });
      st.earlyOverlay.expire(limit, () => {});
      const ac = st.awaitCarrier;
      ac.expire(limit, (s) => {
        if (ac.gso[s]) return;
        const dst = ac.ref[s];
        const known = dst >= 0 ? st.peerOfInner.get(dst) : undefined;
        const p = known ? this.toPeerOf(known) : null;
        if (p) p.view.unmatchedOverlay += ac.n[s];
        else this.unmatchedUnattributed += ac.n[s];
      });
      // A carrier whose overlay packet was never captured (another tunnel device, or one
      // not captured): nothing to count.
      st.earlyCarrier.expire(limit, () => {});
    }
  }

  /** Ends capture: everything still waiting is decided now. */
  flush(): void {
    this.advance(Number.POSITIVE_INFINITY);
  }

  snapshot(): PeerCarriers[] {
    return [...this.peers.values()]
      .map((p) => ({ ...p.view, firstSeen: isoOf(p.firstNs), lastSeen: isoOf(p.lastNs) }))
      .sort((a, b) => b.badOuter + b.badInner - (a.badOuter + a.badInner) || b.carriers - a.carriers);
  }
}
