// \summary: Typed view of the native pcap/pcapng reader and writer (tests and tools).
/**
 * One call per frame with the frame copied into a Buffer: meant for tests and small
 * tools. The analyzer reads capture files in C++ and does not come through here.
 */
import { loadAddon } from './addon.js';
import type { FileInterface } from '../model/interface.js';

export type CaptureFormat = 'pcap' | 'pcapng';


export interface CaptureFrame {
  status: 'frame';
  /** A copy of the captured bytes. */
  data: Buffer;
  caplen: number;
  /** Original length on the wire. */
  wirelen: number;
  /** Nanoseconds since the epoch (0 for pcapng Simple Packet Blocks). */
  tsNs: bigint;
  /** Index into interfaces(), global across pcapng sections. */
  iface: number;
  /** 1-based, as tcpdump and tshark count. */
  number: number;
  /** Byte offset of the record or block in the file. */
  offset: number;
}

export type CaptureEnd =
  | { status: 'eof' }
  /** The file ends inside a record; every frame before it was returned. */
  | { status: 'truncated'; warning: string }
  /** Corrupt or unsupported content; the message names the byte offset. */
  | { status: 'error'; error: string };

export type CaptureRead = CaptureFrame | CaptureEnd;

export interface DrainResult {
  frames: number;
  /** Sum of the captured lengths. */
  bytes: number;
  end: CaptureEnd;
}

/** What the writer needs of an interface (FileInterface, src/model/interface.ts): its
 * link type; name and description are empty when absent, snaplen defaults to 262144. */
export type WriterInterface = Pick<FileInterface, 'linktype'> & Partial<Pick<FileInterface, 'name' | 'description' | 'snaplen'>>;

// Shapes of the native classes (native/napi/capture_file_napi.cc).
interface NativeReader {
  readonly format: string;
  readonly bytesRead: number;
  readonly framesRead: number;
  readonly blocksSkipped: number;
  interfaces(): FileInterface[];
  next(): CaptureRead;
  drain(): DrainResult;
  close(): void;
}
type NativeReaderClass = new (source: string | number) => NativeReader;

interface NativeWriter {
  readonly framesWritten: number;
  write(iface: number, tsNs: bigint, data: Uint8Array, wirelen?: number): void;
  close(): void;
}
type NativeWriterClass = new (
  path: string,
  format: CaptureFormat,
  interfaces: WriterInterface[],
  overwrite: boolean,
) => NativeWriter;

function nativeClass<T>(name: string): T {
  const value = loadAddon()[name];
  if (typeof value !== 'function') {
    throw new Error(`the native addon has no ${name}; rebuild it (npm run build:native)`);
  }
  return value as T;
}

/** Streaming reader of pcap and pcapng files, pipes included. */
export class CaptureFileReader {
  private readonly native: NativeReader;

  /**
   * Opens a file path, or reads from a file descriptor (duplicated: the caller still
   * owns and closes its own). Throws an Error with the reader's message on failure.
   */
  constructor(source: string | number) {
    const Native = nativeClass<NativeReaderClass>('CaptureFileReader');
    this.native = new Native(source);
  }

  get format(): CaptureFormat {
    return this.native.format === 'pcapng' ? 'pcapng' : 'pcap';
  }

  /** Offset of the next unread byte. */
  get bytesRead(): number {
    return this.native.bytesRead;
  }

  get framesRead(): number {
    return this.native.framesRead;
  }

  /** pcapng blocks that carry no frame and were skipped (statistics, name resolution...). */
  get blocksSkipped(): number {
    return this.native.blocksSkipped;
  }

  /** Interfaces seen so far (pcapng interfaces may appear later in the file). */
  interfaces(): FileInterface[] {
    return this.native.interfaces();
  }

  /** The next frame, or how the file ended (repeated on every later call). */
  next(): CaptureRead {
    return this.native.next();
  }

  /** Reads the remaining frames without copying them out. */
  drain(): DrainResult {
    return this.native.drain();
  }

  /** Iterates over the frames; how the file ended is then in `end`. */
  *frames(): Generator<CaptureFrame, CaptureEnd, undefined> {
    for (;;) {
      const r = this.native.next();
      if (r.status !== 'frame') return r;
      yield r;
    }
  }

  close(): void {
    this.native.close();
  }
}

/** Writes pcap (one interface, nanosecond timestamps) or pcapng (named interfaces). */
export class CaptureFileWriter {
  private readonly native: NativeWriter;

  /**
   * Creates `path` with mode 0600. An existing path is refused unless `overwrite` is
   * set, and even then only a regular file is truncated; a symlink is never followed.
   */
  constructor(path: string, format: CaptureFormat, interfaces: WriterInterface[], overwrite = false) {
    const Native = nativeClass<NativeWriterClass>('CaptureFileWriter');
    this.native = new Native(path, format, interfaces, overwrite);
  }

  get framesWritten(): number {
    return this.native.framesWritten;
  }

  /** One record; `wirelen` defaults to data.length. Throws on failure. */
  write(iface: number, tsNs: bigint, data: Uint8Array, wirelen?: number): void {
    this.native.write(iface, tsNs, data, wirelen);
  }

  close(): void {
    this.native.close();
  }
}

/** Everything in a (small) capture file, for tests and tools. */
export interface CaptureContents {
  format: CaptureFormat;
  interfaces: FileInterface[];
  frames: CaptureFrame[];
  end: CaptureEnd;
  blocksSkipped: number;
}

export function readCaptureFile(source: string | number): CaptureContents {
  const reader = new CaptureFileReader(source);
  try {
    const frames: CaptureFrame[] = [];
    const it = reader.frames();
    let r = it.next();
    while (!r.done) {
      frames.push(r.value);
      r = it.next();
    }
    return {
      format: reader.format,
      interfaces: reader.interfaces(),
      frames,
      end: r.value,
      blocksSkipped: reader.blocksSkipped,
    };
  } finally {
    reader.close();
  }
}
