/**
 * The linux-arm64 build counts what the x86-64 build counts (issue 16 item 1). The arm64
 * addon is cross-compiled on this x86-64 machine and cannot be loaded here, so the native
 * core it is made of (checksum kernels, decoder, capture-file reader, analyzer) is built
 * twice as a command-line program (native/selftest/file_counts.cc): natively, and for
 * arm64 with Debian's aarch64-linux-gnu-g++, run under qemu-user. Both check every
 * checksum kernel they run against the scalar reference, then read the same captures (the
 * example, every ground-truth fixture, and a high-cardinality VXLAN/DNS/TCP capture with
 * bad checksums of every kind); every per-interface counter must be equal. The x86-64
 * program's counts are checked against the addon's `-r --json` report, so the program is
 * the product's core, not a copy.
 * Needs g++-aarch64-linux-gnu and qemu-user (.ci/run installs both); fails, never skips,
 * without them.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { ROOT } from '../../src/native/addon.js';
import type { ReportDocument } from '../../src/model/report.js';
import { generateFixtures } from '../fixtures/harness.js';
import { writeHighCardinalityCapture } from '../fixtures/lib/index.js';

const SOURCES = [
  ...['native/checksum', 'native/decode', 'native/capture', 'native/flow'].flatMap((d) =>
    fs
      .readdirSync(path.join(ROOT, d))
      .filter((f) => f.endsWith('.cc'))
      .sort()
      .map((f) => path.join(ROOT, d, f)),
  ),
  // Live capture hands frames to the kernel-drop matcher (issue 18); without libbpf (not
  // linked: dlopen()ed) these are all of native/kdrops it needs, as in native/fuzz/build.sh.
  ...['event.cc', 'drop_table.cc', 'frame_match.cc'].map((f) => path.join(ROOT, 'native/kdrops', f)),
];

let work: string;
let files: string[];
let cleanupFixtures: () => void;

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

function build(cxx: string, out: string, extra: string[]): void {
  const r = spawnSync(
    cxx,
    ['-std=c++17', '-O2', `-I${path.join(ROOT, 'native')}`, ...extra, '-o', out, path.join(ROOT, 'native/selftest/file_counts.cc'), ...SOURCES],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, `${cxx} failed:\n${r.stderr}`);
}

function run(cmd: string[]): string {
  const r = spawnSync(cmd[0], [...cmd.slice(1), ...files], { encoding: 'utf8', maxBuffer: 1 << 28, timeout: 300_000 });
  assert.equal(r.status, 0, `${cmd.join(' ')}: ${r.stdout.slice(-2000)}\n${r.stderr}`);
  return r.stdout;
}

before(() => {
  const missing = ['aarch64-linux-gnu-g++', 'qemu-aarch64', 'g++'].filter((c) => !have(c));
  assert.deepEqual(missing, [], `the arm64 check needs ${missing.join(', ')} (Debian: g++-aarch64-linux-gnu, qemu-user; .ci/run installs them)`);
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'csumtop-arm64-'));
  const fx = generateFixtures();
  cleanupFixtures = fx.cleanup;
  const hc = path.join(work, 'high-cardinality.pcap');
  writeHighCardinalityCapture(hc, { frames: 20_000, seed: 7, badRatio: 0.05 });
  files = [
    path.join(ROOT, 'examples/incident.pcapng'),
    hc,
    ...fs
      .readdirSync(fx.dir)
      .filter((f) => /\.pcap(ng)?$/.test(f))
      .sort()
      .map((f) => path.join(fx.dir, f)),
  ];
});

after(() => {
  cleanupFixtures?.();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** The output without its first two lines (kernel name and how many cases it checked). */
function counts(out: string): string {
  return out.split('\n').slice(2).join('\n');
}

test('arm64 (NEON, under qemu-user) counts every capture exactly as x86-64 does', { timeout: 900_000 }, () => {
  const x64 = path.join(work, 'file_counts-x64');
  const arm64 = path.join(work, 'file_counts-arm64');
  build('g++', x64, []);
  // Static: qemu-user then needs no arm64 C library on this machine.
  build('aarch64-linux-gnu-g++', arm64, ['-static']);
  const a = run([x64]);
  const b = run(['qemu-aarch64', arm64]);
  assert.match(b, /^path neon\nkernels \d+ checked\n/, 'arm64 runs the NEON kernel, and every kernel agrees with the reference');
  assert.match(a, /^path \w+\nkernels \d+ checked\n/);
  assert.ok(
    counts(a)
      .split('\n')
      .filter((l) => l.startsWith('file ')).length === files.length,
  );
  assert.equal(counts(b), counts(a));

  // The program counts what the addon reports (frames and bad frames per interface).
  for (const f of [files[0], files[1]]) {
    const r = spawnSync(path.join(ROOT, 'bin/csumtop'), ['-r', f, '--json', '--no-correlate'], { encoding: 'utf8', maxBuffer: 1 << 28 });
    const doc = JSON.parse(r.stdout) as ReportDocument;
    const block = counts(a)
      .split(/^file /m)
      .find((s) => s.startsWith(`${f} `))!;
    const rows = [...block.matchAll(/^iface (\d+) linktype \d+: (.*)$/gm)].map((m) => m[2].split(' ').map(Number));
    assert.equal(rows.length, doc.interfaces.length, f);
    rows.forEach((v, i) => {
      assert.equal(v[0], doc.interfaces[i].frames, `${f} interface ${i} frames`);
      assert.equal(v[2], doc.interfaces[i].badFrames, `${f} interface ${i} bad frames`);
    });
  }
});
