/**
 * One format and one lint, checked (issue 15): TypeScript and the scripts as prettier formats them
 * (.prettierrc.json), the addon's C++ as clang-format does (.clang-format; the vendored
 * libraries under native/vendor/ keep their own). A failure names the files; fix with
 * `npx prettier --write 'src/**\/*.ts' ...` (the globs below) and `clang-format -i FILE`.
 * clang-format comes from Debian's clang-format package (.ci/run installs it); without it
 * this test fails and says so.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import { ROOT } from '../../src/native/addon.js';

/** What prettier checks: the TypeScript of the package, its tests and benchmarks, and the build scripts. */
export const PRETTIER_GLOBS = ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.js'];

test('TypeScript and scripts are as prettier formats them', () => {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/prettier/bin/prettier.cjs'), '--check', ...PRETTIER_GLOBS], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, `prettier --check (run npx prettier --write ${PRETTIER_GLOBS.map((g) => `'${g}'`).join(' ')}):\n${r.stdout}${r.stderr}`);
});

function cxxFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'vendor' || e.name === 'regressions' ? [] : cxxFiles(p);
    return /\.(cc|h|c)$/.test(e.name) ? [p] : [];
  });
}

test("the addon's C++ is as clang-format formats it", () => {
  const which = spawnSync('sh', ['-c', 'command -v clang-format']);
  assert.equal(which.status, 0, 'clang-format is not installed (Debian package clang-format; .ci/run installs it)');
  const files = cxxFiles(path.join(ROOT, 'native'));
  assert.ok(files.length > 50, `${files.length} C++ files found under native/`);
  const r = spawnSync('clang-format', ['--dry-run', '--Werror', ...files], { cwd: ROOT, encoding: 'utf8' });
  const differ = [...new Set([...r.stderr.matchAll(/^(\S+):\d+:\d+: error/gm)].map((m) => path.relative(ROOT, m[1])))];
  assert.equal(r.status, 0, `clang-format -i ${differ.join(' ')}\n${r.stderr.slice(0, 3000)}`);
});

test("TypeScript passes ESLint's recommended rules (eslint.config.mjs)", () => {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/eslint/bin/eslint.js'), '--max-warnings', '0', '.'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `npx eslint . (npm run lint):\n${r.stdout.slice(0, 6000)}${r.stderr}`);
});
