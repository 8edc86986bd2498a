/**
 * The two-node flannel-style VXLAN lab for csumtop's live-capture tests.
 *
 *   namespace A ("node 1")                         namespace B ("node 2")
 *   flannel.1 10.244.0.0/32 (vxlan 1, 8472)        flannel.1 10.244.1.0/32
 *        |  noudpcsum, local 192.168.189.4              |  pod address 10.244.1.10 on lo:
 *   vla 192.168.189.4/24  <====== veth =======>  vlb 192.168.189.5/24   DNS :53, TCP echo :5000,
 *                                                                         UDP sink :9999
 *
 * Routes, neighbours and forwarding entries are the ones flannel's vxlan backend writes
 * (flannel-io/flannel pkg/backend/vxlan: a /24 route per remote node "via" the remote
 * flannel.1 address, onlink; a permanent neighbour entry for that address with the
 * remote VTEP MAC; a bridge fdb entry MAC -> remote underlay address).
 *
 * The lab (namespaces, devices, servers, injection, fault frames) lives in src/lab/
 * because `csumtop --demo` builds it too; this file re-exports it and adds what only the
 * tests use: csumtop and tcpdump runners, kernel counters, report helpers, offload
 * carriers with a virtio-net header.
 *
 * Everything created is registered for removal: after() hooks call destroy(), and a
 * process 'exit' (and SIGINT/SIGTERM) handler removes whatever is left, so a failed or
 * interrupted run leaves no namespace and no process behind. Names carry the pid.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before } from 'node:test';

import { parseSnmp6, parseSnmpTable, readNetCounterFiles } from '../../src/host/snmp.js';
import type { KernelDropView } from '../../src/model/correlation.js';
import type { BadFrameReport, ChecksumRow, InterfaceReport, ReportDocument } from '../../src/model/report.js';
import type { KindName, LayerName } from '../../src/model/verdict.js';
import { encode, eth, ipv4, udp, vxlan, type CheckRecord, type CsumKnob, type EthNode } from '../fixtures/lib/index.js';
import { FAULT_KINDS, FAULT_SPORT_BASE, wrongValue, type FaultKind } from '../../src/lab/faults.js';
import { HELPER, Lab, nsSh, track, which } from '../../src/lab/lab.js';
import { FLANNEL_PORT, FLANNEL_VNI, OVERLAY_A, POD_B, SINK_PORT, UNDERLAY_A, UNDERLAY_B, type LabMacs } from '../../src/lab/topology.js';

/** Repository root: dist/test/lab -> ../../.. */
export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const BIN = path.join(ROOT, 'bin', 'csumtop');

// The lab itself (topology, namespaces, servers, injection, fault frames) is shipped code
// since `csumtop --demo` builds it too; this file re-exports it unchanged for the tests
// and keeps what only tests need (runners, counters, assertions helpers).
export {
  DNS_PORT,
  FLANNEL_PORT,
  FLANNEL_VNI,
  OVERLAY_A,
  OVERLAY_B,
  POD_B,
  SINK_PORT,
  TCP_PORT,
  UNDERLAY_A,
  UNDERLAY_B,
  type LabMacs,
} from '../../src/lab/topology.js';
export {
  HELPER,
  Lab,
  cleanupAll,
  createNamespace,
  linkMac,
  nsSh,
  onCleanup,
  runAsync,
  sh,
  track,
  uniqueNs,
  which,
  type DnsResult,
  type ServerEvent,
  type TcpResult,
} from '../../src/lab/lab.js';
export { FAULT_KINDS, FAULT_SPORT_BASE, faultFrame, wrongValue, type FaultKind } from '../../src/lab/faults.js';

/** Sends every frame from a raw socket on its device inside `ns`, in one helper process. */
export function injectMany(ns: string, frames: Array<{ dev: string; frame: Uint8Array }>): void {
  const input = frames.map((f) => `${f.dev} ${Buffer.from(f.frame).toString('hex')}`).join('\n') + '\n';
  const r = JSON.parse(nsSh(ns, ['python3', HELPER, 'inject-many'], input)) as { sent: number };
  if (r.sent !== frames.length) throw new Error(`raw sockets sent ${r.sent} of ${frames.length} frames`);
}

/** Which fault a frame's source port says it carries (src/lab/faults.ts FAULT_SPORT_BASE: 1000 ports each). */
export function faultKindOfSport(sport: number | null | undefined): FaultKind | null {
  if (sport === null || sport === undefined) return null;
  for (const k of FAULT_KINDS) if (sport >= FAULT_SPORT_BASE[k] && sport < FAULT_SPORT_BASE[k] + 1000) return k;
  return null;
}

/**
 * Why the lab cannot run here, or null. Tests call this first and FAIL with the answer
 * (never skip): a lab that did not run must not look like a passing one.
 */
export function labProblem(extraTools: string[] = []): string | null {
  const problems: string[] = [];
  if (typeof process.getuid === 'function' && process.getuid() !== 0) problems.push('the lab needs root (network namespaces, veth, raw sockets)');
  for (const t of ['ip', 'bridge', 'python3', ...extraTools]) if (!which(t)) problems.push(`${t} is not installed`);
  if (!fs.existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'main.js'))) problems.push('the CLI is not built (npx tsc -p .)');
  if (!fs.existsSync(path.join(ROOT, 'build', 'Release', 'csumtop.node')) && !fs.existsSync(path.join(ROOT, 'build', 'Debug', 'csumtop.node'))) {
    problems.push('the native addon is not built (npm run build:native)');
  }
  return problems.length > 0 ? `the namespace lab cannot run on this machine: ${problems.join('; ')}` : null;
}

/** /proc/net/snmp (+ /proc/net/netstat, /proc/net/snmp6) of one namespace: section -> field -> value. */
export type Snmp = Record<string, Record<string, number>>;

// ------------------------------------------------------------------ kernel counters

/**
 * The kernel's protocol counters inside namespace `ns`: {Ip:{InHdrErrors..},
 * Udp:{InErrors, InCsumErrors..}, Tcp:{InErrs, InCsumErrors..}, IpExt:{InCsumErrors..},
 * Udp6:{InCsumErrors..}, ...}. /proc/net is per network namespace; the files are read by
 * csumtop's own reader (src/host/snmp.ts, a native thread inside the namespace) and
 * parsers, so the lab also exercises them.
 */
export function snmp(ns: string): Snmp {
  const files = readNetCounterFiles(ns);
  const out: Snmp = {};
  for (const text of [files.snmp, files.netstat]) {
    if (text === null) continue;
    for (const [section, rec] of Object.entries(parseSnmpTable(text))) out[section] = { ...(out[section] ?? {}), ...rec };
  }
  // snmp6 names carry their section as a prefix: "Udp6InCsumErrors" -> Udp6.InCsumErrors.
  for (const [name, value] of Object.entries(files.snmp6 === null ? {} : parseSnmp6(files.snmp6))) {
    const m = /^(Ip6|Icmp6|UdpLite6|Udp6)(\w+)$/.exec(name);
    if (m) (out[m[1]] ??= {})[m[2]] = value;
  }
  return out;
}

/** after - before for one counter. */
export function delta(before: Snmp, after: Snmp, section: string, field: string): number {
  const a = after[section]?.[field];
  const b = before[section]?.[field];
  if (a === undefined || b === undefined) throw new Error(`no counter ${section} ${field} in /proc/net/snmp`);
  return a - b;
}

function findCheck(checks: CheckRecord[], depth: number, kind: KindName): CheckRecord {
  const c = checks.find((r) => r.depth === depth && r.kind === kind);
  if (!c) throw new Error(`builder wrote no ${kind} checksum at depth ${depth}`);
  return c;
}

/** struct virtio_net_hdr (include/uapi/linux/virtio_net.h), little-endian as on x86. */
export function virtioNetHdr(o: { needsCsum: boolean; csumStart: number; csumOffset: number }): Uint8Array {
  const h = Buffer.alloc(10);
  h[0] = o.needsCsum ? 1 : 0; // VIRTIO_NET_HDR_F_NEEDS_CSUM
  h[1] = 0; // VIRTIO_NET_HDR_GSO_NONE
  h.writeUInt16LE(0, 2); // hdr_len
  h.writeUInt16LE(0, 4); // gso_size
  h.writeUInt16LE(o.csumStart, 6);
  h.writeUInt16LE(o.csumOffset, 8);
  return h;
}

/**
 * A carrier as A's stack would hand it to vla with local checksum offload: the inner UDP
 * checksum not computed yet (the field holds the pseudo-header sum, CHECKSUM_PARTIAL
 * with csum_start at the inner UDP header), the outer UDP checksum either right for the
 * packet once the inner one is filled in (`outerRight`) or wrong for it.
 */
export function partialCarrier(
  macs: LabMacs,
  i: number,
  outerRight: boolean,
): { vnet: Uint8Array; frame: Uint8Array; outerFound: number; outerExpected: number } {
  const build = (inner: CsumKnob | undefined, outer: CsumKnob | undefined): EthNode => {
    const innerFrame = eth(
      ipv4(OVERLAY_A, POD_B, udp(48000 + i, SINK_PORT, Buffer.from(`partial-${outerRight ? 'ok' : 'bad'}-${i}`), inner), { id: 0x4000 + i }),
      {
        src: macs.flannelA,
        dst: macs.flannelB,
      },
    );
    return eth(ipv4(UNDERLAY_A, UNDERLAY_B, udp(49000 + i, FLANNEL_PORT, vxlan(FLANNEL_VNI, innerFrame), outer), { id: 0x5000 + i, df: false }), {
      src: macs.vla,
      dst: macs.vlb,
    });
  };
  // The outer checksum of the completed packet (inner checksum filled in).
  const completed = encode(build(undefined, undefined));
  const outerExpected = findCheck(completed.checks, 0, 'udp').expected;
  const outerFound = outerRight ? outerExpected : wrongValue(outerExpected, 0xffff);
  const enc = encode(build('pseudo', outerFound));
  // headerStart of a transport record is where its header starts in the frame.
  const csumStart = findCheck(enc.checks, 1, 'udp').headerStart;
  return { vnet: virtioNetHdr({ needsCsum: true, csumStart, csumOffset: 6 }), frame: enc.bytes, outerFound, outerExpected };
}

// ------------------------------------------------------------------ csumtop

/** One parsed JSON line of `csumtop --json` (only the fields the tests read are typed). */
export interface JsonLine {
  type: 'interface' | 'stats' | 'bad' | 'warning' | 'report' | 'finding' | 'correlation';
  [k: string]: unknown;
}

export interface CsumtopExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  lines: JsonLine[];
  report: ReportDocument | null;
}

/**
 * A running `csumtop`. Spawned as `bin/csumtop ...` (or under `wrap`, e.g. capsh),
 * so `pid` is csumtop's own process when there is no wrapper.
 */
export class Csumtop {
  readonly child: ChildProcess;
  readonly lines: JsonLine[] = [];
  /** Arrival time (Date.now()) of each line, same index as lines. */
  readonly arrived: number[] = [];
  stdout = '';
  stderr = '';
  /** Date.now() when the process exited (its output may still be arriving), null before. */
  exitedAt: number | null = null;
  readonly done: Promise<CsumtopExit>;
  private waiters: Array<() => void> = [];

  constructor(args: string[], opts: { wrap?: string[]; cwd?: string } = {}) {
    const argv = [BIN, ...args]; // bin/csumtop is a sh launcher (see its comment)
    const [cmd, ...rest] = opts.wrap ? [...opts.wrap, ...argv] : argv;
    this.child = track(spawn(cmd, rest, { stdio: ['ignore', 'pipe', 'pipe'], cwd: opts.cwd ?? ROOT }));
    // The line being received, in pieces: a --json report of 65,536 flows is one line of
    // tens of MB, and appending to one string and searching it from its start on every
    // 64 KB chunk took seconds (quadratic), long enough for csumtop's stop bound to see a
    // reader that stopped reading.
    let partial: string[] = [];
    this.child.stdout!.setEncoding('utf8'); // a character cut between two chunks is decoded whole
    this.child.stdout!.on('data', (s: string) => {
      this.stdout += s;
      let from = 0;
      let nl;
      while ((nl = s.indexOf('\n', from)) >= 0) {
        partial.push(s.slice(from, nl));
        const line = partial.join('');
        partial = [];
        from = nl + 1;
        if (line.startsWith('{')) {
          try {
            this.lines.push(JSON.parse(line) as JsonLine);
            this.arrived.push(Date.now());
          } catch {
            // a text report line that starts with '{' is not ours to parse
          }
        }
      }
      if (from < s.length) partial.push(s.slice(from));
      this.wake();
    });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
      this.wake();
    });
    this.done = new Promise((resolve) => {
      // 'exit' can come before the last chunks of standard output are read (a report of
      // tens of MB): resolve on 'close', or 2 s after 'exit' if something csumtop started
      // still holds the pipe open.
      let ended = false;
      const end = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (ended) return;
        ended = true;
        this.wake();
        const reportLine = this.lines.find((l) => l.type === 'report');
        resolve({
          code,
          signal,
          stdout: this.stdout,
          stderr: this.stderr,
          lines: this.lines,
          report: reportLine ? (reportLine as unknown as ReportDocument) : null,
        });
      };
      let late: NodeJS.Timeout | null = null;
      this.child.once('close', (code, signal) => {
        if (late) clearTimeout(late);
        end(code, signal);
      });
      this.child.once('exit', (code, signal) => {
        this.exitedAt = Date.now();
        this.wake();
        late = setTimeout(() => end(code, signal), 2000);
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Exit status, null while running. */
  get code(): number | null {
    return this.child.exitCode;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves with the first line matching `pred` (searching from `from`), or null after timeoutMs or at exit. */
  async waitFor(pred: (l: JsonLine) => boolean, timeoutMs: number, from = 0): Promise<JsonLine | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (let k = from; k < this.lines.length; k++) if (pred(this.lines[k])) return this.lines[k];
      const left = deadline - Date.now();
      if (left <= 0 || !this.running) return null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits until `names` (interface names) all have an 'attached' line; returns the missing ones. */
  async waitAttached(names: string[], timeoutMs = 1000, from = 0): Promise<string[]> {
    const missing = (): string[] =>
      names.filter((n) => !this.lines.slice(from).some((l) => l.type === 'interface' && l.event === 'attached' && l.interface === n));
    const deadline = Date.now() + timeoutMs;
    while (missing().length > 0 && Date.now() < deadline && this.running) {
      await this.waitFor(() => missing().length === 0, deadline - Date.now(), from);
    }
    return missing();
  }

  /** Stops a live capture the way an operator would (Ctrl-C) and waits for its report. */
  async stop(): Promise<CsumtopExit> {
    if (this.running) this.child.kill('SIGINT');
    return this.done;
  }
}

/** Message for assertions: what csumtop said, shortened. */
export function describeRun(r: { code: number | null; stderr: string; stdout: string }): string {
  return `exit ${r.code}; stderr: ${r.stderr.trim().slice(0, 600) || '(empty)'}; stdout: ${r.stdout.slice(0, 400)}`;
}

// ------------------------------------------------------------------ tcpdump

/** tcpdump -vv -nn on one interface of a namespace, until stop(). */
export class Tcpdump {
  private readonly child: ChildProcess;
  output = '';
  private errText = '';
  readonly ready: Promise<void>;
  private readonly exited: Promise<void>;

  constructor(ns: string, dev: string) {
    this.child = track(spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-i', dev, '-vv', '-nn', '-l', '-Z', 'root'], { stdio: ['ignore', 'pipe', 'pipe'] }));
    this.child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`tcpdump on ${ns}/${dev} did not start: ${this.errText}`)), 5000);
      this.child.stderr!.on('data', (d: Buffer) => {
        this.errText += d.toString();
        if (/listening on/.test(this.errText)) {
          clearTimeout(timer);
          resolve();
        }
      });
      this.child.once('exit', () => {
        clearTimeout(timer);
        reject(new Error(`tcpdump on ${ns}/${dev} exited: ${this.errText}`));
      });
    });
  }

  async stop(): Promise<string> {
    if (this.child.exitCode === null && this.child.pid !== undefined) process.kill(this.child.pid, 'SIGINT');
    await this.exited;
    return this.output;
  }
}

// ------------------------------------------------------------------ report helpers

export function iface(report: ReportDocument, name: string): InterfaceReport {
  const i = report.interfaces.find((x) => x.name === name);
  if (!i) throw new Error(`no interface ${name} in the report (have: ${report.interfaces.map((x) => x.name).join(', ')})`);
  return i;
}

const ZERO_ROW = { packets: 0, ok: 0, bad: 0, absent: 0, unverifiable: 0, pending: 0, validated: 0, badPercent: 0 };

/** The checksum row of (layer, protocol), all zero when the interface never saw one. */
export function row(i: { checksums: ChecksumRow[] }, layer: LayerName, protocol: KindName): ChecksumRow {
  return i.checksums.find((r) => r.layer === layer && r.protocol === protocol) ?? { layer, protocol, ...ZERO_ROW };
}

export function sumRows(i: { checksums: ChecksumRow[] }, field: 'bad' | 'pending' | 'validated' | 'ok' | 'absent' | 'packets'): number {
  return i.checksums.reduce((s, r) => s + r[field], 0);
}

/** A compact table of an interface's rows for assertion messages. */
export function rowsText(i: { checksums: ChecksumRow[] }): string {
  return i.checksums
    .map(
      (r) =>
        `${r.layer}/${r.protocol}: n=${r.packets} ok=${r.ok} bad=${r.bad} absent=${r.absent} pending=${r.pending} validated=${r.validated} unverifiable=${r.unverifiable}`,
    )
    .join('; ');
}

// ------------------------------------------------------------------ kernel drop verdicts (issue 18)

/** The kernelDrops of csumtop's newest correlation line. */
export function lastKernelDrops(ct: Csumtop): KernelDropView | undefined {
  return ct.lines.filter((l) => l.type === 'correlation').at(-1)?.kernelDrops as KernelDropView | undefined;
}

/**
 * Waits until csumtop's eBPF program is attached: it loads on a thread while capture
 * starts (up to a second), and only drops after that are the kernel's verdicts.
 */
export async function kernelVerdictsOn(ct: Csumtop, timeoutMs = 8000): Promise<void> {
  const on = await ct.waitFor((l) => l.type === 'correlation' && l.kernelDrops !== undefined, timeoutMs);
  assert.ok(on, `the kernel drop verdicts never came on: ${describeRun(ct)}`);
}

/** One row of the kernel's verdicts as the tests compare it: outcomes that are not zero only. */
export interface VerdictRow {
  total: number;
  outcomes: Record<string, number>;
  pending: number;
}

/** The kernel's verdicts on `ns`, by "device reason peer". */
export function kernelVerdicts(v: KernelDropView | undefined, ns: string): Record<string, VerdictRow> {
  const out: Record<string, VerdictRow> = {};
  for (const d of (v?.drops ?? []).filter((x) => x.namespace === ns)) {
    const outcomes = Object.fromEntries(Object.entries(d.outcomes).filter(([, n]) => n > 0));
    out[`${d.device} ${d.reason} ${d.peer}`] = { total: d.total, outcomes, pending: d.pending };
  }
  return out;
}

/** The kernel's drops in `ns` for `reason`, all devices and peers. */
export function verdictSum(v: KernelDropView | undefined, ns: string, reason: string): number {
  return (v?.drops ?? []).filter((d) => d.namespace === ns && d.reason === reason).reduce((s, d) => s + d.total, 0);
}

/** Waits until csumtop counted at least `n` kernel drops in `ns` and none waits for its frame. */
export async function kernelDropsResolved(ct: Csumtop, ns: string, n: number, timeoutMs = 8000): Promise<KernelDropView | undefined> {
  const done = (): boolean => {
    const rows = Object.values(kernelVerdicts(lastKernelDrops(ct), ns));
    return rows.reduce((s, r) => s + r.total, 0) >= n && rows.every((r) => r.pending === 0);
  };
  await ct.waitFor(done, timeoutMs);
  return lastKernelDrops(ct);
}

/**
 * The kernel as referee: in `ns` it dropped exactly `expected` packets per "device reason
 * peer" and nothing else, each one matched to a frame csumtop captured on that device and
 * found bad (seenBad); the frame each row names is one of csumtop's bad lines on that device.
 */
export function assertAllSeenBad(v: KernelDropView | undefined, ns: string, expected: Record<string, number>, lines: JsonLine[]): void {
  const want = Object.fromEntries(Object.entries(expected).map(([k, n]) => [k, { total: n, outcomes: { seenBad: n }, pending: 0 }]));
  assert.deepEqual(kernelVerdicts(v, ns), want, `the kernel's drop verdicts in ${ns}`);
  const bad = lines.filter((l) => l.type === 'bad') as unknown as BadFrameReport[];
  for (const d of (v?.drops ?? []).filter((x) => x.namespace === ns)) {
    const line = bad.find((b) => b.frame === d.frame);
    assert.ok(line, `${d.device} ${d.reason}: frame ${d.frame} is not a bad line`);
    assert.equal(line.interface, `${ns}/${d.device}`, `${d.device} ${d.reason}: frame ${d.frame}`);
  }
}

export { sleep, until, within } from '../lib/wait.js';

/** Open file descriptors of a process. */
export function fdCount(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/** Uid/Gid/CapEff lines of every thread of a process. */
export function threadCredentials(pid: number): Array<{ tid: string; uid: number[]; gid: number[]; capEff: string }> {
  const out: Array<{ tid: string; uid: number[]; gid: number[]; capEff: string }> = [];
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    let status: string;
    try {
      status = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
    } catch {
      continue; // a short-lived thread that ended meanwhile
    }
    const field = (name: string): string => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1] ?? '';
    out.push({
      tid,
      uid: field('Uid').split(/\s+/).map(Number),
      gid: field('Gid').split(/\s+/).map(Number),
      capEff: field('CapEff'),
    });
  }
  return out;
}

/**
 * One lab for a whole test file: built in before(), removed in after(). Returns the
 * accessor each test calls; it fails the test with the reason when the lab could not
 * be built on this machine (never a silent pass). Options: `tools` the file needs
 * besides the lab's own (trafgen ...), `servers` (default true: the lab's UDP/DNS
 * servers), `prepare` run once the lab exists, `tmpDir` a prefix for a private
 * temporary directory removed with the lab (the accessor's `dir()`).
 */
export function sharedLab(o: { tools?: string[]; servers?: boolean; prepare?: (lab: Lab) => void; tmpDir?: string } = {}): (() => Lab) & { dir: () => string } {
  const problem = labProblem(o.tools ?? []);
  let lab: Lab | null = null;
  let dir = '';
  let setupError: Error | null = null;
  before(async () => {
    if (problem) return;
    try {
      lab = Lab.create();
      if (o.servers ?? true) await lab.startServers();
      o.prepare?.(lab);
      if (o.tmpDir) dir = fs.mkdtempSync(path.join(os.tmpdir(), o.tmpDir));
    } catch (err) {
      setupError = err as Error;
    }
  });
  after(() => {
    lab?.destroy();
    lab = null;
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  const get = (): Lab => {
    if (problem) assert.fail(problem);
    if (setupError) assert.fail(`the lab could not be built: ${setupError.message}`);
    return lab!;
  };
  return Object.assign(get, {
    dir: (): string => {
      get();
      return dir;
    },
  });
}

/** The final report of a csumtop run, or a failure describing the run. */
export function reportOf(r: { report: ReportDocument | null; code: number | null; stderr: string; stdout: string }): ReportDocument {
  assert.ok(r.report, `csumtop printed no report: ${describeRun(r)}`);
  return r.report;
}
