/**
 * The `--json` line stream of live capture: one JSON object per line, each with a
 * `type` and the schema `version`, so it pipes into jq. Types:
 *   stats     one per interface per interval: cumulative counts and per-second rates
 *   bad       one per frame with a bad checksum (BadFrameReport fields)
 *   interface an interface attached or detached
 *   warning   something the operator should know (capture loss, an interface that
 *             could not be attached)
 *   finding   a finding raised (all Finding fields) or cleared (id and key)
 *   correlation one per interval: carriers per peer (underlay vs overlay), DNS and
 *             TCP SYN symptoms, the kernel's checksum counters and, when on,
 *             its drop verdicts (kernelDrops)
 *   report    the final ReportDocument (with --duration, or on SIGINT/SIGTERM)
 */
import type { CorrelationSnapshot } from '../model/correlation.js';
import type { Finding } from '../model/findings.js';
import type { InterfaceFacts } from '../model/interface.js';
import type { BadFrameReport, ChecksumRow, ReportDocument } from '../model/report.js';

export const JSON_LINES_VERSION = 1;

/** The interface a stats or interface line is about: its device name (InterfaceFacts.name,
 * src/model/interface.ts), namespace and kind. */
type LineInterface = { interface: string } & Pick<InterfaceFacts, 'namespace' | 'kind'>;

export interface StatsLine extends LineInterface {
  type: 'stats';
  version: number;
  time: string;
  attached: boolean;
  /** Administratively down: attached, nothing arrives until it is up again. */
  down: boolean;
  frames: number;
  outgoing: number;
  badFrames: number;
  malformed: number;
  captureDrops: number;
  rates: { framesPerSecond: number; badFramesPerSecond: number; pendingPerSecond: number; validatedPerSecond: number };
  checksums: ChecksumRow[];
}

export type JsonLine =
  | StatsLine
  | ({ type: 'bad'; version: number } & BadFrameReport)
  | ({
      type: 'interface';
      version: number;
      time: string;
      event: 'attached' | 'detached';
      reason?: string;
    } & LineInterface)
  | { type: 'warning'; version: number; time: string; message: string }
  | ({ type: 'finding'; version: number; time: string; event: 'raised' | 'fixed' | 'quiet' } & Finding)
  | { type: 'finding'; version: number; time: string; event: 'cleared'; id: Finding['id']; key: string }
  | ({ type: 'correlation'; version: number; time: string } & Pick<
      CorrelationSnapshot,
      'peers' | 'dns' | 'syn' | 'kernel' | 'kernelDrops' | 'flowsEvicted' | 'eventsDropped' | 'overlayUnattributed' | 'tables'
    >)
  | ({ type: 'report' } & ReportDocument);

export function jsonLine(line: JsonLine): string {
  return jsonText(line) + '\n';
}

/**
 * JSON.stringify, with DEL and the C1 controls (U+007F-U+009F) and the two line
 * separators (U+2028, U+2029) escaped as \uXXXX: JSON allows them raw (RFC 8259 7 escapes
 * only U+0000-U+001F), but a terminal showing `csumtop --json` takes U+009B for CSI and
 * acts on what follows, and interface and DNS names come from the traffic and the host
 * (issue 17). Outside strings JSON has none of these characters, so escaping every one
 * is safe; JSON.parse gives the same values back.
 */
export function jsonText(value: unknown, indent?: number): string {
  const text = JSON.stringify(value, null, indent);
  // Tested first: a line per bad frame, and almost none has such a character.
  return UNSAFE_TEST.test(text) ? text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : text;
}

const UNSAFE_TEST = /[\u007f-\u009f\u2028\u2029]/;
const UNSAFE = /[\u007f-\u009f\u2028\u2029]/g;
