/**
 * TEST ORACLE since the carrier-flow table moved into the addon (issue 14 step 1): the
 * JavaScript table test/lib/carrier-flows-oracle.ts is built on, checked against LruMap
 * in test/unit/slot-table.test.ts.
 *
 * A fixed-size table of up to `cap` entries keyed by the native 53-bit keys (a number),
 * that hands out slot numbers 0..cap-1 for the caller's own typed arrays and evicts the
 * least recently used entry when full: the same policy as LruMap, without one JavaScript
 * object per entry (issue 14: with a new flow per frame, the objects of LruMap and of the
 * entries made garbage collection 27% of the CPU of `csumtop -r`).
 *
 * Layout: a KeyIndex (src/correlate/key-index.ts: open addressing, backward-shift
 * deletion) over the keys; per slot its key and its place in the recency list (a
 * SlotList, src/correlate/slot-list.ts, as TxnTable's insertion list).
 * Everything is allocated once: SLOT_TABLE_BYTES_PER_ENTRY bytes per slot.
 */

import { KEY_INDEX_BYTES_PER_SLOT, KeyIndex } from '../../src/correlate/key-index.js';
import { SLOT_LIST_BYTES_PER_SLOT, SlotList } from '../../src/correlate/slot-list.js';

/** Bytes per entry: key (8), recency links (2 x 4), the index's buckets. */
export const SLOT_TABLE_BYTES_PER_ENTRY = 8 + SLOT_LIST_BYTES_PER_SLOT + KEY_INDEX_BYTES_PER_SLOT;

export class SlotTable {
  private readonly keys: Float64Array;
  /** Least recently used at the oldest end. */
  private readonly recency: SlotList;
  private readonly index: KeyIndex;
  /** Slots never used yet are handed out in order; later ones come from evictions. */
  private used = 0;
  size = 0;
  /** Entries dropped to make room since the start. */
  evicted = 0;

  constructor(readonly cap: number) {
    if (!(cap >= 1) || !Number.isInteger(cap)) throw new RangeError(`SlotTable cap must be a positive integer (got ${cap})`);
    this.keys = new Float64Array(cap);
    this.recency = new SlotList(cap);
    this.index = new KeyIndex(cap, this.keys);
    // Resident from the start rather than page by page as slots are used (see CarrierFlows).
    this.keys.fill(0);
  }

  /** Bytes this table allocated (SLOT_TABLE_BYTES_PER_ENTRY per entry at most). */
  get bytes(): number {
    return this.keys.byteLength + this.recency.bytes + this.index.bytes;
  }

  /** The slot of `key`, made the most recently used; -1 when absent. */
  get(key: number): number {
    const s = this.index.find(key);
    if (s >= 0) this.touch(s);
    return s;
  }

  /**
   * A slot for `key`, which must be absent (get() returned -1), as the most recently
   * used; when the table is full the least recently used entry is evicted (counted) and
   * its slot reused: the caller resets that slot's values.
   */
  add(key: number): number {
    let s: number;
    if (this.used < this.cap) {
      s = this.used++;
    } else {
      s = this.recency.oldest;
      this.recency.unlink(s);
      this.index.remove(s);
      this.size--;
      this.evicted++;
    }
    this.keys[s] = key;
    this.index.insert(s);
    this.recency.append(s);
    this.size++;
    return s;
  }

  /** Calls fn with every slot in use, least recently used first. */
  forEach(fn: (slot: number) => void): void {
    for (let s = this.recency.oldest; s >= 0; s = this.recency.next(s)) fn(s);
  }

  private touch(s: number): void {
    if (this.recency.newest === s) return;
    this.recency.unlink(s);
    this.recency.append(s);
  }
}
