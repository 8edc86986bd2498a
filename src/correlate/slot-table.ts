/**
 * A fixed-size table of up to `cap` entries keyed by the native 53-bit keys (a number),
 * that hands out slot numbers 0..cap-1 for the caller's own typed arrays and evicts the
 * least recently used entry when full: the same policy as LruMap, without one JavaScript
 * object per entry (issue 14: with a new flow per frame, the objects of LruMap and of the
 * entries made garbage collection 27% of the CPU of `csumtop -r`).
 *
 * Layout: an open-addressing index with linear probing (Knuth, TAOCP vol. 3, 6.4,
 * algorithm L; deletion by backward shift, algorithm R, so no tombstones) of at least
 * twice `cap` buckets, holding slot + 1 (0: empty); per slot its key and the two links of
 * the recency list. Everything is allocated once: BYTES_PER_ENTRY bytes per slot.
 */

/** Bytes per entry: key (8), recency links (2 x 4), index buckets (at most 4 x 4 at a load of 1/4..1/2). */
export const SLOT_TABLE_BYTES_PER_ENTRY = 8 + 8 + 16;

/** Multiplicative hashing of both 32-bit halves of a 53-bit key (Knuth's 2654435761); also TxnTable's. */
export function hashKey(key: number, mask: number): number {
  const lo = key >>> 0;
  const hi = (key / 4294967296) >>> 0;
  let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h & mask;
}

export class SlotTable {
  private readonly keys: Float64Array;
  /** Towards the least recently used end, and towards the most recent; -1: none. */
  private readonly older: Int32Array;
  private readonly newer: Int32Array;
  /** slot + 1, or 0 for an empty bucket. */
  private readonly buckets: Int32Array;
  private readonly mask: number;
  private oldest = -1;
  private newest = -1;
  /** Slots never used yet are handed out in order; later ones come from evictions. */
  private used = 0;
  size = 0;
  /** Entries dropped to make room since the start. */
  evicted = 0;

  constructor(readonly cap: number) {
    if (!(cap >= 1) || !Number.isInteger(cap)) throw new RangeError(`SlotTable cap must be a positive integer (got ${cap})`);
    this.keys = new Float64Array(cap);
    this.older = new Int32Array(cap);
    this.newer = new Int32Array(cap);
    let n = 2;
    while (n < 2 * cap) n *= 2;
    this.buckets = new Int32Array(n);
    this.mask = n - 1;
    // Resident from the start rather than page by page as slots are used (see CarrierFlows).
    for (const a of [this.keys, this.older, this.newer, this.buckets]) a.fill(0);
  }

  /** Bytes this table allocated (SLOT_TABLE_BYTES_PER_ENTRY per entry at most). */
  get bytes(): number {
    return this.keys.byteLength + this.older.byteLength + this.newer.byteLength + this.buckets.byteLength;
  }

  /** The slot of `key`, made the most recently used; -1 when absent. */
  get(key: number): number {
    const b = this.buckets;
    for (let i = hashKey(key, this.mask); ; i = (i + 1) & this.mask) {
      const s = b[i] - 1;
      if (s < 0) return -1;
      if (this.keys[s] === key) {
        this.touch(s);
        return s;
      }
    }
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
      s = this.oldest;
      this.unlink(s);
      this.removeKey(this.keys[s]);
      this.size--;
      this.evicted++;
    }
    this.keys[s] = key;
    let i = hashKey(key, this.mask);
    while (this.buckets[i] !== 0) i = (i + 1) & this.mask;
    this.buckets[i] = s + 1;
    this.older[s] = this.newest;
    this.newer[s] = -1;
    if (this.newest >= 0) this.newer[this.newest] = s;
    this.newest = s;
    if (this.oldest < 0) this.oldest = s;
    this.size++;
    return s;
  }

  /** Calls fn with every slot in use, least recently used first. */
  forEach(fn: (slot: number) => void): void {
    for (let s = this.oldest; s >= 0; s = this.newer[s]) fn(s);
  }

  private removeKey(key: number): void {
    const b = this.buckets;
    const mask = this.mask;
    let i = hashKey(key, mask);
    while (this.keys[b[i] - 1] !== key) i = (i + 1) & mask;
    // Backward shift: move later members of the probe run into the hole when their home
    // bucket is not cyclically within (hole, j].
    for (let j = (i + 1) & mask; b[j] !== 0; j = (j + 1) & mask) {
      const home = hashKey(this.keys[b[j] - 1], mask);
      if (((j - home) & mask) >= ((j - i) & mask)) {
        b[i] = b[j];
        i = j;
      }
    }
    b[i] = 0;
  }

  private touch(s: number): void {
    if (this.newest === s) return;
    this.unlink(s);
    this.older[s] = this.newest;
    this.newer[s] = -1;
    if (this.newest >= 0) this.newer[this.newest] = s;
    this.newest = s;
    if (this.oldest < 0) this.oldest = s;
  }

  private unlink(s: number): void {
    const o = this.older[s];
    const n = this.newer[s];
    if (o >= 0) this.newer[o] = n;
    else this.oldest = n;
    if (n >= 0) this.older[n] = o;
    else this.newest = o;
  }
}
