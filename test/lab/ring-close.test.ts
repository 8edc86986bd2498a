/**
 * Stopping a capture closes every ring, also when they are closed on several threads at
 * once (native/capture/packet_ring.cc close_rings(): more than 16 rings are closed in
 * parallel, since each close waits for an RCU grace period, net/packet/af_packet.c
 * packet_release -> synchronize_net). Proven on the kernel's own list of packet sockets
 * (/proc/net/packet of the namespace the rings were opened in) and on this process's
 * descriptors, with the addon driven directly.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { after, before, test } from 'node:test';

import { labProblem, sh } from './lab.js';
import { createLiveCapture, type NativeLiveBatch } from '../../src/native/live.js';

const NS = `csl-rc-${process.pid}`;
const PAIRS = 24; // 48 rings: three closing threads (16 per thread)
const problem = labProblem();

before(() => {
  if (problem) return;
  sh('ip', ['netns', 'add', NS]);
  for (let k = 0; k < PAIRS; k++) sh('ip', ['-n', NS, 'link', 'add', `rc${k}a`, 'type', 'veth', 'peer', 'name', `rc${k}b`]);
});
after(() => {
  if (!problem) spawnSync('ip', ['netns', 'del', NS]);
});

function linkIndex(ns: string, name: string): number {
  return (JSON.parse(sh('ip', ['-n', ns, '-j', 'link', 'show', 'dev', name])) as Array<{ ifindex: number }>)[0].ifindex;
}

/** Packet sockets open in the namespace (the kernel's list, header line aside). */
function packetSockets(): number {
  return sh('ip', ['netns', 'exec', NS, 'cat', '/proc/net/packet']).trim().split('\n').length - 1;
}

/** This process's socket descriptors (a ring is one; the capture thread's epoll and eventfd are not). */
function openSockets(): number {
  let n = 0;
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:')) n++;
    } catch {
      // closed meanwhile (readdir's own descriptor)
    }
  }
  return n;
}

test(`stop() closes all ${PAIRS * 2} rings (closed in parallel): none left in /proc/net/packet, socket descriptors back to where they were`, async () => {
  if (problem) assert.fail(problem);
  const socketsBefore = openSockets();
  assert.equal(packetSockets(), 0, 'a fresh namespace has no packet socket');
  const cap = createLiveCapture({ batchMs: 50, blockSize: 1 << 16, blockCount: 2, events: false }, (_b: NativeLiveBatch) => undefined);
  const names = Array.from({ length: PAIRS }, (_, k) => [`rc${k}a`, `rc${k}b`]).flat();
  const opened = cap.addInterfaces(names.map((name, id) => ({ id, ifindex: linkIndex(NS, name), arphrd: 1, netns: `/run/netns/${NS}` })));
  assert.deepEqual(
    opened.filter((r) => 'error' in r),
    [],
    'every ring opened',
  );
  cap.start();
  assert.equal(packetSockets(), names.length, 'one packet socket per ring');
  assert.equal(openSockets(), socketsBefore + names.length, 'each ring holds a socket descriptor');
  // stop() joins the capture thread, which closes the rings, and hands over its final
  // batch itself (it no longer comes through onBatch).
  cap.stop();
  assert.equal(packetSockets(), 0, 'every ring was closed');
  assert.equal(openSockets(), socketsBefore, 'every ring descriptor closed');
});
