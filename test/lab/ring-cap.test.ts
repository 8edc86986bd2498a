/**
 * The cap on ring memory for interfaces that appear while csumtop runs (issue 17 item
 * 11): all rings together stay within LiveSource's ringMemoryCap (half the host's memory
 * in the CLI). An interface past the cap is not attached, with a warning naming it; the
 * ones attached go on; once others vanish, there is room again and it is attached. The
 * cap is given small here (three 2 MiB rings) so the test allocates almost nothing.
 *
 * Runs as root (CI does); fails, never skips, when it cannot run here.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { LiveSource } from '../../src/capture/live-source.js';
import { createNamespace, labProblem, sh, uniqueNs, until } from './lab.js';

function batch(ns: string, cmds: string[]): void {
  sh('ip', ['-n', ns, '-batch', '-'], cmds.join('\n') + '\n');
}

test('interfaces appearing past the ring-memory cap are not attached, with a warning naming them; attached later when others vanish', async () => {
  const problem = labProblem();
  if (problem) assert.fail(problem);
  const ns = uniqueNs('R');
  const remove = createNamespace(ns);
  const ring = 2 << 20; // 1 MiB blocks x 2
  const warnings: string[] = [];
  let src: LiveSource | null = null;
  try {
    batch(ns, ['link add rc0a type veth peer name rc0b', 'link set rc0a up', 'link set rc0b up']);
    src = new LiveSource({
      patterns: ['rc*'],
      namespaces: [{ label: ns, path: `/run/netns/${ns}` }],
      capture: { batchMs: 100, blockSize: 1 << 20, blockCount: 2 },
      rescanMs: 100,
      resyncMs: 3_600_000,
      ringMemoryCap: 3 * ring,
    });
    src.warnings$.subscribe((w) => warnings.push(w));
    src.start();
    const attached = (name: string): boolean => src!.interfaces().some((i) => i.name === name && i.attached);
    assert.ok(attached('rc0a') && attached('rc0b'), 'two rings of three fit');

    // Two more appear: room for one.
    batch(ns, ['link add rc1a type veth peer name rc1b', 'link set rc1a up', 'link set rc1b up']);
    await until('a ring-memory warning', () => warnings.some((w) => w.startsWith('ring memory:')), 3000);
    const w = warnings.find((x) => x.startsWith('ring memory:'))!;
    const newOnes = ['rc1a', 'rc1b'];
    const inNow = newOnes.filter(attached);
    const left = newOnes.filter((n) => !attached(n));
    assert.equal(inNow.length, 1, `one of the two attached: ${JSON.stringify(src.interfaces().map((i) => [i.name, i.attached]))}`);
    assert.match(
      w,
      new RegExp(
        `^ring memory: 1 new interfaces not attached \\(${left[0]}\\): 2 MiB per ring \\(--ring-mb\\) x 4 interfaces = 8 MiB, more than half of this host's memory \\(6 MiB\\)$`,
      ),
    );
    assert.equal(src.interfaces().filter((i) => i.attached).length, 3, 'never more rings than the cap holds');

    // The first pair vanishes: room for the one left out, attached at the next scan.
    batch(ns, ['link del rc0a']);
    await until(`${left[0]} attached once rc0a/rc0b are gone`, () => attached(left[0]) && !attached('rc0a') && !attached('rc0b'), 3000);
    assert.equal(src.interfaces().filter((i) => i.attached).length, 2);
  } finally {
    if (src) {
      await src.stop();
      src.complete();
    }
    remove();
  }
});
