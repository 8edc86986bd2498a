/**
 * What every live capture source offers the rest of the tool (docs/design.md,
 * principle 3): batches, warnings, the interfaces it captures on, and the bad-flow
 * table once stopped. The AF_PACKET engine and the libpcap fallback both implement it.
 */
import type { Observable } from 'rxjs';

import { interfaceRole, type Link } from '../host/links.js';
import { interfaceLabel, type InterfaceFacts } from '../model/interface.js';
import type { UncapturedLink } from '../diagnose/input.js';
import type { NativeFlow } from '../native/analyzer.js';
import type { EventBatch } from '../native/events.js';
import type { PackedRecords } from '../native/records.js';

/** A network namespace to capture in: the host's (path null) or another one. */
export interface NamespaceSpec {
  /** How it is shown: "host", the netns name, or "pid:1234". */
  label: string;
  /** File for setns(2); null for the namespace csumtop runs in. */
  path: string | null;
}

/**
 * A live interface: its facts (src/model/interface.ts), made once by capturedInterfaceOf
 * when csumtop attaches, and how capturing on it stands (which changes as it runs).
 */
export interface CapturedInterface extends InterfaceFacts {
  /** Its ifindex in its namespace (a kernel drop verdict names the device by it). */
  ifindex: number;
  /** How its frames are captured: Link.linktype (1 Ethernet, 101 raw IP, null not decoded). */
  linktype: number | null;
  attached: boolean;
  /** Why it was detached, when it was. */
  detachReason: string | null;
  /** Administratively down (IFF_UP clear): still attached, nothing arrives until it is up. */
  down: boolean;
  /** Only on the row older vanished interfaces are folded into: how many (src/capture/vanished.ts). */
  folded?: number;
}

export interface SourceBatch {
  /** Which capture thread cut it (--threads): counters are cumulative per engine. */
  engine: number;
  seq: number;
  monoNs: bigint;
  ids: Uint32Array;
  /** ids.length * counterStride, cumulative per interface. */
  counters: Float64Array;
  /** ids.length * 3: ring packets, drops, freezes (cumulative); zeros when unknown. */
  ring: Float64Array;
  /** Bad-frame records, packed (what --list keeps is `records.buf`). */
  records: PackedRecords;
  recordsDropped: number;
  /** Correlation events of this batch (carriers, overlay packets, DNS, SYN). */
  events: EventBatch;
  /** Wall-clock time the batch was taken (ns since the epoch; capture time for files). */
  wallNs: number;
  /** The engine's native bad-flow table: flows kept, and bad frames of flows not kept
   * because it was full (cumulative); absent when the source does not say. */
  badFlowTable?: { kept: number; evicted: number };
  /**
   * Vanished interfaces folded into one row with this batch (src/capture/vanished.ts):
   * their counters move to `into` (after this batch's own counters are applied), and
   * nothing is kept by their ids any more.
   */
  folded?: { ids: number[]; interfaces: CapturedInterface[]; into: number };
}

export interface SourceCapabilities {
  /** "afpacket" or "libpcap". */
  backend: string;
  /** The kernel's per-frame checksum status is known (pending/validated are facts). */
  kernelChecksumStatus: boolean;
  /** Offload is guessed from checksum values (libpcap): every output must say so. */
  guessesOffload: boolean;
}

export interface CaptureSource {
  readonly batches$: Observable<SourceBatch>;
  readonly warnings$: Observable<string>;
  readonly capabilities: SourceCapabilities;
  start(): void;
  stop(): Promise<SourceBatch | null>;
  /** After stop(): the bad flows, most frequent first; at most `limit` of them (absent: all). */
  flows(limit?: number): NativeFlow[];
  interfaces(): CapturedInterface[];
  complete(): void;
  /** Stops attaching new interfaces (privileges dropped); attached ones go on. */
  freeze(reason: string): void;
  /** Links of the captured namespaces that are up and not captured (loopback aside), when the source lists links itself. */
  uncaptured?(): UncapturedLink[];
}

export class CaptureError extends Error {
  constructor(
    message: string,
    readonly code: 'EPERM' | 'ENOIFACE' | 'ECAPTURE' | 'EFILTER' | 'EBACKEND' | 'EWRITE' | 'ERINGCAP',
  ) {
    super(message);
  }
}

/** The description of a link about to be captured on (not yet attached). */
export function capturedInterfaceOf(link: Link, id: number, namespace: string): CapturedInterface {
  return {
    id,
    name: link.name,
    namespace,
    label: interfaceLabel(namespace, link.name),
    ifindex: link.ifindex,
    linktype: link.linktype,
    kind: link.kind,
    role: interfaceRole(link),
    driver: link.driver,
    txChecksumOffload: txChecksumOffload(link),
    vxlan: link.vxlan ?? null,
    attached: false,
    detachReason: null,
    down: !link.up,
  };
}

/** tx-checksum-* features of a link: is transmit checksum offload on (null: unknown)? */
export function txChecksumOffload(link: Link): boolean | null {
  const f = link.features;
  const names = ['tx-checksum-ip-generic', 'tx-checksum-ipv4', 'tx-checksum-ipv6', 'tx-checksum-hw-ip'];
  const known = names.filter((n) => n in f);
  if (known.length === 0) return null;
  return known.some((n) => f[n]);
}
