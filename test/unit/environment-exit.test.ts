/**
 * Issue 17, item 11: exit statuses that lied. A namespace csumtop is not allowed to open
 * (`--pid 1`, `--netns` as nobody) is "not allowed" (3), not a usage error; an
 * environment variable csumtop cannot use (CSUMTOP_THREADS, CSUMTOP_CSUM_PATH) is a usage
 * error (2) naming it, never silently replaced by the default.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import { checksumPaths } from '../../src/native/checksum.js';
import { BIN } from '../fixtures/harness.js';

const EXAMPLE = path.join(path.dirname(BIN), '..', 'examples', 'incident.pcapng');

function nobody(): { uid: number; gid: number } {
  const m = /^nobody:[^:]*:(\d+):(\d+):/m.exec(fs.readFileSync('/etc/passwd', 'utf8'));
  assert.ok(m, 'no user nobody in /etc/passwd');
  return { uid: Number(m[1]), gid: Number(m[2]) };
}

test('--pid 1 and --netns of a namespace nobody may not open exit 3 (not allowed), with the reason', () => {
  assert.equal(process.getuid?.(), 0, 'run as root (like CI): the test runs csumtop as nobody');
  const { uid, gid } = nobody();
  for (const args of [
    ['--pid', '1'],
    ['--netns', '/proc/1/ns/net'],
  ]) {
    const r = spawnSync(BIN, [...args, '--duration', '1', '--json'], { uid, gid, encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 3, `${args.join(' ')} as nobody: ${r.stderr}`);
    assert.match(r.stderr, /permission denied opening network namespace .*\(need root or CAP_SYS_ADMIN\)/);
  }
  // Still 2 when the namespace does not exist: that is not a matter of rights.
  const r = spawnSync(BIN, ['--netns', 'csumtop-no-such-ns', '--duration', '1'], { uid, gid, encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /no such network namespace/);
});

test('an unusable CSUMTOP_THREADS or CSUMTOP_CSUM_PATH is a usage error naming it (exit 2); a usable one is honoured', () => {
  const unavailable = checksumPaths().find((p) => !p.available)?.name; // neon on x86, avx2 on arm64
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ CSUMTOP_THREADS: 'many' }, /CSUMTOP_THREADS: 'many' is not a whole number between 1 and 4096/],
    [{ CSUMTOP_THREADS: '0' }, /CSUMTOP_THREADS: '0' is not a whole number/],
    [{ CSUMTOP_THREADS: '2x' }, /CSUMTOP_THREADS: '2x' is not a whole number/],
    [{ CSUMTOP_CSUM_PATH: 'fastest' }, /CSUMTOP_CSUM_PATH: 'fastest' is not a checksum engine \(available here: scalar, /],
  ];
  if (unavailable !== undefined)
    bad.push([{ CSUMTOP_CSUM_PATH: unavailable }, new RegExp(`CSUMTOP_CSUM_PATH: '${unavailable}' cannot run on this CPU or build`)]);
  for (const [env, message] of bad) {
    const r = spawnSync(BIN, ['-r', EXAMPLE], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 2, `${JSON.stringify(env)}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stdout, '', 'no report from a run that was refused');
  }
  const ok = spawnSync(BIN, ['-r', EXAMPLE, '--json'], {
    env: { ...process.env, CSUMTOP_THREADS: '3', CSUMTOP_CSUM_PATH: 'scalar' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(ok.status, 1, ok.stderr);
  assert.equal((JSON.parse(ok.stdout) as { tool: { checksumPath: string } }).tool.checksumPath, 'scalar');
});

test('--user clears the capability bounding set of the running process (CapBnd 0), as it does every other set', async () => {
  assert.equal(process.getuid?.(), 0, 'run as root (like CI): --user needs it');
  const { spawn } = await import('node:child_process');
  const child = spawn(BIN, ['-i', 'lo', '--duration', '4', '--json', '--user', 'nobody'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  // The drop happens once capture has started: wait for the first interface line.
  const deadline = Date.now() + 15_000;
  while (!/"type":"interface"/.test(out) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 300));
  const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.ok(/"type":"interface"/.test(out), `capture did not start: ${err}`);
  assert.equal(/^Uid:\s*(\d+)/m.exec(status)?.[1], String(nobody().uid), 'running as nobody');
  assert.equal(/^CapBnd:\s*([0-9a-f]+)/m.exec(status)?.[1], '0000000000000000', status);
  assert.equal(/^CapEff:\s*([0-9a-f]+)/m.exec(status)?.[1], '0000000000000000');
  assert.ok(code === 0 || code === 1, `exit ${code}: ${err}`);
});

test("ring memory beyond half of this host's memory (--ring-mb x --threads x interfaces) is refused before any ring is allocated: exit 2, a clear message", async () => {
  const { ringMemoryCap } = await import('../../src/capture/live-source.js');
  const cap = ringMemoryCap();
  assert.ok(cap !== null && cap > 0, 'MemTotal from /proc/meminfo');
  // 4 GiB rings on lo, with enough capture threads to pass the cap (at most 64).
  const threads = Math.floor(cap / 2 ** 32) + 1;
  assert.ok(threads <= 64, `this host has too much memory for the test (${cap} bytes as the cap)`);
  const start = Date.now();
  const r = spawnSync(BIN, ['-i', 'lo', '--ring-mb', '4096', '--threads', String(threads), '--duration', '1', '--json'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(
      `ring memory: 4096 MiB per ring \\(--ring-mb\\)${threads > 1 ? ` x ${threads} threads` : ''} x 1 interfaces = ${4096 * threads} MiB, more than half of this host's memory \\(\\d+ MiB\\): lower --ring-mb or select fewer interfaces with -i`,
    ),
  );
  assert.doesNotMatch(r.stdout, /"type":"interface"/, 'nothing was attached');
  assert.ok(Date.now() - start < 20_000, `refused in ${Date.now() - start} ms`);
});
