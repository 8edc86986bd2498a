/**
 * What every native analyzer hands over per batch or step besides counters (NativeDrain:
 * bad-frame records with their bytes, and correlation events), decoded.
 */
import type { DecodedRecord } from '../model/bad-frame.js';
import { nativeLayout, type NativeDrain } from './analyzer.js';
import { EventBatch } from './events.js';
import { decodeRecords } from './records.js';

export function recordsOf(d: NativeDrain): DecodedRecord[] {
  return decodeRecords(d.records, nativeLayout().record, d.recordBytes);
}

export function eventsOf(d: NativeDrain): EventBatch {
  const L = nativeLayout();
  return new EventBatch(d.events, d.eventNames, L.event, L.record, d.eventsDropped);
}
