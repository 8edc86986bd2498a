/**
 * The order SlotTable and TxnTable keep their slots in (recency for the one, insertion
 * for the other): a doubly linked list of slot numbers 0..cap-1 in two typed arrays, so
 * moving or removing a slot is O(1) and there is no JavaScript object per entry.
 * Allocated and written once: SLOT_LIST_BYTES_PER_SLOT bytes per slot.
 */

/** Bytes per slot: the links towards the oldest and the newest end (2 x 4). */
export const SLOT_LIST_BYTES_PER_SLOT = 8;

export class SlotList {
  /** Towards the oldest end, and towards the newest; -1: none. */
  private readonly older: Int32Array;
  private readonly newer: Int32Array;
  /** The ends; -1 when the list is empty. */
  oldest = -1;
  newest = -1;

  constructor(cap: number) {
    this.older = new Int32Array(cap);
    this.newer = new Int32Array(cap);
    // Resident from the start rather than page by page as slots are used.
    this.older.fill(0);
    this.newer.fill(0);
  }

  get bytes(): number {
    return this.older.byteLength + this.newer.byteLength;
  }

  /** Puts `s`, which is not in the list, at the newest end. */
  append(s: number): void {
    this.older[s] = this.newest;
    this.newer[s] = -1;
    if (this.newest >= 0) this.newer[this.newest] = s;
    this.newest = s;
    if (this.oldest < 0) this.oldest = s;
  }

  /** Takes `s`, which is in the list, out of it. */
  unlink(s: number): void {
    const o = this.older[s];
    const n = this.newer[s];
    if (o >= 0) this.newer[o] = n;
    else this.oldest = n;
    if (n >= 0) this.older[n] = o;
    else this.newest = o;
  }

  /** The slot after `s` towards the newest end; -1 after the newest. */
  next(s: number): number {
    return this.newer[s];
  }
}
