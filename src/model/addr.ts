/** Address and time formatting shared by every output. */

export function formatIPv4(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/** RFC 5952 text form: lowercase, longest run of two or more zero groups compressed. */
export function formatIPv6(b: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i] << 8) | b[i + 1]);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  // IPv4-mapped addresses keep the dotted quad (RFC 5952 section 5).
  if (bestStart === 0 && bestLen === 5 && groups[5] === 0xffff) {
    return `::ffff:${formatIPv4(b.subarray(12))}`;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  const head = hex.slice(0, bestStart).join(':');
  const tail = hex.slice(bestStart + bestLen).join(':');
  return `${head}::${tail}`;
}

export function formatAddress(family: number, b: Uint8Array): string {
  return family === 4 ? formatIPv4(b) : formatIPv6(b);
}

// The date and time to the second, by second: a report formats two times per flow,
// mostly within the few seconds or minutes a capture spans.
const secondsCache = new Map<bigint, string>();

/** Nanoseconds since the epoch as ISO 8601 with all nine fractional digits. */
export function formatTimeNs(ns: bigint): string {
  const sec = ns / 1_000_000_000n;
  let head = secondsCache.get(sec);
  if (head === undefined) {
    head = new Date(Number(sec) * 1000).toISOString().slice(0, 19); // 2026-11-21T10:00:00
    if (secondsCache.size >= 4096) secondsCache.clear();
    secondsCache.set(sec, head);
  }
  const frac = (ns - sec * 1_000_000_000n).toString().padStart(9, '0');
  return `${head}.${frac}Z`;
}

export function hex16(v: number): string {
  return `0x${v.toString(16).padStart(4, '0')}`;
}
