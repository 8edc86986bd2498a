/**
 * What every native analyzer hands over per batch or step besides counters (NativeDrain:
 * bad-frame records with their bytes, and correlation events), typed.
 */
import { nativeLayout, type NativeDrain } from './analyzer.js';
import { EventBatch } from './events.js';
import { PackedRecords } from './records.js';

export function recordsOf(d: NativeDrain): PackedRecords {
  return new PackedRecords(d.records, d.recordBytes, nativeLayout().record);
}

export function eventsOf(d: NativeDrain): EventBatch {
  const L = nativeLayout();
  return new EventBatch(d.events, d.eventNames, L.event, L.record, d.eventsDropped);
}
