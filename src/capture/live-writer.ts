/**
 * Live `-w`: the one pcap file every capture thread writes bad frames (and --context
 * frames) to, opened before any ring (and before --user drops root, like tcpdump -Z), and
 * its write errors turned into warnings, each said once (issue 15: one job of LiveSource).
 */
import type { Link } from '../host/links.js';
import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL2, openBadFrameFile, type BadFrameFileStats, type NativeBadFrameFile } from '../native/bad-frame-file.js';
import { CaptureError } from './source.js';

export interface LiveWriteOptions {
  path: string;
  /** -C SIZE in bytes; 0: no rotation. */
  rotateBytes: number;
  /** -W COUNT; 0: no wrap. */
  rotateCount: number;
  /** --context N. */
  context: number;
}

export class LiveWriter {
  private errors = 0;

  private constructor(readonly file: NativeBadFrameFile) {}

  /**
   * Opens the -w file. Its link type is chosen from the interfaces selected now
   * (`selected`): Ethernet when all of them are Ethernet-framed, else Linux cooked v2,
   * which tcpdump reads for any mix (native/capture/bad_frame_file.h says why not pcapng).
   * Throws CaptureError EWRITE when the file cannot be made.
   */
  static open(w: LiveWriteOptions, selected: Link[]): LiveWriter {
    const raw = selected.some((l) => l.linktype !== null && l.linktype !== LINKTYPE_ETHERNET);
    try {
      return new LiveWriter(
        openBadFrameFile({ path: w.path, linktype: raw ? LINKTYPE_LINUX_SLL2 : LINKTYPE_ETHERNET, rotateBytes: w.rotateBytes, rotateCount: w.rotateCount }),
      );
    } catch (err) {
      throw new CaptureError(`-w: ${(err as Error).message}`, 'EWRITE');
    }
  }

  /** Statistics; final once every capture thread has stopped. */
  stats(): BadFrameFileStats {
    return this.file.stats();
  }

  /**
   * A warning for write errors since the last look, or null: the first of each run of
   * errors (`said` holds the messages already given; capture goes on either way).
   */
  check(said: Set<string>): string | null {
    const s = this.file.stats();
    if (s.errors === this.errors) return null;
    const fresh = s.errors - this.errors;
    this.errors = s.errors;
    if (said.has(s.lastError)) return null;
    said.add(s.lastError);
    return `-w: ${s.lastError}${fresh > 1 ? ` (${fresh} errors)` : ''}; capture goes on, ${s.notWritten} frames not written so far`;
  }

  close(): void {
    this.file.close();
  }
}
