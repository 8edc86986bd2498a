/**
 * Remedies are commands to paste into a shell, built with this host's interface and
 * namespace names, which may hold shell metacharacters (Linux refuses only '/', ':' and
 * whitespace in an interface name). Each name must come back verbatim from a real shell
 * and run nothing; udev rules are not written for names udev cannot match literally.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

import { shellWord, txChecksumOff, udevPersist } from '../../src/diagnose/remedies.js';

const NAMES = ['flannel.1', 'eth0', '$(touch q)', '`touch q`', 'a;touch q', 'a|touch q', "it's", 'a"b', 'x\\y', '-n', '*', 'a$IFS'];

test('shellWord: every name comes back verbatim from sh and runs nothing; plain names are left as they are', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csumtop-quote-'));
  try {
    for (const name of NAMES) {
      const r = spawnSync('sh', ['-c', `printf '%s' ${shellWord(name)}`], { encoding: 'utf8', cwd: dir });
      assert.equal(r.stdout, name, `${name} -> ${shellWord(name)}`);
    }
    assert.deepEqual(fs.readdirSync(dir), [], 'a quoted name ran a command');
    assert.equal(shellWord('flannel.1'), 'flannel.1');
    assert.equal(shellWord('cni-1234'), 'cni-1234');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('remedy commands quote the device; no udev rule for a name udev cannot match literally', () => {
  assert.equal(txChecksumOff('this node', 'flannel.1', 'why').command, 'ethtool -K flannel.1 tx-checksum-ip-generic off');
  assert.equal(txChecksumOff('this node', 'a;b', 'why').command, "ethtool -K 'a;b' tx-checksum-ip-generic off");
  assert.match(udevPersist('flannel.1', 'tx off'), /ENV\{INTERFACE\}=="flannel\.1", RUN\+="\/usr\/sbin\/ethtool -K flannel\.1 tx off"/);
  for (const bad of ['a"b', 'x$(id)', 'a*b']) assert.match(udevPersist(bad, 'tx off'), /^no udev rule: /, bad);
});
