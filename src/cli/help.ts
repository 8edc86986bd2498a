/**
 * The text of `csumtop --help`, made from the flag table (src/cli/flags.ts); the README's
 * usage section follows it, and the man page (src/cli/cli-docs.ts) is made of the same
 * parts.
 */
import { FLAGS, flagUsage, type Flag, type FlagSection } from './flags.js';

/** The usage lines. */
export const USAGE = `Usage: csumtop [live options] [FILTER...]           capture live (root or CAP_NET_RAW)
       csumtop -r FILE [file options] [FILTER...]   analyse a pcap or pcapng file
       csumtop -D [--netns NAME|PATH]... [-i LIST]  list the interfaces to capture on
       csumtop --demo [--demo-broken]               a two-node VXLAN lab with faults, on the dashboard (root)
       csumtop cluster --prometheus URL             bad VXLAN carriers node x peer, from Prometheus`;

/** What csumtop does, after the usage lines. */
export const INTRO = `On a terminal csumtop shows a live dashboard (keys: ? for help, q to quit); with --json,
--duration, -c, --report, -w, --metrics, or when standard output is not a terminal it
prints the report (so does -r FILE with a filter).

Finds packets with bad checksums (IPv4 header, UDP, TCP, ICMP, ICMPv6), at the outer
layer and inside VXLAN, Geneve and IP-in-IP tunnels, and reports them per interface,
per layer and per flow. Live, the kernel says which checksums are still to be filled in
by the NIC (pending) or already verified (validated): offload is not an error.`;

/** --help's sections, in order, with their headings. */
export const SECTIONS: ReadonlyArray<{ section: FlagSection; title: string }> = [
  { section: 'live', title: 'Live capture' },
  { section: 'file', title: 'Capture files' },
  { section: 'both', title: 'Both' },
];

/** The exit statuses (also in the README and docs/usage.md). */
export const EXIT_STATUS = `  0  no bad checksum found
  1  at least one bad checksum found
  2  usage error, unreadable or corrupt input, no such interface or namespace, or the
     -w file could not be written (a report of what was read is still printed; live,
     a write error such as a full disk is a warning and capture goes on)
  3  not allowed: CAP_NET_RAW missing to capture, CAP_SYS_ADMIN to enter --netns/--pid
     namespaces, root for --user and --demo
 70  an error csumtop did not expect (a bug): its stack is printed, the terminal restored
  Signals: SIGINT, SIGTERM and SIGHUP stop a live capture (report, dashboard, --demo)
     as --duration would: the report is printed and the status is as above. They stop
     -r FILE early: the report of what was read says "interrupted", status 128+N
     (130 SIGINT, 143 SIGTERM, 129 SIGHUP); -r from a pipe ("-r -") is ended by the
     signal itself at once, before printing anything. A second signal while stopping,
     or a stop making no progress for 5 s (no output drained, no work done), exits
     at once with 128+N; the terminal is restored, the --demo lab removed, -w files hold whole records.`;

/** Environment variables. */
export const ENVIRONMENT = `  CSUMTOP_CSUM_PATH      force a checksum engine: scalar, adc64, sse2, avx2, neon
  CSUMTOP_THREADS        threads for -r FILE (default: the CPUs csumtop may use; 1: one)`;

/** Where descriptions start, and the width they are wrapped to. */
const DESCRIPTION_COLUMN = 25;
const WIDTH = 88;

/** `text` as lines of at most `width` characters (a longer word stands alone). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** One flag's entry in a section: the usage, then its description wrapped at DESCRIPTION_COLUMN. */
function flagEntry(f: Flag, text: string): string {
  const head = `  ${flagUsage(f)}`;
  const lead = head.length + 2 <= DESCRIPTION_COLUMN ? head.padEnd(DESCRIPTION_COLUMN) : `${head}  `;
  const [first, ...rest] = wrap(text, WIDTH - lead.length);
  const more = wrap(rest.join(' '), WIDTH - DESCRIPTION_COLUMN).map((l) => ' '.repeat(DESCRIPTION_COLUMN) + l);
  return [lead + first, ...more].join('\n');
}

function renderHelp(): string {
  const parts = [USAGE, INTRO];
  for (const { section, title } of SECTIONS) {
    const entries = (FLAGS as readonly Flag[]).filter((f) => f.help[section] !== undefined).map((f) => flagEntry(f, f.help[section]!));
    parts.push(`${title}:\n${entries.join('\n')}`);
  }
  parts.push(`Exit status:\n${EXIT_STATUS}`, `Environment:\n${ENVIRONMENT}`);
  return parts.join('\n\n') + '\n';
}

export const HELP = renderHelp();
