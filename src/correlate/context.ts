import type { InterfaceFacts } from '../model/interface.js';

/**
 * What the correlation operators need to know about an interface id: its label in
 * outputs, its namespace (matching happens within one node), and whether it is an
 * overlay device (its packets are the decapsulated side of carriers): isOverlayRole of
 * its role, decided once per batch rather than per event.
 */
export type InterfaceInfo = Pick<InterfaceFacts, 'label' | 'namespace'> & { overlay: boolean };

export type InterfaceDirectory = (id: number) => InterfaceInfo | undefined;

// The date and time to the second, by second: every new DNS query and SYN formats its
// first-seen time, and with a new one per frame a Date and its string per call were a
// visible share of `csumtop -r`'s CPU (issue 14). Bounded like formatTimeNs's cache.
const isoSeconds = new Map<number, string>();

/**
 * ns -> ISO 8601 (milliseconds are enough for symptoms and peers). Capture times in
 * nanoseconds exceed 2^53, so the number is the nearest double to the capture's integer,
 * up to half a unit in the last place (128 ns in 2024) away from it and often below it:
 * 10:00:00.010000 of a microsecond pcap arrives as ...00.009999872. Half a unit is added
 * back before the milliseconds are cut, so a time the capture put on a millisecond is
 * shown on it (at worst a time within that half unit below a millisecond shows the next).
 */
export function isoOf(ns: number): string {
  let ms: number;
  if (ns >= 2 ** 53 && Number.isFinite(ns)) {
    // In integers: the double's exact value, plus half a unit in its last place.
    const v = BigInt(ns) + (1n << BigInt(Math.floor(Math.log2(ns)) - 53));
    ms = Number(v / 1_000_000n);
  } else ms = Math.floor(ns / 1e6);
  const sec = Math.floor(ms / 1000);
  // Dates before 1970 or past 9999 (never in a capture) keep Date's own form.
  if (!(sec >= 0 && sec < 253402300800)) return new Date(ms).toISOString();
  let head = isoSeconds.get(sec);
  if (head === undefined) {
    head = new Date(sec * 1000).toISOString().slice(0, 19); // 2026-11-21T10:00:00
    if (isoSeconds.size >= 4096) isoSeconds.clear();
    isoSeconds.set(sec, head);
  }
  const frac = ms - sec * 1000;
  return `${head}.${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}Z`;
}
