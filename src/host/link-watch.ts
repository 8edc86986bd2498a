/**
 * The links of one network namespace, kept current from rtnetlink notifications
 * (RTNLGRP_LINK: RTM_NEWLINK / RTM_DELLINK, net/core/rtnetlink.c rtmsg_ifinfo()) instead
 * of listing every link again on each rescan. Listing 1000 links (dump, ethtool ioctls,
 * conversion to JavaScript) cost about 68 ms, which once a second was the largest part
 * of a 1000-interface capture's CPU (bench/RESULTS-dashboard.md); reading notifications
 * costs one non-blocking recvmsg(2) when nothing changed.
 *
 * Notifications can be lost: when the socket's buffer is full the kernel drops them and
 * the next read fails with ENOBUFS (netlink(7): the application "must resynchronize").
 * The native side reports that as `overflow`, and the table lists every link again at
 * once. A slow periodic re-listing (resyncMs) covers anything else that could be missed.
 */
import { nativeLinkWatch, type Link, type LinkWatchStats, type NativeLinkWatch } from '../native/host.js';

export interface LinkTableOptions {
  /** Full re-listing at least this often (ms), even without an overflow. */
  resyncMs: number;
  /** After the namespace could not be opened, try again at most this often (ms). */
  retryMs: number;
  /** Notification buffer in bytes (native default 4 MiB); tests make it tiny. */
  rcvbuf?: number;
  /** Clock (ms), for tests. */
  now?: () => number;
}

export interface LinkTableStats extends LinkWatchStats {
  /** Re-listings because notifications were lost (ENOBUFS). */
  overflowResyncs: number;
  /** Re-listings because resyncMs had passed. */
  periodicResyncs: number;
}

export class LinkTable {
  private watch: NativeLinkWatch | null = null;
  /** By ifindex; a Map keeps insertion order, which after a listing is the kernel's. */
  private readonly byIndex = new Map<number, Link>();
  private nextResync = 0;
  private nextOpen = 0;
  private lastError: Error | null = null;
  private overflowResyncs = 0;
  private periodicResyncs = 0;
  /** Counters of watches closed after an error, so stats() stays cumulative. */
  private closedStats: LinkWatchStats = { notifications: 0, overflows: 0, dumps: 0 };
  private readonly now: () => number;

  /** `path`: the namespace file for setns(2) (resolveNetns, pidNetns), null for the
   * current namespace; `label`: how the user named it, for error messages. */
  constructor(
    private readonly path: string | null,
    private readonly label: string,
    private readonly opts: LinkTableOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  /**
   * Brings the table up to date: opens the watch and lists the links the first time,
   * then applies the notifications received since the last call, and lists again when
   * notifications were lost or resyncMs has passed. Returns whether the links may have
   * changed. Throws when the namespace cannot be read (e.g. "no such network namespace:
   * NAME"); retried at most every retryMs, throwing the same error in between.
   */
  update(): boolean {
    const now = this.now();
    if (this.watch === null) {
      if (this.lastError !== null && now < this.nextOpen) throw this.lastError;
      try {
        this.watch = nativeLinkWatch(this.path ?? undefined, this.label, this.opts.rcvbuf);
        this.relist(now);
      } catch (err) {
        this.close();
        this.lastError = err as Error;
        this.nextOpen = now + this.opts.retryMs;
        throw err;
      }
      this.lastError = null;
      return true;
    }
    try {
      const { events, overflow } = this.watch.poll();
      // In the kernel's order: a link created and deleted since the last call ends up absent.
      for (const e of events) {
        // Map.set keeps a changed link in its place; a new one goes last.
        if (e.deleted) this.byIndex.delete(e.link.ifindex);
        else this.byIndex.set(e.link.ifindex, e.link);
      }
      if (overflow) {
        this.overflowResyncs++;
        this.relist(now);
        return true;
      }
      if (now >= this.nextResync) {
        this.periodicResyncs++;
        this.relist(now);
        return true;
      }
      return events.length > 0;
    } catch (err) {
      // A socket error: start over with a new watch on the next call.
      this.close();
      this.lastError = err as Error;
      this.nextOpen = now + this.opts.retryMs;
      throw err;
    }
  }

  private relist(now: number): void {
    const links = this.watch!.dump();
    this.byIndex.clear();
    for (const l of links) this.byIndex.set(l.ifindex, l);
    this.nextResync = now + this.opts.resyncMs;
  }

  /** The links as of the last update(), in the kernel's order (new links last). */
  links(): Link[] {
    return [...this.byIndex.values()];
  }

  stats(): LinkTableStats {
    const w = this.watch?.stats() ?? { notifications: 0, overflows: 0, dumps: 0 };
    return {
      notifications: this.closedStats.notifications + w.notifications,
      overflows: this.closedStats.overflows + w.overflows,
      dumps: this.closedStats.dumps + w.dumps,
      overflowResyncs: this.overflowResyncs,
      periodicResyncs: this.periodicResyncs,
    };
  }

  /** Closes the sockets; the next update() opens them again. */
  close(): void {
    if (this.watch === null) return;
    const s = this.watch.stats();
    this.closedStats = {
      notifications: this.closedStats.notifications + s.notifications,
      overflows: this.closedStats.overflows + s.overflows,
      dumps: this.closedStats.dumps + s.dumps,
    };
    this.watch.close();
    this.watch = null;
  }
}
