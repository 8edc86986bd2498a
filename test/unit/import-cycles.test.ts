/**
 * No import circles in src/ (issue 15). Two modules that import each other, directly or
 * round a longer loop, can be neither understood nor moved apart; at run time a circle
 * hands one of them a half-initialised module. Every edge counts: `import`, `import
 * type`, `export ... from` and `import()`, because a type-only circle is the same knot
 * in the design (it is how shared types ended up outside src/model/). The graph comes
 * from the TypeScript sources, parsed with the compiler the project already builds with.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import * as ts from 'typescript';

import { ROOT } from '../fixtures/harness.js';

/** Every .ts file under `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** The relative module specifiers of one file, resolved to the .ts files they name. */
function importsOf(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const out: string[] = [];
  const visit = (n: ts.Node): void => {
    let spec: ts.Expression | undefined;
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier) spec = n.moduleSpecifier;
    else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) spec = n.arguments[0];
    if (spec && ts.isStringLiteral(spec) && spec.text.startsWith('.')) {
      out.push(path.resolve(path.dirname(file), spec.text.replace(/\.js$/, '.ts')));
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

/**
 * Every circle among the .ts files under `dir`, one per strongly connected component
 * (Tarjan), each as a path that starts and ends at the same file, relative to `dir`.
 */
export function importCycles(dir: string): string[][] {
  const graph = new Map<string, string[]>();
  for (const f of sources(dir)) graph.set(f, importsOf(f));
  const edges = (v: string): string[] => (graph.get(v) ?? []).filter((w) => graph.has(w));

  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of edges(v)) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const c: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        c.push(w);
      } while (w !== v);
      if (c.length > 1 || edges(v).includes(v)) components.push(c);
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) connect(v);

  // One concrete loop per component: breadth-first from its first file back to itself.
  return components.map((c) => {
    const members = new Set(c);
    const start = [...c].sort()[0];
    const parent = new Map<string, string>();
    const queue = [start];
    let last: string | undefined;
    while (queue.length > 0 && last === undefined) {
      const v = queue.shift()!;
      for (const w of edges(v)) {
        if (!members.has(w)) continue;
        if (w === start) {
          last = v;
          break;
        }
        if (!parent.has(w)) {
          parent.set(w, v);
          queue.push(w);
        }
      }
    }
    const loop = [start];
    for (let v = last!; v !== start; v = parent.get(v)!) loop.unshift(v);
    loop.unshift(start);
    return loop.map((f) => path.relative(dir, f));
  });
}

test('src/ has no import circle (import, import type, export from, import())', () => {
  const cycles = importCycles(path.join(ROOT, 'src'));
  assert.deepEqual(
    cycles.map((c) => c.join(' -> ')),
    [],
    `import circles in src/: move the shared part to src/model/ or to the lower module:\n${cycles.map((c) => `  ${c.join(' -> ')}`).join('\n')}`,
  );
});

test('the check finds a planted circle of every import form, and a longer loop', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'csumtop-cycles-'));
  try {
    mkdirSync(path.join(dir, 'model'));
    const files: Record<string, string> = {
      'a.ts': "import type { B } from './model/b.js';\nexport type A = B;\n",
      'model/b.ts': "export * from '../a.js';\nexport type B = number;\n",
      'c.ts': "export async function c() { return import('./d.js'); }\n",
      'd.ts': "import { e } from './e.js';\nexport const d = e;\n",
      'e.ts': "import { c } from './c.js';\nexport const e = c;\n",
      'leaf.ts': "import { d } from './d.js';\nimport * as fs from 'node:fs';\nexport const leaf = [d, fs];\n",
    };
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
    assert.deepEqual(
      importCycles(dir)
        .map((c) => c.join(' -> '))
        .sort(),
      ['a.ts -> model/b.ts -> a.ts', 'c.ts -> d.ts -> e.ts -> c.ts'],
    );
    // Break both: nothing is left.
    writeFileSync(path.join(dir, 'model/b.ts'), 'export type B = number;\n');
    writeFileSync(path.join(dir, 'e.ts'), 'export const e = 1;\n');
    assert.deepEqual(importCycles(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
