/**
 * The live `--json` stream's `bad` lines of a batch made by the addon from its packed
 * records (native/flow/bad_lines.h), as UTF-8 ready to write: the text of `badLine`
 * (src/output/json-lines.ts) over `decodeRecords`, byte for byte
 * (test/unit/bad-lines-native.test.ts), without a string or an object per bad frame. At
 * a flood of bad frames those lines were most of the JavaScript thread's work and of its
 * garbage (docs/line-rate.md). The names and the schema version are handed over from here,
 * so they stay written once (src/model/verdict.ts, JSON_LINES_VERSION).
 */
import { KINDS, LAYERS, TUNNELS } from '../model/verdict.js';
import { JSON_LINES_VERSION } from '../output/json-lines.js';
import { loadAddon } from './addon.js';
import { DIRECTIONS } from './records.js';

export interface NativeBadLines {
  /**
   * The lines of `records` (packed BadFrameRecords) in order, as many whole lines as fit in
   * `room` bytes; `lines` then says how many. `interfaceJson[id]`: the interface's name as
   * JSON text (jsonText), or undefined for `"#id"`.
   */
  format(records: Uint8Array, interfaceJson: readonly (string | undefined)[], room: number): Buffer;
  /** Lines in the last format()'s buffer. */
  readonly lines: number;
}

interface BadLinesAddon {
  BadLines: new (names: { version: number; kinds: readonly string[]; tunnels: readonly string[]; layers: readonly string[]; directions: readonly string[] }) => NativeBadLines;
}

export function newBadLines(): NativeBadLines {
  const { BadLines } = loadAddon() as unknown as BadLinesAddon;
  return new BadLines({ version: JSON_LINES_VERSION, kinds: KINDS, tunnels: TUNNELS, layers: LAYERS, directions: DIRECTIONS });
}
