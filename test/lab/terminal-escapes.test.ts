/**
 * Terminal escape injection through live interface names (issue 17): anyone with
 * CAP_NET_ADMIN in a pod's network namespace names its interfaces, and Linux accepts
 * ESC, BEL and backspace in a name (net/core/dev.c dev_valid_name() refuses only '/',
 * ':' and whitespace). csumtop's live text output (the stats line of every interval and
 * the report) shows such names escaped (src/output/printable.ts), and nothing it prints
 * carries a control character. (Files, the dashboard and the cluster table:
 * test/unit/printable.test.ts.)
 *
 * Runs as root (CI does); fails, never skips, when it cannot run here.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Csumtop, createNamespace, describeRun, labProblem, sh, sleep, uniqueNs } from './lab.js';

/** Valid names (at most 15 bytes): clear screen + bell, and backspaces + a window title. */
const NAMES = ['e\x1b[2J\x07x', 'b\x08\x08\x1b]0;t\x07'];
const ESCAPED = ['e\\x1b[2J\\x07x', 'b\\x08\\x08\\x1b]0;t\\x07'];
/** Any character a terminal acts on, except the line feeds between lines. */
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

test('live interfaces named with ESC, BEL and backspaces: the stats lines and the report show them escaped, no control character is printed', async () => {
  const problem = labProblem();
  if (problem) assert.fail(problem);
  const ns = uniqueNs('E');
  const remove = createNamespace(ns);
  try {
    sh('ip', ['-n', ns, 'link', 'add', NAMES[0], 'type', 'veth', 'peer', 'name', NAMES[1]]);
    for (const n of NAMES) sh('ip', ['-n', ns, 'link', 'set', n, 'up']);
    // Text mode without --duration: one stats line per interface per interval, then the report.
    const ct = new Csumtop(['--netns', ns, '-i', '*', '--interval', '1']);
    let r;
    try {
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && ct.running && !ESCAPED.every((e) => ct.stdout.includes(` ${ns}/${e}`))) await sleep(100);
      r = await ct.stop();
    } finally {
      if (ct.running) process.kill(ct.pid, 'SIGKILL');
    }
    assert.equal(r.code, 0, describeRun(r));
    assert.doesNotMatch(r.stdout, CONTROL, `a control character reached standard output: ${JSON.stringify(r.stdout.slice(0, 2000))}`);
    assert.doesNotMatch(r.stderr, CONTROL, JSON.stringify(r.stderr));
    for (const e of ESCAPED) {
      assert.match(
        r.stdout,
        new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${ns}/${e.replace(/[\\[\]]/g, '\\$&')}\\s+\\d+ pkt/s`, 'm'),
        `no stats line for ${e}: ${describeRun(r)}`,
      );
      assert.ok(r.stdout.includes(`Interface ${ns}/${e} (namespace ${ns}, veth`), `${e} not in the report: ${describeRun(r)}`);
    }
  } finally {
    remove();
  }
});

test('--json: interfaces named with DEL and a C1 CSI (U+009B) come out as \\u escapes, and JSON.parse gives the names back', async () => {
  const problem = labProblem();
  if (problem) assert.fail(problem);
  const ns = uniqueNs('E');
  const remove = createNamespace(ns);
  // DEL, then U+009B (CSI to a terminal that honours C1 controls, as UTF-8 c2 9b) and SGR red.
  const names = ['j\x7fk', 'c\u009b31m'];
  try {
    sh('ip', ['-n', ns, 'link', 'add', names[0], 'type', 'veth', 'peer', 'name', names[1]]);
    for (const n of names) sh('ip', ['-n', ns, 'link', 'set', n, 'up']);
    const ct = new Csumtop(['--netns', ns, '-i', '*', '--json', '--interval', '1']);
    let r;
    try {
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && ct.running && names.some((n) => !ct.lines.some((l) => l.type === 'interface' && l.interface === n && l.namespace === ns)))
        await sleep(100);
      r = await ct.stop();
    } finally {
      if (ct.running) process.kill(ct.pid, 'SIGKILL');
    }
    assert.equal(r.code, 0, describeRun(r));
    assert.doesNotMatch(r.stdout, CONTROL, `a control character reached standard output: ${JSON.stringify(r.stdout.slice(0, 2000))}`);
    for (const n of names) {
      const escaped = JSON.stringify(n).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
      assert.ok(r.stdout.includes(escaped), `${escaped} not in the JSON lines: ${describeRun(r)}`);
      assert.ok(
        ct.lines.some((l) => l.type === 'interface' && l.interface === n && l.namespace === ns),
        `JSON.parse does not give ${JSON.stringify(n)} back`,
      );
    }
  } finally {
    remove();
  }
});
