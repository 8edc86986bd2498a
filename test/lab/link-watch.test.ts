/**
 * Link discovery through rtnetlink notifications (src/host/link-watch.ts,
 * native/host/link_watch.cc) in namespaces these tests create and remove: links that
 * appear and vanish are applied without listing every link again; lost notifications
 * (ENOBUFS, provoked with a tiny socket buffer) and the periodic resync re-list; and the
 * live source attaches a new interface promptly and detaches a deleted one.
 *
 * Runs as root (CI does); fails, never skips, when it cannot run here.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { LiveSource } from '../../src/capture/live-source.js';
import { LinkTable } from '../../src/host/link-watch.js';
import { createNamespace, labProblem, sh, uniqueNs, until } from './lab.js';

function batch(ns: string, cmds: string[]): void {
  sh('ip', ['-n', ns, '-batch', '-'], cmds.join('\n') + '\n');
}

function names(t: LinkTable): string[] {
  return t
    .links()
    .map((l) => l.name)
    .sort();
}

test('LinkTable: new, changed and deleted links arrive as notifications, without listing again; a bridge port leaving its bridge is not a deletion', () => {
  const problem = labProblem();
  if (problem) assert.fail(problem);
  const ns = uniqueNs('W');
  const remove = createNamespace(ns);
  const table = new LinkTable(`/run/netns/${ns}`, ns, { resyncMs: 3_600_000, retryMs: 1000 });
  try {
    assert.equal(table.update(), true, 'the first update lists the links');
    assert.deepEqual(names(table), ['lo']);
    assert.equal(table.update(), false, 'nothing changed');

    batch(ns, ['link add wa type veth peer name wb', 'link set wa up', 'link add br0 type bridge', 'link set wb master br0']);
    assert.equal(table.update(), true);
    assert.deepEqual(names(table), ['br0', 'lo', 'wa', 'wb']);
    const wa = table.links().find((l) => l.name === 'wa')!;
    assert.equal(wa.up, true, 'the last notification of wa (set up) wins');
    assert.equal(wa.kind, 'veth');
    assert.equal(wa.driver, 'veth', 'ethtool data is read for notified links');
    assert.ok(Object.keys(wa.features).length > 0, 'features of a notified link');

    // The bridge notifies RTM_DELLINK with ifi_family AF_BRIDGE (br_ifinfo_notify) here,
    // followed by an ordinary RTM_NEWLINK for the master change, so this checks the end
    // state; test/unit/link-events.test.ts proves the AF_BRIDGE filter itself.
    batch(ns, ['link set wb nomaster']);
    table.update();
    assert.deepEqual(names(table), ['br0', 'lo', 'wa', 'wb'], 'wb left the bridge but still exists');

    batch(ns, ['link set wa name wz']);
    table.update();
    assert.deepEqual(names(table), ['br0', 'lo', 'wb', 'wz'], 'a rename replaces the name');

    batch(ns, ['link del wz', 'link del br0']);
    assert.equal(table.update(), true);
    assert.deepEqual(names(table), ['lo'], 'deleting a veth end deletes its peer too');

    const s = table.stats();
    assert.equal(s.dumps, 1, `links were listed again (${JSON.stringify(s)}) instead of following notifications`);
    assert.equal(s.overflowResyncs, 0);
    assert.ok(s.notifications >= 6, JSON.stringify(s));
  } finally {
    table.close();
    remove();
  }
});

test('LinkTable: notifications lost to a full socket buffer (ENOBUFS) re-list every link at once; resyncMs re-lists too', () => {
  const problem = labProblem();
  if (problem) assert.fail(problem);
  const ns = uniqueNs('W');
  const remove = createNamespace(ns);
  let clock = 0;
  // rcvbuf 1: the kernel's minimum (SOCK_MIN_RCVBUF), room for about one notification.
  const table = new LinkTable(`/run/netns/${ns}`, ns, { resyncMs: 60_000, retryMs: 1000, rcvbuf: 1, now: () => clock });
  try {
    table.update();
    const pairs = Array.from({ length: 30 }, (_, i) => `ov${i}`);
    batch(
      ns,
      pairs.flatMap((p) => [`link add ${p}a type veth peer name ${p}b`, `link set ${p}a up`]),
    );
    assert.equal(table.update(), true);
    const s = table.stats();
    assert.ok(s.overflows >= 1, `no overflow seen with a tiny buffer: ${JSON.stringify(s)}`);
    assert.equal(s.overflowResyncs, 1, JSON.stringify(s));
    assert.equal(s.dumps, 2, 'one listing at the start, one after the overflow');
    const want = ['lo', ...pairs.flatMap((p) => [`${p}a`, `${p}b`])].sort();
    assert.deepEqual(names(table), want, 'links missing after the resync');
    assert.ok(
      table
        .links()
        .filter((l) => /^ov\d+a$/.test(l.name))
        .every((l) => l.up),
    );

    // No notification, but resyncMs passed: listed again.
    table.update(); // drains what came in during the resync, if anything
    const before = table.stats().dumps;
    clock += 60_000;
    assert.equal(table.update(), true);
    assert.equal(table.stats().dumps, before + 1);
    assert.equal(table.stats().periodicResyncs, 1);
  } finally {
    table.close();
    remove();
  }
});

test('LinkTable: a namespace that does not exist throws its name, and is retried only after retryMs', () => {
  let clock = 0;
  const ns = uniqueNs('Wmissing');
  const table = new LinkTable(`/run/netns/${ns}`, ns, { resyncMs: 60_000, retryMs: 1000, now: () => clock });
  assert.throws(() => table.update(), new RegExp(`no such network namespace: ${ns}`));
  const remove = createNamespace(ns);
  try {
    assert.throws(() => table.update(), /no such network namespace/, 'retried before retryMs');
    clock += 1000;
    assert.equal(table.update(), true);
    assert.deepEqual(names(table), ['lo']);
  } finally {
    table.close();
    remove();
  }
});

test('live source: a new interface is attached within 1 s and a deleted one detached, with no re-listing; a burst that overflows the notifications is attached completely', async (t) => {
  const problem = labProblem();
  if (problem) assert.fail(problem);
  const ns = uniqueNs('W');
  const remove = createNamespace(ns);
  const make = (linkRcvbuf?: number): LiveSource =>
    new LiveSource({
      patterns: ['lw*'],
      namespaces: [{ label: ns, path: `/run/netns/${ns}` }],
      capture: { batchMs: 100, blockSize: 1 << 20, blockCount: 2 },
      rescanMs: 100,
      resyncMs: 3_600_000,
      linkRcvbuf,
    });
  let src: LiveSource | null = null;
  try {
    batch(ns, ['link add lw0a type veth peer name lw0b', 'link set lw0a up', 'link set lw0b up']);
    src = make();
    src.start();
    const attached = (name: string): boolean => src!.interfaces().some((i) => i.name === name && i.attached);
    assert.ok(attached('lw0a') && attached('lw0b'));

    batch(ns, ['link add lw1a type veth peer name lw1b', 'link set lw1a up', 'link set lw1b up']);
    const ms = await until('lw1a/lw1b attached', () => attached('lw1a') && attached('lw1b'), 1000);
    batch(ns, ['link del lw0a']);
    const gone = await until('lw0a/lw0b detached', () => !attached('lw0a') && !attached('lw0b'), 1000);
    const i = src.interfaces().find((x) => x.name === 'lw0a')!;
    assert.match(i.detachReason ?? '', /removed|gone/);
    t.diagnostic(`attached after ${ms} ms, detached after ${gone} ms`);
    const s = src.linkWatchStats();
    assert.equal(s.dumps, 1, `links were listed again: ${JSON.stringify(s)}`);
    await src.stop();
    src.complete();
    src = null;

    // A burst against a tiny notification buffer: the overflow path attaches everything.
    src = make(1);
    src.start();
    const pairs = Array.from({ length: 20 }, (_, k) => `lwb${k}`);
    batch(
      ns,
      pairs.flatMap((p) => [`link add ${p}a type veth peer name ${p}b`, `link set ${p}a up`, `link set ${p}b up`]),
    );
    const want = pairs.flatMap((p) => [`${p}a`, `${p}b`]);
    await until('the burst attached', () => want.every(attached), 2000);
    const s2 = src.linkWatchStats();
    t.diagnostic(`burst: ${JSON.stringify(s2)}`);
    assert.ok(s2.overflowResyncs >= 1, `the burst did not overflow a 1-byte buffer: ${JSON.stringify(s2)}`);
  } finally {
    if (src) {
      await src.stop();
      src.complete();
    }
    remove();
  }
});
