// ESLint for the TypeScript sources (issue 15): the recommended rules of ESLint and
// typescript-eslint, without type information (fast enough for the unit tier:
// test/unit/lint.test.ts). Formatting is prettier's job (.prettierrc.json), not ESLint's.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'node_modules/**', 'native/vendor/**', 'prebuilds/**', 'bench/out/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // csumtop strips and tests terminal control characters (src/output/printable.ts,
      // the escape tests): naming them in a regular expression is the point.
      'no-control-regex': 'off',
      // A leading underscore marks a value dropped on purpose (destructuring a field away,
      // an unused callback parameter).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      // `let x = 0; for (;;) { x = ... }`: the initial value is kept for the reader;
      // TypeScript's definite-assignment check catches the misuse this rule is after.
      'no-useless-assignment': 'off',
    },
  },
  {
    // Tests walk parsed YAML and JSON documents (manifests, reports) whose shape is what
    // they assert.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
