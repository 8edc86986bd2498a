/**
 * Terminal escape injection (issue 17): strings from a capture file, a packet, the kernel
 * or Prometheus reach the terminal only through src/output/printable.ts. A pcapng whose
 * if_name holds ESC sequences (clear screen, window title, a carriage return and a fake
 * verdict, an 8-bit CSI, a right-to-left override) is read by `csumtop -r` with and
 * without --list; the dashboard's cells and the cluster table get the same names. (Live
 * interface names with control bytes: test/lab/terminal-escapes.test.ts.)
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { buildClusterView, renderClusterView } from '../../src/cluster/view.js';
import { printable, printableLines } from '../../src/output/printable.js';
import { initialState, reduce } from '../../src/ui/dashboard-state.js';
import { renderDashboard } from '../../src/ui/format.js';
import { BIN } from '../fixtures/harness.js';
import { encode, eth, ipv4, pcapngFile, udp, vxlan } from '../fixtures/lib/index.js';
import { RUN, update } from '../ui/synthetic.js';

/** What a hostile file or pod can name an interface: every trick at once. */
export const HOSTILE_NAME = 'eth0\x1b[2J\x1b]0;owned\x07\r[OK] no bad checksums\n\x9b31m\u202e';
const HOSTILE_ESCAPED = 'eth0\\x1b[2J\\x1b]0;owned\\x07\\x0d[OK] no bad checksums\\x0a\\x9b31m\\u{202e}';

/** Any character a terminal acts on, except the line feeds between lines. */
export const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

let dir: string;

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'csumtop-printable-'));
  const inner = eth(ipv4('10.244.1.2', '10.96.0.10', udp(40000, 53, Buffer.from('query'))));
  const bad = encode(eth(ipv4('192.168.189.4', '192.168.189.5', udp(51000, 8472, vxlan(1, inner), 0xbd67)))).bytes;
  const T0 = 1_700_000_000_000_000_000n;
  // Interface 1 has a link type csumtop does not decode: its name is in the report too.
  writeFileSync(
    path.join(dir, 'hostile-names.pcapng'),
    pcapngFile(
      [
        { linktype: 1, name: HOSTILE_NAME, tsresol: 9 },
        { linktype: 147, name: 'dlt\x1b[5mblink\x1b[0m' },
      ],
      [
        { tsNs: T0, data: bad, wirelen: bad.length, iface: 0 },
        { tsNs: T0 + 1000n, data: bad, wirelen: bad.length, iface: 1 },
      ],
    ),
  );
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('printable(): controls as \\xHH, bidi overrides and lone surrogates as \\u{HHHH}; clean text, non-ASCII and dig-escaped DNS names unchanged; idempotent', () => {
  assert.equal(printable(HOSTILE_NAME), HOSTILE_ESCAPED);
  assert.equal(printable('\x00\x1f\x7f\x80\x9f'), '\\x00\\x1f\\x7f\\x80\\x9f');
  assert.equal(printable('a\u2066b\u2069c\u2028d\u061c'), 'a\\u{2066}b\\u{2069}c\\u{2028}d\\u{061c}');
  assert.equal(printable('x\ud800y'), 'x\\u{d800}y', 'a lone surrogate');
  for (const clean of ['eth0', 'nsb/flannel.1', 'wlp0s20f3', 'Grüße-😀', 'a\\b', 'weird\\032name\\.example.', '$(touch${IFS}q)']) {
    assert.equal(printable(clean), clean);
  }
  assert.equal(printable(printable(HOSTILE_NAME)), HOSTILE_ESCAPED, 'escaping twice changes nothing');
  assert.equal(printableLines('one\x1b[1m\ntwo\r'), 'one\\x1b[1m\ntwo\\x0d');
});

test('-r of a pcapng whose if_name holds ESC sequences: the report, --list and standard error carry no control character; the name is shown escaped', () => {
  const file = path.join(dir, 'hostile-names.pcapng');
  for (const args of [
    ['-r', file],
    ['-r', file, '--list'],
  ]) {
    const r = spawnSync(BIN, args, { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 1, r.stderr);
    assert.doesNotMatch(r.stdout, CONTROL, `${args.join(' ')}: a control character reached standard output`);
    assert.doesNotMatch(r.stderr, CONTROL);
    assert.ok(r.stdout.includes(`Interface ${HOSTILE_ESCAPED} (Ethernet): 1 frames, 1 with bad checksums`), r.stdout);
    assert.ok(r.stdout.includes('Interface dlt\\x1b[5mblink\\x1b[0m (link type 147)'), r.stdout);
    // The flow line, the finding's evidence and (with --list) the frame line name it escaped.
    assert.ok(r.stdout.includes(`1  ${HOSTILE_ESCAPED}  192.168.189.4:51000 > 192.168.189.5:8472 udp`), r.stdout);
    assert.ok(r.stdout.includes(`carriers: 1 (${HOSTILE_ESCAPED})`), r.stdout);
    if (args.includes('--list')) assert.ok(r.stdout.includes(`Z ${HOSTILE_ESCAPED} 192.168.189.4:51000`), r.stdout);
    // The fake verdict stays inside its line: it never starts one.
    assert.doesNotMatch(r.stdout, /^\[OK\]/m);
  }
  // --json keeps the exact bytes (a program reads it; JSON escapes the controls itself).
  const j = spawnSync(BIN, ['-r', file, '--json'], { encoding: 'utf8', timeout: 20_000 });
  const doc = JSON.parse(j.stdout) as { interfaces: Array<{ name: string }> };
  assert.equal(doc.interfaces[0].name, HOSTILE_NAME);
});

test('dashboard: an interface label, a flow interface and a warning with control characters are shown escaped, every line exactly the width', () => {
  const u = update();
  u.snapshot.rates[0].interface = `nsb/${HOSTILE_NAME}`;
  u.interfaces[0].label = `nsb/${HOSTILE_NAME}`;
  u.snapshot.badFlows[0].interface = `nsb/${HOSTILE_NAME}`;
  let s = reduce(initialState(RUN), { type: 'update', update: u }).state;
  s = reduce(s, { type: 'warning', text: `interface ${HOSTILE_NAME} vanished` }).state;
  for (const [width, height] of [
    [80, 24],
    [200, 60],
  ]) {
    const lines = renderDashboard(s, { width, height, ascii: false });
    for (const l of lines) {
      assert.doesNotMatch(l.text, CONTROL, `a control character in the dashboard: ${JSON.stringify(l.text)}`);
      assert.equal(l.text.length, width, JSON.stringify(l.text));
    }
    const all = lines.map((l) => l.text).join('\n');
    assert.match(all, /nsb\/eth0\\x1b\[2J/, 'the interface row shows the name escaped');
    assert.match(all, /interface eth0\\x1b\[2J/, 'the warning line shows it escaped');
  }
});

test('cluster table: label values from Prometheus with control characters are escaped, the columns stay aligned', () => {
  const sample = (metric: Record<string, string>, value: number): { metric: Record<string, string>; value: number } => ({ metric, value });
  const node = 'node-a\x1b[2J';
  const peer = '10.0.0.2\x1b]0;t\x07';
  const view = buildClusterView(
    {
      bad: [sample({ instance: node, peer, direction: 'received' }, 5)],
      total: [sample({ instance: node, peer, direction: 'received' }, 10)],
      badChecksums: [sample({ instance: node }, 5)],
      kernel: [],
      drops: [],
      findings: [sample({ instance: node, id: 'vxlan-outer-bad-from-peer', severity: 'critical', subject: `${peer}\r[OK]` }, 1)],
    },
    { prometheus: 'http://prometheus:9090/', window: '5m', time: '2026-12-06T00:00:00Z' },
  );
  const text = renderClusterView(view);
  assert.doesNotMatch(text, CONTROL, text);
  assert.match(text, /^node\s+10\.0\.0\.2\\x1b\]0;t\\x07$/m, 'the peer column header');
  assert.match(text, /^node-a\\x1b\[2J {2}5\/10$/m);
  assert.match(text, /critical {2}vxlan-outer-bad-from-peer {2}10\.0\.0\.2\\x1b\]0;t\\x07\\x0d\[OK\] {2}node-a\\x1b\[2J$/m);
});
