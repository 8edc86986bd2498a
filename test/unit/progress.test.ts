/**
 * `-r` progress on standard error (issue 14): a line with bytes and frames done, rate and
 * time left while a long file is read, when standard error is a terminal (run here under a
 * pseudo-terminal with script(1)); erased before the report; nothing when standard error
 * is a file.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { progressLine } from '../../src/cli/progress.js';
import { BIN } from '../fixtures/harness.js';
import { writeHighCardinalityCapture } from '../fixtures/lib/bulk.js';

let dir: string;
let file: string;

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'csumtop-progress-'));
  file = path.join(dir, 'hc.pcap');
  // Long enough that correlating it takes well over the 0.5 s before the first line.
  writeHighCardinalityCapture(file, { frames: 150_000, seed: 9 });
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('progressLine: bytes of the total, frames, rate and time left', () => {
  assert.equal(
    progressLine({ frames: 1_500_000, bytesRead: 250e6 }, 2, 1000e6),
    'csumtop: 250.0 MB of 1000.0 MB (25%), 1,500,000 frames, 0.75 M frames/s, 6 s left',
  );
  assert.equal(progressLine({ frames: 10, bytesRead: 1e6 }, 1, 200e6), 'csumtop: 1.0 MB of 200.0 MB (1%), 10 frames, 0.00 M frames/s, 3 min 19 s left');
  // A pipe: no total, no percentage, no time left.
  assert.equal(progressLine({ frames: 2e6, bytesRead: 5e8 }, 4, null), 'csumtop: 500.0 MB, 2,000,000 frames, 0.50 M frames/s');
});

test('-r shows progress on a terminal and erases it; nothing when standard error is not a terminal', () => {
  const out = path.join(dir, 'report.txt');
  const typescript = path.join(dir, 'typescript');
  // script(1) gives the command a pseudo-terminal; the report goes to a file, so what
  // the terminal shows is standard error only.
  // A line at every step (CSUMTOP_PROGRESS_MS=0, tests only): at 0.6 M frames/s this file
  // is read in a quarter of the 500 ms redraw interval, and how fast csumtop reads must not
  // decide whether the test sees a line.
  const env = { ...process.env, CSUMTOP_PROGRESS_MS: '0' };
  const r = spawnSync('script', ['-qec', `${BIN} -r ${file} > ${out}`, typescript], { encoding: 'utf8', timeout: 300_000, env });
  assert.ok(r.status === 0 || r.status === 1, `exit ${r.status}: ${r.stderr}`);
  const tty = readFileSync(typescript, 'latin1');
  const lines = [...tty.matchAll(/\r(csumtop: [^\r\x1b]*)\x1b\[K/g)].map((m) => m[1]);
  assert.ok(lines.length >= 1, `a progress line on the terminal: ${JSON.stringify(tty.slice(0, 400))}`);
  assert.match(lines[0], /^csumtop: \d+\.\d MB of \d+\.\d MB \(\d+%\), [\d,]+ frames, \d+\.\d\d M frames\/s, .* left$/);
  // Erased at the end: the last thing written is the erase, then only warnings (none here).
  assert.ok(/\r\x1b\[K(\r?\n)*$/.test(tty.replace(/\r?\nScript done.*$/s, '')), `erased: ${JSON.stringify(tty.slice(-200))}`);
  assert.match(readFileSync(out, 'utf8'), /frames/);

  const plain = spawnSync(BIN, ['-r', file], { encoding: 'utf8', maxBuffer: 1 << 26, env });
  assert.ok(plain.status === 0 || plain.status === 1);
  assert.equal(plain.stderr, '', 'nothing on a standard error that is not a terminal');
});
