/**
 * Issue 17, item 7: a small pcapng file of empty Interface Description Blocks made
 * `-r` take gigabytes and minutes (1,000,000 IDBs in 20 MB: 9.4 GB, 200 s). The reader
 * keeps at most 4096 interfaces per file (native/capture/capture_file.h kMaxInterfaces);
 * the rest are counted as unsupported, with a warning, and their packets skipped.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { MAX_FILE_INTERFACES } from '../../src/capture/file-run.js';
import { encode, eth, ipv4, pcapngFile, udp } from '../fixtures/lib/index.js';
import { BIN } from '../fixtures/harness.js';
import type { ReportDocument } from '../../src/model/report.js';

const IDBS = 100_000;
let dir: string;
let file: string;

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csumtop-idb-flood-'));
  file = path.join(dir, 'idb-flood.pcapng');
  const bad = encode(eth(ipv4('10.0.0.1', '10.0.0.2', udp(1000, 2000, Buffer.from('x'), 0x1234)))).bytes;
  // Interfaces without a name or any other option (LINKTYPE_ETHERNET); a bad frame on
  // the first interface (read) and one on the last (past the cap: skipped).
  const frame = (iface: number) => ({ iface, tsNs: 1_600_000_000_000_000_000n, data: bad, wirelen: bad.length });
  fs.writeFileSync(
    file,
    pcapngFile(
      Array.from({ length: IDBS }, () => ({ linktype: 1 })),
      [frame(0), frame(IDBS - 1)],
    ),
  );
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

test(`a pcapng of ${IDBS} empty interface blocks: ${MAX_FILE_INTERFACES} interfaces read, the rest unsupported with a warning, in bounded time and memory`, () => {
  const r = spawnSync('/usr/bin/time', ['-v', BIN, '-r', file, '--json'], { encoding: 'utf8', timeout: 60_000, maxBuffer: 1 << 30 });
  assert.equal(r.signal, null, `killed (timeout?): ${r.stderr.slice(-2000)}`);
  assert.equal(r.status, 1, r.stderr.slice(-2000));
  const rssKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1]);
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(r.stderr);
  assert.ok(wall && rssKb > 0, `no /usr/bin/time output: ${r.stderr.slice(-500)}`);
  const seconds = Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]);
  // Before the cap: about 1 GB and 12-45 s for 100,000 IDBs; after it: about 115 MB and
  // 3 s (most of it Node's start-up and the report), on a machine shared with other jobs.
  assert.ok(rssKb < 400 * 1024, `resident memory ${rssKb} KiB`);
  assert.ok(seconds < 20, `${seconds} s`);
  const doc = JSON.parse(r.stdout) as ReportDocument;
  assert.equal(doc.interfaces.length, MAX_FILE_INTERFACES);
  assert.equal(doc.totals.badFrames, 1, 'the frame of interface 0; the one past the cap is not read');
  const warning = `${IDBS - MAX_FILE_INTERFACES} interfaces past the first ${MAX_FILE_INTERFACES} of the file are unsupported and were not read (1 frames on them not counted)`;
  assert.ok(doc.source.warnings.includes(warning), JSON.stringify(doc.source.warnings));
});
