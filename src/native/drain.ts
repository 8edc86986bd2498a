/**
 * What every native analyzer hands over per batch or step besides counters: bad-frame
 * records with their bytes, and correlation events (native/napi/convert.cc set_drained).
 */
import { decodeRecords, type DecodedRecord } from '../output/records.js';
import { nativeLayout } from './analyzer.js';
import { EventBatch } from './events.js';

export interface NativeDrain {
  /** Packed BadFrameRecords. */
  records: Buffer;
  /** Their captured bytes (at most 4096 each). */
  recordBytes: Buffer;
  /** Cumulative: bad frames counted but not recorded (batch full). */
  recordsDropped: number;
  /** Packed FrameEvents. */
  events: Buffer;
  eventNames: Buffer;
  /** Cumulative: events not kept (batch full). */
  eventsDropped: number;
}

export function recordsOf(d: NativeDrain): DecodedRecord[] {
  return decodeRecords(d.records, nativeLayout().record, d.recordBytes);
}

export function eventsOf(d: NativeDrain): EventBatch {
  const L = nativeLayout();
  return new EventBatch(d.events, d.eventNames, L.event, L.record, d.eventsDropped);
}
