/**
 * The correlation pipeline and the rate windows as RxJS operators, kept apart from the
 * Correlator and RateTracker so that `csumtop -r` does not load RxJS to correlate a file.
 */
import { defer, filter, map, type Observable, type OperatorFunction } from 'rxjs';

import type { CorrelationSnapshot } from '../model/correlation.js';
import type { DecodedRecord } from '../model/bad-frame.js';
import type { EventBatch } from '../native/events.js';
import type { NativeLayout } from '../native/analyzer.js';
import { Correlator, type PipelineContext } from './pipeline.js';
import { RateTracker, type CounterTick } from './rates.js';
import type { InterfaceRates } from '../model/correlation.js';

export type PipelineInput =
  | { type: 'batch'; events: EventBatch; records: DecodedRecord[] }
  | { type: 'tick'; nowNs: number; final?: boolean };

/**
 * The operator: batches and ticks in (one stream, in order), one snapshot per tick out.
 * Ticks come from the caller's clock (interval() live, capture seconds for files), which
 * makes the operator testable in virtual time.
 */
export function correlate(ctx: PipelineContext): OperatorFunction<PipelineInput, CorrelationSnapshot> {
  return (source: Observable<PipelineInput>) =>
    defer(() => {
      const c = new Correlator(ctx);
      return source.pipe(
        map((item) => {
          if (item.type === 'batch') {
            c.add(item.events, item.records);
            return null;
          }
          return c.tick(item.nowNs, item.final === true);
        }),
        filter((s): s is CorrelationSnapshot => s !== null),
      );
    });
}

/** The operator: counter ticks in, rates per interface out (one emission per tick). */
export function rateWindows(L: NativeLayout): OperatorFunction<CounterTick, InterfaceRates[]> {
  return (source) =>
    defer(() => {
      const tracker = new RateTracker(L);
      return source.pipe(map((t) => tracker.update(t)));
    });
}
