// \summary: The native checksum kernels against an independent JS RFC 1071 reference.
/**
 * Every available kernel path must give the reference's folded sum for every length
 * 0..4096 at every alignment 0..63 (seeded random data, non-zero `initial` values),
 * on the all-0xff / all-0x80 / all-zero patterns, and on the known vectors of RFC 1071
 * section 3 and a real IPv4 header. The scalar kernel must also match the reference's
 * unfolded 32-bit partial sum exactly. Forcing a path through CSUMTOP_CSUM_PATH is
 * checked in child processes, including the fallback for a path this CPU cannot run.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import {
  CHECKSUM_PATHS,
  type ChecksumPathName,
  checksumFold,
  checksumPartial,
  checksumPathSelection,
  checksumPaths,
  internetChecksum,
  setChecksumPath,
} from '../../src/native/checksum.js';
import { Prng } from '../fixtures/lib/prng.js';

// ---------------------------------------------------------------------------------------
// Reference, written from RFC 1071 section 1 and 4.1 only (no code shared with the addon).

/** initial + sum of big-endian 16-bit words (odd last byte padded with zero), as the
 * scalar kernel keeps it: exact sum, then end-around carries folded into 32 bits. */
function refPartial(buf: Uint8Array, offset: number, length: number, initial = 0): number {
  let sum = initial;
  let i = offset;
  const end = offset + length;
  for (; i + 1 < end; i += 2) sum += buf[i] * 256 + buf[i + 1];
  if (i < end) sum += buf[i] * 256;
  return fold32(sum);
}

/** End-around carry from 2^32 (sum is an exact integer below 2^53). */
function fold32(sum: number): number {
  while (sum > 0xffffffff) sum = (sum % 0x100000000) + Math.floor(sum / 0x100000000);
  return sum;
}

/** 16-bit end-around-carry fold, not complemented (RFC 1071 section 4.1). */
function refFold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** Seeded (test/fixtures/lib/prng.ts) so failures reproduce: the low byte of each draw. */
function randomBytes(n: number, seed: number): Uint8Array {
  const r = new Prng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = r.uint32() & 0xff;
  return out;
}

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

const available = checksumPaths()
  .filter((p) => p.available)
  .map((p) => p.name);
const isX86 = process.arch === 'x64' || process.arch === 'ia32';
const isArm64 = process.arch === 'arm64';

// `initial` values worth trying: zero, small, the 16-bit and 32-bit edges.
const INITIALS = [0, 1, 0xffff, 0x10000, 0x7fffffff, 0xfffffffe, 0xffffffff];

// ---------------------------------------------------------------------------------------

describe('checksum paths', () => {
  it('lists every path once, in order, with exactly one active and available', () => {
    const paths = checksumPaths();
    assert.deepEqual(
      paths.map((p) => p.name),
      [...CHECKSUM_PATHS],
    );
    const active = paths.filter((p) => p.active);
    assert.equal(active.length, 1);
    assert.equal(active[0].available, true);
  });

  it('has the reference kernels everywhere and the SIMD kernel of this architecture', () => {
    assert.ok(available.includes('scalar'));
    assert.ok(available.includes('adc64'));
    if (isX86) {
      assert.ok(available.includes('sse2'), 'SSE2 is part of x86-64');
      assert.ok(!available.includes('neon'));
    }
    if (isArm64) {
      assert.ok(available.includes('neon'), 'Advanced SIMD is mandatory on AArch64');
      assert.ok(!available.includes('sse2') && !available.includes('avx2'));
    }
  });

  it('starts on the best path when CSUMTOP_CSUM_PATH is not set', () => {
    const sel = checksumPathSelection();
    if (process.env.CSUMTOP_CSUM_PATH) return; // the environment forced one
    assert.equal(sel.forced, false);
    assert.equal(sel.fellBack, false);
    assert.equal(sel.requested, null);
    assert.equal(sel.startup, sel.best);
    const best = isX86 ? (available.includes('avx2') ? 'avx2' : 'sse2') : isArm64 ? 'neon' : 'adc64';
    assert.equal(sel.best, best);
  });
});

describe('every path against the reference', () => {
  const MAX_LEN = 4096;
  const MAX_ALIGN = 63;
  const data = randomBytes(MAX_LEN + MAX_ALIGN + 64, 0xc5c5);

  for (const name of available) {
    it(`${name}: every length 0..${MAX_LEN} at every alignment 0..${MAX_ALIGN}`, () => {
      const rng = new Prng(0x1071 + name.length);
      const next = (): number => rng.uint32();
      let checked = 0;
      for (let align = 0; align <= MAX_ALIGN; align++) {
        // Reference sums built incrementally, one byte at a time, for speed; checked
        // against refPartial() on a sample below.
        let sum = 0;
        for (let len = 0; len <= MAX_LEN; len++) {
          if (len > 0) sum += data[align + len - 1] * ((len - 1) % 2 === 0 ? 256 : 1);
          const initial = len % 5 === 0 ? 0 : len % 5 === 1 ? INITIALS[len % INITIALS.length] : next();
          const got = checksumPartial(data, align, len, name, initial);
          const want = fold32(sum + initial);
          if (name === 'scalar' ? got !== want : refFold(got) !== refFold(want)) {
            assert.fail(
              `${name} len=${len} align=${align} initial=0x${initial.toString(16)}: ` +
                `got 0x${got.toString(16)} (fold ${refFold(got).toString(16)}), ` +
                `want 0x${want.toString(16)} (fold ${refFold(want).toString(16)})`,
            );
          }
          if (!Number.isInteger(got) || got < 0 || got > 0xffffffff) assert.fail(`${name}: ${got} is not a uint32`);
          checked++;
        }
      }
      assert.equal(checked, (MAX_LEN + 1) * (MAX_ALIGN + 1));
    });
  }

  it('the incremental reference agrees with the direct one', () => {
    for (const [align, len] of [
      [0, 0],
      [0, 1],
      [3, 7],
      [63, 4096],
      [17, 1501],
      [1, 40],
    ]) {
      let sum = 0;
      for (let k = 0; k < len; k++) sum += data[align + k] * (k % 2 === 0 ? 256 : 1);
      assert.equal(fold32(sum), refPartial(data, align, len));
    }
  });

  it('agrees across the vector block sizes with long random buffers', () => {
    const big = randomBytes(300_000, 0xbeef);
    for (const name of available) {
      for (const [align, len] of [
        [0, 65535],
        [1, 65536],
        [7, 131_071],
        [33, 299_000],
        [2, 262_144],
      ]) {
        for (const initial of [0, 0xffffffff, 0x12345]) {
          assert.equal(
            refFold(checksumPartial(big, align, len, name, initial)),
            refFold(refPartial(big, align, len, initial)),
            `${name} len=${len} align=${align}`,
          );
        }
      }
    }
  });
});

describe('patterns with every carry', () => {
  const N = 2200;
  for (const [label, fill] of [
    ['all 0xff', 0xff],
    ['all 0x80', 0x80],
    ['all zero', 0x00],
  ] as const) {
    it(`${label}: every path, lengths 0..${N}, several alignments and initials`, () => {
      const buf = new Uint8Array(N + 64).fill(fill);
      for (const name of available) {
        for (const align of [0, 1, 2, 3, 31, 32, 63]) {
          for (let len = 0; len <= N; len += len < 300 ? 1 : 13) {
            for (const initial of INITIALS) {
              const want = refPartial(buf, align, len, initial);
              const got = checksumPartial(buf, align, len, name, initial);
              if (refFold(got) !== refFold(want)) {
                assert.fail(`${name} ${label} len=${len} align=${align} initial=${initial}: ${got} vs ${want}`);
              }
            }
          }
        }
      }
    });
  }

  it('all-zero data with zero initial folds to 0, all-0xff to 0xffff (ones-complement -0)', () => {
    const zeros = new Uint8Array(1500);
    const ones = new Uint8Array(1500).fill(0xff);
    for (const name of available) {
      assert.equal(checksumFold(checksumPartial(zeros, 0, 1500, name, 0)), 0, name);
      assert.equal(checksumFold(checksumPartial(ones, 0, 1500, name, 0)), 0xffff, name);
      assert.equal(checksumFold(checksumPartial(ones, 1, 1498, name, 0)), 0xffff, name);
      // An odd length pads the last 0xff with zero: 749 * 0xffff + 0xff00 folds to 0xff00.
      assert.equal(checksumFold(checksumPartial(ones, 1, 1499, name, 0)), 0xff00, name);
    }
  });
});

describe('known vectors', () => {
  it('RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2', () => {
    const v = hex('0001 f203 f4f5 f6f7');
    for (const name of available) {
      assert.equal(checksumFold(checksumPartial(v, 0, 8, name)), 0xddf2, name);
      // The same bytes at an odd address inside a larger buffer.
      const big = new Uint8Array(41);
      big.set(v, 33);
      assert.equal(checksumFold(checksumPartial(big, 33, 8, name)), 0xddf2, `${name} at odd address`);
    }
  });

  it('RFC 1071 section 3: the unfolded sum is 2ddf0 and the halves sum to 1ddf1/2ddf0', () => {
    const v = hex('0001 f203 f4f5 f6f7');
    assert.equal(checksumPartial(v, 0, 8, 'scalar'), 0x2ddf0);
    // Parallel summation (RFC 1071 section 2(C)): pieces add up to the same fold.
    for (const name of available) {
      const a = checksumPartial(v, 0, 4, name);
      const b = checksumPartial(v, 4, 4, name);
      assert.equal(checksumFold(a + b), 0xddf2, name);
      // `initial` chains pieces.
      assert.equal(checksumFold(checksumPartial(v, 4, 4, name, a)), 0xddf2, name);
    }
  });

  it('a real IPv4 header verifies and its checksum field is recomputed', () => {
    // 192.168.0.1 -> 192.168.0.199, UDP, total length 115, checksum b861.
    const header = hex('4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7');
    const zeroed = Uint8Array.from(header);
    zeroed[10] = 0;
    zeroed[11] = 0;
    for (const name of available) {
      assert.equal(checksumFold(checksumPartial(header, 0, 20, name)), 0xffff, `${name}: verifies`);
      assert.equal(~checksumFold(checksumPartial(zeroed, 0, 20, name)) & 0xffff, 0xb861, `${name}: recomputes`);
    }
    assert.equal(internetChecksum(zeroed), 0xb861);
    assert.equal(internetChecksum(header), 0);
  });

  it('works on Buffers and on views with a byteOffset', () => {
    const backing = randomBytes(5000, 77);
    const view = new Uint8Array(backing.buffer, 123, 3001);
    const buffer = Buffer.from(backing.buffer, 7, 4000);
    for (const name of available) {
      assert.equal(refFold(checksumPartial(view, 5, 2990, name, 9)), refFold(refPartial(backing, 128, 2990, 9)), name);
      assert.equal(refFold(checksumPartial(buffer, 0, 4000, name)), refFold(refPartial(backing, 7, 4000)), name);
    }
  });
});

describe('fold', () => {
  it('folds with end-around carry and does not complement', () => {
    for (const v of [0, 1, 0xffff, 0x10000, 0x1fffe, 0x2ddf0, 0x12345678, 0xffffffff, 0x1_0000_0000, 2 ** 53 - 1]) {
      const big = BigInt(v);
      let s = big;
      while (s > 0xffffn) s = (s & 0xffffn) + (s >> 16n);
      assert.equal(checksumFold(v), Number(s), `fold(0x${v.toString(16)})`);
    }
    assert.equal(checksumFold(0x2ddf0), 0xddf2);
  });

  it('rejects what is not a non-negative safe integer', () => {
    assert.throws(() => checksumFold(-1), RangeError);
    assert.throws(() => checksumFold(1.5), RangeError);
    assert.throws(() => checksumFold(Number.NaN), RangeError);
    assert.throws(() => checksumFold(2 ** 53), RangeError);
    assert.throws(() => checksumFold('1' as unknown as number), TypeError);
  });
});

describe('argument checks', () => {
  const buf = new Uint8Array(16);

  it('throws TypeError for a buffer that is not a Uint8Array', () => {
    const bad: unknown[] = [[1, 2, 3], 'abc', new Uint16Array(4), new Int8Array(4), new ArrayBuffer(4), null, undefined, {}];
    for (const b of bad) {
      assert.throws(() => checksumPartial(b as Uint8Array, 0, 0), TypeError, String(b));
    }
  });

  it('throws TypeError for non-number offsets and lengths, RangeError for bad values', () => {
    assert.throws(() => checksumPartial(buf, '0' as unknown as number, 1), TypeError);
    assert.throws(() => checksumPartial(buf, 0, undefined as unknown as number), TypeError);
    assert.throws(() => checksumPartial(buf, -1, 1), RangeError);
    assert.throws(() => checksumPartial(buf, 0.5, 1), RangeError);
    assert.throws(() => checksumPartial(buf, 0, Number.POSITIVE_INFINITY), RangeError);
    assert.throws(() => checksumPartial(buf, 0, Number.NaN), RangeError);
  });

  it('never reads past the end: RangeError for any span outside the array', () => {
    assert.throws(() => checksumPartial(buf, 0, 17), RangeError);
    assert.throws(() => checksumPartial(buf, 16, 1), RangeError);
    assert.throws(() => checksumPartial(buf, 17, 0), RangeError);
    assert.throws(() => checksumPartial(buf, 2 ** 53 - 1, 2 ** 53 - 1), RangeError);
    const view = new Uint8Array(new ArrayBuffer(64), 32, 8);
    assert.throws(() => checksumPartial(view, 0, 9), RangeError, 'the view, not its ArrayBuffer, bounds the span');
    assert.equal(checksumPartial(buf, 16, 0), 0);
    assert.equal(checksumPartial(new Uint8Array(0), 0, 0), 0);
  });

  it('rejects unknown and unavailable paths, and bad initial values', () => {
    assert.throws(() => checksumPartial(buf, 0, 4, 'bogus' as ChecksumPathName), RangeError);
    assert.throws(() => checksumPartial(buf, 0, 4, 7 as unknown as ChecksumPathName), TypeError);
    const unavailable = checksumPaths().find((p) => !p.available);
    if (unavailable) assert.throws(() => checksumPartial(buf, 0, 4, unavailable.name), /not available/);
    assert.throws(() => checksumPartial(buf, 0, 4, undefined, -1), RangeError);
    assert.throws(() => checksumPartial(buf, 0, 4, undefined, 2 ** 32), RangeError);
    assert.throws(() => checksumPartial(buf, 0, 4, undefined, 0.5), RangeError);
    assert.throws(() => checksumPartial(buf, 0, 4, undefined, '1' as unknown as number), TypeError);
    assert.equal(checksumPartial(buf, 0, 4, undefined, 0xffffffff), 0xffffffff);
  });
});

describe('setChecksumPath', () => {
  it('switches to every available path and refuses unavailable ones', () => {
    const before = checksumPathSelection().active;
    try {
      for (const p of checksumPaths()) {
        assert.equal(setChecksumPath(p.name), p.available, p.name);
        const active = checksumPaths().find((q) => q.active);
        if (p.available) {
          assert.equal(active?.name, p.name);
          assert.equal(checksumPathSelection().active, p.name);
          assert.equal(internetChecksum(hex('4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7')), 0xb861);
        } else {
          assert.notEqual(active?.name, p.name);
        }
      }
      assert.equal(setChecksumPath('bogus' as ChecksumPathName), false);
      assert.throws(() => setChecksumPath(3 as unknown as ChecksumPathName), TypeError);
    } finally {
      assert.equal(setChecksumPath(before), true);
    }
    assert.equal(checksumPathSelection().startup, checksumPathSelection().active);
  });
});

describe('CSUMTOP_CSUM_PATH', () => {
  const moduleFile = path.resolve(__dirname, '..', '..', 'src', 'native', 'checksum.js');
  const script = `
    const c = require(${JSON.stringify(moduleFile)});
    const v = Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
    process.stdout.write(JSON.stringify({
      selection: c.checksumPathSelection(),
      active: c.checksumPaths().filter((p) => p.active).map((p) => p.name),
      fold: c.checksumFold(c.checksumPartial(v, 0, 8)),
    }));`;

  interface ChildResult {
    selection: ReturnType<typeof checksumPathSelection>;
    active: string[];
    fold: number;
  }

  function runWith(value: string | undefined): ChildResult {
    const env = { ...process.env };
    if (value === undefined) delete env.CSUMTOP_CSUM_PATH;
    else env.CSUMTOP_CSUM_PATH = value;
    const r = spawnSync(process.execPath, ['-e', script], { env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as ChildResult;
  }

  const best = checksumPathSelection().best;

  for (const name of available) {
    it(`forcing ${name} is honoured`, () => {
      const r = runWith(name);
      assert.deepEqual(r.active, [name]);
      assert.equal(r.selection.startup, name);
      assert.equal(r.selection.forced, true);
      assert.equal(r.selection.fellBack, false);
      assert.equal(r.selection.requested, name);
      assert.equal(r.fold, 0xddf2);
    });
  }

  it(`an unavailable forced path falls back to the best one (${best}) and says so`, () => {
    // neon cannot run on x86, avx2 and sse2 cannot run on arm64.
    const unavailable = isX86 ? 'neon' : isArm64 ? 'avx2' : checksumPaths().find((p) => !p.available)?.name;
    if (unavailable === undefined) return; // every path runs here
    const r = runWith(unavailable);
    assert.deepEqual(r.active, [best]);
    assert.equal(r.selection.startup, best);
    assert.equal(r.selection.forced, true);
    assert.equal(r.selection.fellBack, true);
    assert.equal(r.selection.requested, unavailable);
    assert.equal(r.fold, 0xddf2);
  });

  it('an unknown name falls back too; an unset or empty variable forces nothing', () => {
    const bogus = runWith('avx512');
    assert.deepEqual(bogus.active, [best]);
    assert.equal(bogus.selection.fellBack, true);
    assert.equal(bogus.selection.requested, 'avx512');
    for (const v of [undefined, '']) {
      const r = runWith(v);
      assert.deepEqual(r.active, [best]);
      assert.equal(r.selection.forced, false);
      assert.equal(r.selection.fellBack, false);
      assert.equal(r.selection.requested, null);
    }
  });
});
