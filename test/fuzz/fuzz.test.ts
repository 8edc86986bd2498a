/**
 * Builds the libFuzzer targets with ASan + UBSan (native/fuzz/build.sh), replays every
 * past finding kept in native/fuzz/regressions/, then fuzzes each target for a bounded
 * time seeded from the generated fixtures. The targets are everything that parses bytes
 * from outside: the decoder (decode), the capture-file reader (reader), the rtnetlink
 * link dump (links), the correlation events and DNS question parser (events), the
 * parallel pcap record sync and decoding (segment), the pcap/pcapng writer read back
 * (writer), the live -w history, context and file (selector), the pcapng interface
 * options and per-file interface cap (pcapng), the parallel pcapng block scanner against
 * the reader (pcapng_scan), and the kernel drop records of the eBPF program with their
 * bounded table and the frame matcher, run against its reference (kdrops).
 * CSUMTOP_FUZZ_SECONDS sets the time per target (default 20: 10 targets, about 3.5
 * minutes of fuzzing; CI uses the default). A crash fails the test and names the input
 * to add to the regressions folder.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { ROOT } from '../../src/native/addon.js';
import { readCaptureFile } from '../../src/native/capture-file.js';

const SECONDS = Number(process.env.CSUMTOP_FUZZ_SECONDS ?? '20');
const LINKTYPE_INDEX: Record<number, number> = { 1: 0, 101: 1, 228: 2, 229: 3, 113: 4, 276: 5, 0: 6, 108: 7, 147: 9, 239: 10 };

let work: string;
let bin: string;

before(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'csumtop-fuzz-'));
  bin = path.join(work, 'bin');
  const b = spawnSync('bash', [path.join(ROOT, 'native/fuzz/build.sh'), bin], { encoding: 'utf8' });
  assert.equal(
    b.status,
    0,
    `building the fuzz targets failed (they need clang and its compiler runtime, Debian's clang and libclang-rt-14-dev; .ci/run installs both):\n${b.stderr}`,
  );
  // Seeds: every fixture file for the reader; every frame of them for the decoder.
  const fixtures = path.join(work, 'fixtures');
  const g = spawnSync(process.execPath, [path.join(ROOT, 'dist/test/fixtures/generate.js'), fixtures], { encoding: 'utf8' });
  assert.equal(g.status, 0, `fixture generation failed:\n${g.stderr}`);
  const readerSeeds = path.join(work, 'seeds-reader');
  const decodeSeeds = path.join(work, 'seeds-decode');
  const segmentSeeds = path.join(work, 'seeds-segment');
  mkdirSync(readerSeeds);
  mkdirSync(decodeSeeds);
  mkdirSync(segmentSeeds);
  let n = 0;
  for (const f of readdirSync(fixtures)) {
    if (!/\.(pcap|pcapng)$/.test(f)) continue;
    copyFileSync(path.join(fixtures, f), path.join(readerSeeds, f));
    if (f.endsWith('.pcap')) {
      // fuzz_segment.cc: 3 bytes of parameters, then the records after the 24-byte header.
      const body = readFileSync(path.join(fixtures, f)).subarray(24, 24 + 60000);
      writeFileSync(path.join(segmentSeeds, f), Buffer.concat([Buffer.from([0x02, 0, 0xff]), body]));
    }
    const contents = readCaptureFile(path.join(fixtures, f));
    for (const fr of contents.frames) {
      const lt = contents.interfaces[fr.iface]?.linktype ?? 1;
      // fuzz_decode.cc: byte 0 picks the link type, byte 1 the snap-length cut.
      const seed = Buffer.concat([Buffer.from([LINKTYPE_INDEX[lt] ?? 0, fr.caplen < fr.wirelen ? 0x81 : 0]), fr.data]);
      writeFileSync(path.join(decodeSeeds, `seed-${n++}`), seed);
    }
  }
  assert.ok(n > 50, `expected the fixtures to give many decoder seeds, got ${n}`);
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

type Target = 'decode' | 'reader' | 'links' | 'events' | 'segment' | 'writer' | 'selector' | 'pcapng' | 'pcapng_scan' | 'kdrops';

function runFuzzer(target: Target, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(path.join(bin, `fuzz_${target}`), args, {
    encoding: 'utf8',
    cwd: work,
    timeout: (SECONDS + 120) * 1000,
    // TMPDIR: fuzz_writer and fuzz_selector write their files here, removed after.
    env: { ...process.env, TMPDIR: work, ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0', UBSAN_OPTIONS: 'print_stacktrace=1' },
  });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

// The rtnetlink parser (native/host/links.cc), the writer and the selector start from
// their kept inputs only (their inputs are parameters, not captured bytes); the events
// target takes the decoder's seeds (same layout).
const SEEDS: Record<Target, () => string> = {
  decode: () => path.join(work, 'seeds-decode'),
  reader: () => path.join(work, 'seeds-reader'),
  links: () => path.join(ROOT, 'native/fuzz/regressions/links'),
  events: () => path.join(work, 'seeds-decode'),
  segment: () => path.join(work, 'seeds-segment'),
  writer: () => path.join(ROOT, 'native/fuzz/regressions/writer'),
  selector: () => path.join(ROOT, 'native/fuzz/regressions/selector'),
  pcapng: () => path.join(ROOT, 'native/fuzz/regressions/pcapng'),
  pcapng_scan: () => path.join(ROOT, 'native/fuzz/regressions/pcapng_scan'),
  kdrops: () => path.join(ROOT, 'native/fuzz/regressions/kdrops'),
};

for (const target of ['decode', 'reader', 'links', 'events', 'segment', 'writer', 'selector', 'pcapng', 'pcapng_scan', 'kdrops'] as const) {
  test(`fuzz_${target}: past findings still pass`, () => {
    const dir = path.join(ROOT, 'native/fuzz/regressions', target);
    const files = readdirSync(dir).filter((f) => !f.startsWith('.') && f !== 'README.md');
    if (files.length === 0) return assert.ok(true, 'no regression inputs yet');
    const r = runFuzzer(target, ['-runs=0', ...files.map((f) => path.join(dir, f))]);
    assert.equal(r.status, 0, `a kept regression input crashes again:\n${r.out.slice(-4000)}`);
  });

  test(`fuzz_${target}: ${SECONDS} s of fuzzing find nothing`, () => {
    const corpus = path.join(work, `corpus-${target}`);
    mkdirSync(corpus, { recursive: true });
    const r = runFuzzer(target, [
      `-max_total_time=${SECONDS}`,
      '-max_len=70000',
      '-rss_limit_mb=2048',
      `-artifact_prefix=${work}/crash-${target}-`,
      corpus,
      SEEDS[target](),
    ]);
    const crashes = readdirSync(work).filter((f) => f.startsWith(`crash-${target}-`));
    assert.equal(
      r.status,
      0,
      `fuzz_${target} found a problem; copy the input into native/fuzz/regressions/${target}/:\n` + `${crashes.join(', ')}\n${r.out.slice(-6000)}`,
    );
    assert.match(r.out, /Done \d+ runs/, 'the fuzzer did not report its runs');
  });
}
