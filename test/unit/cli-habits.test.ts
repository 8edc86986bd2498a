/**
 * tcpdump's command-line habits (issue 16 item 6): a filter given as the words after the
 * options, for -r as for live capture, with libpcap's offline semantics on files (frames
 * the filter rejects are skipped, not counted); -c COUNT. Files are compared with what
 * tcpdump itself reads from the same file with the same arguments.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { parseOptions, UsageError } from '../../src/cli/args.js';
import { interfaceLine } from '../../src/cli/list-interfaces.js';
import { formatVersion } from '../../src/cli/main.js';
import type { Link } from '../../src/host/links.js';
import { printable } from '../../src/output/printable.js';
import type { ReportDocument } from '../../src/model/report.js';
import { encode, eth, ipv4, pcapFile, pcapngFile, udp } from '../fixtures/lib/index.js';
import { BIN, ROOT } from '../fixtures/harness.js';

const INCIDENT = path.join(ROOT, 'examples', 'incident.pcapng');

function csumtop(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(BIN, args, { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function report(args: string[]): { status: number | null; doc: ReportDocument } {
  const r = csumtop([...args, '--json']);
  assert.ok(r.status === 0 || r.status === 1, `${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return { status: r.status, doc: JSON.parse(r.stdout) as ReportDocument };
}

/** tcpdump -r FILE ARGS: the packets it reads (`--count`), or its -tt timestamps. */
function tcpdump(args: string[]): string {
  const r = spawnSync('tcpdump', ['-n', ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `tcpdump ${args.join(' ')}: ${r.stderr}`);
  return r.stdout + r.stderr;
}

function tcpdumpCount(args: string[]): number {
  const m = /^(\d+) packets?/m.exec(tcpdump(['--count', ...args]));
  assert.ok(m, 'tcpdump --count printed a count');
  return Number(m[1]);
}

/** The latest -tt timestamp tcpdump prints, as csumtop's ISO time (nanoseconds). */
function tcpdumpLast(args: string[]): string {
  const times = tcpdump(['-tt', ...args])
    .split('\n')
    .map((l) => /^(\d+)\.(\d+) /.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => new Date(Number(m[1]) * 1000).toISOString().slice(0, 19) + '.' + m[2].padEnd(9, '0') + 'Z');
  assert.ok(times.length > 0);
  return times.sort().at(-1)!;
}

let dir: string;
const T0 = 1_700_000_000_000_000_000n;
const dns = (sport: number, csum?: number): Uint8Array => encode(ipv4('10.0.0.1', '10.0.0.2', udp(sport, 53, Buffer.from('query'), csum))).bytes;
const other = (): Uint8Array => encode(ipv4('10.0.0.1', '10.0.0.2', udp(40000, 9999, Buffer.from('data')))).bytes;

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'csumtop-habits-'));
  // One pcapng with an Ethernet and a raw-IP interface: the filter is compiled for each
  // link type (libpcap's own reader refuses such a file, so no tcpdump comparison).
  const rawRecs = [dns(1000), other(), dns(1001, 0x1234), other()];
  const ethRecs = [eth(ipv4('10.0.0.3', '10.0.0.4', udp(2000, 53, Buffer.from('q')))), eth(ipv4('10.0.0.3', '10.0.0.4', udp(2000, 80, Buffer.from('q'))))].map(
    (n) => encode(n).bytes,
  );
  const recs = [
    { data: ethRecs[0], iface: 0 },
    { data: rawRecs[0], iface: 1 },
    { data: rawRecs[1], iface: 1 },
    { data: ethRecs[1], iface: 0 },
    { data: rawRecs[2], iface: 1 },
    { data: rawRecs[3], iface: 1 },
  ].map((r, k) => ({ ...r, tsNs: T0 + BigInt(k) * 1000n, wirelen: r.data.length }));
  writeFileSync(
    path.join(dir, 'mixed.pcapng'),
    pcapngFile(
      [
        { linktype: 1, name: 'eth0', tsresol: 9 },
        { linktype: 101, name: 'tun0', tsresol: 9 },
      ],
      recs,
    ),
  );
  // A raw-IP pcap: the first frames clean, the fourth with a bad UDP checksum.
  const plain = [other(), other(), other(), dns(1002, 0x1234)].map((data, k) => ({ data, tsNs: T0 + BigInt(k) * 1000n, wirelen: data.length }));
  writeFileSync(path.join(dir, 'raw.pcap'), pcapFile({ linktype: 101 }, plain));
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('trailing words are the filter, joined with spaces, as tcpdump reads them', () => {
  assert.equal(parseOptions(['-i', 'eth0', 'udp', 'port', '8472']).filter, 'udp port 8472');
  assert.equal(parseOptions(['-r', 'f.pcap', 'udp port 53', 'or', 'tcp']).filter, 'udp port 53 or tcp');
  assert.equal(parseOptions(['-i', 'eth0', '-f', 'udp port 8472']).filter, 'udp port 8472');
  assert.equal(parseOptions(['-i', 'eth0']).filter, null);
  // Options after the words still count (node:util parseArgs), as with tcpdump on glibc.
  assert.equal(parseOptions(['udp', '-i', 'eth0']).interfaces?.[0], 'eth0');
  assert.throws(
    () => parseOptions(['-f', 'udp', 'port', '53']),
    (e) => e instanceof UsageError && /a filter is given twice: -f 'udp' and the words 'port 53'/.test(e.message),
  );
});

test('-c COUNT and -D parse; bad values and clashes are usage errors', () => {
  assert.equal(parseOptions(['-c', '10']).count, 10);
  assert.equal(parseOptions(['-r', 'f', '--count', '3']).count, 3);
  assert.equal(parseOptions([]).count, null);
  assert.equal(parseOptions(['-D']).listInterfaces, true);
  assert.equal(parseOptions(['--list-interfaces', '--netns', 'x']).listInterfaces, true);
  for (const [argv, re] of [
    [['-c', '0'], /-c: '0' is not a whole number/],
    [['-c', 'ten'], /-c: 'ten'/],
    [['-c', '-1'], /-c/],
    [['--demo', '-c', '5'], /-c cannot be used with --demo/],
    [['-D', '-r', 'f.pcap'], /-D lists the interfaces of live capture/],
  ] as Array<[string[], RegExp]>) {
    assert.throws(
      () => parseOptions(argv),
      (e) => e instanceof UsageError && re.test(e.message),
      argv.join(' '),
    );
  }
});

test('-r FILE with trailing filter words reads the frames tcpdump -r FILE with the same filter reads', () => {
  for (const expr of ['udp port 53', 'udp port 8472', 'tcp', 'icmp', 'host 10.244.1.17 and udp', 'not udp port 8472']) {
    const words = expr.split(' ');
    const { doc } = report(['-r', INCIDENT, ...words]);
    const expected = tcpdumpCount(['-r', INCIDENT, ...words]);
    assert.equal(doc.source.frames, expected, expr);
    assert.equal(doc.totals.frames, expected, expr);
    // Every frame of the file is either counted or skipped by the filter.
    assert.equal(doc.source.filter?.expression, expr);
    assert.equal(doc.source.filter!.skipped! + expected, tcpdumpCount(['-r', INCIDENT]), expr);
    // -f EXPR is the same run.
    const { doc: withF } = report(['-r', INCIDENT, '-f', expr]);
    assert.deepEqual(withF.totals, doc.totals, expr);
  }
});

test('-r FILE -c N stops at the frame tcpdump -r FILE -c N stops at, with and without a filter', () => {
  const all = tcpdumpCount(['-r', INCIDENT]);
  for (const [n, words] of [
    [10, []],
    [1, []],
    [25, ['tcp', 'or', 'udp', 'port', '53']],
    [7, ['udp', 'port', '53']],
    [all + 5, []],
  ] as Array<[number, string[]]>) {
    const { doc } = report(['-r', INCIDENT, '-c', String(n), ...words]);
    const expected = tcpdumpCount(['-r', INCIDENT, '-c', String(n), ...words]);
    assert.equal(doc.source.frames, expected, `-c ${n} ${words.join(' ')}`);
    assert.equal(doc.source.last, tcpdumpLast(['-r', INCIDENT, '-c', String(n), ...words]), `-c ${n} ${words.join(' ')}`);
    assert.deepEqual(doc.source.count, { limit: n, reached: expected === n });
  }
  // The text report says it stopped there.
  const text = csumtop(['-r', INCIDENT, '-c', '10']);
  assert.match(text.stdout, /^stopped at 10 frames \(-c 10\)$/m);
  assert.doesNotMatch(csumtop(['-r', INCIDENT]).stdout, /stopped at/);
});

test('-c decides the exit status on the frames it read: 0 before the first bad checksum, 1 from it', () => {
  const file = path.join(dir, 'raw.pcap');
  assert.equal(csumtop(['-r', file, '-c', '3']).status, 0);
  assert.equal(csumtop(['-r', file, '-c', '4']).status, 1);
  // The filter too: the bad frame is the only DNS one.
  assert.equal(csumtop(['-r', file, 'not', 'port', '53']).status, 0);
  assert.equal(csumtop(['-r', file, 'port', '53']).status, 1);
});

test('a pcapng file with an Ethernet and a raw-IP interface is filtered per link type', () => {
  const { doc, status } = report(['-r', path.join(dir, 'mixed.pcapng'), 'udp', 'dst', 'port', '53']);
  // Ethernet: the port-53 frame; raw IP: the two port-53 frames (one with a bad checksum).
  assert.equal(doc.source.frames, 3);
  assert.equal(doc.source.filter?.skipped, 3);
  assert.deepEqual(
    doc.interfaces.map((i) => i.frames),
    [1, 2],
  );
  assert.equal(doc.totals.badFrames, 1);
  assert.equal(status, 1);
});

test('a filter libpcap cannot compile is exit 2 with its message, for files as for live capture', () => {
  for (const args of [
    ['-r', INCIDENT, 'udp', 'prot', '53'],
    ['-r', INCIDENT, '-f', 'udp prot 53'],
    ['-i', 'lo', '--duration', '1', 'udp', 'prot', '53'],
  ]) {
    const r = csumtop(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /-f: invalid filter 'udp prot 53': .*syntax error/, args.join(' '));
    assert.equal(r.stdout, '', 'no report: nothing was read');
  }
  // A filter with no meaning on the file's link type (tcpdump: the same message).
  const raw = csumtop(['-r', path.join(dir, 'raw.pcap'), 'ether', 'host', '01:02:03:04:05:06']);
  assert.equal(raw.status, 2, raw.stderr);
  assert.match(raw.stderr, /-f: invalid filter 'ether host 01:02:03:04:05:06': .*(link layer|not supported|supported only)/);
  // A file with no frame: the filter is still checked, for the link type it declares.
  const empty = path.join(dir, 'empty-raw.pcap');
  writeFileSync(empty, pcapFile({ linktype: 101 }, []));
  const emptyBad = csumtop(['-r', empty, 'udp', 'prot', '53']);
  assert.equal(emptyBad.status, 2, emptyBad.stderr);
  assert.match(emptyBad.stderr, /-f: invalid filter 'udp prot 53'/);
  assert.equal(csumtop(['-r', empty, 'ether', 'host', '01:02:03:04:05:06']).status, 2);
  assert.equal(csumtop(['-r', empty, 'udp', 'port', '53']).status, 0);
  // Both -f and words: a usage error before anything is read.
  const both = csumtop(['-r', INCIDENT, '-f', 'udp', 'port', '53']);
  assert.equal(both.status, 2);
  assert.match(both.stderr, /a filter is given twice/);
});

test('-D lines: kind, driver, state, and the link types csumtop does not decode', () => {
  const link = (o: Partial<Link>): Link => ({
    ifindex: 2,
    name: 'x',
    flags: 0,
    up: true,
    running: true,
    loopback: false,
    mtu: 1500,
    arphrd: 1,
    linktype: 1,
    mac: null,
    link: null,
    linkNetnsid: null,
    master: null,
    kind: null,
    driver: null,
    busInfo: null,
    features: {},
    fixedFeatures: [],
    ...o,
  });
  assert.equal(interfaceLine('eth0', link({ driver: 'virtio_net' })), 'eth0 (device, driver virtio_net) [Up, Running]');
  assert.equal(interfaceLine('ns1/flannel.1', link({ kind: 'vxlan', driver: 'vxlan', running: false })), 'ns1/flannel.1 (vxlan) [Up]');
  assert.equal(interfaceLine('lo', link({ loopback: true, arphrd: 772, linktype: 1, up: false, running: false })), 'lo (loopback) [Down, Loopback]');
  assert.equal(interfaceLine('tun0', link({ kind: 'tun', arphrd: 65534, linktype: 101 })), 'tun0 (tun) [Up, Running]');
  assert.equal(interfaceLine('gre1', link({ kind: 'gre', arphrd: 778, linktype: null })), 'gre1 (gre) [Up, Running, not decoded: ARPHRD 778]');
  // A name is printed escaped, never as raw control characters.
  assert.equal(interfaceLine('a\x1b[2Jb', link({})), `${printable('a\x1b[2Jb')} (device) [Up, Running]`);
});

test('--version: the version alone first, then the checksum engine in use, the kernel, Node, libpcap and the libpcap backend', () => {
  const r = spawnSync(BIN, ['--version'], { encoding: 'utf8', env: { ...process.env, CSUMTOP_CSUM_PATH: 'scalar' } });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.equal(lines[0], `csumtop ${pkg.version}`);
  // The engine actually chosen (forced here), not a constant.
  assert.equal(lines[1], 'checksum engine: scalar');
  assert.equal(lines[2], `kernel: ${os.release()}`);
  assert.match(lines[3], /^node: v\d+\./);
  // The same libpcap tcpdump runs with: tcpdump --version names it.
  const tcpdumpLib = /^libpcap version .*$/m.exec(tcpdump(['--version']))![0];
  assert.equal(lines[4], `libpcap: ${tcpdumpLib}`);
  assert.match(lines[5], /^libpcap backend: (available|not available: .+)$/);
  assert.equal(lines.length, 6);
  // Without libpcap the line says so (formatted from what the addon reports).
  assert.match(
    formatVersion({ version: '1', engine: 'avx2', kernel: 'k', node: 'v', libpcap: { error: 'it is not installed' }, backend: 'available' }),
    /^libpcap: not available \(it is not installed\)$/m,
  );
});

test("a filter that has no meaning on a later interface's link type: the frames before it are reported, exit 2", () => {
  // mixed.pcapng: an Ethernet frame first, then one of the raw-IP interface.
  const r = csumtop(['-r', path.join(dir, 'mixed.pcapng'), '--json', 'ether', 'src', '00:00:00:00:00:00', 'or', 'udp']);
  assert.equal(r.status, 2, r.stderr);
  const doc = JSON.parse(r.stdout) as ReportDocument;
  assert.equal(doc.source.frames, 1);
  assert.match(r.stderr, /-f: invalid filter 'ether src 00:00:00:00:00:00 or udp': .*\(link type 101, first seen after 1 frames: the report covers those\)/);
});

test('-r with a filter libpcap takes minutes to compile: SIGINT ends csumtop at once (130, report marked interrupted)', { timeout: 30_000 }, async () => {
  const big = Array.from({ length: 1000 }, (_, k) => `udp port ${k + 1}`).join(' or ');
  const child = spawn(BIN, ['-r', INCIDENT, '--json', '-f', big], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  await new Promise((resolve) => setTimeout(resolve, 1500)); // the compile of a 1000-term filter takes minutes
  const t0 = Date.now();
  child.kill('SIGINT');
  const code = await exited;
  assert.ok(Date.now() - t0 < 3000, `ended ${Date.now() - t0} ms after SIGINT`);
  assert.equal(code, 130, stderr);
  const doc = JSON.parse(stdout) as ReportDocument;
  assert.equal(doc.source.interrupted, 'SIGINT');
  assert.equal(doc.source.frames, 0);
});
