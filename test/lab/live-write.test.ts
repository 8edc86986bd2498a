/**
 * Issue 6's `-w FILE` during live capture, on the namespace lab (test/lab/lab.ts):
 * the file holds exactly the bad frames (compared byte for byte with what was injected,
 * through csumtop's own reader, and counted by `tcpdump -r`), survives SIGKILL, rotates
 * like tcpdump -C/-W, takes --context frames of the same flow, is one valid file with
 * several capture threads, refuses symlinks and unwritable paths before capturing, and
 * turns a full disk into a warning and exit status 2 while capture goes on.
 *
 * Every case fails (never skips) when it cannot run here, with the reason.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { readCaptureFile } from '../../src/native/capture-file.js';
import { encode, eth, ipv4, udp } from '../fixtures/lib/index.js';
import {
  BIN,
  Csumtop,
  FAULT_KINDS,
  sh,
  track,
  UNDERLAY_A,
  UNDERLAY_B,
  describeRun,
  faultFrame,
  iface,
  reportOf,
  sharedLab,
  sleep,
  which,
  type Lab,
  type JsonLine,
} from './lab.js';

const theLab = sharedLab();
let dir: string;

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csumtop-live-w-'));
});
after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Starts csumtop on B's underlay with the given extra flags; waits until vlb is attached. */
async function capture(lab: Lab, extra: string[], opts: { wrap?: string[]; duration?: number } = {}): Promise<Csumtop> {
  const ct = new Csumtop(['--netns', lab.B, '-i', 'vlb', '--duration', String(opts.duration ?? 50), '--json', ...extra], { wrap: opts.wrap });
  const missing = await ct.waitAttached(['vlb'], 3000);
  if (missing.length > 0) {
    const r = await ct.stop();
    assert.fail(`csumtop did not attach vlb in ${lab.B}: ${describeRun(r)}`);
  }
  return ct;
}

/** Waits until csumtop has reported `n` bad frames as JSON lines (so they were written). */
async function waitBad(ct: Csumtop, n: number, timeoutMs = 5000): Promise<number> {
  const count = (): number => ct.lines.filter((l) => l.type === 'bad').length;
  const deadline = Date.now() + timeoutMs;
  while (count() < n && Date.now() < deadline && ct.running) await ct.waitFor(() => count() >= n, deadline - Date.now());
  return count();
}

/** `tcpdump -r FILE -nn`: its exit status and the line of each frame. */
function tcpdumpRead(file: string): { status: number | null; lines: string[]; stderr: string } {
  const r = spawnSync('tcpdump', ['-r', file, '-nn'], { encoding: 'utf8', timeout: 20_000 });
  // One line per frame starts with its timestamp; a VXLAN carrier's inner packet follows
  // on a line of its own.
  return { status: r.status, lines: r.stdout.split('\n').filter((l) => /^\d\d:\d\d:\d\d\./.test(l)), stderr: r.stderr };
}

/** The frames of a file as hex, and how the file ended (must be a clean end). */
function framesOf(file: string): { hex: string[]; end: string; linktype: number } {
  const c = readCaptureFile(file);
  return { hex: c.frames.map((f) => hex(f.data)), end: c.end.status, linktype: c.interfaces[0]?.linktype ?? -1 };
}

/** The 4 bad kinds (and the legal zero-checksum carrier) for i in [from, from+n). */
function faults(lab: Lab, from: number, n: number): { bad: Uint8Array[]; all: Uint8Array[] } {
  const bad: Uint8Array[] = [];
  const all: Uint8Array[] = [];
  for (let i = from; i < from + n; i++) {
    for (const k of FAULT_KINDS) {
      const f = faultFrame(lab.macs, k, i);
      all.push(f);
      if (k !== 'zero-outer-udp') bad.push(f);
    }
  }
  return { bad, all };
}

/** A plain UDP datagram A -> B on the underlay; `csum` wrong makes it a bad frame. */
function datagram(lab: Lab, sport: number, dport: number, payload: Buffer, csum?: number): Uint8Array {
  return encode(eth(ipv4(UNDERLAY_A, UNDERLAY_B, udp(sport, dport, payload, csum), { id: sport & 0xffff }), { src: lab.macs.vla, dst: lab.macs.vlb })).bytes;
}

function needTcpdump(): void {
  assert.ok(which('tcpdump'), 'tcpdump is not installed (apt-get install -y tcpdump): these cases read the file with it');
}

test('-w live: the file holds exactly the injected bad frames, in order, good traffic left out; tcpdump -r reads it', async (t) => {
  const lab = theLab();
  needTcpdump();
  const file = path.join(dir, 'bad.pcap');
  fs.writeFileSync(file, 'an older capture that -w replaces, as tcpdump does\n');
  const { bad, all } = faults(lab, 0, 5);
  const ct = await capture(lab, ['-w', file]);
  // The file exists with its header before any frame: a reader sees an empty capture.
  assert.equal(fs.statSync(file).size, 24, 'the pcap header (24 bytes) is written before capture starts');
  assert.equal(fs.statSync(file).mode & 0o777, 0o600, 'created mode 0600');
  const dns = await lab.dnsQueries(4);
  lab.inject(lab.A, 'vla', all);
  assert.equal(await waitBad(ct, bad.length), bad.length, `bad lines: ${describeRun(ct)}`);
  await sleep(300);
  const r = await ct.stop();
  const report = reportOf(r);
  assert.ok(
    dns.every((d) => d.ok),
    'DNS over the overlay (good traffic on vlb) failed',
  );
  assert.equal(r.code, 1, `exit status with bad frames: ${describeRun(r)}`);
  assert.equal(iface(report, `${lab.B}/vlb`).badFrames, bad.length);
  assert.deepEqual(report.written, { path: file, frames: bad.length });

  const got = framesOf(file);
  assert.equal(got.end, 'eof', 'the file ends on a record boundary');
  assert.equal(got.linktype, 1, 'all interfaces are Ethernet: LINKTYPE_ETHERNET');
  assert.deepEqual(got.hex, bad.map(hex), 'the file holds the injected bad frames, byte for byte, in injection order');
  const td = tcpdumpRead(file);
  t.diagnostic(`tcpdump -r: ${td.lines.length} lines, e.g. ${td.lines[0]}`);
  assert.equal(td.status, 0, `tcpdump -r failed: ${td.stderr}`);
  assert.equal(td.lines.length, bad.length, td.lines.join('\n'));
  // Every line is one of the injected carriers (source ports 41000-44999), none is DNS.
  for (const l of td.lines)
    assert.match(l, new RegExp(`IP ${UNDERLAY_A.replace(/\./g, '\\.')}\\.4[1-4]\\d{3} > ${UNDERLAY_B.replace(/\./g, '\\.')}\\.8472`), l);
});

test('-w live survives SIGKILL: tcpdump -r reads the file and it holds exactly the K bad frames counted before the kill', async () => {
  const lab = theLab();
  needTcpdump();
  const file = path.join(dir, 'killed.pcap');
  const { bad, all } = faults(lab, 10, 3); // K = 12 bad frames
  const ct = await capture(lab, ['-w', file]);
  lab.inject(lab.A, 'vla', all);
  // Once csumtop has printed a bad line, its frame is in the file (written before the
  // batch reaches JavaScript).
  assert.equal(await waitBad(ct, bad.length), bad.length, `bad lines: ${describeRun(ct)}`);
  process.kill(ct.pid, 'SIGKILL');
  const r = await ct.done;
  assert.equal(r.signal, 'SIGKILL');
  const td = tcpdumpRead(file);
  assert.equal(td.status, 0, `tcpdump -r after SIGKILL failed: ${td.stderr}`);
  assert.equal(td.lines.length, bad.length, td.lines.join('\n'));
  const got = framesOf(file);
  assert.equal(got.end, 'eof', 'no half record at the end');
  assert.deepEqual(got.hex, bad.map(hex));
});

test('-w live -C 1 rotates like tcpdump (FILE, FILE1, ...); with -W 2 names wrap (FILE0, FILE1) and the oldest is overwritten; every file is valid', async (t) => {
  const lab = theLab();
  needTcpdump();
  const payload = Buffer.alloc(1400, 0x61);
  // 1464-byte bad frames; -C 1 rotates once a file is past 1,000,000 bytes.
  const burst = (from: number, n: number): Uint8Array[] =>
    Array.from({ length: n }, (_, i) => datagram(lab, 20000 + ((from + i) % 30000), 9998, payload, 0x1234));

  // Without -W: FILE, FILE1, FILE2 (2,000 frames = 2.96 MB).
  const base = path.join(dir, 'rot.pcap');
  const plain = burst(0, 2000);
  let ct = await capture(lab, ['-w', base, '-C', '1']);
  for (let k = 0; k < plain.length; k += 250) lab.inject(lab.A, 'vla', plain.slice(k, k + 250));
  assert.equal(await waitBad(ct, plain.length, 15000), plain.length, `bad lines: ${describeRun(ct)}`);
  let r = await ct.stop();
  let report = reportOf(r);
  const names = fs
    .readdirSync(dir)
    .filter((n) => n.startsWith('rot.pcap'))
    .sort();
  t.diagnostic(`-C 1: ${names.map((n) => `${n} ${fs.statSync(path.join(dir, n)).size}`).join(', ')}`);
  assert.deepEqual(names, ['rot.pcap', 'rot.pcap1', 'rot.pcap2']);
  let concat: string[] = [];
  for (const n of ['rot.pcap', 'rot.pcap1', 'rot.pcap2']) {
    const f = path.join(dir, n);
    const td = tcpdumpRead(f);
    assert.equal(td.status, 0, `tcpdump -r ${n}: ${td.stderr}`);
    const got = framesOf(f);
    assert.equal(got.end, 'eof');
    assert.equal(td.lines.length, got.hex.length);
    concat = concat.concat(got.hex);
    // Rotation happens before the record that would follow a file already past the limit.
    if (n !== 'rot.pcap2') assert.ok(fs.statSync(f).size > 1_000_000 && fs.statSync(f).size <= 1_000_000 + 16 + 1464, `${n}: ${fs.statSync(f).size} bytes`);
  }
  assert.deepEqual(concat, plain.map(hex), 'the three files hold every bad frame once, in order');
  assert.deepEqual(report.written, { path: base, frames: plain.length, files: 3 });

  // With -W 2: wrap (4 files opened: 0, 1, 0, 1); the two left are the newest frames.
  const wbase = path.join(dir, 'wrap.pcap');
  const wrap = burst(5000, 2200);
  ct = await capture(lab, ['-w', wbase, '-C', '1', '-W', '2']);
  for (let k = 0; k < wrap.length; k += 250) lab.inject(lab.A, 'vla', wrap.slice(k, k + 250));
  assert.equal(await waitBad(ct, wrap.length, 15000), wrap.length, `bad lines: ${describeRun(ct)}`);
  r = await ct.stop();
  report = reportOf(r);
  const wnames = fs
    .readdirSync(dir)
    .filter((n) => n.startsWith('wrap.pcap'))
    .sort();
  t.diagnostic(`-C 1 -W 2: ${wnames.map((n) => `${n} ${fs.statSync(path.join(dir, n)).size}`).join(', ')}`);
  assert.deepEqual(wnames, ['wrap.pcap0', 'wrap.pcap1']);
  assert.deepEqual(report.written, { path: wbase, frames: wrap.length, files: 4 });
  const f0 = framesOf(path.join(dir, 'wrap.pcap0'));
  const f1 = framesOf(path.join(dir, 'wrap.pcap1'));
  for (const n of wnames) assert.equal(tcpdumpRead(path.join(dir, n)).status, 0, `tcpdump -r ${n}`);
  assert.equal(f0.end, 'eof');
  assert.equal(f1.end, 'eof');
  // File 0 was overwritten by the third file, file 1 by the fourth: together, in that
  // order, they are the tail of what was injected.
  const tail = [...f0.hex, ...f1.hex];
  assert.ok(tail.length < wrap.length && tail.length > 0);
  assert.deepEqual(tail, wrap.slice(wrap.length - tail.length).map(hex), 'the surviving files are the newest frames');
});

test('-w live --context 2: the 2 frames of the same flow before and after each bad frame, each once, in time order; other flows left out', async () => {
  const lab = theLab();
  const file = path.join(dir, 'context.pcap');
  const p = (s: string): Buffer => Buffer.from(s);
  const flow = (tag: string, csum?: number): Uint8Array => datagram(lab, 33333, 9997, p(tag), csum);
  const other = (tag: string, csum?: number): Uint8Array => datagram(lab, 33334, 9997, p(tag), csum);
  // g1 o1 g2 g3 B1 o2 g4 B2 g5 o3 g6 g7: with N=2, B1 takes g2 g3 before and g4 after;
  // B2 takes g4 (already chosen) and B1 before, g5 g6 after. g1, g7 and the other flow
  // (o*, good) stay out.
  const g = (i: number): Uint8Array => flow(`g${i}`);
  const B1 = flow('B1', 0x1111);
  const B2 = flow('B2', 0x2222);
  const seq = [g(1), other('o1'), g(2), g(3), B1, other('o2'), g(4), B2, g(5), other('o3'), g(6), g(7)];
  const ct = await capture(lab, ['-w', file, '--context', '2']);
  lab.inject(lab.A, 'vla', seq);
  assert.equal(await waitBad(ct, 2), 2, `bad lines: ${describeRun(ct)}`);
  await sleep(300);
  const r = await ct.stop();
  const report = reportOf(r);
  assert.deepEqual(framesOf(file).hex, [g(2), g(3), B1, g(4), B2, g(5), g(6)].map(hex));
  assert.deepEqual(report.written, { path: file, frames: 2, contextFrames: 5, contextSkipped: 0 });
});

test('-w live --threads 2: one valid file with every bad frame of both capture threads', async () => {
  const lab = theLab();
  needTcpdump();
  const file = path.join(dir, 'threads.pcap');
  const { bad, all } = faults(lab, 20, 10); // 40 bad frames, 40 flows: spread by the fanout hash
  const ct = await capture(lab, ['-w', file, '--threads', '2']);
  lab.inject(lab.A, 'vla', all);
  assert.equal(await waitBad(ct, bad.length), bad.length, `bad lines: ${describeRun(ct)}`);
  await sleep(300);
  const r = await ct.stop();
  assert.deepEqual(reportOf(r).written, { path: file, frames: bad.length });
  const got = framesOf(file);
  assert.equal(got.end, 'eof');
  // Each thread writes in its own order; together, every bad frame exactly once.
  assert.deepEqual([...got.hex].sort(), bad.map(hex).sort());
  const td = tcpdumpRead(file);
  assert.equal(td.status, 0, td.stderr);
  assert.equal(td.lines.length, bad.length);
});

/**
 * A tun device in `ns` held open by a small Python process (the device lives as long as
 * its descriptor): raw IP packets written to it arrive on tun0 as received traffic.
 */
async function tunDevice(ns: string): Promise<{ send(packets: Uint8Array[]): Promise<void>; close(): Promise<void> }> {
  const script = [
    'import fcntl, os, struct, subprocess, sys',
    "fd = os.open('/dev/net/tun', os.O_RDWR)",
    "fcntl.ioctl(fd, 0x400454ca, struct.pack('16sH', b'tun0', 0x0001 | 0x1000))  # TUNSETIFF, IFF_TUN|IFF_NO_PI",
    "subprocess.check_call(['ip', 'link', 'set', 'tun0', 'up'])",
    "print('ready', flush=True)",
    'for line in sys.stdin:',
    '    line = line.strip()',
    "    if line == 'quit': break",
    '    if line: os.write(fd, bytes.fromhex(line))',
    "    else: print('sent', flush=True)",
  ].join('\n');
  const child = track(spawn('ip', ['netns', 'exec', ns, 'python3', '-u', '-c', script], { stdio: ['pipe', 'pipe', 'pipe'] }));
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const waitOut = (word: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`tun helper: no '${word}' within 5 s: ${err}`)), 5000);
      const check = (): void => {
        if (out.includes(word)) {
          out = out.replace(word, '');
          clearTimeout(timer);
          child.stdout!.off('data', onData);
          resolve();
        }
      };
      const onData = (d: Buffer): void => {
        out += d.toString();
        check();
      };
      child.stdout!.on('data', onData);
      check();
    });
  await waitOut('ready');
  return {
    async send(packets) {
      child.stdin!.write(packets.map((p) => hex(p)).join('\n') + '\n\n');
      await waitOut('sent');
    },
    async close() {
      child.stdin!.end('quit\n');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

test('-w live with an interface that has no Ethernet header: one LINKTYPE_LINUX_SLL2 file for both, read by tcpdump and by csumtop -r with the same verdicts', async (t) => {
  const lab = theLab();
  needTcpdump();
  const file = path.join(dir, 'mixed.pcap');
  const tun = await tunDevice(lab.B);
  try {
    const { bad, all } = faults(lab, 40, 2); // 8 bad carriers on vlb
    const rawBad = [0, 1, 2].map((i) => encode(ipv4('10.77.0.2', '10.77.0.1', udp(36000 + i, 9996, Buffer.from(`raw-${i}`), 0x5555))).bytes);
    const ct = new Csumtop(['--netns', lab.B, '-i', 'vlb,tun0', '--duration', '50', '--json', '-w', file]);
    const missing = await ct.waitAttached(['vlb', 'tun0'], 3000);
    if (missing.length > 0) assert.fail(`not attached: ${missing.join(', ')}: ${describeRun(await ct.stop())}`);
    lab.inject(lab.A, 'vla', all);
    await tun.send(rawBad);
    assert.equal(await waitBad(ct, bad.length + rawBad.length), bad.length + rawBad.length, `bad lines: ${describeRun(ct)}`);
    await sleep(300);
    const r = await ct.stop();
    assert.deepEqual(reportOf(r).written, { path: file, frames: bad.length + rawBad.length });

    const c = readCaptureFile(file);
    assert.equal(c.interfaces[0].linktype, 276, 'a mix of link types is written as LINKTYPE_LINUX_SLL2');
    assert.equal(c.end.status, 'eof');
    const vlbIndex = (JSON.parse(sh('ip', ['-n', lab.B, '-j', 'link', 'show', 'dev', 'vlb'])) as Array<{ ifindex: number }>)[0].ifindex;
    const tunIndex = (JSON.parse(sh('ip', ['-n', lab.B, '-j', 'link', 'show', 'dev', 'tun0'])) as Array<{ ifindex: number }>)[0].ifindex;
    // SLL2 (https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html): protocol,
    // reserved, ifindex, ARPHRD, packet type, address length, 8 address bytes; then the
    // frame without its link-layer header.
    const sll2 = (proto: number, ifindex: number, hatype: number, mac: string | null, rest: Uint8Array): string => {
      const h = Buffer.alloc(20);
      h.writeUInt16BE(proto, 0);
      h.writeUInt32BE(ifindex, 4);
      h.writeUInt16BE(hatype, 8);
      h[10] = 0; // PACKET_HOST
      if (mac) {
        h[11] = 6;
        Buffer.from(mac.replace(/:/g, ''), 'hex').copy(h, 12);
      }
      return hex(Buffer.concat([h, Buffer.from(rest)]));
    };
    const expected = [...bad.map((f) => sll2(0x0800, vlbIndex, 1, lab.macs.vla, f.subarray(14))), ...rawBad.map((p) => sll2(0x0800, tunIndex, 65534, null, p))];
    assert.deepEqual(
      c.frames.map((f) => hex(f.data)),
      expected,
    );

    const td = tcpdumpRead(file);
    t.diagnostic(`tcpdump -r: ${td.lines[0]} ... ${td.lines[td.lines.length - 1]}`);
    assert.equal(td.status, 0, td.stderr);
    assert.equal(td.lines.length, expected.length);
    // csumtop reads its own file back and finds the same bad checksums.
    const back = spawnSync(BIN, ['-r', file, '--json'], { encoding: 'utf8' });
    const doc = JSON.parse(back.stdout) as { totals: { badFrames: number } };
    assert.equal(back.status, 1, back.stderr);
    assert.equal(doc.totals.badFrames, expected.length);
  } finally {
    await tun.close();
  }
});

test('-w live --user nobody -C 1: the first file is opened as root before the drop, rotated files are created as nobody', async (t) => {
  const lab = theLab();
  needTcpdump();
  const passwd = fs.readFileSync('/etc/passwd', 'utf8');
  const m = /^nobody:[^:]*:(\d+):(\d+):/m.exec(passwd);
  assert.ok(m, 'no user nobody in /etc/passwd');
  // nobody must be able to reach this directory and create the rotated files in it.
  const sub = fs.mkdtempSync(path.join(os.tmpdir(), 'csumtop-nobody-'));
  fs.chmodSync(sub, 0o1777);
  after(() => fs.rmSync(sub, { recursive: true, force: true }));
  const base = path.join(sub, 'bad.pcap');
  const payload = Buffer.alloc(1400, 0x63);
  const frames = Array.from({ length: 800 }, (_, i) => datagram(lab, 31000 + i, 9998, payload, 0x2345)); // 1.17 MB
  const ct = await capture(lab, ['-w', base, '-C', '1', '--user', 'nobody']);
  for (let k = 0; k < frames.length; k += 200) lab.inject(lab.A, 'vla', frames.slice(k, k + 200));
  assert.equal(await waitBad(ct, frames.length, 10000), frames.length, `bad lines: ${describeRun(ct)}`);
  await sleep(300);
  const r = await ct.stop();
  assert.deepEqual(reportOf(r).written, { path: base, frames: frames.length, files: 2 }, describeRun(r));
  const first = fs.statSync(base);
  const second = fs.statSync(`${base}1`);
  t.diagnostic(`bad.pcap uid ${first.uid} mode ${(first.mode & 0o777).toString(8)}; bad.pcap1 uid ${second.uid} mode ${(second.mode & 0o777).toString(8)}`);
  assert.equal(first.uid, 0, 'the first file was created by root, before the drop');
  assert.equal(second.uid, Number(m[1]), 'the rotated file was created as nobody');
  assert.equal(second.mode & 0o777, 0o600);
  const both = [...framesOf(base).hex, ...framesOf(`${base}1`).hex];
  assert.deepEqual(both, frames.map(hex));
  for (const f of [base, `${base}1`]) assert.equal(tcpdumpRead(f).status, 0, f);
});

test('-w live refuses a symlink planted at the path and an unusable path: exit 2, a clear message, before capturing', async () => {
  const lab = theLab();
  const target = path.join(dir, 'victim');
  fs.writeFileSync(target, 'must stay as it is\n');
  const link = path.join(dir, 'planted.pcap');
  fs.symlinkSync(target, link);
  const cases: Array<[string, RegExp]> = [
    [link, /-w: cannot create .*planted\.pcap: it is a symbolic link \(refusing to follow it\)/],
    [path.join(dir, 'no-such-dir', 'x.pcap'), /-w: cannot create .*no-such-dir\/x\.pcap: No such file or directory/],
    [dir, /-w: (cannot create|refusing to write to) .*(Is a directory|not a regular file)/],
  ];
  for (const [p, message] of cases) {
    const ct = new Csumtop(['--netns', lab.B, '-i', 'vlb', '--duration', '5', '--json', '-w', p]);
    const r = await ct.done;
    assert.equal(r.code, 2, `-w ${p}: ${describeRun(r)}`);
    assert.match(r.stderr, message);
    assert.equal(r.lines.filter((l: JsonLine) => l.type === 'interface').length, 0, 'nothing was attached: the error comes before capture');
  }
  assert.equal(fs.readFileSync(target, 'utf8'), 'must stay as it is\n', 'the symlink target was not touched');
  assert.ok(fs.lstatSync(link).isSymbolicLink());
});

test('--json to a regular file on a full disk (written off the JavaScript thread): one line, exit status 2, at once; what fitted stays', async () => {
  const lab = theLab();
  assert.ok(which('unshare'), 'unshare (util-linux) is needed to mount a small private tmpfs');
  // Standard output a regular file on a 64 KiB tmpfs (src/output/write.ts fileWriter: not
  // the synchronous stream Node gives a file): bad frames fill it with `bad` lines.
  const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'csumtop-full-stdout-'));
  const size = path.join(dir, 'full-stdout-size.txt');
  const script =
    `mount -t tmpfs -o size=64k csumtop-test "${mnt}" || exit 99; "$@" > "${mnt}/out.jsonl"; rc=$?; ` +
    `wc -c < "${mnt}/out.jsonl" > "${size}"; head -c 200 "${mnt}/out.jsonl" >> "${size}"; exit $rc`;
  const payload = Buffer.alloc(200, 0x62);
  const frames = Array.from({ length: 400 }, (_, i) => datagram(lab, 31000 + i, 9998, payload, 0x4321)); // 400 lines of ~480 bytes
  try {
    const c = spawn('unshare', ['-m', 'sh', '-c', script, 'sh', BIN, '--netns', lab.B, '-i', 'vlb', '--json', '--duration', '30'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => c.once('exit', resolve));
    await new Promise((r) => setTimeout(r, 1500)); // attached (the interface line is in the file)
    const sentAt = Date.now();
    for (let k = 0; k < frames.length; k += 50) lab.inject(lab.A, 'vla', frames.slice(k, k + 50));
    const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 15_000))]);
    if (code === 'hung') c.kill('SIGKILL');
    assert.equal(code, 2, `exit status with standard output on a full disk (stderr: ${stderr})`);
    assert.ok(Date.now() - sentAt < 10_000, 'ended at once, not at --duration');
    assert.deepEqual(stderr.trim().split('\n'), ['csumtop: cannot write standard output: no space left on device (ENOSPC)']);
    const [bytes, ...head] = fs.readFileSync(size, 'utf8').split('\n');
    assert.ok(Number(bytes) > 60_000, `the file filled the disk: ${bytes} bytes`);
    assert.match(head.join('\n'), /^\{"type":"interface","version":1,.*"event":"attached"/, 'what was written before stays');
  } finally {
    fs.rmSync(mnt, { recursive: true, force: true });
  }
});

test('-w live on a full disk: a warning, capture and counting go on, the file stays readable, exit status 2', async (t) => {
  const lab = theLab();
  needTcpdump();
  assert.ok(which('unshare'), 'unshare (util-linux) is needed to mount a small private tmpfs');
  // A 64 KiB tmpfs in a private mount namespace (unshare -m makes mounts private): it
  // vanishes with the process. After csumtop exits, tcpdump reads the file in there.
  const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'csumtop-full-'));
  const out = path.join(dir, 'full-tcpdump.txt');
  const script =
    `mount -t tmpfs -o size=64k csumtop-test "${mnt}" || exit 99; "$@"; rc=$?; ` +
    `tcpdump -r "${mnt}/bad.pcap" -nn > "${out}" 2>&1; echo "tcpdump=$?" >> "${out}"; exit $rc`;
  const payload = Buffer.alloc(1400, 0x62);
  const frames = Array.from({ length: 100 }, (_, i) => datagram(lab, 30000 + i, 9998, payload, 0x4321)); // 146 KB
  try {
    const ct = await capture(lab, ['-w', `${mnt}/bad.pcap`], { wrap: ['unshare', '-m', 'sh', '-c', script, 'sh'], duration: 5 });
    lab.inject(lab.A, 'vla', frames);
    assert.equal(await waitBad(ct, frames.length), frames.length, `capture went on: ${describeRun(ct)}`);
    const warning = await ct.waitFor((l) => l.type === 'warning' && /-w: cannot write to .*No space left on device/.test(String(l.message)), 3000);
    assert.ok(warning, `no warning about the full disk: ${describeRun(ct)}`);
    // sh does not pass a signal on to its child: --duration ends the run.
    const r = await ct.done;
    const report = reportOf(r);
    t.diagnostic(`written: ${JSON.stringify(report.written)}; ${fs.readFileSync(out, 'utf8').split('\n').slice(-3).join(' | ')}`);
    assert.equal(r.code, 2, `exit status after write errors: ${describeRun(r)}`);
    assert.equal(iface(report, `${lab.B}/vlb`).badFrames, frames.length, 'every bad frame still counted');
    const w = report.written!;
    assert.ok(w.frames > 0 && w.frames < frames.length, JSON.stringify(w));
    assert.equal(w.frames + (w.notWritten ?? 0), frames.length, JSON.stringify(w));
    const td = fs.readFileSync(out, 'utf8');
    assert.match(td, /tcpdump=0/, `tcpdump -r on the full disk's file: ${td.slice(-500)}`);
    assert.equal(td.split('\n').filter((l) => / IP /.test(l)).length, w.frames, 'the file holds exactly the frames reported written');
  } finally {
    fs.rmSync(mnt, { recursive: true, force: true });
  }
});
