/**
 * Issue 15: "not allowed" is decided from the errno, never from message text. A host
 * reader that cannot open or enter a network namespace throws an Error whose `code` is
 * the errno's name (native/napi/host_napi.cc netns_error): EACCES opening a namespace of
 * a process we may not inspect, EPERM entering one without CAP_SYS_ADMIN, ENOENT for no
 * such namespace, EINVAL for a file that is no network namespace. `namespaceRefused`
 * and the exit status (3 against 2) follow the code.
 *
 * No root needed: the refusals are those of an unprivileged user. Run as root (as CI
 * does), the checks run in a child as `nobody`; otherwise in a child as the current user.
 */
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import { listLinks } from '../../src/host/links.js';
import { namespaceRefused } from '../../src/native/host.js';
import { BIN } from '../fixtures/harness.js';

/** Spawn options that run a child unprivileged: as nobody when we are root. */
function unprivileged(): SpawnSyncOptions {
  if (process.getuid?.() !== 0) return {};
  const m = /^nobody:[^:]*:(\d+):(\d+):/m.exec(fs.readFileSync('/etc/passwd', 'utf8'));
  assert.ok(m, 'no user nobody in /etc/passwd: cannot drop root for this test');
  return { uid: Number(m[1]), gid: Number(m[2]) };
}

interface Outcome {
  message: string | null;
  code: unknown;
  refused: boolean;
}

/** What listLinks(ns) throws in an unprivileged child. */
function unprivilegedListLinks(ns: string): Outcome {
  const script =
    `const { listLinks } = require(${JSON.stringify(require.resolve('../../src/host/links.js'))});` +
    `const { namespaceRefused } = require(${JSON.stringify(require.resolve('../../src/native/host.js'))});` +
    `let out = { message: null, code: null, refused: false };` +
    `try { listLinks(${JSON.stringify(ns)}); } catch (e) { out = { message: e.message, code: e.code ?? null, refused: namespaceRefused(e) }; }` +
    `process.stdout.write(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ['-e', script], { ...unprivileged(), encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, `child for ${ns}: ${String(r.stderr)}`);
  return JSON.parse(String(r.stdout)) as Outcome;
}

test('opening a namespace we may not inspect: code EACCES, refused', () => {
  // /proc/1/ns/net: the namespace file of a root process; opening it needs
  // PTRACE_MODE_READ on that process (fs/proc/namespaces.c), which an unprivileged user lacks.
  const o = unprivilegedListLinks('/proc/1/ns/net');
  assert.equal(o.code, 'EACCES', JSON.stringify(o));
  assert.equal(o.refused, true);
  assert.match(o.message ?? '', /^permission denied opening network namespace \/proc\/1\/ns\/net/);
});

test('entering a namespace without CAP_SYS_ADMIN: code EPERM, refused', () => {
  // Its own namespace file opens, but setns(2) needs CAP_SYS_ADMIN over the namespace.
  const o = unprivilegedListLinks('/proc/self/ns/net');
  assert.equal(o.code, 'EPERM', JSON.stringify(o));
  assert.equal(o.refused, true);
  assert.match(o.message ?? '', /^need CAP_SYS_ADMIN to enter network namespace \/proc\/self\/ns\/net/);
});

test('no such namespace (ENOENT) and not a network namespace (EINVAL) are not refusals', () => {
  const cases: Array<[string, string]> = [
    ['/nonexistent/ns/net', 'ENOENT'],
    [`csumtop-no-such-ns-${process.pid}`, 'ENOENT'],
    ['/proc/self/ns/mnt', 'EINVAL'],
  ];
  for (const [ns, code] of cases) {
    assert.throws(
      () => listLinks(ns),
      (e: Error & { code?: string }) => e.code === code && !namespaceRefused(e),
      `${ns}: code ${code}, not refused`,
    );
  }
  // Not a namespace error at all: no code, not a refusal.
  assert.equal(namespaceRefused(new Error('permission denied opening network namespace x (need root or CAP_SYS_ADMIN)')), false);
  assert.equal(namespaceRefused('EPERM'), false);
});

test('csumtop -D --netns: exit 3 when the namespace is refused, 2 when there is none', () => {
  const opts = { ...unprivileged(), encoding: 'utf8' as const, timeout: 30_000, cwd: path.dirname(BIN) };
  for (const ns of ['/proc/1/ns/net', '/proc/self/ns/net']) {
    const r = spawnSync(BIN, ['-D', '--netns', ns], opts);
    assert.equal(r.status, 3, `-D --netns ${ns}: ${r.stderr}`);
    assert.match(r.stderr, /permission denied opening|need CAP_SYS_ADMIN/);
  }
  const r = spawnSync(BIN, ['-D', '--netns', `csumtop-no-such-ns-${process.pid}`], opts);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /no such network namespace/);
});

test('a live ring in a namespace we may not open or enter: code EPERM (from the errno), not ECAPTURE', () => {
  // The capture engine opens rings in other namespaces on its own thread (native/capture/
  // live_capture.cc open_in_netns); its errno decides the code (live_napi.cc ErrorCode).
  const script =
    `const { createLiveCapture } = require(${JSON.stringify(require.resolve('../../src/native/live.js'))});` +
    `const cap = createLiveCapture({ batchMs: 50, blockSize: 1 << 16, blockCount: 2, events: false }, () => undefined);` +
    `const res = cap.addInterfaces([` +
    `{ id: 1, ifindex: 1, arphrd: 772, netns: '/proc/1/ns/net' },` +
    `{ id: 2, ifindex: 1, arphrd: 772, netns: '/proc/self/ns/net' },` +
    `{ id: 3, ifindex: 1, arphrd: 772, netns: '/nonexistent/ns/net' }]);` +
    `cap.stop();` +
    `process.stdout.write(JSON.stringify(res));`;
  const r = spawnSync(process.execPath, ['-e', script], { ...unprivileged(), encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, String(r.stderr));
  const res = JSON.parse(String(r.stdout)) as Array<{ error?: string; code?: string }>;
  assert.equal(res[0].code, 'EPERM', JSON.stringify(res[0]));
  assert.match(res[0].error ?? '', /cannot open network namespace \/proc\/1\/ns\/net/);
  assert.equal(res[1].code, 'EPERM', JSON.stringify(res[1]));
  assert.match(res[1].error ?? '', /cannot enter network namespace \/proc\/self\/ns\/net/);
  assert.equal(res[2].code, 'ECAPTURE', 'no such namespace is not a refusal');
});
