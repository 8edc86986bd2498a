/**
 * Where a native correlation table saw a packet: the interface's label and namespace as
 * they were then (issue 14: the tables of carrier flows, DNS and SYN transactions live in
 * the addon and key rows by a number, not by strings).
 *
 * A place is a small index into a list of distinct (label, namespace) pairs, as many as
 * interfaces ever seen, not as many as flows. The Correlator hands a native table the
 * places of the listed interfaces with each batch (`pairs()`), and turns the places of the
 * rows a snapshot shows back into strings (`at()`). An interface no longer listed (folded
 * into the vanished row, src/capture/vanished.ts) while its events were in flight has no
 * place: the native side then keeps UNLISTED_PLACE | id, shown as `#id` (what the
 * JavaScript tables showed for it).
 *
 * Native counterpart: native/flow/places.h (PlaceMap).
 */
import type { InterfaceInfo } from './context.js';

/** Bit set in a place that is an interface id with no listed place (native/flow/places.h kUnlistedPlace). */
export const UNLISTED_PLACE = 0x80000000;

/** Per interface in `pairs()`: id, place, flags. */
export const PLACE_PAIR_WORDS = 3;
/** Flag bit: the interface is an overlay device (native/flow/places.h kPlaceOverlay). */
export const PLACE_OVERLAY = 1;

export interface Place {
  label: string;
  namespace: string;
}

export class Places {
  private readonly list: Place[] = [];
  private readonly index = new Map<string, number>();

  /** The place of (label, namespace), made on first use. */
  intern(label: string, namespace: string): number {
    const key = `${label}\0${namespace}`;
    let p = this.index.get(key);
    if (p === undefined) {
      p = this.list.length;
      this.list.push({ label, namespace });
      this.index.set(key, p);
    }
    return p;
  }

  /** A place as its strings; an unlisted interface's place as `#id` with no namespace. */
  at(place: number): Place {
    if (place >= UNLISTED_PLACE) return { label: `#${place - UNLISTED_PLACE}`, namespace: '' };
    return this.list[place];
  }

  get size(): number {
    return this.list.length;
  }

  /** (id, place, flags) per interface, PLACE_PAIR_WORDS words each: what a native table's add() takes. */
  pairs(ifaces: Iterable<[number, InterfaceInfo]>): Uint32Array<ArrayBuffer> {
    const out: number[] = [];
    for (const [id, info] of ifaces) out.push(id, this.intern(info.label, info.namespace), info.overlay ? PLACE_OVERLAY : 0);
    return Uint32Array.from(out);
  }
}
