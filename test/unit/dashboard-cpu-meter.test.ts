/**
 * The dashboard's CPU meter (src/ui/cpu-meter.ts), which bench/dashboard.ts relies on
 * for issue 5's target: it must count the JavaScript thread's CPU time, not wall time
 * (a section that waits costs nothing), count nested sections once, and write its
 * totals where CSUMTOP_DASHBOARD_CPU says.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

import { CpuMeter } from '../../src/ui/cpu-meter.js';

function spin(ms: number): void {
  const end = process.hrtime.bigint() + BigInt(ms * 1e6);
  let x = 0;
  while (process.hrtime.bigint() < end) x++;
  if (x < 0) throw new Error('unreachable');
}

function block(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

test('CpuMeter counts thread CPU: a busy section counts about its length, a waiting one about nothing', () => {
  const m = new CpuMeter(null);
  m.measure(() => spin(40));
  const busy = m.totals.cpuNs / 1e6;
  // The machine may be shared: the thread can lose the CPU while spinning, so only a
  // lower bound that wall time alone could not fake, and an upper bound of the wall time.
  assert.ok(busy >= 10 && busy <= 45, `40 ms of spinning counted as ${busy.toFixed(1)} ms of CPU`);
  m.measure(() => block(60));
  const waited = m.totals.cpuNs / 1e6 - busy;
  assert.ok(waited < 10, `60 ms of waiting counted as ${waited.toFixed(1)} ms of CPU (wall time, not CPU time?)`);
  assert.equal(m.totals.sections, 2);
});

test('CpuMeter counts a nested section once, keeps the value of fn, and counts a section that throws', () => {
  const m = new CpuMeter(null);
  const v = m.measure(() => m.measure(() => 7) + m.measure(() => 1));
  assert.equal(v, 8);
  assert.equal(m.totals.sections, 1);
  assert.throws(
    () =>
      m.measure(() => {
        throw new Error('boom');
      }),
    /boom/,
  );
  assert.equal(m.totals.sections, 2);
  m.measure(() => undefined);
  assert.equal(m.totals.sections, 3, 'depth restored after the throw');
});

test('CpuMeter writes its totals to the file it was given after each section', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csumtop-meter-'));
  try {
    const file = path.join(dir, 'cpu.json');
    const m = new CpuMeter(file);
    m.measure(() => spin(5));
    const t = JSON.parse(fs.readFileSync(file, 'utf8')) as { sections: number; cpuNs: number };
    assert.equal(t.sections, 1);
    assert.equal(t.cpuNs, m.totals.cpuNs);
    assert.ok(t.cpuNs > 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
