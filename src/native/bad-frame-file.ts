/**
 * Typed view of the live `-w` file (native/napi/bad_frame_file_napi.cc,
 * native/capture/bad_frame_file.h): a crash-safe pcap file, rotated like tcpdump -C/-W,
 * that the capture threads write bad frames to. Created on the JavaScript thread before
 * capture starts (and before --user drops root); never written per packet from here.
 */
import { loadAddon } from './addon.js';

/** LINKTYPE_ETHERNET and LINKTYPE_LINUX_SLL2 (https://www.tcpdump.org/linktypes.html). */
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_LINUX_SLL2 = 276;

export interface BadFrameFileOptions {
  path: string;
  linktype: typeof LINKTYPE_ETHERNET | typeof LINKTYPE_LINUX_SLL2;
  /** -C SIZE in bytes (SIZE * 1,000,000); 0 or absent: one file. */
  rotateBytes?: number;
  /** -W COUNT: names wrap after COUNT files; 0 or absent: no wrap. */
  rotateCount?: number;
}

export interface BadFrameFileStats {
  /** Bad frames written. */
  frames: number;
  /** Frames written as --context of a bad frame. */
  contextFrames: number;
  /** Context frames left out to keep the file in time order. */
  contextSkipped: number;
  /** Frames lost to write errors (disk full, ...) or a link type the file cannot hold. */
  notWritten: number;
  errors: number;
  /** Files opened: 1 + rotations. */
  files: number;
  firstError: string;
  lastError: string;
  currentPath: string;
}

export interface NativeBadFrameFile {
  stats(): BadFrameFileStats;
  /** After every capture thread writing to it has stopped. */
  close(): void;
}

interface Addon {
  BadFrameFile: new (options: BadFrameFileOptions) => NativeBadFrameFile;
}

/** Creates the first file; throws an Error with code 'EWRITE' when it cannot. */
export function openBadFrameFile(options: BadFrameFileOptions): NativeBadFrameFile {
  const Ctor = (loadAddon() as unknown as Addon).BadFrameFile;
  return new Ctor(options);
}
