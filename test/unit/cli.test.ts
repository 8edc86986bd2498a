/**
 * The command line of `csumtop -r`: exit statuses, messages for bad input, -w output
 * readable by tcpdump/tshark, standard input, and output never lost on a closed pipe.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { parseOptions } from '../../src/cli/args.js';
import { readCaptureFile } from '../../src/native/capture-file.js';
import { encode, eth, ipv4, pcapFile, pcapngFile, udp, vxlan } from '../fixtures/lib/index.js';
import { BIN } from '../fixtures/harness.js';
import type { ReportDocument } from '../../src/model/report.js';

let dir: string;

function carrier(outerCsum: 'correct' | number, innerPort = 53): Uint8Array {
  const inner = eth(ipv4('10.244.1.2', '10.96.0.10', udp(40000, innerPort, Buffer.from('query'))));
  return encode(eth(ipv4('192.168.189.4', '192.168.189.5', udp(51000, 8472, vxlan(1, inner), outerCsum)))).bytes;
}

function run(args: string[], input?: Buffer): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(BIN, args, { input, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const T0 = 1_700_000_000_000_000_000n;

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'csumtop-cli-'));
  const recs = [carrier('correct'), carrier(0xffff), carrier('correct'), carrier(0xbd67)].map((data, i) => ({
    tsNs: T0 + BigInt(i) * 1000n,
    data,
    wirelen: data.length,
  }));
  writeFileSync(path.join(dir, 'two-bad.pcap'), pcapFile({ linktype: 1 }, recs));
  writeFileSync(path.join(dir, 'clean.pcap'), pcapFile({ linktype: 1 }, [recs[0], recs[2]]));
  // Two pcapng sections: the second interface is only defined after bad frames of the
  // first were already written to -w.
  const s1 = pcapngFile([{ linktype: 1, name: 'eth0', tsresol: 9 }], [{ ...recs[1], iface: 0 }]);
  const s2 = pcapngFile(
    [{ linktype: 1, name: 'flannel.1', tsresol: 9 }],
    [
      { ...recs[3], iface: 0 },
      { ...recs[0], iface: 0 },
    ],
  );
  writeFileSync(path.join(dir, 'sections.pcapng'), Buffer.concat([s1, s2]));
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('exit status 1 when bad checksums are found, 0 when none', () => {
  assert.equal(run(['-r', path.join(dir, 'two-bad.pcap')]).status, 1);
  const clean = run(['-r', path.join(dir, 'clean.pcap')]);
  assert.equal(clean.status, 0);
  assert.match(clean.stdout, /No bad checksums\./);
});

test('usage errors exit 2 with a message naming the flag', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--bogus'], /--bogus/],
    [['-r'], /-r/],
    [['-r', 'x.pcap', '--vxlan-port', '70000'], /--vxlan-port: '70000'/],
    [['-r', 'x.pcap', '--max-flows', 'many'], /--max-flows/],
    [['-r', 'x.pcap', '-f', 'udp', 'extra'], /a filter is given twice: -f 'udp' and the words 'extra'/],
    [['-r', 'same.pcap', '-w', 'same.pcap'], /must not name the file/],
  ];
  for (const [args, message] of cases) {
    const r = run(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stdout, '');
  }
});

test('--help documents the exit statuses', () => {
  const r = run(['--help']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /0 +no bad checksum found/);
  assert.match(r.stdout, /1 +at least one bad checksum found/);
  assert.match(r.stdout, /2 +usage error/);
});

test('a missing, empty or garbage file is an input error naming the problem', () => {
  writeFileSync(path.join(dir, 'garbage.pcap'), Buffer.from('this is not a capture file at all\n'));
  writeFileSync(path.join(dir, 'empty.pcap'), Buffer.alloc(0));
  const missing = run(['-r', path.join(dir, 'nope.pcap')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /nope\.pcap/);
  const garbage = run(['-r', path.join(dir, 'garbage.pcap')]);
  assert.equal(garbage.status, 2);
  assert.match(garbage.stderr, /byte offset 0/);
  const empty = run(['-r', path.join(dir, 'empty.pcap')]);
  assert.equal(empty.status, 2);
  assert.match(empty.stderr, /empty/);
});

test('a file cut off mid-record is reported up to the cut, with a warning', () => {
  const whole = readFileSync(path.join(dir, 'two-bad.pcap'));
  writeFileSync(path.join(dir, 'cut.pcap'), whole.subarray(0, whole.length - 20));
  const r = run(['-r', path.join(dir, 'cut.pcap'), '--json']);
  assert.equal(r.status, 1, 'the first bad frame is still found');
  const doc = JSON.parse(r.stdout) as ReportDocument;
  assert.equal(doc.source.frames, 3);
  assert.equal(doc.source.cutShort, true);
  assert.equal(doc.totals.badFrames, 1);
  assert.match(r.stderr, /warning: .*middle of a record/);
});

test('standard input is read with -r -', () => {
  const r = spawnSync(BIN, ['-r', '-', '--json'], { input: readFileSync(path.join(dir, 'two-bad.pcap')), encoding: 'utf8' });
  assert.equal(r.status, 1, r.stderr);
  const doc = JSON.parse(r.stdout) as ReportDocument;
  assert.equal(doc.totals.badFrames, 2);
});

test('-w writes exactly the bad frames, readable by tcpdump and tshark', () => {
  const out = path.join(dir, 'bad.pcap');
  const r = run(['-r', path.join(dir, 'two-bad.pcap'), '-w', out]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout, /Wrote 2 frames with bad checksums to/);
  assert.equal(lstatSync(out).mode & 0o777, 0o600);
  const back = readCaptureFile(out);
  assert.deepEqual(
    back.frames.map((f) => f.tsNs),
    [T0 + 1000n, T0 + 3000n],
  );
  const td = spawnSync('tcpdump', ['-nn', '-r', out], { encoding: 'utf8' });
  assert.equal(td.status, 0, td.stderr);
  // One line per frame starts with its time; VXLAN adds an indented line for the inner packet.
  assert.equal(td.stdout.split('\n').filter((l) => /^\d\d:\d\d:/.test(l)).length, 2);
  // Reading the output again finds the same two bad frames.
  assert.equal(run(['-r', out]).status, 1);
});

test('-w keeps pcapng interfaces, including one defined after the first bad frame', () => {
  const out = path.join(dir, 'bad.pcapng');
  const r = run(['-r', path.join(dir, 'sections.pcapng'), '-w', out]);
  assert.equal(r.status, 1, r.stderr);
  const back = readCaptureFile(out);
  assert.equal(back.format, 'pcapng');
  assert.deepEqual(
    back.interfaces.map((i) => i.name),
    ['eth0', 'flannel.1'],
  );
  assert.deepEqual(
    back.frames.map((f) => back.interfaces[f.iface].name),
    ['eth0', 'flannel.1'],
  );
  const ts = spawnSync('tshark', ['-r', out, '-T', 'fields', '-e', 'frame.interface_name'], { encoding: 'utf8' });
  assert.equal(ts.status, 0, ts.stderr);
  assert.deepEqual(ts.stdout.trim().split('\n'), ['eth0', 'flannel.1']);
});

test('-w with no bad frame still creates a valid, empty capture', () => {
  const out = path.join(dir, 'none.pcap');
  assert.equal(run(['-r', path.join(dir, 'clean.pcap'), '-w', out]).status, 0);
  const back = readCaptureFile(out);
  assert.equal(back.frames.length, 0);
  assert.equal(back.end.status, 'eof');
});

test('-w refuses a symlink planted in its place, and exits 2 after reporting', () => {
  const target = path.join(dir, 'victim.txt');
  writeFileSync(target, 'keep me');
  const link = path.join(dir, 'link.pcap');
  symlinkSync(target, link);
  const r = run(['-r', path.join(dir, 'two-bad.pcap'), '-w', link]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /symbolic link/);
  assert.equal(readFileSync(target, 'utf8'), 'keep me');
});

test('a closed pipe does not turn into a crash', () => {
  const r = spawnSync('sh', ['-c', `'${BIN}' -r '${path.join(dir, 'two-bad.pcap')}' --list | head -c 10 >/dev/null; echo "\${PIPESTATUS:-x}"`], {
    encoding: 'utf8',
  });
  assert.doesNotMatch(r.stderr, /internal error|EPIPE|Error:/);
});

test('live-capture flags: mistakes exit 2 with a message naming the problem', () => {
  const cases: Array<[string[], RegExp]> = [
    [['-r', 'x.pcap', '-i', 'eth0'], /-i is for live capture/],
    [['-r', 'x.pcap', '--duration', '5'], /--duration is for live capture/],
    [['--backend', 'libpcap', '-i', 'lo'], /promiscuous/],
    [['--backend', 'libpcap', '--promisc', '--netns', 'x'], /own network namespace/],
    [['--backend', 'bpf'], /not a backend/],
    [['--threads', '0'], /--threads/],
    [['--duration', 'soon'], /--duration/],
    [['--netns', 'csumtop-no-such-ns', '--duration', '1'], /no such network namespace: csumtop-no-such-ns/],
    [['--pid', '999999999'], /--pid/],
    [['-i', 'csumtop-no-such-if0', '--duration', '1'], /no such interface: csumtop-no-such-if0/],
    [['-i', 'lo', '-f', 'udp port', '--duration', '1'], /-f: invalid filter 'udp port'/],
    [['-w', 'live.pcap', '--backend', 'libpcap', '--promisc'], /-w during live capture needs the afpacket backend/],
  ];
  for (const [args, message] of cases) {
    const r = run(args);
    assert.equal(r.status, 2, `${args.join(' ')}: status ${r.status}, ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
});

test('live -w flags: -C, -W and --context are range-checked, need -w (and -W needs -C), and are refused with -r', () => {
  const cases: Array<[string[], RegExp]> = [
    [['-w', 'x.pcap', '-C', '0'], /-C: '0' is not a whole number between 1 and 100000/],
    [['-w', 'x.pcap', '-C', '100001'], /-C: '100001' is not a whole number between 1 and 100000/],
    [['-w', 'x.pcap', '-C', '1.5'], /-C: '1.5'/],
    [['-w', 'x.pcap', '-C', '1', '-W', '0'], /-W: '0' is not a whole number between 1 and 100000/],
    [['-w', 'x.pcap', '-C', '1', '-W', '100001'], /-W: '100001'/],
    [['-w', 'x.pcap', '-W', '3'], /-W needs -C SIZE/],
    [['-C', '1'], /-C needs -w FILE/],
    [['-W', '2'], /-W needs -w FILE and -C SIZE/],
    [['--context', '2'], /--context needs -w FILE/],
    [['-w', 'x.pcap', '--context', '65'], /--context: '65' is not a whole number between 0 and 64/],
    [['-w', 'x.pcap', '--context', '-1'], /--context/],
    [['-r', 'x.pcap', '-w', 'y.pcap', '-C', '1'], /-C is for live capture with -w/],
    [['-r', 'x.pcap', '-w', 'y.pcap', '--context', '1'], /--context is for live capture with -w/],
  ];
  for (const [args, message] of cases) {
    const r = run(args);
    assert.equal(r.status, 2, `${args.join(' ')}: status ${r.status}, ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
  // The accepted forms parse (no capture: parseOptions only).
  const o = parseOptions(['-w', 'x.pcap', '-C', '100000', '-W', '100000', '--context', '64']);
  assert.deepEqual([o.write, o.rotateMb, o.rotateCount, o.context], ['x.pcap', 100000, 100000, 64]);
  const d = parseOptions(['-w', 'x.pcap']);
  assert.deepEqual([d.rotateMb, d.rotateCount, d.context], [null, null, 0]);
});

test('live capture on loopback: traffic is counted, the report is printed, exit 0', () => {
  if (process.getuid?.() !== 0) assert.fail('this test needs root (CAP_NET_RAW): run the suite as root, as CI does');
  const sender = `const s=require('dgram').createSocket('udp4');let n=0;const t=setInterval(()=>{s.send('x',9,'127.0.0.1');if(++n===20){clearInterval(t);s.close();}},50);`;
  const r = spawnSync('sh', ['-c', `(sleep 0.5; '${process.execPath}' -e "${sender}") & '${BIN}' -i lo --duration 3 --json | tail -n 1`], {
    encoding: 'utf8',
  });
  const doc = JSON.parse(r.stdout) as ReportDocument & { type: string };
  assert.equal(doc.type, 'report');
  assert.equal(doc.source.kind, 'live');
  const lo = doc.interfaces.find((i) => i.name === 'lo');
  assert.ok(lo, JSON.stringify(doc.interfaces.map((i) => i.name)));
  // Each datagram is seen twice on lo (sent and received); loopback checksums are pending.
  const udp = lo.checksums.find((c) => c.layer === 'outer' && c.protocol === 'udp');
  assert.ok(udp && udp.packets >= 20, JSON.stringify(lo.checksums));
  assert.equal(udp.bad, 0);
  assert.ok(udp.pending > 0, `loopback UDP from a local socket must be pending: ${JSON.stringify(udp)}`);
});
