/**
 * Text that came from outside (a packet, a capture file, the kernel, Prometheus) made
 * safe to print on a terminal: the one function every text output passes such strings
 * through (the text report, the live stats lines, warnings on standard error, the
 * dashboard's cells, the cluster table).
 *
 * Why: a pcapng Interface Description Block's if_name is whatever the file's writer put
 * there, and a network interface name is chosen by anyone with CAP_NET_ADMIN in any
 * network namespace (a pod's): Linux refuses only '/', ':' and whitespace in it
 * (net/core/dev.c dev_valid_name()), so ESC and other control bytes pass. Printed raw,
 * ESC [ 2 J clears the screen, ESC ] 0 ; ... BEL sets the window title, and a name with
 * carriage returns can print a fake verdict over the real one (issue 17).
 *
 * What is escaped: the C0 controls and DEL (U+0000-U+001F, U+007F) and the C1 controls
 * (U+0080-U+009F: U+009B is CSI for a terminal that takes 8-bit controls), as `\xHH`;
 * the Unicode characters that reorder or break the line a reader sees (bidirectional
 * embeddings, overrides and isolates: "Trojan Source", CVE-2021-42574; the line and
 * paragraph separators) and lone surrogates, as `\u{HHHH}`. Everything else, including
 * other non-ASCII text, is printed as it is.
 *
 * A backslash is left alone, so the function is idempotent (escaping twice changes
 * nothing, and helpers that pad or cut a cell may call it again): DNS names arrive
 * already written the way dig writes them, with `\DDD` for any byte that is not
 * printable ASCII (native/flow/events.cc parse_dns), and pass through unchanged. The
 * escaped forms are for a person to read; `--json` carries the exact value.
 */

/** The characters a terminal would act on or that reorder the line; `u`: lone surrogates match alone. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]/u;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'gu');

function escapeOne(c: string): string {
  const n = c.codePointAt(0) ?? 0;
  return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u{${n.toString(16).padStart(4, '0')}}`;
}

/** `text` with every character a terminal would interpret written as an escape (see above). */
export function printable(text: string): string {
  // Most strings are clean: one scan, no copy.
  return UNSAFE.test(text) ? text.replace(UNSAFE_ALL, escapeOne) : text;
}

/** printable() for text of several lines: the line breaks are kept, each line escaped. */
export function printableLines(text: string): string {
  return text.split('\n').map(printable).join('\n');
}
