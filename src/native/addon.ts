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
      throw new Error(`CSUMTOP_ADDON=${override} cannot be loaded: ${String(err)}`, { cause: err });
    }
  }
  // A build from source (a checkout's `npm ci`, or an install that compiled) first, then
  // the prebuilt addon the package ships for this platform (scripts/prebuild.js; N-API, so
  // one file serves every Node version), glibc before musl: a musl libc cannot load the
  // glibc build and says so with an error we pass over.
  const candidates = [
    path.join(ROOT, 'build', 'Release', 'csumtop.node'),
    path.join(ROOT, 'build', 'Debug', 'csumtop.node'),
    path.join(ROOT, 'prebuilds', `${process.platform}-${process.arch}`, 'csumtop.glibc.node'),
    path.join(ROOT, 'prebuilds', `${process.platform}-${process.arch}`, 'csumtop.musl.node'),
  ];
  let lastError: unknown;
  for (const file of candidates) {
    try {
      cached = requireNative(file) as Record<string, unknown>;
      return cached;
    } catch (err) {
      // Not there: try the next. There but not loadable (another libc, a bad build): keep
      // the first such error, the one worth showing, and still try the others.
      const real = (e: unknown): boolean => (e as NodeJS.ErrnoException | undefined)?.code !== 'MODULE_NOT_FOUND';
      if (lastError === undefined || (real(err) && !real(lastError))) lastError = err;
    }
  }
  throw new Error(
    `the native addon is not built for ${process.platform}-${process.arch} (${String(lastError).split('\n')[0]}); ` +
      'in a checkout run `npm ci`; in an installed package run `npm rebuild csumtop` (needs g++, make and python3; ' +
      'npm 11 runs install scripts only when allowed: `npm install -g --allow-scripts=csumtop csumtop`)',
  );
}

/**
 * A layout object of the addon (offsets from offsetof) as JavaScript reads it per packet:
 * a copy of every nested plain object made by spreading, so each has fast properties.
 * The addon builds these objects one property at a time (napi_set_named_property), and
 * V8 keeps an object given more than a dozen properties that way as a dictionary: every
 * `this.L.flagsAt` of an event accessor was then a hash lookup through the generic load
 * builtin, about a tenth of `csumtop -r`'s JavaScript thread on the high-cardinality file
 * (perf: Builtins_LoadIC under the carrier matcher, issue 14). Checked by
 * test/unit/native-layout.test.ts with %HasFastProperties.
 */
export function fastLayout<T>(layout: T): T {
  if (layout === null || typeof layout !== 'object' || Array.isArray(layout) || ArrayBuffer.isView(layout)) return layout;
  const out: Record<string, unknown> = { ...(layout as Record<string, unknown>) };
  for (const k of Object.keys(out)) out[k] = fastLayout(out[k]);
  return out as T;
}
