/**
 * `-r FILE --no-correlate`: the checksum verdicts of the default report, without the
 * correlation (peers, DNS/SYN symptoms, findings), decoded on every core; and the flag
 * is refused where it means nothing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';

import { ROOT } from '../../src/native/addon.js';

const BIN = path.join(ROOT, 'bin', 'csumtop');
const INCIDENT = path.join(ROOT, 'examples', 'incident.pcapng');

function report(args: string[]): { status: number | null; doc: Record<string, unknown> } {
  const r = spawnSync(BIN, ['-r', INCIDENT, '--json', ...args], { encoding: 'utf8' });
  assert.ok(r.status === 0 || r.status === 1, `exit ${r.status}: ${r.stderr}`);
  return { status: r.status, doc: JSON.parse(r.stdout) as Record<string, unknown> };
}

test('--no-correlate gives the same verdicts and drops only the correlation', () => {
  const full = report([]);
  const bare = report(['--no-correlate']);
  assert.equal(bare.status, full.status);
  assert.deepEqual(bare.doc.totals, full.doc.totals);
  assert.deepEqual(bare.doc.interfaces, full.doc.interfaces);
  assert.ok(Array.isArray(full.doc.findings) && (full.doc.findings as unknown[]).length > 0, 'the incident capture has findings by default');
  assert.equal(bare.doc.findings, undefined);
  assert.equal(bare.doc.correlation, undefined);
});

test('--no-correlate without -r is a usage error', () => {
  const r = spawnSync(BIN, ['--no-correlate', '-i', 'lo', '--duration', '1'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--no-correlate .*needs -r FILE/);
});
