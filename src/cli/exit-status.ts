/**
 * csumtop's exit statuses, in one place (README "Exit status"; the text users read is
 * EXIT_STATUS in src/cli/help.ts). Signals end with 128+N (src/cli/shutdown.ts
 * signalStatus).
 */

/** No bad checksum found. */
export const EXIT_OK = 0;
/** At least one bad checksum found. */
export const EXIT_BAD = 1;
/** Usage error, unreadable or corrupt input, no such interface or namespace, a write error. */
export const EXIT_USAGE = 2;
/** Not allowed: CAP_NET_RAW to capture, CAP_SYS_ADMIN to enter a namespace, root for --user and --demo. */
export const EXIT_NO_PRIVILEGE = 3;
/** An exception csumtop did not expect (sysexits.h EX_SOFTWARE): a bug, with its stack. */
export const EXIT_INTERNAL = 70;
