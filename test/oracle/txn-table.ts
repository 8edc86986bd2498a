/**
 * Test oracle only (issue 14): the JavaScript implementation the native transaction
 * tables (native/flow/dns_txns.h, syn_txns.h, sends.h, txn_table.h) replaced, kept for the
 * differential tests of test/unit/native-txns.test.ts. Not used by csumtop.
 *
 * A fixed-size table of open transactions (DNS queries, TCP SYNs) keyed by the native
 * 53-bit transaction keys (native/flow/events.h `txn`), that hands out slot numbers
 * 0..cap-1 for the caller's own typed arrays: no JavaScript object per transaction.
 * With a new query per frame, one object (and its strings) per query lived for the 5 s
 * timeout, got promoted to V8's old generation and made garbage collection a quarter of
 * the CPU of `csumtop -r` (issue 14).
 *
 * Unlike SlotTable (least recently used eviction, for flows), a full table refuses a
 * new key: the trackers count it as not tracked, as they did with a bounded Map. Entries
 * are deleted explicitly (decided, forgotten) and iterated in insertion order, the order
 * of a Map, so the trackers decide timeouts in the order the transactions began.
 *
 * Layout: a KeyIndex (src/correlate/key-index.ts, shared with SlotTable) over the keys;
 * per slot its key and its place in the insertion list (a SlotList,
 * src/correlate/slot-list.ts, as SlotTable's recency list); free slots on a stack.
 * Everything is allocated and written once at the start.
 */

import { KEY_INDEX_BYTES_PER_SLOT, KeyIndex } from '../../src/correlate/key-index.js';
import { SLOT_LIST_BYTES_PER_SLOT, SlotList } from '../../src/correlate/slot-list.js';

/** Bytes per entry: key (8), insertion links (2 x 4), free stack (4), the index's buckets. */
export const TXN_TABLE_BYTES_PER_ENTRY = 8 + SLOT_LIST_BYTES_PER_SLOT + 4 + KEY_INDEX_BYTES_PER_SLOT;

export class TxnTable {
  private readonly keys: Float64Array;
  /** Insertion order: the oldest transaction at the oldest end. */
  private readonly order: SlotList;
  private readonly free: Int32Array;
  private freeTop = 0;
  private readonly index: KeyIndex;
  size = 0;

  constructor(readonly cap: number) {
    if (!(cap >= 1) || !Number.isInteger(cap)) throw new RangeError(`TxnTable cap must be a positive integer (got ${cap})`);
    this.keys = new Float64Array(cap);
    this.order = new SlotList(cap);
    this.free = new Int32Array(cap);
    // Slot 0 on top: slots are handed out in order while the table fills.
    for (let s = 0; s < cap; s++) this.free[s] = cap - 1 - s;
    this.freeTop = cap;
    this.index = new KeyIndex(cap, this.keys);
    // Resident from the start, not page by page as the table fills (see CarrierFlowTable).
    this.keys.fill(0);
  }

  /** Bytes this table allocated (TXN_TABLE_BYTES_PER_ENTRY per entry at most). */
  get bytes(): number {
    return this.keys.byteLength + this.order.bytes + this.free.byteLength + this.index.bytes;
  }

  /** The slot of `key`; -1 when absent. */
  get(key: number): number {
    return this.index.find(key);
  }

  /** The key held at `slot` (which must be in use). */
  keyOf(slot: number): number {
    return this.keys[slot];
  }

  /** A slot for `key`, which must be absent, as the newest entry; -1 when the table is full. */
  add(key: number): number {
    if (this.freeTop === 0) return -1;
    const s = this.free[--this.freeTop];
    this.keys[s] = key;
    this.index.insert(s);
    this.order.append(s);
    this.size++;
    return s;
  }

  /** Frees `slot` (in use); its values in the caller's arrays are the caller's to reset. */
  delete(slot: number): void {
    this.index.remove(slot);
    this.order.unlink(slot);
    this.free[this.freeTop++] = slot;
    this.size--;
  }

  /** The oldest slot in use, -1 when empty; then nextOf() towards the newest. */
  first(): number {
    return this.order.oldest;
  }

  /** The slot added after `slot`, -1 after the newest (read it before deleting `slot`). */
  nextOf(slot: number): number {
    return this.order.next(slot);
  }
}
