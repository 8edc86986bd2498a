/**
 * The completions and the man page are made from the flag table (src/cli/flags.ts) by
 * scripts/gen-cli-docs.js: the committed files must be exactly what it makes now (else:
 * run `npx tsc -p tsconfig.json && node scripts/gen-cli-docs.js`), they must cover every
 * flag the parser accepts, the bash completion must complete in bash, and the man page
 * must render without a groff warning. The npm package ships them.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

import { bashCompletion, CLI_DOC_FILES, manPage, zshCompletion } from '../../src/cli/cli-docs.js';
import { FLAGS, parseArgsOptions, type Flag } from '../../src/cli/flags.js';
import { ROOT } from '../fixtures/harness.js';

const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; files: string[] };

/** Every spelling the parser accepts, from its own options. */
function parserSpellings(): string[] {
  return Object.entries(parseArgsOptions())
    .flatMap(([long, o]) => [`--${long}`, ...(o.short ? [`-${o.short}`] : [])])
    .sort();
}

test('the committed completions and man page are what scripts/gen-cli-docs.js makes from the flag table', () => {
  const made = { bash: bashCompletion(), zsh: zshCompletion(), man: manPage(pkg.version) };
  for (const [kind, rel] of Object.entries(CLI_DOC_FILES) as Array<[keyof typeof made, string]>) {
    assert.equal(readFileSync(path.join(ROOT, rel), 'utf8'), made[kind], `${rel} is stale: run npx tsc -p tsconfig.json && node scripts/gen-cli-docs.js`);
  }
  // The script writes the same (it is what the message above tells people to run), here
  // into a scratch directory: a test must not rewrite the files it checks.
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'csumtop-gen-'));
  try {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'gen-cli-docs.js'), tmp], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    for (const rel of Object.values(CLI_DOC_FILES)) assert.equal(readFileSync(path.join(tmp, rel), 'utf8'), readFileSync(path.join(ROOT, rel), 'utf8'), rel);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  // In the npm package.
  for (const rel of Object.values(CLI_DOC_FILES)) {
    assert.ok(
      pkg.files.some((f) => rel.startsWith(f.replace(/\/$/, '') + '/')),
      `${rel} is not in package.json files`,
    );
  }
});

/** Runs the bash completion for a command line (the word under the cursor last) and returns COMPREPLY. */
function complete(words: string[], cwd = ROOT): string[] {
  const script = [
    `source ${JSON.stringify(path.join(ROOT, CLI_DOC_FILES.bash))}`,
    `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})`,
    `COMP_CWORD=${words.length - 1}`,
    '_csumtop',
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', script], { encoding: 'utf8', cwd });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .sort();
}

test('bash completes every flag the parser accepts, and the values it knows', () => {
  assert.deepEqual(complete(['csumtop', '-']), parserSpellings());
  assert.deepEqual(complete(['csumtop', '--list-i']), ['--list-interfaces']);
  assert.deepEqual(complete(['csumtop', '--backend', 'l']), ['libpcap']);
  assert.deepEqual(complete(['csumtop', '-i', 'lo,l']), ['lo,lo']);
  assert.deepEqual(complete(['csumtop', 'clu']), ['cluster']);
  // After -c (a number) and in a filter expression: nothing to offer.
  assert.deepEqual(complete(['csumtop', '-c', '']), []);
  assert.deepEqual(complete(['csumtop', '-i', 'lo', 'udp', 'po']), []);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'csumtop-comp-'));
  try {
    writeFileSync(path.join(dir, 'capture.pcapng'), '');
    assert.deepEqual(complete(['csumtop', '-r', 'cap'], dir), ['capture.pcapng']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the zsh completion names every flag the parser accepts', () => {
  const z = zshCompletion();
  for (const s of parserSpellings())
    assert.ok(z.includes(`${s}[`) || z.includes(`${s}=`) || z.includes(`${s}+`) || z.includes(`${s},`) || z.includes(`${s}}`), s);
  assert.match(z, /^#compdef csumtop$/m);
});

test('the man page renders without groff warnings and documents every flag, exit status and the filter words', () => {
  const file = path.join(ROOT, CLI_DOC_FILES.man);
  const check = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z', file], { encoding: 'utf8' });
  assert.equal(check.status, 0);
  assert.equal(check.stderr, '', 'groff warnings');
  const text = spawnSync('groff', ['-man', '-Tascii', '-P', '-cbou', file], { encoding: 'utf8' }).stdout;
  for (const f of FLAGS as readonly Flag[]) {
    assert.ok(text.includes(f.usage !== undefined ? `-${f.short}` : `--${f.long}`), `--${f.long} missing from the man page`);
  }
  assert.match(text, /EXIT STATUS\n\s+0 +no bad checksum found/);
  assert.match(text, /Words\s+after\s+the\s+options\s+are\s+a\s+filter\s+in\s+tcpdump\s+syntax/);
  assert.match(text, new RegExp(`csumtop ${pkg.version.replace(/\./g, '\\.')}`));
});
