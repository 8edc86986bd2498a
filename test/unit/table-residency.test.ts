/**
 * When the correlation tables' memory is in use (native/flow/table_memory.h): live, from
 * the start, so that resident memory stays flat while they fill; for a capture file, as
 * entries are written, so that a small file does not pay for tables sized for a flood (at
 * the default --max-flows ~45 MB and ~65 ms before the first frame, measured on a 400-frame
 * file: docs/line-rate.md). The Correlator picks one by `live`; this checks what
 * the process's resident memory does for each, at a cap large enough (262,144 flows,
 * ~170 MB of tables) that nothing else in the process could hide it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Correlator } from '../../src/correlate/pipeline.js';
import { TABLE_BYTES_PER_FLOW } from '../../src/correlate/limits.js';
import { pipelineContext, underlay } from '../lib/pipeline.js';

const MAX_FLOWS = 262144;
const TABLES = MAX_FLOWS * TABLE_BYTES_PER_FLOW;

function correlator(live: boolean): Correlator {
  return new Correlator(pipelineContext([underlay(0, 'eth0')], { live, guessesOffload: !live, maxFlows: MAX_FLOWS }));
}

/** Resident bytes the process gained while `make` ran (what it made is kept alive in `keep`). */
function residentGrowth(make: () => unknown, keep: unknown[]): number {
  const before = process.memoryUsage().rss;
  keep.push(make());
  return process.memoryUsage().rss - before;
}

test('a capture file’s correlation tables take memory as they are used; live ones are resident from the start', () => {
  const keep: unknown[] = [];
  correlator(false); // the addon and the modules loaded before measuring
  const file = residentGrowth(() => correlator(false), keep);
  const live = residentGrowth(() => correlator(true), keep);
  const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
  // Per flow of --max-flows the tables are TABLE_BYTES_PER_FLOW at most (656: carrier
  // flows 248, DNS 244, SYN 164); ~2/3 of that is their arrays, the rest the index's share
  // of a load between 1/4 and 1/2. Live, all of it is touched at once.
  assert.ok(live >= 0.6 * TABLES, `live: ${mb(live)} resident of ${mb(TABLES)} of tables`);
  // A file's: the bad-flow view's flows (240 bytes x 4096, 0.94 MiB; measured 0.9-1.0 MiB
  // in all), nothing per flow. Until the transaction tables stopped listing their free
  // slots in their constructors (4 bytes per entry each, native/flow/txn_table.h) it was
  // 2.9-3.0 MiB.
  assert.ok(file <= 2 * 2 ** 20, `file: ${mb(file)} resident of ${mb(TABLES)} of tables`);
  assert.equal(keep.length, 2);
});
