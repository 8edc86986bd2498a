/** Standard output for whole reports: written in pieces, awaited until the OS has them. */
import { fstatSync, writev as fsWritev } from 'node:fs';

/** What is written: text, or bytes already UTF-8 (the addon's `bad` lines). */
export type Chunk = string | Uint8Array;
/** One chunk, or several written one after the other as one write (gathered: no copy to join them). */
export type Chunks = Chunk | readonly Chunk[];
/** A writer of the live line stream (lineWriter). */
export type LineWrite = (data: Chunks) => Promise<void>;

/**
 * Writes and waits until the text is handed to the OS, so no output is lost on exit.
 * In pieces: a stream's writableLength drops only when a whole write completes, and the
 * stop bound (shutdown.ts) reads it to tell a slow reader of a 50 MB --json report from
 * one that stopped reading.
 */
export function write(stream: NodeJS.WritableStream, data: Chunks): Promise<void> {
  return new Promise((resolve) => {
    const pieces = chunksOf(data).flatMap((c): Chunk[] => (typeof c === 'string' ? piecesOf(c, WRITE_PIECE) : bytePieces(c, WRITE_PIECE)));
    pieces.forEach((p, k) => stream.write(p, k === pieces.length - 1 ? () => resolve() : undefined));
  });
}

function chunksOf(data: Chunks): readonly Chunk[] {
  return typeof data === 'string' || data instanceof Uint8Array ? [data] : data.length > 0 ? data : [''];
}

/** `bytes` cut into views of at most `size` bytes (UTF-8 lines: a piece may end inside a character; the stream gets them all, in order). */
function bytePieces(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length || out.length === 0; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

/** The size of one write (UTF-16 units); src/output/report-stream.ts writes in the same pieces. */
export const WRITE_PIECE = 64 * 1024;

/** `text` cut into pieces of at most `size` UTF-16 units, never inside a surrogate pair. */
export function piecesOf(text: string, size: number): string[] {
  if (text.length <= size) return [text];
  const out: string[] = [];
  for (let at = 0; at < text.length;) {
    let end = Math.min(at + size, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--; // a high surrogate goes with its low one
    out.push(text.slice(at, end));
    at = end;
  }
  return out;
}

/**
 * Writes to `fd`, a regular file, on a thread of libuv's pool (fs.write) and resolves when
 * every byte is written; the caller writes one piece at a time (src/output/line-queue.ts).
 * Node writes standard output to a regular file synchronously, on the JavaScript thread:
 * at trafgen's top rate that was 1.7-1.9 of 8 s of live capture's JavaScript thread for
 * the 75 MB/s of `bad` lines, time in which no batch was taken (bench/RESULTS-live.md).
 * The first failure (ENOSPC) goes to `failed`, once; later writes are dropped, as a
 * stream that failed drops them.
 */
export function fileWriter(fd: number, failed: (err: NodeJS.ErrnoException) => void): LineWrite {
  let broken = false;
  return (data) =>
    new Promise<void>((resolve) => {
      if (broken) return resolve();
      let bufs = chunksOf(data)
        .map((c) => (typeof c === 'string' ? Buffer.from(c) : c))
        .filter((b) => b.length > 0);
      const rest = (): void => {
        if (bufs.length === 0) return resolve();
        // null position: at the descriptor's offset, where the synchronous writes of the
        // same descriptor (the final report) go on after these. One writev(2) for all the
        // parts: the batches' lines are not copied into one buffer first (that copy was
        // 230 ms of the JavaScript thread's 1.95 busy s under 200,000 bad frames,
        // bench/RESULTS-live.md "every frame bad").
        fsWritev(fd, bufs, null, (err, n) => {
          if (!err && n === 0) err = Object.assign(new Error('write wrote nothing'), { code: 'EIO' }); // never loop on it
          if (err) {
            broken = true;
            failed(err);
            return resolve();
          }
          bufs = unwritten(bufs, n);
          rest();
        });
      };
      rest();
    });
}

/** What is left of `bufs` after the first `n` bytes of them were written. */
export function unwritten(bufs: Uint8Array[], n: number): Uint8Array[] {
  let k = 0;
  while (k < bufs.length && n >= bufs[k].length) n -= bufs[k++].length;
  const out = bufs.slice(k);
  if (out.length > 0 && n > 0) out[0] = out[0].subarray(n);
  return out;
}

/**
 * The writer of live capture's line stream to `stream`, whose descriptor is `fd`: for a
 * regular file fileWriter() (off the JavaScript thread; a stream to a file is written
 * synchronously), for anything else the stream itself: a pipe's writes are asynchronous in
 * Node on POSIX; a terminal's are synchronous, as for every Node program (a person reading
 * a terminal is not where 75 MB/s of `bad` lines go).
 * `failed`: a fileWriter's write error (a stream reports its own with 'error').
 */
export function lineWriter(fd: number, stream: NodeJS.WritableStream, failed: (err: NodeJS.ErrnoException) => void): LineWrite {
  return isRegularFile(fd) ? fileWriter(fd, failed) : (data) => write(stream, data);
}

function isRegularFile(fd: number): boolean {
  try {
    return fstatSync(fd).isFile();
  } catch {
    return false;
  }
}
