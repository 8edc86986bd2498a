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
 * Packets with the same identity (a sender that leaves the IPv4 id at 0 on DF packets,
 * replayed or generated traffic) are counted, not overwritten: each waiting entry holds
 * how many identical packets wait, so N carriers and N inner packets give N matches.
 */
import type { PeerCarriers } from '../model/correlation.js';
import type { TunnelName } from '../model/verdict.js';
import { PACKET_OUTGOING, type EventBatch, type EventFlags } from '../native/events.js';
import { isoOf, type InterfaceDirectory } from './context.js';

interface Pending {
  peer: PeerAgg;
  /** When the first of them was seen (the window runs from it). */
  ts: number;
  /** Identical carriers waiting, and how many of those had a bad checksum. */
  n: number;
  bad: number;
}

/** Packets of one identity waiting on the other side. */
interface Waiting {
  ts: number;
  n: number;
}

/** Takes one packet off a waiting entry; false when there was none. */
function takeOne(m: Map<number, Waiting>, key: number): boolean {
  const w = m.get(key);
  if (!w) return false;
  if (--w.n === 0) m.delete(key);
  return true;
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
  earlyOverlay: Map<number, Waiting>;
  /** to-peer: overlay packets sent, waiting for their carrier. */
  awaitCarrier: Map<number, Waiting>;
  overlay: string | null;
}

export interface MatcherOptions {
  windowNs: number;
  /** Most packets waiting per namespace; beyond it they are not matched (counted). */
  maxPending: number;
}

export class CarrierMatcher {
  private readonly ns = new Map<string, NsState>();
  /** Keyed by interface, direction and peer: a number for IPv4 (no string per carrier). */
  private readonly peers = new Map<number | string, PeerAgg>();
  /** Waiting packets not kept because a pending table was full. */
  overflow = 0;

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
    const key = v4 >= 0 ? (ev.iface(i) * 2 + (sent ? 1 : 0)) * 4294967296 + v4 : `${ev.iface(i)}|${sent}|${ev.outer(i).src}|${ev.outer(i).dst}`;
    let p = this.peers.get(key);
    if (!p) {
      const o = ev.outer(i);
      const peerAddr = sent ? o.dst : o.src;
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
        if (!sent) {
          if (takeOne(st.earlyOverlay, match)) {
            v.delivered!++;
          } else {
            const w = st.awaitOverlay.get(match);
            if (w && w.peer === p) {
              w.n++;
              if (bad) w.bad++;
              v.inFlight++;
            } else if (!w && st.awaitOverlay.size < this.opts.maxPending) {
              st.awaitOverlay.set(match, { peer: p, ts, n: 1, bad: bad ? 1 : 0 });
              v.inFlight++;
            } else {
              this.overflow++;
            }
          }
        } else if (takeOne(st.awaitCarrier, match)) {
          v.delivered!++;
        }
      } else if (info.overlay) {
        if (!sent) {
          const w = st.awaitOverlay.get(match);
          if (w) {
            // The kernel drops a carrier with a bad checksum: the one delivered was good
            // if any good one waits.
            if (w.bad === w.n) w.bad--;
            if (--w.n === 0) st.awaitOverlay.delete(match);
            w.peer.view.inFlight--;
            w.peer.view.delivered!++;
          } else {
            this.wait(st.earlyOverlay, match, ts);
          }
        } else {
          this.wait(st.awaitCarrier, match, ts);
        }
      }
    }
  }

  private wait(m: Map<number, Waiting>, key: number, ts: number): void {
    const w = m.get(key);
    if (w) w.n++;
    else if (m.size < this.opts.maxPending) m.set(key, { ts, n: 1 });
    else this.overflow++;
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
      for (const [k, w] of st.earlyOverlay) {
        if (w.ts > limit) break;
        st.earlyOverlay.delete(k);
      }
      for (const [k, w] of st.awaitCarrier) {
        if (w.ts > limit) break;
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
