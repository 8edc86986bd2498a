/**
 * The index SlotTable and TxnTable share: native 53-bit keys (numbers) to slot numbers,
 * open addressing with linear probing and deletion by backward shift (Knuth, TAOCP vol.
 * 3, 6.4, algorithms L and R), so there are no tombstones and a lookup never scans more
 * than its probe run. At least twice as many buckets as slots (a load of at most 1/2),
 * each holding slot + 1 (0: empty); the keys live in the tables' own `keys` array, which
 * the index reads. Allocated and written once.
 */

/** Bytes per slot of the index: at most 4 buckets of 4 bytes (a load of 1/4..1/2). */
export const KEY_INDEX_BYTES_PER_SLOT = 16;

/** Multiplicative hashing of both 32-bit halves of a 53-bit key (Knuth's 2654435761). */
function hashKey(key: number, mask: number): number {
  const lo = key >>> 0;
  const hi = (key / 4294967296) >>> 0;
  let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h & mask;
}

export class KeyIndex {
  /** slot + 1, or 0 for an empty bucket. */
  private readonly buckets: Int32Array;
  private readonly mask: number;

  /** `keys[slot]` is the key of every slot in the index. */
  constructor(
    cap: number,
    private readonly keys: Float64Array,
  ) {
    let n = 2;
    while (n < 2 * cap) n *= 2;
    this.buckets = new Int32Array(n);
    this.mask = n - 1;
    // Resident from the start, not page by page as the table fills.
    this.buckets.fill(0);
  }

  get bytes(): number {
    return this.buckets.byteLength;
  }

  /** The slot holding `key`; -1 when absent. */
  find(key: number): number {
    const b = this.buckets;
    for (let i = hashKey(key, this.mask); ; i = (i + 1) & this.mask) {
      const s = b[i] - 1;
      if (s < 0) return -1;
      if (this.keys[s] === key) return s;
    }
  }

  /** Indexes `slot` under keys[slot], which must be absent. */
  insert(slot: number): void {
    let i = hashKey(this.keys[slot], this.mask);
    while (this.buckets[i] !== 0) i = (i + 1) & this.mask;
    this.buckets[i] = slot + 1;
  }

  /** Removes keys[slot] (present) from the index. */
  remove(slot: number): void {
    const b = this.buckets;
    const mask = this.mask;
    const key = this.keys[slot];
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
}
