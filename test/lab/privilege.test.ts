/**
 * Issue 7, least privilege, on the namespace lab:
 *
 * - csumtop as a user other than root holding only CAP_NET_RAW (capsh, ambient set)
 *   captures and counts; its effective set is exactly CAP_NET_RAW
 *   (deploy-caps.test.ts proves the same as uid 0 with the DaemonSet's bounding set);
 * - which right each mode needs, and what csumtop says (with which exit status) when
 *   it is missing;
 * - --user drops everything: supplementary groups cleared, no capability left in any
 *   set, in every thread, while capture goes on (live-ops.test.ts checks uid/gid/CapEff);
 * - no shell sees outside text: interfaces and a namespace named with shell
 *   metacharacters are captured, shown verbatim, their remedies quoted so that pasting
 *   them runs nothing, and no marker file appears;
 * - -r -w replacing an existing file leaves it 0600 like every other file csumtop writes.
 *
 * Every case fails (never skips) when it cannot run here.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { shellWord } from '../../src/diagnose/remedies.js';
import { encode, eth, ipv4, udp } from '../fixtures/lib/index.js';
import type { LabMacs } from '../../src/lab/topology.js';
import {
  BIN,
  Csumtop,
  FAULT_KINDS,
  HELPER,
  ROOT,
  createNamespace,
  describeRun,
  faultFrame,
  iface,
  linkMac,
  nsSh,
  reportOf,
  sh,
  sharedLab,
  sleep,
  threadCredentials,
  UNDERLAY_A,
  UNDERLAY_B,
  uniqueNs,
  which,
  type JsonLine,
  type Lab,
} from './lab.js';

const theLab = sharedLab();
const T = { timeout: 40_000 };
const INCIDENT = path.join(ROOT, 'examples', 'incident.pcapng');
const NOBODY = 65534;
const CAP_NET_RAW = 1n << 13n;

let dir: string;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csumtop-priv-'));
  fs.chmodSync(dir, 0o755);
});
after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function needCapsh(): void {
  assert.ok(which('capsh'), 'capsh (apt-get install -y libcap2-bin) is needed to run csumtop with chosen capabilities');
}

/**
 * Runs what follows as nobody inside `ns`, with CAP_NET_RAW (ambient, so it survives the
 * exec of the sh launcher and node) or with no capability at all.
 */
function asNobody(ns: string, caps: 'net_raw' | 'none'): string[] {
  const keep =
    caps === 'net_raw'
      ? ['--caps=cap_net_raw+eip cap_setpcap,cap_setuid,cap_setgid+ep', '--keep=1', '--user=nobody', '--addamb=cap_net_raw']
      : ['--user=nobody'];
  // bash -c 'exec "$0" "$@"' BIN ARGS: the command line passes as arguments, never as shell text.
  return ['ip', 'netns', 'exec', ns, 'capsh', ...keep, '--', '-c', 'exec "$0" "$@"'];
}

function status(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const m = /^(\w+):\s*(.*)$/.exec(line);
    if (m) out[m[1]] = m[2].trim();
  }
  return out;
}

function badCarriers(lab: Lab, from: number, n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = from; i < from + n; i++) for (const k of FAULT_KINDS) if (k !== 'zero-outer-udp') out.push(faultFrame(lab.macs, k, i));
  return out;
}

async function countedBad(ct: Csumtop, n: number): Promise<boolean> {
  return (await ct.waitFor(() => ct.lines.filter((l) => l.type === 'bad').length >= n, 5000)) !== null;
}

test('only CAP_NET_RAW, as nobody (capsh, ambient): capture counts every bad frame; CapEff is exactly CAP_NET_RAW', T, async (t) => {
  const lab = theLab();
  needCapsh();
  const ct = new Csumtop(['-i', 'vlb', '--json'], { wrap: asNobody(lab.B, 'net_raw') });
  try {
    assert.deepEqual(await ct.waitAttached(['vlb'], 5000), [], `attach with CAP_NET_RAW alone: ${describeRun(ct)}`);
    // ip netns exec, capsh, bash and the launcher all exec: the pid is csumtop's node.
    const st = status(ct.pid);
    t.diagnostic(`Uid ${st.Uid}; Groups ${st.Groups}; CapEff ${st.CapEff}; CapPrm ${st.CapPrm}; CapAmb ${st.CapAmb}`);
    assert.match(fs.readFileSync(`/proc/${ct.pid}/cmdline`, 'utf8'), /csumtop|main\.js|run\.js/, 'the pid is csumtop itself');
    assert.deepEqual(st.Uid.split(/\s+/).map(Number), [NOBODY, NOBODY, NOBODY, NOBODY]);
    assert.equal(BigInt(`0x${st.CapEff}`), CAP_NET_RAW, 'effective: CAP_NET_RAW and nothing else');
    assert.equal(BigInt(`0x${st.CapPrm}`), CAP_NET_RAW, 'permitted: CAP_NET_RAW and nothing else');
    const bad = badCarriers(lab, 300, 2);
    lab.inject(lab.A, 'vla', bad);
    assert.ok(await countedBad(ct, bad.length), `bad frames not counted: ${describeRun(ct)}`);
    const r = await ct.stop();
    assert.equal(r.code, 1, describeRun(r));
    assert.equal(iface(reportOf(r), 'vlb').badFrames, bad.length);
  } finally {
    if (ct.running) process.kill(ct.pid, 'SIGKILL');
  }
});

test('the right each mode needs: what csumtop says and its exit status when it is missing (as nobody)', T, async () => {
  const lab = theLab();
  needCapsh();
  const cases: Array<{ what: string; caps: 'net_raw' | 'none'; args: string[]; code: number; says: RegExp | null }> = [
    { what: '-r FILE needs no privilege', caps: 'none', args: ['-r', INCIDENT], code: 1, says: null },
    {
      what: 'live capture needs CAP_NET_RAW',
      caps: 'none',
      args: ['-i', 'vlb', '--duration', '1'],
      code: 3,
      says: /socket\(AF_PACKET\): Operation not permitted \(capturing needs CAP_NET_RAW/,
    },
    {
      // Told by libpcap's PCAP_ERROR_PERM_DENIED (the vendored cap's code 'EPERM'), not its wording.
      what: '--backend libpcap needs CAP_NET_RAW too',
      caps: 'none',
      args: ['--backend', 'libpcap', '--promisc', '-i', 'vlb', '--duration', '1'],
      code: 3,
      says: /vlb: .*\(capturing needs CAP_NET_RAW: run as root or grant it\)/,
    },
    {
      what: '--netns needs CAP_SYS_ADMIN (setns)',
      caps: 'net_raw',
      args: ['--netns', lab.A, '-i', 'vla', '--duration', '1'],
      code: 3,
      says: /need CAP_SYS_ADMIN to enter network namespace/,
    },
    {
      what: '--user needs csumtop to start as root',
      caps: 'net_raw',
      args: ['-i', 'vlb', '--user', 'nobody', '--duration', '1'],
      code: 3,
      says: /--user needs csumtop to start as root/,
    },
    { what: '--demo needs root', caps: 'net_raw', args: ['--demo'], code: 3, says: /run it as root/ },
    {
      what: '--metrics below 1024 needs CAP_NET_BIND_SERVICE (an address problem: 2)',
      caps: 'net_raw',
      args: ['-i', 'vlb', '--metrics', '80', '--duration', '1'],
      code: 2,
      says: /ports below 1024 need CAP_NET_BIND_SERVICE/,
    },
  ];
  for (const c of cases) {
    const [cmd, ...rest] = [...asNobody(lab.B, c.caps), BIN, ...c.args];
    const r = spawnSync(cmd, rest, { encoding: 'utf8', timeout: 20_000, cwd: dir });
    assert.equal(r.status, c.code, `${c.what}: exit ${r.status}; stderr: ${r.stderr}`);
    if (c.says) assert.match(r.stderr, c.says, c.what);
    else assert.equal(r.stderr.trim(), '', c.what);
  }
});

test('--user nobody: supplementary groups cleared, no capability left in any set of any thread, capture goes on', T, async (t) => {
  const lab = theLab();
  assert.ok(which('setpriv'), 'setpriv (util-linux) is needed to start csumtop with extra groups');
  // Root with supplementary groups (adm, disk, sudo... whatever they are here): all must go.
  const extra = [4, 6, 27];
  const ct = new Csumtop(['--netns', lab.B, '-i', 'vlb', '--user', 'nobody', '--json'], { wrap: ['setpriv', `--groups=${extra.join(',')}`, '--'] });
  try {
    assert.deepEqual(await ct.waitAttached(['vlb'], 5000), [], describeRun(ct));
    await sleep(300);
    const groupsOf = (pid: number, tid: string): number[] =>
      (/^Groups:\s*(.*)$/m.exec(fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))?.[1] ?? '')
        .trim()
        .split(/\s+/)
        .filter((x) => x !== '')
        .map(Number);
    const nobodyGroups = sh('id', ['-G', 'nobody']).trim().split(/\s+/).map(Number);
    const creds = threadCredentials(ct.pid);
    t.diagnostic(`${creds.length} threads; Groups ${groupsOf(ct.pid, String(ct.pid)).join(' ')} (nobody's: ${nobodyGroups.join(' ')})`);
    for (const c of creds) {
      assert.deepEqual(c.uid, [NOBODY, NOBODY, NOBODY, NOBODY], `thread ${c.tid}`);
      const groups = groupsOf(ct.pid, c.tid);
      assert.deepEqual(
        groups.filter((g) => !nobodyGroups.includes(g)),
        [],
        `thread ${c.tid} kept groups ${groups.join(' ')}`,
      );
      const st = fs.readFileSync(`/proc/${ct.pid}/task/${c.tid}/status`, 'utf8');
      for (const set of ['CapEff', 'CapPrm', 'CapInh', 'CapAmb']) {
        assert.equal(BigInt(`0x${new RegExp(`^${set}:\\s*([0-9a-f]+)`, 'm').exec(st)?.[1] ?? 'ff'}`), 0n, `thread ${c.tid} ${set}`);
      }
    }
    const bad = badCarriers(lab, 400, 2);
    lab.inject(lab.A, 'vla', bad);
    assert.ok(await countedBad(ct, bad.length), `capture after the drop: ${describeRun(ct)}`);
    const r = await ct.stop();
    assert.equal(r.code, 1, describeRun(r));
    assert.equal(iface(reportOf(r), `${lab.B}/vlb`).badFrames, bad.length);
  } finally {
    if (ct.running) process.kill(ct.pid, 'SIGKILL');
  }
});

// ------------------------------------------------------------------ names with shell metacharacters

/** Valid interface names (at most 15 bytes, no '/', ':' or whitespace) that run `touch q` if a shell ever sees them. */
const HOSTILE = ['$(touch${IFS}q)', '`touch${IFS}q`', 'a;touch${IFS}q', 'a|touch${IFS}q'];

function injectRaw(ns: string, dev: string, frames: Uint8Array[]): void {
  const input = frames.map((f) => Buffer.from(f).toString('hex')).join('\n') + '\n';
  const r = JSON.parse(nsSh(ns, ['python3', HELPER, 'inject', dev], input)) as { sent: number };
  assert.equal(r.sent, frames.length);
}

test('interfaces and a namespace named with shell metacharacters: captured, shown verbatim, remedies quoted, no shell ever runs them', T, async () => {
  theLab();
  // The namespace's name is hostile too: csumtop passes it to `ip netns exec` (NAT facts).
  const ns = `${uniqueNs('H')}$(touch\${IFS}q)`;
  const remove = createNamespace(ns);
  const markers = [path.join(dir, 'q'), path.join(ROOT, 'q'), '/q', path.join(os.homedir(), 'q')];
  const markersBefore = markers.filter((m) => fs.existsSync(m));
  try {
    HOSTILE.forEach((name, k) => {
      sh('ip', ['-n', ns, 'link', 'add', `hx${k}`, 'type', 'veth', 'peer', 'name', name]);
      sh('ip', ['-n', ns, 'link', 'set', `hx${k}`, 'up']);
      sh('ip', ['-n', ns, 'link', 'set', name, 'up']);
    });
    const ct = new Csumtop(['--netns', ns, '-i', '*', '--json'], { cwd: dir });
    let r;
    try {
      assert.deepEqual(await ct.waitAttached(HOSTILE, 5000), [], describeRun(ct));
      // Bad IPv4 header checksums on each: the ipv4-header-bad finding names the interface in its remedy.
      HOSTILE.forEach((name, k) => {
        const macs: LabMacs = { vla: linkMac(ns, `hx${k}`), vlb: linkMac(ns, name), flannelA: '02:00:00:00:00:01', flannelB: '02:00:00:00:00:02' };
        injectRaw(
          ns,
          `hx${k}`,
          [0, 1, 2].map((i) => faultFrame(macs, 'bad-outer-ipv4', 500 + 10 * k + i)),
        );
      });
      // (The sending ends hx0.. see the frames go out and get findings of their own.)
      const findings = (): JsonLine[] =>
        ct.lines.filter(
          (l) =>
            l.type === 'finding' &&
            l.id === 'ipv4-header-bad' &&
            l.event === 'raised' &&
            HOSTILE.some((n) => (l.subject as { interface: string }).interface === `${ns}/${n}`),
        );
      await ct.waitFor(() => findings().length >= HOSTILE.length, 8000);
      assert.equal(findings().length, HOSTILE.length, `one ipv4-header-bad finding per hostile interface: ${describeRun(ct)}`);
      for (const name of HOSTILE) {
        const f = findings().find((l) => (l.subject as { interface: string }).interface === `${ns}/${name}`);
        assert.ok(f, `no finding naming ${ns}/${name} verbatim`);
        const cmd = (f.remedy as Array<{ command: string }>)[0].command;
        assert.equal(cmd, `ethtool -S ${shellWord(name)} | grep -i -E 'err|csum'`);
        // Pasted into a shell, the quoted name is the name, and nothing runs.
        const echo = spawnSync('sh', ['-c', `printf %s ${shellWord(name)}`], { encoding: 'utf8', cwd: dir });
        assert.equal(echo.stdout, name);
      }
      r = await ct.stop();
    } finally {
      if (ct.running) process.kill(ct.pid, 'SIGKILL');
    }
    assert.equal(r.code, 1, describeRun(r));
    const report = reportOf(r);
    for (const name of HOSTILE) assert.equal(iface(report, `${ns}/${name}`).badFrames, 3, name);
    // NAT facts were read in the hostile namespace (ip netns exec NAME iptables-save ...): as an argument, not shell text.
    assert.doesNotMatch(r.stderr, /touch|syntax error|not found/, r.stderr);

    // The text report shows the names verbatim too.
    const text = spawnSync(BIN, ['--netns', ns, '-i', '*', '--duration', '1'], { encoding: 'utf8', cwd: dir, timeout: 20_000 });
    assert.equal(text.status, 0, text.stderr);
    for (const name of HOSTILE) assert.ok(text.stdout.includes(`Interface ${ns}/${name} (`), `${name} not verbatim in the text report`);
  } finally {
    remove();
  }
  assert.deepEqual(
    markers.filter((m) => fs.existsSync(m)),
    markersBefore,
    'a shell ran a command from an interface or namespace name',
  );
});

test('-r -w over an existing file: replaced and left mode 0600, not its old mode (a symlink: test/unit/cli.test.ts)', () => {
  const out = path.join(dir, 'old.pcap');
  fs.writeFileSync(out, 'an older capture, world-readable\n', { mode: 0o644 });
  fs.chmodSync(out, 0o644);
  const r = spawnSync(BIN, ['-r', INCIDENT, '-w', out], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 1, r.stderr);
  const st = fs.lstatSync(out);
  assert.ok(st.isFile());
  assert.equal((st.mode & 0o777).toString(8), '600', 'the replaced file keeps bad frames of the capture: 0600 like a new one');
  assert.ok(st.size > 24);
});

test("-w -C 1: a symlink planted at the next file's name (FILE1) is refused when rotating: target untouched, a warning, exit 2, FILE valid", T, async () => {
  const lab = theLab();
  const base = path.join(dir, 'rot.pcap');
  const target = path.join(dir, 'victim');
  fs.writeFileSync(target, 'must stay as it is\n');
  fs.symlinkSync(target, `${base}1`);
  // 800 bad datagrams of 1464 bytes: past 1,000,000 bytes, so FILE1 is due.
  const payload = Buffer.alloc(1400, 0x64);
  const frames = Array.from(
    { length: 800 },
    (_, i) => encode(eth(ipv4(UNDERLAY_A, UNDERLAY_B, udp(32000 + i, 9998, payload, 0x3456), { id: i }), { src: lab.macs.vla, dst: lab.macs.vlb })).bytes,
  );
  const ct = new Csumtop(['--netns', lab.B, '-i', 'vlb', '--json', '-w', base, '-C', '1']);
  try {
    assert.deepEqual(await ct.waitAttached(['vlb'], 5000), [], describeRun(ct));
    for (let k = 0; k < frames.length; k += 200) lab.inject(lab.A, 'vla', frames.slice(k, k + 200));
    assert.ok(await ct.waitFor(() => ct.lines.filter((l) => l.type === 'bad').length >= frames.length, 10_000), describeRun(ct));
    const r = await ct.stop();
    assert.equal(r.code, 2, `exit status after a refused rotation: ${describeRun(r)}`);
    assert.match(JSON.stringify(r.lines.filter((l) => l.type === 'warning')), /rot\.pcap1: it is a symbolic link \(refusing to follow it\)/);
    const w = reportOf(r).written!;
    assert.ok(w.frames > 0 && w.frames < frames.length && w.frames + (w.notWritten ?? 0) === frames.length, JSON.stringify(w));
  } finally {
    if (ct.running) process.kill(ct.pid, 'SIGKILL');
  }
  assert.equal(fs.readFileSync(target, 'utf8'), 'must stay as it is\n', 'the symlink target was not touched');
  assert.ok(fs.lstatSync(`${base}1`).isSymbolicLink());
  assert.equal(fs.statSync(base).mode & 0o777, 0o600);
  const td = spawnSync('tcpdump', ['-r', base, '-nn'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  assert.equal(td.status, 0, td.stderr);
});
