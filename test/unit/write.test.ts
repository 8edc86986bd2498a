/**
 * Whole reports go to standard output in pieces (src/output/write.ts), so the stop bound
 * (src/cli/shutdown.ts) sees a slow reader's progress in writableLength: one write of a
 * 50 MB --json report left writableLength unchanged until the reader had taken all of it,
 * and million-flows' csumtop exited 130 "no progress" while its reader was still reading.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';

import { fileWriter, lineWriter, piecesOf, unwritten, write } from '../../src/output/write.js';

test('piecesOf: pieces of at most the size, joined back to the text, a surrogate pair never cut', () => {
  assert.deepEqual(piecesOf('short', 64), ['short']);
  const text = 'ab😀cd'.repeat(1000); // 😀 is two UTF-16 units
  for (const size of [2, 3, 7, 64, 1000]) {
    const p = piecesOf(text, size);
    assert.equal(p.join(''), text, `size ${size}`);
    assert.ok(
      p.every((x) => x.length <= size && x.length > 0),
      `size ${size}`,
    );
    // No piece ends with a high surrogate or starts with a low one.
    for (const x of p) {
      const last = x.charCodeAt(x.length - 1);
      const first = x.charCodeAt(0);
      assert.ok(!(last >= 0xd800 && last <= 0xdbff), `size ${size}: a piece ends inside a pair`);
      assert.ok(!(first >= 0xdc00 && first <= 0xdfff), `size ${size}: a piece starts inside a pair`);
    }
  }
});

test("write: a slow reader's progress shows in writableLength piece by piece; resolves after the last byte", async () => {
  const taken: string[] = [];
  const lengths: number[] = [];
  // A reader taking one piece per 2 ms (a pipe drained slowly).
  const slow: Writable = new Writable({
    decodeStrings: false,
    highWaterMark: 16,
    write(chunk: string, _enc, cb) {
      taken.push(chunk);
      setTimeout(() => {
        cb();
        lengths.push(slow.writableLength);
      }, 2);
    },
  });
  const text = 'x'.repeat(64 * 1024 * 10 + 5);
  let resolved = false;
  const done = write(slow, text).then(() => (resolved = true));
  assert.equal(resolved, false);
  await done;
  assert.equal(taken.join(''), text, 'every byte, in order');
  assert.equal(taken.length, 11, 'in 64 KiB pieces');
  // writableLength fell at every piece: progress a stop bound can see.
  for (let k = 1; k < lengths.length; k++) assert.ok(lengths[k] < lengths[k - 1], `writableLength after piece ${k}: ${lengths.join(' ')}`);
  assert.equal(lengths[lengths.length - 1], 0);
});

test('write: bytes (the bad lines the addon makes) go in 64 KiB views, every byte in order; empty bytes still resolve', async () => {
  const taken: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      taken.push(Buffer.from(chunk));
      setImmediate(cb);
    },
  });
  const bytes = Buffer.alloc(64 * 1024 * 3 + 100);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7) & 0xff;
  await write(sink, bytes);
  assert.equal(taken.length, 4);
  assert.ok(taken.every((t) => t.length <= 64 * 1024));
  assert.deepEqual(Buffer.concat(taken), bytes);
  await write(sink, new Uint8Array(0));
  // Parts: each in its own views, in order.
  taken.length = 0;
  await write(sink, [bytes, 'tail\n']);
  assert.deepEqual(Buffer.concat(taken), Buffer.concat([bytes, Buffer.from('tail\n')]));
  await write(sink, []);
});

test('unwritten: what a short writev leaves, parts whole or cut where the write stopped', () => {
  const parts = [Buffer.from('abc'), Buffer.from('de'), Buffer.from('fgh')];
  const text = (bs: Uint8Array[]): string => Buffer.concat(bs).toString();
  for (let n = 0; n <= 8; n++) assert.equal(text(unwritten(parts, n)), 'abcdefgh'.slice(n), `after ${n} bytes`);
  assert.equal(unwritten(parts, 3).length, 2, 'a part written whole is dropped');
  assert.equal(unwritten(parts, 4)[0].length, 1, 'a part written in part is cut');
});

test('fileWriter: text and bytes in order at the file offset, then synchronous writes after them; a write error said once, later writes dropped', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'csumtop-file-writer-'));
  try {
    const file = path.join(dir, 'out.jsonl');
    const fd = openSync(file, 'w', 0o600);
    const errors: NodeJS.ErrnoException[] = [];
    const out = fileWriter(fd, (e) => errors.push(e));
    const big = Buffer.alloc(3 * 1024 * 1024, 0x61); // more than one write(2) may take
    await out('first\n');
    await out(Buffer.from('sécond\n'));
    await out(big);
    // Parts in one gathered write (writev), in order; an empty part is no trouble.
    await out(['third\n', Buffer.from('fourth\n'), new Uint8Array(0), big, 'fifth\n']);
    writeSync(fd, 'report\n'); // the final report, written synchronously after the lines
    closeSync(fd);
    assert.equal(readFileSync(file, 'utf8'), `first\nsécond\n${big.toString()}third\nfourth\n${big.toString()}fifth\nreport\n`);
    assert.equal(errors.length, 0);
    // A descriptor that cannot be written: the error once, the writes resolve and drop.
    const ro = openSync(file, 'r');
    const bad = fileWriter(ro, (e) => errors.push(e));
    await bad('x\n');
    await bad('y\n');
    closeSync(ro);
    assert.equal(errors.length, 1);
    assert.equal(errors[0].code, 'EBADF');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('lineWriter: a regular file is written by descriptor (not through its stream); a pipe through the stream', async () => {
  // A stream that records what it is given: the writer of a regular file must not use it
  // (Node writes a stream to a file synchronously, on the JavaScript thread).
  const viaStream: string[] = [];
  const stream = new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _enc, cb) {
      viaStream.push(chunk.toString());
      cb();
    },
  });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'csumtop-line-writer-'));
  try {
    const file = path.join(dir, 'out.jsonl');
    const fd = openSync(file, 'w', 0o600);
    const toFile = lineWriter(fd, stream, () => assert.fail('no write error expected'));
    await toFile('one\n');
    await toFile(Buffer.from('two\n'));
    closeSync(fd);
    assert.equal(readFileSync(file, 'utf8'), 'one\ntwo\n');
    assert.deepEqual(viaStream, []);
    // A pipe (what `csumtop --json | jq` gives; a FIFO opened for reading and writing does
    // not block): through the stream, the descriptor untouched.
    const fifo = path.join(dir, 'pipe');
    execFileSync('mkfifo', ['-m', '600', fifo]);
    const pfd = openSync(fifo, 'r+');
    try {
      const toPipe = lineWriter(pfd, stream, () => assert.fail('no write error expected'));
      await toPipe('three\n');
      assert.deepEqual(viaStream, ['three\n']);
    } finally {
      closeSync(pfd);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // A descriptor that is not open: not a file, so the stream (whose 'error' says the rest).
  const closed = lineWriter(987654, stream, () => assert.fail('not a file writer'));
  await closed('four\n');
  assert.deepEqual(viaStream, ['three\n', 'four\n']);
});
