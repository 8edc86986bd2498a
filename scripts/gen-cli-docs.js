#!/usr/bin/env node
// Writes the bash and zsh completions and the man page from the flag table
// (src/cli/flags.ts, through src/cli/cli-docs.ts; run `npx tsc -p tsconfig.json` first).
// test/unit/cli-docs.test.ts fails when the committed files differ from what this writes.
// Usage: node scripts/gen-cli-docs.js [DIR]   (DIR: where to write; default the checkout)
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const docs = require(path.join(root, 'dist', 'src', 'cli', 'cli-docs.js'));
const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const made = { bash: docs.bashCompletion(), zsh: docs.zshCompletion(), man: docs.manPage(version) };
const out = path.resolve(process.argv[2] ?? root);
for (const [kind, rel] of Object.entries(docs.CLI_DOC_FILES)) {
  const file = path.join(out, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, made[kind]);
  console.log(`wrote ${rel}`);
}
