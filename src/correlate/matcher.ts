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
 */
import type { PeerCarriers, TableUse } from '../model/correlation.js';
import type { TunnelName } from '../model/verdict.js';
import { PACKET_OUTGOING, type EventBatch, type EventFlags } from '../native/events.js';
import { isoOf, type InterfaceDirectory } from './context.js';

interface Pending {
  peer: PeerAgg;
  ts: number;
  bad: boolean;
}

interface PeerAgg {
  view: PeerCarriers;
  firstNs: number;
  lastNs: number;
}

interface NsState {
  /** from-peer carriers waiting for their inner packet on the overlay. */
  awaitOverlay: Map<number, Pending>;
  /** overlay packets received before their carrier's batch arrived. */
  earlyOverlay: Map<number, number>;
  /** to-peer: overlay packets sent, waiting for their carrier. */
  awaitCarrier: Map<number, number>;
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
  /** Waiting packets not kept because a pending table was full. */
  overflow = 0;
  /** Carriers counted under peer "other" because the peer table was full. */
  peersFolded = 0;

  constructor(
    private readonly F: EventFlags,
    private readonly opts: MatcherOptions = { windowNs: 1e9, maxPending: 262144 },
  ) {}

  private state(ns: string): NsState {
    let s = this.ns.get(ns);
    if (!s) {
      s = { awaitOverlay: new Map(), earlyOverlay: new Map(), awaitCarrier: new Map(), overlay: null };
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
      };
      this.peers.set(key, p);
    }
    return p;
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
        v.carriers++;
        if (flags & F.badOuter) v.badOuter++;
        if (flags & F.badInner) v.badInner++;
        if (flags & F.badIpv4) v.badIpv4++;
        if (ts > p.lastNs) p.lastNs = ts;
        if (st.overlay === null) continue;
        if (v.delivered === null) {
          // The overlay device appeared after this peer was first seen.
          v.delivered = 0;
          v.lost = 0;
          v.lostBad = 0;
          v.overlay = st.overlay;
        }
        const bad = (flags & (F.badOuter | F.badInner | F.badIpv4)) !== 0;
        if (!sent) {
          if (st.earlyOverlay.delete(match)) {
            v.delivered!++;
          } else if (st.awaitOverlay.size < this.opts.maxPending) {
            st.awaitOverlay.set(match, { peer: p, ts, bad });
            v.inFlight++;
          } else {
            this.overflow++;
          }
        } else if (st.awaitCarrier.delete(match)) {
          v.delivered!++;
        }
      } else if (info.overlay) {
        if (!sent) {
          const w = st.awaitOverlay.get(match);
          if (w) {
            st.awaitOverlay.delete(match);
            w.peer.view.inFlight--;
            w.peer.view.delivered!++;
          } else if (st.earlyOverlay.size < this.opts.maxPending) {
            st.earlyOverlay.set(match, ts);
          } else {
            this.overflow++;
          }
        } else if (st.awaitCarrier.size < this.opts.maxPending) {
          st.awaitCarrier.set(match, ts);
        } else {
          this.overflow++;
        }
      }
    }
  }

  /** Table sizes for the snapshot (CorrelationSnapshot.tables). */
  tableUse(): { peers: TableUse; pending: TableUse } {
    let pending = 0;
    for (const st of this.ns.values()) pending += st.awaitOverlay.size + st.earlyOverlay.size + st.awaitCarrier.size;
    return {
      // The "other" rows come on top of the cap: at most two per underlay interface.
      peers: { size: this.peers.size, cap: this.opts.maxPeers ?? Infinity, evicted: this.peersFolded },
      pending: { size: pending, cap: 3 * this.opts.maxPending * this.ns.size, evicted: this.overflow },
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
        w.peer.view.inFlight--;
        w.peer.view.lost!++;
        if (w.bad) w.peer.view.lostBad!++;
      }
      for (const [k, ts] of st.earlyOverlay) {
        if (ts > limit) break;
        st.earlyOverlay.delete(k);
      }
      for (const [k, ts] of st.awaitCarrier) {
        if (ts > limit) break;
        st.awaitCarrier.delete(k);
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
