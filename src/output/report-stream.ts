/**
 * Writing a whole report (-r, and live at the stop) in pieces, so its --list of up to
 * MAX_LISTED frames is never one string and never all objects at once (issue 17 item 10).
 */
import type { Writable } from 'node:stream';

import type { ListedReports, ReportDocument } from '../model/report.js';
import { jsonText } from './json-lines.js';
import { textReportPieces } from './text-report.js';
import { piecesOf, write, WRITE_PIECE } from './write.js';

/** Frames per piece of the JSON list. */
const JSON_FRAMES_PER_PIECE = 256;

/**
 * The report as JSON text in pieces: the document, then `badFrames` as its last key,
 * element by element. `indent` 2 (the -r report) or 0 (the live --json `report` line, one
 * line); the result is what JSON.stringify of the whole document with the list gives, but
 * for the list's place among the keys (last).
 */
export function* jsonReportPieces(doc: ReportDocument, list: ListedReports | null, indent: 0 | 2): Generator<string> {
  const head = jsonText(doc, indent || undefined);
  if (!list) {
    yield head;
    return;
  }
  // `head` ends with the document's closing brace ("\n}" when indented).
  const close = indent ? '\n}' : '}';
  const body = head.slice(0, head.length - close.length);
  const empty = body.endsWith('{');
  const sep = indent ? '\n  ' : '';
  yield `${body}${empty ? '' : ','}${sep}"badFrames":${indent ? ' ' : ''}[`;
  let first = true;
  let piece = '';
  let n = 0;
  for (const b of list.reports()) {
    const item = indent ? `\n    ${jsonText(b, 2).replace(/\n/g, '\n    ')}` : jsonText(b);
    piece += (first ? '' : ',') + item;
    first = false;
    if (++n % JSON_FRAMES_PER_PIECE === 0) {
      yield piece;
      piece = '';
    }
  }
  yield `${piece}${first || !indent ? '' : '\n  '}]${close}`;
}

/** The text or JSON report in pieces. */
export function reportPieces(doc: ReportDocument, list: ListedReports | null, format: { json: 0 | 2 } | { maxFlows: number }): Iterable<string> {
  return 'json' in format ? jsonReportPieces(doc, list, format.json) : textReportPieces(doc, { maxFlows: format.maxFlows }, list);
}

/**
 * Writes pieces as the stream takes them (waits for 'drain' when its buffer is full), so a
 * slow reader holds back the making of the next pieces instead of memory filling with them.
 * `suffix` ends the last piece (the live --json line's newline). Resolves once the OS has
 * the last piece, or at once when the stream is gone (the caller's error path says so).
 */
export async function writePieces(stream: NodeJS.WritableStream, pieces: Iterable<string>, suffix = ''): Promise<void> {
  const w = stream as Writable;
  let pending: string | null = null;
  for (const p of pieces) {
    if (pending !== null) {
      for (const part of piecesOf(pending, WRITE_PIECE)) {
        if (w.destroyed) return;
        if (!w.write(part)) await drained(w);
      }
    }
    pending = p;
  }
  if (w.destroyed) return;
  await write(stream, (pending ?? '') + suffix);
}

function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}
