/**
 * The link table of every captured namespace (src/host/link-watch.ts: kept current by
 * rtnetlink notifications), by namespace label: what live capture scans for interfaces
 * to attach and what it reports as not captured (issue 15: one job of LiveSource).
 */
import type { UncapturedLink } from '../diagnose/input.js';
import { LinkTable, type LinkTableStats } from '../host/link-watch.js';
import type { NamespaceSpec } from './source.js';

export interface LinkTablesOptions {
  /** Full re-listing at least this often (ms). */
  resyncMs: number;
  /** A namespace that could not be read is tried again after this (ms). */
  retryMs: number;
  /** Notification socket buffer in bytes (tests make it tiny). */
  rcvbuf?: number;
}

export class LinkTables {
  private readonly tables = new Map<string, LinkTable>();

  constructor(private readonly opts: LinkTablesOptions) {}

  /** The namespace's table, opened on first use. */
  of(ns: NamespaceSpec): LinkTable {
    let t = this.tables.get(ns.label);
    if (!t) {
      t = new LinkTable(ns.path, ns.label, { resyncMs: this.opts.resyncMs, retryMs: this.opts.retryMs, rcvbuf: this.opts.rcvbuf });
      this.tables.set(ns.label, t);
    }
    return t;
  }

  close(): void {
    for (const t of this.tables.values()) t.close();
  }

  /** Links up and not captured (loopback aside), as of the last update; `captured` says which are. */
  uncaptured(namespaces: NamespaceSpec[], captured: (namespace: string, l: { ifindex: number; name: string }) => boolean): UncapturedLink[] {
    const out: UncapturedLink[] = [];
    for (const ns of namespaces) {
      const table = this.tables.get(ns.label);
      if (!table) continue;
      for (const l of table.links()) {
        if (!l.up || l.loopback || captured(ns.label, l)) continue;
        out.push({ namespace: ns.label, name: l.name, kind: l.kind, ifindex: l.ifindex });
      }
    }
    return out;
  }

  /** Statistics of the link notifications, summed over namespaces (tests, benchmarks). */
  stats(): LinkTableStats {
    const sum: LinkTableStats = { notifications: 0, overflows: 0, dumps: 0, overflowResyncs: 0, periodicResyncs: 0 };
    for (const t of this.tables.values()) {
      const s = t.stats();
      for (const k of Object.keys(sum) as Array<keyof LinkTableStats>) sum[k] += s[k];
    }
    return sum;
  }
}
