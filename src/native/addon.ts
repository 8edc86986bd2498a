/**
 * Loads the compiled addon once. Typed views live next to this file, one per native
 * module (checksum.ts, capture-file.ts, analyzer.ts); nothing else requires the .node.
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';

const requireNative = createRequire(__filename);

/** Repository root: dist/src/native -> ../../.. */
export const ROOT = path.resolve(__dirname, '..', '..', '..');

let cached: Record<string, unknown> | undefined;

/**
 * CSUMTOP_ADDON=/path/to/csumtop.node loads that build and nothing else (the sanitizer
 * build of native/sanitize/build.sh, used by test/sanitize/): if it cannot be loaded the
 * error says so, rather than falling back to build/Release and testing the wrong binary.
 */
export function loadAddon(): Record<string, unknown> {
  if (cached) return cached;
  const override = process.env.CSUMTOP_ADDON;
  if (override) {
    try {
      cached = requireNative(path.resolve(override)) as Record<string, unknown>;
      return cached;
    } catch (err) {
      throw new Error(`CSUMTOP_ADDON=${override} cannot be loaded: ${String(err)}`);
    }
  }
  const candidates = [
    path.join(ROOT, 'build', 'Release', 'csumtop.node'),
    path.join(ROOT, 'build', 'Debug', 'csumtop.node'),
  ];
  let lastError: unknown;
  for (const file of candidates) {
    try {
      cached = requireNative(file) as Record<string, unknown>;
      return cached;
    } catch (err) {
      lastError = err;
      if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') break;
    }
  }
  throw new Error(
    `the native addon is not built (${String(lastError)}); run \`npm ci\` (or \`npx node-gyp rebuild\`)`,
  );
}
