/**
 * What every live mode does with a running capture's batches (issue 15): live text and
 * --json lines (src/cli/live-mode.ts), the dashboard and the demo through it
 * (src/cli/dashboard-mode.ts) subscribe to one `LiveFeed` instead of each wiring the
 * source, the state and the correlation.
 *
 * Per batch, in this order: the state applies it (counters, ring drops, folded rows), -c
 * is checked against the frames counted so far, --metrics counts it, the correlation
 * takes its events and bad frames; then `batches$` hands it, applied, to the mode (per
 * frame `bad` lines, --list, the dashboard's recent frames, fold bookkeeping by id).
 * Once per interval (wall clock) the correlation ticks and `intervals$` carries the
 * snapshot; `final()` makes the last tick, once, after capture stopped.
 *
 * Where RxJS composes: the source's `batches$`, these streams, and what each mode makes of
 * them. The correlation itself stays an object called imperatively (`add`, `tick`), so
 * `-r` runs the same `Correlator` without loading RxJS (docs/design.md).
 */
import { ReplaySubject, Subject, type Observable, type Subscription } from 'rxjs';

import type { CorrelationSnapshot } from '../model/correlation.js';
import type { CaptureSource, SourceBatch } from '../capture/source.js';
import type { LiveState } from '../capture/live-state.js';
import type { Correlator } from '../correlate/pipeline.js';

/** One interval closed: the correlation's snapshot and the wall clock it was taken at. */
export interface LiveInterval {
  snapshot: CorrelationSnapshot;
  nowMs: number;
}

export interface LiveFeedOptions {
  /** The capture source (started or not: nothing is read before `start()`). */
  source: Pick<CaptureSource, 'batches$' | 'interfaces'>;
  state: Pick<LiveState, 'apply' | 'countersOf'>;
  correlator: Pick<Correlator, 'add' | 'tick'>;
  /** The counter slot of frames (nativeLayout().slots.frames): what -c counts. */
  framesSlot: number;
  /** -c: the capture stops at the first batch whose counters reach it; null without. */
  count: number | null;
  /** How often the correlation ticks (--interval), in ms. */
  intervalMs: number;
  /** The dashboard paints at once: the first tick right after start (a partial interval). */
  tickAtStart?: boolean;
  /** --metrics: told of each batch's engine (its batch rate). */
  metrics?: { batch(engine: number): void } | null;
  /** The wall clock in ms (tests give their own). */
  clock?: () => number;
}

export class LiveFeed {
  private readonly batches = new Subject<SourceBatch>();
  private readonly intervals = new Subject<LiveInterval>();
  private readonly count = new ReplaySubject<void>(1);
  private countSeen = false;
  private sub: Subscription | null = null;
  private timer: NodeJS.Timeout | null = null;
  private first: NodeJS.Immediate | null = null;
  private last: CorrelationSnapshot | null = null;
  private readonly clock: () => number;

  /** Every batch, after the state and the correlation took it, in the source's order. */
  readonly batches$: Observable<SourceBatch> = this.batches;
  /** Once per interval while ticking (until `stopTicks()` or `final()`). */
  readonly intervals$: Observable<LiveInterval> = this.intervals;
  /** Once, when -c frames were counted (also to a subscriber that comes later). */
  readonly countReached$: Observable<void> = this.count;

  constructor(private readonly opts: LiveFeedOptions) {
    this.clock = opts.clock ?? Date.now;
  }

  /** Subscribes to the source's batches and starts the interval ticks. */
  start(): void {
    if (this.sub !== null) return;
    this.sub = this.opts.source.batches$.subscribe({
      next: (b) => this.take(b),
      complete: () => this.batches.complete(),
    });
    this.timer = setInterval(() => this.tick(), this.opts.intervalMs);
    if (this.opts.tickAtStart === true)
      this.first = setImmediate(() => {
        this.first = null;
        this.tick();
      });
  }

  private take(b: SourceBatch): void {
    const { source, state, correlator, metrics, count, framesSlot } = this.opts;
    state.apply(b);
    if (count !== null && !this.countSeen) {
      const frames = source.interfaces().reduce((sum, i) => sum + state.countersOf(i.id)[framesSlot], 0);
      if (frames >= count) {
        this.countSeen = true;
        this.count.next();
        this.count.complete();
      }
    }
    metrics?.batch(b.engine);
    correlator.add(b.events, b.records, b.engine, b.recordsDropped);
    this.batches.next(b);
  }

  private tick(): void {
    const nowMs = this.clock();
    this.intervals.next({ snapshot: this.opts.correlator.tick(nowMs * 1e6), nowMs });
  }

  /** No more interval ticks (capture is stopping; batches in flight are still applied). */
  stopTicks(): void {
    if (this.timer !== null) clearInterval(this.timer);
    if (this.first !== null) clearImmediate(this.first);
    this.timer = null;
    this.first = null;
    this.intervals.complete();
  }

  /**
   * The last tick, with everything the correlation holds (call it once capture stopped and
   * every batch was applied): made once, the same snapshot to every later call.
   */
  final(): CorrelationSnapshot {
    this.stopTicks();
    this.last ??= this.opts.correlator.tick(this.clock() * 1e6, true);
    return this.last;
  }

  /** Stops reading batches (the source's complete() ends `batches$` too). */
  close(): void {
    this.stopTicks();
    this.sub?.unsubscribe();
    this.batches.complete();
  }
}
