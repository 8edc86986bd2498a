/**
 * The report of `csumtop -r FILE` (and, later, of `--duration N`). `--json` prints one
 * ReportDocument; the text report renders the same object. Bump REPORT_VERSION on any
 * incompatible change.
 */
import type { BadChecksum, BadFrameFlow, DecodedRecord, Direction } from './bad-frame.js';
import type { Blindness } from './blind.js';
import type { CorrelationSnapshot } from './correlation.js';
import type { Endpoint } from './endpoint.js';
import type { Finding } from './findings.js';
import type { InterfaceFacts, VxlanParams } from './interface.js';
import type { KindName, LayerName, MalformedReason, TunnelName, UndecodedReason } from './verdict.js';

/** Kept here for src/ui, which imports them from this file (issue 19's branch edits src/ui); new code imports ./endpoint.js and ./bad-frame.js. */
export type { BadChecksum, Endpoint };

/** The parts of a CorrelationSnapshot a report carries (rates and bad flows are live views). */
export type ReportCorrelation = Pick<
  CorrelationSnapshot,
  'peers' | 'flows' | 'flowsEvicted' | 'eventsDropped' | 'overlayUnattributed' | 'dns' | 'syn' | 'kernel' | 'kernelDrops' | 'tables'
>;

export const REPORT_VERSION = 1;

/** Counts of one checksum kind at one layer on one interface. */
export interface ChecksumRow {
  layer: LayerName;
  protocol: KindName;
  /** Packets carrying this checksum (sum of all statuses). */
  packets: number;
  ok: number;
  bad: number;
  /** bad / packets * 100, rounded to 3 decimals; 0 when packets is 0. */
  badPercent: number;
  absent: number;
  unverifiable: number;
  pending: number;
  validated: number;
}

/**
 * One interface's counts. Live capture adds where and what the interface is (its facts,
 * src/model/interface.ts: namespace, kind, role, driver, txChecksumOffload) and how its
 * capture stood at the end.
 */
export interface InterfaceReport extends Partial<Pick<InterfaceFacts, 'namespace' | 'kind' | 'role' | 'driver' | 'txChecksumOffload'>> {
  /** pcapng if_name, else the capture file's base name (with #N when it has several); live, the label. */
  name: string;
  linktype: number;
  frames: number;
  bytes: number;
  /** Frames with at least one bad checksum. */
  badFrames: number;
  malformed: number;
  malformedReasons: Partial<Record<MalformedReason, number>>;
  /** Frames cut short by the snap length before all checksummed bytes. */
  truncated: number;
  /**
   * Frames csumtop could not decode in full, so some or all of their checksums were not
   * verified: a link type it does not decode, MACsec, ... (per reason in unsupportedReasons).
   */
  unsupported: number;
  unsupportedReasons: Partial<Record<Exclude<UndecodedReason, 'none'>, number>>;
  checksums: ChecksumRow[];
  /** Frames this host sent (PACKET_OUTGOING). */
  outgoing?: number;
  /** Frames the kernel dropped because the ring was full (PACKET_STATISTICS). */
  captureDrops?: number;
  /** Still attached at the end (false: the interface vanished; totals are kept). */
  attached?: boolean;
  /**
   * Only on the row older vanished interfaces were folded into (at most MAX_VANISHED are
   * kept one by one, src/capture/vanished.ts): how many; its counters are their sum.
   */
  folded?: number;
  /** A VXLAN device's settings as the kernel reports them (udpCsum null: not reported),
   * its underlay device by name (null: not among the captured interfaces). */
  vxlan?: Pick<VxlanParams, 'vni' | 'port' | 'local' | 'udpCsum'> & { underlay: string | null };
}

export interface FlowReport {
  interface: string;
  outer: Endpoint;
  tunnel: TunnelName;
  vni: number | null;
  inner: Endpoint | null;
  /** Checksums found bad in this flow, e.g. ["outer/udp", "inner/tcp"]. */
  badChecksums: string[];
  count: number;
  /** ISO 8601 with nanoseconds as the capture recorded them. */
  first: string;
  last: string;
  example: Pick<DecodedRecord, 'frame' | 'checksums'>;
}

/** A bad frame (src/model/bad-frame.ts) as the report shows it: its interface by label,
 * its time as text. */
export interface BadFrameReport extends Pick<DecodedRecord, 'frame' | 'caplen' | 'wirelen' | 'checksums'>, BadFrameFlow {
  /** Live: received (to this host), broadcast, multicast, other-host (promiscuous or
   * bridged), sent (by this host, locally generated or forwarded); absent for files. */
  direction?: Direction;
  interface: string;
  time: string;
}

export interface SourceReport {
  kind: 'file' | 'live';
  /** File: the path read. Live: the capture backend ("afpacket"). */
  path: string;
  /** File format; null for live capture. */
  format: 'pcap' | 'pcapng' | null;
  /** Live capture: seconds captured. */
  durationSeconds?: number;
  /** Live capture: frames dropped by the kernel (ring full), all interfaces. */
  captureDrops?: number;
  frames: number;
  bytes: number;
  /** First and last frame timestamps (null when the file holds no frame). */
  first: string | null;
  last: string | null;
  /** True when the file ended in the middle of a record. */
  cutShort: boolean;
  /** -r: reading was stopped by this signal before the end of the file (src/cli/shutdown.ts). */
  interrupted?: string;
  /**
   * -f or trailing filter words: every count covers only the frames the filter accepted.
   * `skipped` (-r only): frames of the file it rejected.
   */
  filter?: { expression: string; skipped?: number };
  /** -c COUNT: `reached` when capture or reading stopped at COUNT frames. */
  count?: { limit: number; reached: boolean };
  warnings: string[];
}

export interface ReportDocument {
  version: number;
  tool: { name: 'csumtop'; version: string; checksumPath: string };
  source: SourceReport;
  totals: {
    frames: number;
    badFrames: number;
    badChecksums: number;
    malformed: number;
    /** Bad checksums whose field equals the pseudo-header sum (likely transmit offload). */
    looksLikeOffload: number;
    /** Frames not verified in full because csumtop cannot decode them (InterfaceReport.unsupported), and why. */
    notVerified: number;
    notVerifiedReasons: Partial<Record<Exclude<UndecodedReason, 'none'>, number>>;
  };
  interfaces: InterfaceReport[];
  flows: FlowReport[];
  /**
   * Only when `flows` holds just the most frequent flows (the text report asks for its
   * top N alone): how many flows there are. Never in --json output, which has them all.
   */
  flowCount?: number;
  /** Flows not kept because the flow table was full (their frames are still counted). */
  flowsEvicted: number;
  /**
   * Present with --list: the frames with bad checksums (at most MAX_LISTED), in the order
   * they came. Written last, from a ListedReports, as the reader takes it.
   */
  badFrames?: BadFrameReport[];
  /** What the diagnosis concluded (issue 4), most severe first. */
  findings?: Finding[];
  /** Live: what csumtop did not see (src/model/blind.ts); the text report says it in its first lines. */
  blind?: Blindness;
  /** Correlation over the whole capture: peers (underlay vs overlay), carrier flows,
   * DNS and TCP SYN symptoms, the kernel's counters. */
  correlation?: ReportCorrelation;
  /**
   * Path of the -w output and how many frames with a bad checksum went there. Live only:
   * contextFrames (--context) were written around them, contextSkipped were left out to
   * keep the file in time order; files counts the files opened (-C rotation);
   * notWritten frames were lost to write errors.
   */
  written?: { path: string; frames: number; contextFrames?: number; contextSkipped?: number; files?: number; notWritten?: number };
}

/**
 * The bad frames a report lists (--list), made into BadFrameReports only while the report
 * is written (src/output/listed-frames.ts holds them packed).
 */
export interface ListedReports {
  count: number;
  reports(): Iterable<BadFrameReport>;
}
