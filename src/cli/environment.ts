/**
 * The environment variables csumtop reads (README "Environment"): a value it cannot use
 * is a usage error (exit 2) naming the variable, never silently replaced by the default
 * (issue 17: `CSUMTOP_CSUM_PATH=neon` on x86 ran the AVX2 kernel without a word).
 */
import { checksumPaths, checksumPathSelection } from '../native/checksum.js';

/** A bound on what is accepted; native/flow/parallel.h uses at most kMaxThreads (8) of them. */
export const MAX_FILE_THREADS = 4096;

/** What is wrong with the environment, or null. */
export function environmentError(env: NodeJS.ProcessEnv = process.env): string | null {
  const threads = env.CSUMTOP_THREADS;
  if (threads !== undefined && threads !== '') {
    if (!/^\d+$/.test(threads) || Number(threads) < 1 || Number(threads) > MAX_FILE_THREADS) {
      return `CSUMTOP_THREADS: '${threads}' is not a whole number between 1 and ${MAX_FILE_THREADS}`;
    }
  }
  const csum = env.CSUMTOP_CSUM_PATH;
  if (csum !== undefined && csum !== '') {
    // The addon chose its kernel when it loaded, from this same variable.
    const sel = checksumPathSelection();
    if (sel.fellBack) {
      const paths = checksumPaths();
      const known = paths.some((p) => p.name === csum);
      const usable = paths
        .filter((p) => p.available)
        .map((p) => p.name)
        .join(', ');
      return known
        ? `CSUMTOP_CSUM_PATH: '${csum}' cannot run on this CPU or build (available: ${usable})`
        : `CSUMTOP_CSUM_PATH: '${csum}' is not a checksum engine (available here: ${usable})`;
    }
  }
  return null;
}
