/**
 * A map bounded to `cap` entries that evicts the least recently used one, in O(1) per
 * operation: a Map for lookup plus a doubly linked list for recency.
 *
 * Why not a plain Map re-inserted on use, evicting `keys().next()`: V8's ordered hash
 * tables leave deleted entries in place until the next rehash, and an iterator walks
 * over them, so once the front of the Map is deleted entries every eviction scans them.
 * Measured with test/lab/million-flows.test.ts (a new carrier flow per frame at 100,000
 * frames/s, 65536 kept): 7.6 of 19 CPU seconds went to that scan and correlation fell
 * 79% behind.
 */
interface Node<K, V> {
  key: K;
  value: V;
  /** Towards the least recently used end. */
  older: Node<K, V> | null;
  newer: Node<K, V> | null;
}

export class LruMap<K, V> {
  private readonly map = new Map<K, Node<K, V>>();
  private oldest: Node<K, V> | null = null;
  private newest: Node<K, V> | null = null;
  /** Entries dropped to make room since the start. */
  evicted = 0;

  constructor(readonly cap: number) {
    if (!(cap >= 1)) throw new RangeError(`LruMap cap must be at least 1 (got ${cap})`);
  }

  get size(): number {
    return this.map.size;
  }

  /** The value, made the most recently used. */
  get(key: K): V | undefined {
    const n = this.map.get(key);
    if (!n) return undefined;
    this.touch(n);
    return n.value;
  }

  /** Adds or replaces `key` as the most recently used; evicts the oldest when full. */
  set(key: K, value: V): void {
    const n = this.map.get(key);
    if (n) {
      n.value = value;
      this.touch(n);
      return;
    }
    if (this.map.size >= this.cap && this.oldest) {
      const o = this.oldest;
      this.unlink(o);
      this.map.delete(o.key);
      this.evicted++;
    }
    const fresh: Node<K, V> = { key, value, older: this.newest, newer: null };
    if (this.newest) this.newest.newer = fresh;
    this.newest = fresh;
    if (!this.oldest) this.oldest = fresh;
    this.map.set(key, fresh);
  }

  delete(key: K): boolean {
    const n = this.map.get(key);
    if (!n) return false;
    this.unlink(n);
    this.map.delete(key);
    return true;
  }

  clear(): void {
    this.map.clear();
    this.oldest = null;
    this.newest = null;
  }

  /** Values, least recently used first. */
  *values(): IterableIterator<V> {
    for (let n = this.oldest; n; n = n.newer) yield n.value;
  }

  private touch(n: Node<K, V>): void {
    if (this.newest === n) return;
    this.unlink(n);
    n.older = this.newest;
    n.newer = null;
    if (this.newest) this.newest.newer = n;
    this.newest = n;
    if (!this.oldest) this.oldest = n;
  }

  private unlink(n: Node<K, V>): void {
    if (n.older) n.older.newer = n.newer;
    else this.oldest = n.newer;
    if (n.newer) n.newer.older = n.older;
    else this.newest = n.older;
    n.older = null;
    n.newer = null;
  }
}
