/**
 * Issue 15: no test- or bench-only switch in production code unless it says why. Every
 * CSUMTOP_* environment variable named in src/ is either documented for users (the
 * "Environment:" paragraph of docs/usage.md) or listed below with the reason it lives in
 * src/. A benchmark's baseline belongs in bench/ (bench/attach.ts opens rings one at a
 * time itself: CSUMTOP_ATTACH_SERIAL is gone from src/capture/live-attach.ts).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import { ROOT } from '../../src/native/addon.js';

/**
 * Switches for developers and tests, not for users, each with why it cannot live outside
 * src/. Adding one here is a decision a reviewer sees; the goal is for this to shrink.
 */
const NOT_FOR_USERS: Record<string, string> = {
  CSUMTOP_ADDON: 'src/native/addon.ts: loads another build of the addon (the sanitizer build, test/sanitize/asan.test.ts) before anything else loads it',
  CSUMTOP_PROGRESS_MS: 'src/cli/main.ts: the -r progress redraw interval, so test/unit/progress.test.ts sees lines of a short file (tests only)',
  CSUMTOP_DASHBOARD_CPU: 'src/ui/cpu-meter.ts: the dashboard writes its CPU totals to this file for bench/dashboard.ts (bench only)',
};

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

test('every CSUMTOP_* variable in src/ is documented for users or says why it is there', () => {
  const named = new Map<string, string>();
  for (const file of sources(path.join(ROOT, 'src'))) {
    for (const m of fs.readFileSync(file, 'utf8').matchAll(/\bCSUMTOP_[A-Z0-9_]+\b/g)) {
      if (!named.has(m[0])) named.set(m[0], path.relative(ROOT, file));
    }
  }
  assert.ok(named.has('CSUMTOP_THREADS'), 'the scan finds the variables src/ reads (CSUMTOP_THREADS at least)');
  const usage = fs.readFileSync(path.join(ROOT, 'docs', 'usage.md'), 'utf8');
  const environment = /^Environment:[\s\S]*?\n\n/m.exec(usage)?.[0] ?? '';
  assert.notEqual(environment, '', 'docs/usage.md has an "Environment:" paragraph');
  const unexplained = [...named].filter(([v]) => !environment.includes(`${v}=`) && !(v in NOT_FOR_USERS)).map(([v, f]) => `${v} (${f})`);
  assert.deepEqual(unexplained, [], 'variables neither documented in docs/usage.md "Environment:" nor listed in NOT_FOR_USERS');
  // A stale entry would hide a removed switch's return: every listed one is still in src/.
  assert.deepEqual(
    Object.keys(NOT_FOR_USERS).filter((v) => !named.has(v)),
    [],
    'NOT_FOR_USERS names variables src/ no longer uses',
  );
});
