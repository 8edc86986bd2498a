/**
 * Kernel checksum counters (src/host/snmp.ts): the parsers on captured /proc/net files of
 * a current and a pre-3.10 kernel, the CounterSampler on scripted readings, and the
 * native reader against the kernel.
 *
 * Kernel part: two namespaces joined by a veth pair ("sender" A, "receiver" B). B has UDP
 * sockets bound on IPv4 and IPv6. Hand-built frames (test/fixtures/lib) go out of A's veth
 * through a raw AF_PACKET socket (src/lab/lab_helper.py inject), addressed to B's MAC:
 * UDP with a wrong checksum, UDP with a correct one (control: must be delivered, and
 * counted nowhere), IPv4 headers with a wrong checksum, and UDP over IPv6 with a wrong
 * checksum. Frames from a packet socket are CHECKSUM_NONE, and veth has not marked such
 * frames verified since "veth: don't modify ip_summed; doing so treats packets with bad
 * checksums as good" (Linux 4.5), so B's kernel verifies them in software and counts each
 * failure once (the lab measured the same, test/lab/README.md). The counters must move by exactly
 * those numbers in B, and not at all in A or in the test's own (host) namespace.
 *
 * Needs root; without it the kernel part fails and says so.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { CHECKSUM_COUNTERS, type ChecksumCounters } from '../../src/model/host-facts.js';
import { nativeReadNetFile } from '../../src/native/host.js';
import {
  checksumCounters,
  checksumCountersFrom,
  CounterSampler,
  parseNetCounters,
  parseSnmp6,
  parseSnmpTable,
  readNetCounterFiles,
} from '../../src/host/snmp.js';
import { encode, eth, ipv4, ipv6, udp, type CheckRecord, type EthNode } from '../fixtures/lib/index.js';
import { sleep, within } from '../lib/wait.js';
import { KERNEL_3_2_NETSTAT, KERNEL_3_2_SNMP, KERNEL_3_2_SNMP6, KERNEL_6_18_NETSTAT, KERNEL_6_18_SNMP, KERNEL_6_18_SNMP6 } from './samples/snmp-samples.js';

/** Repository root: dist/test/unit -> ../../.. */
const ROOT = path.resolve(__dirname, '..', '..', '..');
const HELPER = path.join(ROOT, 'src', 'lab', 'lab_helper.py');

// ------------------------------------------------------------------ parsers

describe('snmp parsers', () => {
  test('snmp/netstat tables: every section, negative MaxConn, values by column name', () => {
    const snmp = parseSnmpTable(KERNEL_6_18_SNMP);
    assert.deepEqual(Object.keys(snmp), ['Ip', 'Icmp', 'IcmpMsg', 'Tcp', 'Udp', 'UdpLite']);
    assert.equal(snmp.Tcp.MaxConn, -1);
    assert.equal(snmp.Udp.InCsumErrors, 17);
    assert.equal(snmp.Udp.InErrors, 19);
    assert.equal(snmp.Udp.InDatagrams, 51230);
    assert.equal(snmp.Ip.DefaultTTL, 64);
    const netstat = parseSnmpTable(KERNEL_6_18_NETSTAT);
    assert.ok('TcpExt' in netstat && 'IpExt' in netstat && 'MPTcpExt' in netstat);
    assert.equal(netstat.IpExt.InCsumErrors, 2);
  });

  test('snmp6: name/value lines', () => {
    const s6 = parseSnmp6(KERNEL_6_18_SNMP6);
    assert.equal(s6.Udp6InCsumErrors, 12);
    assert.equal(s6.Icmp6InCsumErrors, 11);
    assert.equal(s6.Ip6InHdrErrors, 9);
    assert.ok(Object.keys(s6).length > 80, 'every line parsed');
  });

  test('checksumCounters from a 6.18 kernel: each counter from its own column and file', () => {
    const c = checksumCountersFrom(parseNetCounters({ snmp: KERNEL_6_18_SNMP, snmp6: KERNEL_6_18_SNMP6, netstat: KERNEL_6_18_NETSTAT }));
    const want: ChecksumCounters = {
      ipInHdrErrors: 3,
      ipInCsumErrors: 2,
      icmpInErrors: 7,
      icmpInCsumErrors: 1,
      tcpInErrs: 6,
      tcpInCsumErrors: 5,
      udpInErrors: 19,
      udpInCsumErrors: 17,
      udpRcvbufErrors: 2,
      udpLiteInErrors: 0,
      udpLiteInCsumErrors: 0,
      ip6InHdrErrors: 9,
      icmp6InErrors: 8,
      icmp6InCsumErrors: 11,
      udp6InErrors: 14,
      udp6InCsumErrors: 12,
      udp6RcvbufErrors: 1,
      udpLite6InErrors: 0,
      udpLite6InCsumErrors: 0,
    };
    assert.deepEqual(c, want);
    assert.deepEqual(Object.keys(c), [...CHECKSUM_COUNTERS], 'every counter, in CHECKSUM_COUNTERS order');
  });

  test('a pre-3.10 kernel: the checksum columns it lacks are null, not 0', () => {
    const c = checksumCountersFrom(parseNetCounters({ snmp: KERNEL_3_2_SNMP, snmp6: KERNEL_3_2_SNMP6, netstat: KERNEL_3_2_NETSTAT }));
    for (const k of [
      'ipInCsumErrors',
      'icmpInCsumErrors',
      'tcpInCsumErrors',
      'udpInCsumErrors',
      'udpLiteInCsumErrors',
      'icmp6InCsumErrors',
      'udp6InCsumErrors',
      'udpLite6InCsumErrors',
    ] as const) {
      assert.equal(c[k], null, `${k} does not exist before Linux 3.10`);
    }
    assert.equal(c.ipInHdrErrors, 4);
    assert.equal(c.udpInErrors, 3);
    assert.equal(c.tcpInErrs, 1);
    assert.equal(c.udp6InErrors, 0);
  });

  test('no snmp6 (IPv6 disabled): every IPv6 counter is null, IPv4 ones are read', () => {
    const c = checksumCountersFrom(parseNetCounters({ snmp: KERNEL_6_18_SNMP, snmp6: null, netstat: KERNEL_6_18_NETSTAT }));
    for (const k of CHECKSUM_COUNTERS) {
      if (/6/.test(k)) assert.equal(c[k], null, k);
      else assert.equal(typeof c[k], 'number', k);
    }
  });

  test('malformed files are rejected with the place named', () => {
    assert.throws(() => parseSnmpTable('Udp: InErrors InCsumErrors\nTcp: 1 2\n'), /belongs to 'Tcp:'/);
    assert.throws(() => parseSnmpTable('Udp: InErrors InCsumErrors\nUdp: 1\n'), /2 names but 1 values/);
    assert.throws(() => parseSnmpTable('Udp: InErrors\nUdp: x\n'), /not a counter value 'x'/);
    assert.throws(() => parseSnmpTable('Udp: InErrors\n'), /odd number of lines/);
    assert.throws(() => parseSnmpTable('Udp InErrors\nUdp 1\n'), /does not start with "Section:"/);
    assert.throws(() => parseSnmp6('Udp6InErrors 1\nUdp6InCsumErrors\n'), /line 2 of snmp6/);
    assert.deepEqual(parseSnmpTable(''), {});
  });
});

// ------------------------------------------------------------------ sampler

function counters(over: Partial<ChecksumCounters>): ChecksumCounters {
  const c = {} as ChecksumCounters;
  for (const k of CHECKSUM_COUNTERS) c[k] = 0;
  return { ...c, ...over };
}

describe('CounterSampler', () => {
  test('baseline, then per-interval deltas and per-second rates', () => {
    const readings = [
      counters({ udpInCsumErrors: 10, udpInErrors: 10, tcpInCsumErrors: 1 }),
      counters({ udpInCsumErrors: 16, udpInErrors: 17, tcpInCsumErrors: 1 }),
      counters({ udpInCsumErrors: 20, udpInErrors: 21, tcpInCsumErrors: 3 }),
    ];
    const times = [1000, 2000, 4000];
    let i = 0;
    let j = 0;
    const s = new CounterSampler(
      () => readings[i++],
      () => times[j++],
    );
    assert.equal(s.sample(), null, 'first call is the baseline');
    const r1 = s.sample();
    assert.ok(r1);
    assert.equal(r1.intervalMs, 1000);
    assert.equal(r1.delta.udpInCsumErrors, 6);
    assert.equal(r1.delta.udpInErrors, 7);
    assert.equal(r1.delta.tcpInCsumErrors, 0);
    assert.equal(r1.perSecond.udpInCsumErrors, 6);
    const r2 = s.sample();
    assert.ok(r2);
    assert.equal(r2.intervalMs, 2000);
    assert.equal(r2.delta.udpInCsumErrors, 4);
    assert.equal(r2.perSecond.udpInCsumErrors, 2, '4 over 2 s');
    assert.equal(r2.perSecond.tcpInCsumErrors, 1);
  });

  test('a counter that went down (reset, wrap) or is missing is null for that interval only', () => {
    const readings = [
      counters({ udpInCsumErrors: 100, tcpInCsumErrors: 5, udp6InCsumErrors: null }),
      counters({ udpInCsumErrors: 3, tcpInCsumErrors: 6, udp6InCsumErrors: null }),
      counters({ udpInCsumErrors: 8, tcpInCsumErrors: 6, udp6InCsumErrors: 0 }),
      counters({ udpInCsumErrors: 9, tcpInCsumErrors: 6, udp6InCsumErrors: 2 }),
    ];
    let i = 0;
    let t = 0;
    const s = new CounterSampler(
      () => readings[i++],
      () => (t += 1000),
    );
    s.sample();
    const r1 = s.sample();
    assert.ok(r1);
    assert.equal(r1.delta.udpInCsumErrors, null, 'went down: reset or wrap');
    assert.equal(r1.perSecond.udpInCsumErrors, null);
    assert.equal(r1.delta.tcpInCsumErrors, 1, 'other counters unaffected');
    assert.equal(r1.delta.udp6InCsumErrors, null);
    const r2 = s.sample();
    assert.ok(r2);
    assert.equal(r2.delta.udpInCsumErrors, 5, 'the new value is the next baseline');
    assert.equal(r2.delta.udp6InCsumErrors, null, 'missing in the previous sample');
    const r3 = s.sample();
    assert.ok(r3);
    assert.equal(r3.delta.udp6InCsumErrors, 2);
  });

  test('a failed read keeps the baseline; reset() starts over', () => {
    let fail = false;
    let v = 0;
    let t = 0;
    const s = new CounterSampler(
      () => {
        if (fail) throw new Error('namespace gone');
        return counters({ udpInCsumErrors: (v += 5) });
      },
      () => (t += 1000),
    );
    s.sample();
    fail = true;
    assert.throws(() => s.sample(), /namespace gone/);
    fail = false;
    const r = s.sample();
    assert.ok(r);
    assert.equal(r.delta.udpInCsumErrors, 5);
    assert.equal(r.intervalMs, 1000, 'time of the failed read is not a sample');
    s.reset();
    assert.equal(s.sample(), null);
  });
});

// ------------------------------------------------------------------ the kernel

const NS_A = `csumtop-snmp${process.pid}-a`;
const NS_B = `csumtop-snmp${process.pid}-b`;
const A_IP = '192.168.191.1';
const B_IP = '192.168.191.2';
const A_IP6 = 'fd00:191::1';
const B_IP6 = 'fd00:191::2';
const PORT = 9999;

function run(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

function mac(ns: string, dev: string): string {
  const j = JSON.parse(run('ip', ['-n', ns, '-json', 'link', 'show', dev])) as Array<{ address: string }>;
  return j[0].address;
}

let receiver: ChildProcess | undefined;
const received: string[] = [];
let cleaned = false;

function cleanup(): void {
  if (cleaned) return;
  cleaned = true;
  if (receiver?.pid !== undefined && receiver.exitCode === null) receiver.kill('SIGKILL');
  for (const ns of [NS_A, NS_B]) spawnSync('ip', ['netns', 'del', ns]);
}
process.on('exit', cleanup);

// B's receiver: one UDP socket per family bound to B's addresses; prints "ready", then
// one line per datagram delivered.
const RECEIVER = `
import select, socket, sys
s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s4.bind((sys.argv[1], int(sys.argv[3])))
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s6.bind((sys.argv[2], int(sys.argv[3])))
print("ready", flush=True)
while True:
    for s in select.select([s4, s6], [], [])[0]:
        print(s.recv(2048).decode("ascii", "replace"), flush=True)
`;

function inject(frames: Uint8Array[]): void {
  const input = frames.map((f) => Buffer.from(f).toString('hex')).join('\n') + '\n';
  const out = run('ip', ['netns', 'exec', NS_A, 'python3', HELPER, 'inject', 'va'], input);
  assert.equal((JSON.parse(out) as { sent: number }).sent, frames.length, 'the raw socket sent every frame');
}

function check(checks: CheckRecord[], kind: CheckRecord['kind']): CheckRecord {
  const c = checks.find((r) => r.kind === kind);
  assert.ok(c, `builder wrote no ${kind} checksum`);
  return c;
}

/** A value that is not `correct` and not 0 (0 means "no checksum" for UDP over IPv4). */
function wrong(correct: number): number {
  let v = correct ^ 0x5a5a;
  while (v === correct || v === 0 || v === 0xffff) v = (v + 0x1111) & 0xffff;
  return v;
}

interface Macs {
  a: string;
  b: string;
}

function udp4Frame(m: Macs, i: number, bad: boolean): Uint8Array {
  const build = (csum?: number): EthNode =>
    eth(ipv4(A_IP, B_IP, udp(40000 + i, PORT, Buffer.from(`${bad ? 'bad' : 'good'}4-${i}`), csum), { id: 0x100 + i }), {
      src: m.a,
      dst: m.b,
    });
  const good = encode(build());
  if (!bad) return good.bytes;
  return encode(build(wrong(check(good.checks, 'udp').expected))).bytes;
}

function udp6Frame(m: Macs, i: number): Uint8Array {
  const build = (csum?: number): EthNode => eth(ipv6(A_IP6, B_IP6, udp(41000 + i, PORT, Buffer.from(`bad6-${i}`), csum)), { src: m.a, dst: m.b });
  return encode(build(wrong(check(encode(build()).checks, 'udp').expected))).bytes;
}

function badIpHeaderFrame(m: Macs, i: number): Uint8Array {
  const build = (csum?: number): EthNode =>
    eth(ipv4(A_IP, B_IP, udp(42000 + i, PORT, Buffer.from(`badip-${i}`)), { id: 0x200 + i, csum }), { src: m.a, dst: m.b });
  return encode(build(wrong(check(encode(build()).checks, 'ipv4').expected))).bytes;
}

/** Polls until `done()` or 3 s; the kernel counts in softirq context, shortly after the
 * raw socket's send returns. */
async function until(done: () => boolean): Promise<void> {
  await within(done, 3000);
}

function diff(a: ChecksumCounters, b: ChecksumCounters): Partial<Record<keyof ChecksumCounters, number>> {
  const out: Partial<Record<keyof ChecksumCounters, number>> = {};
  for (const k of CHECKSUM_COUNTERS) {
    const x = a[k];
    const y = b[k];
    if (x !== null && y !== null && y !== x) out[k] = y - x;
  }
  return out;
}

describe('kernel counters of a namespace', () => {
  let macs: Macs;

  before(async () => {
    if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
      throw new Error(
        'test/unit/host-snmp.test.ts needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_NET_RAW): it creates ' +
          'network namespaces and a veth pair and sends raw frames. Run it as root (CI does).',
      );
    }
    for (const ns of [NS_A, NS_B]) spawnSync('ip', ['netns', 'del', ns]);
    run('ip', ['netns', 'add', NS_A]);
    run('ip', ['netns', 'add', NS_B]);
    run('ip', ['-n', NS_A, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb', 'netns', NS_B]);
    for (const [ns, dev, v4, v6] of [
      [NS_A, 'va', A_IP, A_IP6],
      [NS_B, 'vb', B_IP, B_IP6],
    ] as const) {
      run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      run('ip', ['-n', ns, 'addr', 'add', `${v4}/24`, 'dev', dev]);
      run('ip', ['-n', ns, 'addr', 'add', `${v6}/64`, 'dev', dev, 'nodad']);
      run('ip', ['-n', ns, 'link', 'set', dev, 'up']);
    }
    macs = { a: mac(NS_A, 'va'), b: mac(NS_B, 'vb') };
    const proc = spawn('ip', ['netns', 'exec', NS_B, 'python3', '-c', RECEIVER, B_IP, B_IP6, String(PORT)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    receiver = proc;
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let buf = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`receiver did not start: ${stderr}`)), 10000);
      proc.on('exit', (code) => reject(new Error(`receiver exited (${String(code)}): ${stderr}`)));
      proc.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line === 'ready') {
            clearTimeout(timer);
            resolve();
          } else received.push(line);
        }
      });
    });
  });

  after(cleanup);

  test("the native reader sees the namespace it was given, not the caller's", () => {
    const viaNative = nativeReadNetFile(`/run/netns/${NS_B}`, 'snmp', NS_B);
    assert.ok(viaNative !== null);
    const viaExec = run('ip', ['netns', 'exec', NS_B, 'cat', '/proc/net/snmp']);
    // A fresh namespace: its Ip InReceives is small and equal in both reads (nothing is
    // sent meanwhile); the host's is not the same file.
    assert.deepEqual(parseSnmpTable(viaNative).Ip, parseSnmpTable(viaExec).Ip);
    assert.notDeepEqual(parseSnmpTable(viaNative).Ip, parseSnmpTable(nativeReadNetFile(undefined, 'snmp') ?? '').Ip);
    const files = readNetCounterFiles(NS_B);
    assert.ok(files.snmp !== null && files.snmp6 !== null && files.netstat !== null, 'all three files exist in B');
    assert.throws(() => readNetCounterFiles(`csumtop-no-such-ns-${process.pid}`), /no such network namespace/);
  });

  test("bad UDP, IPv4 header and UDP6 checksums move B's counters by exactly that many, and only B's", async () => {
    const N_BAD_UDP = 7;
    const N_GOOD_UDP = 3;
    const N_BAD_IP = 2;
    const N_BAD_UDP6 = 4;
    const frames: Uint8Array[] = [];
    for (let i = 0; i < N_BAD_UDP; i++) frames.push(udp4Frame(macs, i, true));
    for (let i = 0; i < N_GOOD_UDP; i++) frames.push(udp4Frame(macs, i, false));
    for (let i = 0; i < N_BAD_IP; i++) frames.push(badIpHeaderFrame(macs, i));
    for (let i = 0; i < N_BAD_UDP6; i++) frames.push(udp6Frame(macs, i));

    const hostBefore = checksumCounters();
    const aBefore = checksumCounters(NS_A);
    const bBefore = checksumCounters(NS_B);
    const sampler = CounterSampler.forNetns(`/run/netns/${NS_B}`);
    assert.equal(sampler.sample(), null);

    inject(frames);
    await until(() => {
      const b = checksumCounters(NS_B);
      return (
        received.length >= N_GOOD_UDP &&
        (b.udpInCsumErrors ?? 0) - (bBefore.udpInCsumErrors ?? 0) >= N_BAD_UDP &&
        (b.udp6InCsumErrors ?? 0) - (bBefore.udp6InCsumErrors ?? 0) >= N_BAD_UDP6 &&
        (b.ipInHdrErrors ?? 0) - (bBefore.ipInHdrErrors ?? 0) >= N_BAD_IP
      );
    });
    await sleep(100); // anything late would show up now
    const bAfter = checksumCounters(NS_B);

    assert.deepEqual(
      diff(bBefore, bAfter),
      {
        udpInCsumErrors: N_BAD_UDP,
        udpInErrors: N_BAD_UDP,
        udp6InCsumErrors: N_BAD_UDP6,
        udp6InErrors: N_BAD_UDP6,
        ipInHdrErrors: N_BAD_IP,
        ipInCsumErrors: N_BAD_IP,
      },
      'B counted each bad checksum once, in the right counter',
    );
    assert.deepEqual(received.sort(), ['good4-0', 'good4-1', 'good4-2'], 'only the good datagrams were delivered');
    assert.deepEqual(diff(aBefore, checksumCounters(NS_A)), {}, 'the sender counted nothing');
    const hostDelta = diff(hostBefore, checksumCounters());
    assert.equal(hostDelta.udpInCsumErrors, undefined, `the host namespace counted nothing: ${JSON.stringify(hostDelta)}`);
    assert.equal(hostDelta.udp6InCsumErrors, undefined);
    assert.equal(hostDelta.ipInHdrErrors, undefined);

    const rates = sampler.sample();
    assert.ok(rates);
    assert.equal(rates.delta.udpInCsumErrors, N_BAD_UDP, 'the sampler saw the same interval');
    assert.equal(rates.delta.udp6InCsumErrors, N_BAD_UDP6);
    assert.equal(rates.delta.tcpInCsumErrors, 0);
    assert.ok(rates.intervalMs > 0);
    assert.ok(Math.abs((rates.perSecond.udpInCsumErrors ?? 0) - (N_BAD_UDP * 1000) / rates.intervalMs) < 1e-9);
  });
});
