/**
 * Issue 17, item 10: `-r FILE --list` on a capture with millions of bad frames ran V8 out
 * of heap (exit 134, no report). It keeps at most MAX_LISTED (100,000, the live cap)
 * frames and counts the rest in a warning; the totals and the exit status still count
 * every frame. Tested at the real cap, on both -r paths (correlated, and --no-correlate,
 * which decodes a pcap file of 8 MB or more on several threads). The list is held packed
 * and made into text only as it is written: a V8 heap of 48 MB is enough for the
 * 100,000-frame list (holding it as objects took over 300 MB, and aborted there).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { MAX_LISTED } from '../../src/output/records.js';
import { encode, eth, ipv4, pcapFile, udp } from '../fixtures/lib/index.js';
import { BIN } from '../fixtures/harness.js';
import type { ReportDocument } from '../../src/model/report.js';

let dir: string;
let file: string;
const EXTRA = 1234;
const BAD = MAX_LISTED + EXTRA;

before(() => {
  assert.equal(MAX_LISTED, 100_000, 'the documented cap');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csumtop-list-cap-'));
  file = path.join(dir, 'many-bad.pcap');
  // Distinct source ports, a wrong UDP checksum on each: every frame is bad. Padded so
  // that the file passes 8 MB (the size from which -r --no-correlate splits it).
  const payload = Buffer.alloc(40, 0x61);
  const recs = Array.from({ length: BAD }, (_, i) => {
    const frame = (csum: number): Uint8Array => encode(eth(ipv4('10.0.0.1', '10.0.0.2', udp(1024 + (i % 60000), 9999, payload, csum)))).bytes;
    let data: Uint8Array;
    try {
      data = frame(0x1234);
    } catch {
      data = frame(0x4321); // 0x1234 happens to be this datagram's correct checksum
    }
    return { tsNs: 1_700_000_000_000_000_000n + BigInt(i) * 1000n, data, wirelen: data.length };
  });
  fs.writeFileSync(file, pcapFile({ linktype: 1 }, recs));
  assert.ok(fs.statSync(file).size > 8_000_000, `${fs.statSync(file).size} bytes`);
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

for (const extra of [[], ['--no-correlate']]) {
  test(`-r --list ${extra.join(' ')}: at most ${MAX_LISTED} frames listed, the rest counted in a warning, every frame in the totals`, () => {
    const r = spawnSync(BIN, ['-r', file, '--list', '--json', ...extra], { encoding: 'utf8', maxBuffer: 1 << 30, timeout: 120_000 });
    assert.equal(r.status, 1, r.stderr);
    const doc = JSON.parse(r.stdout) as ReportDocument;
    assert.equal(doc.totals.badFrames, BAD);
    assert.equal(doc.badFrames?.length, MAX_LISTED);
    // The first frames of the file, in order.
    assert.deepEqual(
      doc.badFrames?.slice(0, 3).map((b) => b.frame),
      [1, 2, 3],
    );
    assert.equal(doc.badFrames?.[MAX_LISTED - 1].frame, MAX_LISTED);
    const warning = `${EXTRA} bad frames were not listed (more than ${MAX_LISTED})`;
    assert.ok(doc.source.warnings.includes(warning), JSON.stringify(doc.source.warnings));
    assert.match(r.stderr, new RegExp(`warning: ${EXTRA} bad frames were not listed`));
  });
}

test('-r --list: the list is held packed and written as it is made, not held as objects (48 MB of V8 heap)', () => {
  // --no-correlate: the flow list (one object per flow: 60,000 here) is another matter,
  // bounded by --max-flows; the text report lists the top flows only.
  const r = spawnSync(BIN, ['-r', file, '--list', '--no-correlate'], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    timeout: 120_000,
    env: { ...process.env, NODE_OPTIONS: '--max-old-space-size=48' },
  });
  assert.equal(r.status, 1, r.stderr.slice(-2000));
  const lines = r.stdout.split('\n');
  const at = lines.indexOf(`Frames with bad checksums (${MAX_LISTED}):`);
  assert.ok(at >= 0, 'the list header');
  // Every listed frame, in file order, then the notes and the warning.
  assert.match(lines[at + 1], /^ {2}1 /);
  assert.match(lines[at + MAX_LISTED], new RegExp(`^ {2}${MAX_LISTED} `));
  assert.doesNotMatch(lines[at + MAX_LISTED + 1], /^ {2}\d/);
  assert.ok(lines.includes(`warning: ${EXTRA} bad frames were not listed (more than ${MAX_LISTED})`));
});
