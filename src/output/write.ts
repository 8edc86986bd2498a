/** Standard output for whole reports: written in pieces, awaited until the OS has them. */

/**
 * Writes and waits until the text is handed to the OS, so no output is lost on exit.
 * In pieces: a stream's writableLength drops only when a whole write completes, and the
 * stop bound (shutdown.ts) reads it to tell a slow reader of a 50 MB --json report from
 * one that stopped reading.
 */
export function write(stream: NodeJS.WritableStream, text: string | Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    const pieces = typeof text === 'string' ? piecesOf(text, WRITE_PIECE) : bytePieces(text, WRITE_PIECE);
    pieces.forEach((p, k) => stream.write(p, k === pieces.length - 1 ? () => resolve() : undefined));
  });
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
