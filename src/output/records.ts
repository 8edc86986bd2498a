/**
 * Most bad frames --list keeps for the report, live and -r alike; more are counted and
 * named in a warning. 100,000 listed frames are about 60 MB of JavaScript objects and a
 * 20 MB text list; 4 million (a 400 MB capture of offloaded traffic) exhausted V8's heap
 * (issue 17). (The records themselves are decoded at the native boundary:
 * src/native/records.ts.)
 */
export const MAX_LISTED = 100_000;

/** The warning for frames past MAX_LISTED. */
export function notListedWarning(notListed: number): string {
  return `${notListed} bad frames were not listed (more than ${MAX_LISTED})`;
}
