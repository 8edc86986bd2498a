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

export function loadAddon(): Record<string, unknown> {
  if (cached) return cached;
  const candidates = [
    path.join(ROOT, 'build', 'Release', 'csumtop.node'),
    path.join(ROOT, 'build', 'Debug', 'csumtop.node'),
  ];
  if (process.env.CSUMTOP_ADDON) candidates.unshift(path.resolve(process.env.CSUMTOP_ADDON));
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
