/**
 * Issue 17, items 1 and 2: a file csumtop writes captured frames to (-r ... -w, live -w
 * with -C/-W rotation, the dashboard's `w`) never destroys the capture being read and
 * never goes into a file another user owns (native/capture/output_file.h). Run as root,
 * like CI: the other user is `nobody`, in a sticky world-writable directory made here.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { readCaptureFile } from '../../src/native/capture-file.js';
import { writeFramesPcap } from '../../src/output/pcap-frames.js';
import { encode, eth, ipv4, pcapFile, pcapngFile, udp, vxlan } from '../fixtures/lib/index.js';
import { BIN } from '../fixtures/harness.js';

let dir: string;
let sticky: string;
let nobody: { uid: number; gid: number };

function carrier(outerCsum: 'correct' | number): Uint8Array {
  const inner = eth(ipv4('10.244.1.2', '10.96.0.10', udp(40000, 53, Buffer.from('query'))));
  return encode(eth(ipv4('192.168.189.4', '192.168.189.5', udp(51000, 8472, vxlan(1, inner), outerCsum)))).bytes;
}

function run(args: string[], opts: { cwd?: string; stdin?: number } = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(BIN, args, {
    cwd: opts.cwd,
    encoding: 'utf8',
    stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const sha = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** A file in the sticky directory, created and owned by nobody, readable by nobody. */
function plantedByNobody(name: string): string {
  const p = path.join(sticky, name);
  fs.writeFileSync(p, 'nobody planted this\n', { mode: 0o644 });
  fs.chownSync(p, nobody.uid, nobody.gid);
  return p;
}

function assertUntouched(p: string): void {
  const st = fs.lstatSync(p);
  assert.equal(st.uid, nobody.uid, `${p} still belongs to nobody`);
  assert.equal(fs.readFileSync(p, 'utf8'), 'nobody planted this\n', `${p} was not written`);
}

const T0 = 1_700_000_000_000_000_000n;

before(() => {
  assert.equal(process.getuid?.(), 0, 'these tests run as root (like CI): they chown a file to nobody');
  const m = /^nobody:[^:]*:(\d+):(\d+):/m.exec(fs.readFileSync('/etc/passwd', 'utf8'));
  assert.ok(m, 'no user nobody in /etc/passwd');
  nobody = { uid: Number(m[1]), gid: Number(m[2]) };
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csumtop-outfile-'));
  sticky = path.join(dir, 'sticky');
  fs.mkdirSync(sticky);
  fs.chmodSync(sticky, 0o1777); // like /tmp
  const recs = [carrier('correct'), carrier(0xffff), carrier(0xbd67)].map((data, i) => ({ tsNs: T0 + BigInt(i) * 1000n, data, wirelen: data.length }));
  fs.writeFileSync(path.join(dir, 'in.pcap'), pcapFile({ linktype: 1 }, recs));
  fs.writeFileSync(
    path.join(dir, 'in.pcapng'),
    pcapngFile(
      [{ linktype: 1, name: 'eth0', tsresol: 9 }],
      recs.map((r) => ({ ...r, iface: 0 })),
    ),
  );
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('-r FILE -w naming the same file (another spelling, a hard link, a symlink, standard input) exits 2 before anything is written; the input is intact', () => {
  for (const name of ['in.pcap', 'in.pcapng']) {
    const input = path.join(dir, name);
    const before = sha(input);
    const hard = path.join(dir, `hard-${name}`);
    fs.linkSync(input, hard);
    const soft = path.join(dir, `soft-${name}`);
    fs.symlinkSync(input, soft);
    const cases: Array<{ args: string[]; cwd?: string; stdin?: string }> = [
      { args: ['-r', name, '-w', `./${name}`], cwd: dir },
      { args: ['-r', input, '-w', `${dir}/../${path.basename(dir)}//${name}`] },
      { args: ['-r', input, '-w', hard] },
      { args: ['-r', hard, '-w', input] },
      { args: ['-r', input, '-w', soft] },
      { args: ['-r', '-', '-w', input], stdin: input },
    ];
    for (const c of cases) {
      const fd = c.stdin !== undefined ? fs.openSync(c.stdin, 'r') : undefined;
      const r = run(c.args, { cwd: c.cwd, stdin: fd });
      if (fd !== undefined) fs.closeSync(fd);
      const what = `csumtop ${c.args.join(' ')}: ${r.stderr}`;
      assert.equal(r.status, 2, what);
      assert.match(r.stderr, /it is the capture file being read \(the same file, by device and inode\)/, what);
      assert.equal(r.stdout, '', `nothing is reported: the refusal comes before reading (${what})`);
      assert.equal(sha(input), before, `the input is unchanged (${what})`);
      assert.equal(fs.statSync(input).nlink, 2, 'no name of the input was removed');
    }
  }
});

test('-r ... -w in a sticky directory: a file another user owns (or a symlink they planted) is refused with exit 2, never written', () => {
  const planted = plantedByNobody('bad.pcap');
  const r = run(['-r', path.join(dir, 'in.pcap'), '-w', planted]);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`refusing to write to .*bad\\.pcap: it exists and belongs to uid ${nobody.uid}, not to us \\(uid 0\\)`));
  assertUntouched(planted);
  // A symlink nobody planted towards a file of root's: not followed.
  const rootFile = path.join(dir, 'root-owned.txt');
  fs.writeFileSync(rootFile, 'root data\n');
  const link = path.join(sticky, 'link.pcap');
  fs.symlinkSync(rootFile, link);
  fs.lchownSync(link, nobody.uid, nobody.gid);
  const l = run(['-r', path.join(dir, 'in.pcap'), '-w', link]);
  assert.equal(l.status, 2, l.stderr);
  assert.match(l.stderr, /symbolic link \(refusing to follow it\)/);
  assert.equal(fs.readFileSync(rootFile, 'utf8'), 'root data\n');
});

test('-r ... -w over a file of our own replaces it by a new inode, mode 0600: a descriptor opened on the old file never sees the frames', () => {
  const own = path.join(sticky, 'own.pcap');
  fs.writeFileSync(own, 'old contents\n', { mode: 0o644 });
  fs.chmodSync(own, 0o644);
  const oldIno = fs.statSync(own).ino;
  const held = fs.openSync(own, 'r'); // e.g. opened by someone while it was world-readable
  try {
    const r = run(['-r', path.join(dir, 'in.pcap'), '-w', own]);
    assert.equal(r.status, 1, r.stderr);
    const st = fs.statSync(own);
    assert.notEqual(st.ino, oldIno, 'a new file, not the old one truncated');
    assert.equal(st.mode & 0o7777, 0o600);
    assert.equal(readCaptureFile(own).frames.length, 2, 'the two bad frames');
    const buf = Buffer.alloc(64);
    const n = fs.readSync(held, buf, 0, buf.length, 0);
    assert.equal(buf.subarray(0, n).toString(), 'old contents\n', 'the old descriptor still reads the old file');
  } finally {
    fs.closeSync(held);
  }
});

test('live -w (and its -W rotation names) in a sticky directory: a file another user owns is refused, exit 2, before capturing', () => {
  const planted = plantedByNobody('live.pcap');
  const r = run(['-i', 'lo', '--duration', '1', '--json', '-w', planted]);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`-w: refusing to write to .*live\\.pcap: it exists and belongs to uid ${nobody.uid}`));
  assert.doesNotMatch(r.stdout, /"type":"interface"/, 'nothing was attached');
  assertUntouched(planted);
  // -C 1 -W 3: the first file is rot.pcap0 (tcpdump's MakeFilename).
  const rot = plantedByNobody('rot.pcap0');
  const w = run(['-i', 'lo', '--duration', '1', '--json', '-w', path.join(sticky, 'rot.pcap'), '-C', '1', '-W', '3']);
  assert.equal(w.status, 2, w.stderr);
  assert.match(w.stderr, /-w: refusing to write to .*rot\.pcap0: it exists and belongs to uid/);
  assertUntouched(rot);
});

test("the dashboard's `w` never writes into an existing file; another user's is named as such", () => {
  const planted = plantedByNobody('csumtop-bad-20261206T120000Z.pcap');
  const frame = { tsNs: T0, bytes: carrier(0xffff), wirelen: 0 };
  assert.throws(() => writeFramesPcap(planted, [frame]), new RegExp(`belongs to uid ${nobody.uid}, not to us`));
  assertUntouched(planted);
  const fresh = path.join(sticky, 'fresh.pcap');
  assert.equal(writeFramesPcap(fresh, [frame]), fresh);
  assert.equal(fs.statSync(fresh).mode & 0o7777, 0o600);
  assert.throws(() => writeFramesPcap(fresh, [frame]), /it exists \(not replaced\)/);
});

test('-r ... -w on a full disk: exit 2, and the file ends on a whole record (the partial one is cut off, as live -w does)', () => {
  assert.ok(spawnSync('sh', ['-c', 'command -v unshare'], { encoding: 'utf8' }).status === 0, 'unshare (util-linux) is needed to mount a small private tmpfs');
  // 300 bad frames of 1400 bytes (420 KB) into a 64 KiB tmpfs in a private mount
  // namespace (unshare -m makes mounts private): it vanishes with the shell.
  const payload = Buffer.alloc(1400, 0x62);
  const recs = Array.from({ length: 300 }, (_, i) => {
    const frame = (csum: number): Uint8Array => encode(eth(ipv4('10.0.0.1', '10.0.0.2', udp(2000 + i, 9999, payload, csum)))).bytes;
    let data: Uint8Array;
    try {
      data = frame(0x1234);
    } catch {
      data = frame(0x4321); // 0x1234 is this datagram's correct checksum
    }
    return { tsNs: T0 + BigInt(i) * 1000n, data, wirelen: data.length };
  });
  const input = path.join(dir, 'big-bad.pcap');
  fs.writeFileSync(input, pcapFile({ linktype: 1 }, recs));
  const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'csumtop-full-'));
  const copy = path.join(dir, 'full-out.pcap');
  const script = `mount -t tmpfs -o size=64k csumtop-test "${mnt}" || exit 99; "$@"; rc=$?; cp "${mnt}/out.pcap" "${copy}"; exit $rc`;
  try {
    const r = spawnSync('unshare', ['-m', 'sh', '-c', script, 'sh', BIN, '-r', input, '-w', `${mnt}/out.pcap`], { encoding: 'utf8', timeout: 60_000 });
    assert.notEqual(r.status, 99, `cannot mount a tmpfs: ${r.stderr}`);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /cannot write to .*out\.pcap: No space left on device/);
  } finally {
    fs.rmSync(mnt, { recursive: true, force: true });
  }
  const back = readCaptureFile(copy);
  assert.equal(back.end.status, 'eof', `the file ends on a record boundary: ${JSON.stringify(back.end)}`);
  assert.ok(back.frames.length > 10 && back.frames.length < 300, `${back.frames.length} whole frames`);
  back.frames.forEach((f, i) => assert.deepEqual(Buffer.from(f.data), Buffer.from(recs[i].data), `frame ${i}`));
});
