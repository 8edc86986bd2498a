/**
 * Writes a list of captured frames (the dashboard's recent bad frames) to a classic pcap
 * file through the addon's writer, which creates the file mode 0600 and never follows a
 * symlink (native/capture: O_CREAT|O_EXCL|O_NOFOLLOW).
 */
import * as path from 'node:path';

import type { DecodedRecord } from '../model/bad-frame.js';
import { CaptureFileWriter } from '../native/capture-file.js';

/** A frame with its bytes (src/model/bad-frame.ts DecodedRecord, bytes kept). */
export interface FrameToWrite extends Pick<DecodedRecord, 'tsNs' | 'wirelen'> {
  bytes: Uint8Array;
}

export const LINKTYPE_ETHERNET = 1;
/** Frames that start with the IP header (tunnel devices such as tunl0, wireguard). */
export const LINKTYPE_RAW = 101;

/** Writes `frames` (all of one link type) to `file`, refused if it exists; returns the absolute path. */
export function writeFramesPcap(file: string, frames: FrameToWrite[], linktype = LINKTYPE_ETHERNET): string {
  const abs = path.resolve(file);
  const w = new CaptureFileWriter(abs, 'pcap', [{ linktype, snaplen: 262144 }], false);
  try {
    for (const f of frames) w.write(0, f.tsNs, f.bytes, Math.max(f.wirelen, f.bytes.length));
  } finally {
    w.close();
  }
  return abs;
}

/** csumtop-bad-20261121T130512Z.pcap: a new name per second, so `w` never clobbers a file. */
export function defaultPcapName(nowMs: number, dir = process.cwd()): string {
  const stamp = new Date(nowMs)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return path.join(dir, `csumtop-bad-${stamp}.pcap`);
}
