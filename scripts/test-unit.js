#!/usr/bin/env node
// `npm run test:unit`: the fast tier (issue 15, docs/testing.md). Every test file of
// test/unit/ except those FULL_ONLY names, plus the pure dashboard and fixture-library
// tests: no root, no network namespace, no lab, no wait longer than a few hundred ms;
// about 35 s of CPU time (docs/testing.md). `npm test` runs everything, these included.
// Run `npx tsc -p tsconfig.json` first (it runs the compiled tests in dist/).
// Usage: node scripts/test-unit.js [--list]   (--list: print the files, run nothing)
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const unit = path.join(root, 'dist', 'test', 'unit');

/**
 * test/unit files left to `npm test`, and why. A new unit test joins the fast tier
 * unless it is added here: one that needs root or a namespace fails there as non-root
 * (that is how this list was checked: every other file passes as `nobody`).
 */
const FULL_ONLY = {
  'capture-file.test.js': 'slow (25 s): files cut at every byte position, tshark/tcpdump/editcap cross-checks',
  'cli-habits.test.js': 'slow (20 s): every filter and -c case against tcpdump reading the same file',
  'cli.test.js': 'root: live capture on loopback',
  'cluster.test.js': 'waits (9 s): Prometheus servers that never answer or stall, until --timeout',
  'deploy.test.js': 'external tools (10 s): promtool check and test rules, the Dockerfile runtime stage',
  'environment-exit.test.js': 'root: --user and namespaces nobody may open',
  'file-analysis.test.js': 'slow (40 s): several threads against one on large files',
  'file-run-ahead.test.js': 'slow (22 s): one thread against a step ahead on 50,000-frame captures, whole reports',
  'format.test.js': 'lint (50 s): prettier, clang-format and ESLint over the whole tree (`npm run lint` is ESLint alone)',
  'host-facts.test.js': 'root: a namespace with veth and VXLAN devices, ethtool -K',
  'host-links.test.js': 'root: namespaces with every kind of link',
  'host-snmp.test.js': 'root: namespaces, the kernel counters of sent frames',
  'list-cap.test.js': 'slow (45 s): more than 100,000 listed bad frames, twice',
  'nat-rules.test.js': 'root: iptables and nft rule sets in a namespace',
  'output-file.test.js': 'root: files another user owns, a full disk',
  'pcapng-parallel.test.js': 'slow (60-120 s): 50 MB pcapng files read with 1, 2 and 4 threads, with and without correlation',
  'progress.test.js': 'waits (6 s): progress lines of a long read under script(1)',
};

/** Fast tests outside test/unit: the dashboard reducer and panes, the fixture builders. */
const ALSO = ['test/ui/dashboard-state.test.js', 'test/ui/format.test.js', 'test/fixtures/lib.test.js'];

function fastFiles() {
  if (!fs.existsSync(unit)) throw new Error(`${unit} is missing: run npx tsc -p tsconfig.json first`);
  const all = fs.readdirSync(unit).filter((f) => f.endsWith('.test.js'));
  // A stale entry would silently move nothing: say so instead.
  const stale = Object.keys(FULL_ONLY).filter((f) => !all.includes(f));
  if (stale.length > 0) throw new Error(`scripts/test-unit.js FULL_ONLY names files that do not exist: ${stale.join(', ')}`);
  const also = ALSO.map((f) => path.join(root, 'dist', f));
  const missing = also.filter((f) => !fs.existsSync(f));
  if (missing.length > 0) throw new Error(`missing: ${missing.join(', ')}`);
  return [
    ...all
      .filter((f) => !(f in FULL_ONLY))
      .sort()
      .map((f) => path.join(unit, f)),
    ...also,
  ];
}

let files;
try {
  files = fastFiles();
} catch (err) {
  process.stderr.write(`test:unit: ${err.message}\n`);
  process.exit(2);
}
if (process.argv.includes('--list')) {
  for (const f of files) console.log(path.relative(root, f));
  process.exit(0);
}
// Files run side by side on all cores but one (node --test's default; the files share
// nothing). Not on every core: a few tests time CPU (the dashboard's CPU meter) and a
// second file on the last core starves them on a small, busy machine.
const r = spawnSync(process.execPath, ['--test', ...files], { stdio: 'inherit', cwd: root });
process.exit(r.status ?? 1);
