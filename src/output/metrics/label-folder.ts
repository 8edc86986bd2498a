/**
 * Caps the number of distinct values one label takes. Prometheus keeps one time series
 * per label combination in memory ("Do not use labels to store dimensions with high
 * cardinality", prometheus.io/docs/practices/naming/#labels and
 * /docs/practices/instrumentation/#do-not-overuse-labels), so on a node with thousands
 * of pod interfaces or a cluster of thousands of peers the exporter must stay bounded:
 * past `limit` values, new ones fold into OTHER (issue 6).
 *
 * The choice is sticky: a key that went to OTHER stays there for the life of the process,
 * even after a slot frees up. Moving it out would take its past counts out of the OTHER
 * series, and a counter must never go down. A key that had its own value can be released
 * (its interface vanished, its series were removed), which frees the slot for a new key.
 */
export const OTHER = 'other';

export class LabelFolder {
  private readonly own = new Map<string, string>();
  private readonly folded = new Set<string>();
  /** How many keys were ever folded (for a warning: the cap was reached). */
  foldedCount = 0;

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`label limit must be a positive integer, got ${limit}`);
  }

  /** The label value for `key`: `value` while fewer than `limit` keys hold their own, else OTHER. */
  acquire(key: string, value: string): string {
    const had = this.own.get(key);
    if (had !== undefined) return had;
    if (this.folded.has(key)) return OTHER;
    // A real value "other" would merge with the fold bucket: keep it apart.
    if (this.own.size < this.limit && value !== OTHER) {
      this.own.set(key, value);
      return value;
    }
    this.folded.add(key);
    this.foldedCount++;
    return OTHER;
  }

  /** The value `key` currently maps to, without assigning one. */
  peek(key: string): string | undefined {
    return this.own.get(key) ?? (this.folded.has(key) ? OTHER : undefined);
  }

  /** Frees `key`'s own value (a folded key stays folded). Returns whether it had one. */
  release(key: string): boolean {
    return this.own.delete(key);
  }

  get size(): number {
    return this.own.size;
  }
}
