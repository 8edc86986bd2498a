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
 * The window of an entry runs from its newest packet (join()): a retry of a query or SYN
 * (same identity, a second later) joining an entry of its first, lost send would
 * otherwise be judged lost by the first send's window before its own other side arrived.
 */
import type { PeerCarriers, TableUse } from '../model/correlation.js';
import type { TunnelName } from '../model/verdict.js';
import { PACKET_OUTGOING, type EventBatch, type EventFlags } from '../native/events.js';
import { isoOf, type InterfaceDirectory } from './context.js';

interface Pending {
  peer: PeerAgg;
  /** When the newest of them was seen (the window runs from it). */
  ts: number;
  /** Identical carriers waiting, and how many of those had a bad checksum. */
  n: number;
  bad: number;
}

interface PeerAgg {
  view: PeerCarriers;
  firstNs: number;
  lastNs: number;
  /** Interface id and peer address (IPv4 as a number, -1 for IPv6): the to-peer twin's key. */
  iface: number;
  peerV4: number;
}

/** An overlay packet sent, waiting for its carrier; `dst` its IPv4 destination (-1: IPv6). */
interface AwaitingCarrier {
  ts: number;
  n: number;
  dst: number;
  /** Larger than one Ethernet frame: a GSO super-packet, which an underlay without
   * tx-udp_tnl-segmentation segments before the capture tap (net/core/dev.c
   * validate_xmit_skb runs before dev_hard_start_xmit's dev_queue_xmit_nit), so its
   * carriers never match it. Never counted as unmatched. */
  gso: boolean;
}

/** The largest frame a 1500-byte MTU sends unsegmented (Ethernet header included). */
const MAX_PLAIN_FRAME = 1514;

/** A carrier sent before its overlay packet's batch arrived (threads and rings drain in any order). */
interface EarlyCarrier {
  ts: number;
  n: number;
  peer: PeerAgg;
}

/**
 * One more identical packet at `ts` joins waiting entry `w` of `m` (under `key`): the
 * window restarts from it, and the entry moves to the end so that the maps stay in time
 * order for advance().
 */
function join<T extends { n: number; ts: number }>(m: Map<number, T>, key: number, w: T, ts: number): void {
  w.n++;
  if (ts <= w.ts) return;
  w.ts = ts;
  m.delete(key);
  m.set(key, w);
}

/** Takes one packet off a waiting entry of `m`; the entry, or undefined when none waited. */
function takeOne<T extends { n: number }>(m: Map<number, T>, key: number): T | undefined {
  const w = m.get(key);
  if (w && --w.n === 0) m.delete(key);
  return w;
}

interface NsState {
  /** from-peer carriers waiting for their inner packet on the overlay. */
  awaitOverlay: Map<number, Pending>;
  /** overlay packets received before their carrier's batch arrived; `src` their IPv4 source (-1: IPv6). */
  earlyOverlay: Map<number, { ts: number; n: number; src: number }>;
  /** to-peer: overlay packets sent, waiting for their carrier. */
  awaitCarrier: Map<number, AwaitingCarrier>;
  /** to-peer: carriers sent whose overlay packet has not been seen yet. */
  earlyCarrier: Map<number, EarlyCarrier>;
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
  /**
   * The IPv4 entries of `peers` again, by interface and direction, then by address as an
   * int32: small-integer keys, which V8 hashes without boxing them. The 53-bit keys of
   * `peers` are heap numbers, and looking one up per carrier was a visible share of
   * `csumtop -r`'s time on a busy node's traffic (issue 14). `peers` keeps the order the
   * snapshot's ties are listed in.
   */
  private readonly peersV4 = new Map<number, Map<number, PeerAgg>>();
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
      s = { awaitOverlay: new Map(), earlyOverlay: new Map(), awaitCarrier: new Map(), earlyCarrier: new Map(), peerOfInner: new Map(), overlay: null };
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
    const byAddr = v4 >= 0 ? this.peersV4.get(ev.iface(i) * 2 + (sent ? 1 : 0)) : undefined;
    const known = byAddr?.get(v4 | 0);
    if (known) return known;
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
      };
      this.peers.set(key, p);
      if (!folded && v4 >= 0) this.indexV4(p);
    }
    return p;
  }

  private indexV4(p: PeerAgg): void {
    const byDir = p.iface * 2 + (p.view.direction === 'to-peer' ? 1 : 0);
    let byAddr = this.peersV4.get(byDir);
    if (!byAddr) this.peersV4.set(byDir, (byAddr = new Map()));
    byAddr.set(p.peerV4 | 0, p);
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
          carriers: 0,
          badOuter: 0,
          badInner: 0,
          badIpv4: 0,
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
      };
      this.peers.set(key, t);
      this.indexV4(t);
    }
    return t;
  }

  add(ev: EventBatch, dir: InterfaceDirectory): void {
    const F = this.F;
    // A batch's events come in runs from one interface: its entry and namespace state
    // are looked up once per run.
    let lastIface = -1;
    let info: ReturnType<InterfaceDirectory> = undefined;
    let st: NsState | null = null;
    for (let i = 0; i < ev.count; i++) {
      const flags = ev.flags(i);
      const iface = ev.iface(i);
      if (iface !== lastIface) {
        lastIface = iface;
        info = dir(iface);
        st = null;
      }
      // Carriers anywhere; on overlay devices every event (plain, or DNS/SYN without the plain flag).
      if (!info || (!(flags & F.carrier) && !info.overlay)) continue;
      // Made only here: the pending tables' cap counts the namespaces that had any.
      st ??= this.state(info.namespace);
      if (flags & F.carrier) {
        const p = this.peerOf(ev, i, info.label, info.namespace, st.overlay);
        const v = p.view;
        const packets = ev.packets(i);
        v.carriers += packets;
        if (flags & F.badOuter) v.badOuter++;
        if (flags & F.badInner) v.badInner++;
        if (flags & F.badIpv4) v.badIpv4++;
        const ts = ev.tsNs(i);
        const last = packets > 1 ? ev.lastTsNs(i) : ts;
        if (last > p.lastNs) p.lastNs = last;
        // Coalesced carriers (packets > 1) come only while no overlay device is captured
        // (native/flow/events.h): nothing to match them against.
        if (st.overlay === null || packets > 1) continue;
        const match = ev.match(i);
        const sent = ev.direction(i) === PACKET_OUTGOING;
        if (v.delivered === null) {
          // The overlay device appeared after this peer was first seen.
          v.delivered = 0;
          v.lost = 0;
          v.lostBad = 0;
          v.overlay = st.overlay;
        }
        const bad = (flags & (F.badOuter | F.badInner | F.badIpv4)) !== 0;
        if (!sent) {
          const early = takeOne(st.earlyOverlay, match);
          if (early) {
            v.delivered!++;
            this.learn(st, early.src, p);
          } else {
            const w = st.awaitOverlay.get(match);
            if (w && w.peer === p) {
              join(st.awaitOverlay, match, w, ts);
              if (bad) w.bad++;
              v.inFlight++;
            } else if (!w && st.awaitOverlay.size < this.opts.maxPending) {
              st.awaitOverlay.set(match, { peer: p, ts, n: 1, bad: bad ? 1 : 0 });
              v.inFlight++;
            } else {
              this.overflow++;
            }
          }
        } else {
          const w = takeOne(st.awaitCarrier, match);
          if (w) {
            v.delivered!++;
            this.learn(st, w.dst, p);
          } else {
            const e = st.earlyCarrier.get(match);
            if (e && e.peer === p) join(st.earlyCarrier, match, e, ts);
            else if (!e && st.earlyCarrier.size < this.opts.maxPending) st.earlyCarrier.set(match, { ts, n: 1, peer: p });
            else this.overflow++;
          }
        }
      } else if (info.overlay) {
        const ts = ev.tsNs(i);
        const match = ev.match(i);
        const sent = ev.direction(i) === PACKET_OUTGOING;
        if (!sent) {
          const w = st.awaitOverlay.get(match);
          if (w) {
            // The kernel drops a carrier with a bad checksum: the one delivered was good
            // if any good one waits.
            if (w.bad === w.n) w.bad--;
            if (--w.n === 0) st.awaitOverlay.delete(match);
            w.peer.view.inFlight--;
            w.peer.view.delivered!++;
            // The sender of a packet that arrived from P lives on P.
            this.learn(st, ev.outerSrcV4(i), w.peer);
          } else {
            const e = st.earlyOverlay.get(match);
            if (e) join(st.earlyOverlay, match, e, ts);
            else if (st.earlyOverlay.size < this.opts.maxPending) st.earlyOverlay.set(match, { ts, n: 1, src: ev.outerSrcV4(i) });
            else this.overflow++;
          }
        } else {
          const early = takeOne(st.earlyCarrier, match);
          if (early) {
            early.peer.view.delivered!++;
            this.learn(st, ev.outerDstV4(i), early.peer);
          } else {
            const w = st.awaitCarrier.get(match);
            if (w) join(st.awaitCarrier, match, w, ts);
            else if (st.awaitCarrier.size < this.opts.maxPending)
              st.awaitCarrier.set(match, { ts, n: 1, dst: ev.outerDstV4(i), gso: ev.wirelen(i) > MAX_PLAIN_FRAME });
            else this.overflow++;
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
      // Maps iterate in insertion order, which is (nearly) time order: stop at the first young one.
      for (const [k, w] of st.awaitOverlay) {
        if (w.ts > limit) break;
        st.awaitOverlay.delete(k);
        w.peer.view.inFlight -= w.n;
        w.peer.view.lost! += w.n;
        w.peer.view.lostBad! += w.bad;
      }
      for (const [k, o] of st.earlyOverlay) {
        if (o.ts > limit) break;
        st.earlyOverlay.delete(k);
      }
      for (const [k, w] of st.awaitCarrier) {
        if (w.ts > limit) break;
        st.awaitCarrier.delete(k);
        if (w.gso) continue;
        const known = w.dst >= 0 ? st.peerOfInner.get(w.dst) : undefined;
        const p = known ? this.toPeerOf(known) : null;
        if (p) p.view.unmatchedOverlay += w.n;
        else this.unmatchedUnattributed += w.n;
      }
      for (const [k, c] of st.earlyCarrier) {
        // A carrier whose overlay packet was never captured (another tunnel device, or one
        // not captured): nothing to count.
        if (c.ts > limit) break;
        st.earlyCarrier.delete(k);
      }
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
