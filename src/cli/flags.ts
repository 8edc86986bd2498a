/**
 * The one table of csumtop's command-line flags. Everything that lists flags is made from
 * it: the parser (src/cli/args.ts), `--help` (src/cli/help.ts), and the bash and zsh
 * completions and the man page (src/cli/cli-docs.ts, written by scripts/gen-cli-docs.js;
 * test/unit/cli-docs.test.ts fails when the committed files differ from the table).
 */

/** Where --help and the man page list a flag. */
export type FlagSection = 'live' | 'file' | 'both';

/** What a shell completes a flag's value with. */
export type FlagValue = 'file' | 'interface' | 'netns' | 'pid' | 'user' | 'number' | 'text' | readonly string[];

export interface Flag {
  /** The long name, without dashes (also the parser's key). */
  long: string;
  short?: string;
  /** Argument name (LIST, N, FILE); absent for a switch. */
  arg?: string;
  /** What the argument is, for completions (every flag with `arg` has one). */
  value?: FlagValue;
  /** Repeatable (--netns A --netns B). */
  multiple?: boolean;
  /** The flag as --help shows it, when not `-s, --long ARG` (-C SIZE hides its long name). */
  usage?: string;
  /** The description per section it appears in; its first clause is the one-line summary. */
  help: Partial<Record<FlagSection, string>>;
}

export const FLAGS = [
  { long: 'read', short: 'r', arg: 'FILE', value: 'file', help: { file: 'analyse a pcap or pcapng file ("-" reads standard input)' } },
  {
    long: 'interface',
    short: 'i',
    arg: 'LIST',
    value: 'interface',
    help: { live: "interfaces, comma-separated, globs allowed ('eth0,flannel.*'); default: every interface that is up except loopback" },
  },
  { long: 'netns', arg: 'NAME|PATH', value: 'netns', multiple: true, help: { live: 'capture in that network namespace (repeatable)' } },
  { long: 'pid', arg: 'PID', value: 'pid', multiple: true, help: { live: 'capture in the network namespace of process PID (repeatable)' } },
  { long: 'host', help: { live: "with --netns/--pid, also capture in csumtop's own namespace" } },
  {
    long: 'list-interfaces',
    short: 'D',
    help: {
      live: 'list the interfaces csumtop can capture on (kind, driver, state; NS/IF with --netns/--pid; -i narrows the list), one per line as tcpdump -D, and exit',
    },
  },
  { long: 'duration', arg: 'N', value: 'number', help: { live: 'stop after N seconds and print the report (default: at Ctrl-C)' } },
  {
    long: 'count',
    short: 'c',
    arg: 'COUNT',
    value: 'number',
    help: {
      both: 'stop after COUNT frames captured (live, over all interfaces and threads) or read (-r), counted after the filter as tcpdump -c counts them; the report says it stopped there',
    },
  },
  {
    long: 'json',
    help: {
      live: 'JSON lines: stats per interface per interval, one line per bad frame, interface events, warnings, and the final report',
      file: 'print the report as one JSON document',
    },
  },
  {
    long: 'filter',
    short: 'f',
    arg: 'EXPR',
    value: 'text',
    help: {
      both: "tcpdump filter syntax, also given as the words after the options (csumtop -i eth0 udp port 8472); needs libpcap installed at run time, at most 64 KiB, compiled within 10 s. Live: a socket filter; -r: frames it rejects are skipped and not counted (libpcap's offline filter, as tcpdump -r)",
    },
  },
  { long: 'promisc', help: { live: 'promiscuous mode (off by default)' } },
  { long: 'user', short: 'Z', arg: 'NAME', value: 'user', help: { live: 'drop to NAME once the capture sockets are open' } },
  {
    long: 'backend',
    arg: 'B',
    value: ['afpacket', 'libpcap'],
    help: {
      live: 'afpacket (default) or libpcap (through the vendored cap: no kernel checksum status, offload is guessed; needs --promisc; own namespace only)',
    },
  },
  { long: 'threads', arg: 'N', value: 'number', help: { live: 'capture threads; each interface is spread over them' } },
  {
    long: 'no-kernel-drops',
    help: {
      live: 'do not load the eBPF program that has the kernel name each packet it drops for a bad checksum (namespace, device, reason, peer); it is on by default with CAP_BPF + CAP_PERFMON (root)',
    },
  },
  { long: 'ring-mb', arg: 'N', value: 'number', help: { live: 'capture ring per interface and thread, MiB (default 8)' } },
  { long: 'batch-ms', arg: 'N', value: 'number', help: { live: 'how often the capture thread hands over counts (default 100)' } },
  { long: 'interval', arg: 'N', value: 'number', help: { live: 'seconds between dashboard redraws / stats lines (default 1)' } },
  {
    long: 'report',
    help: {
      live: 'on a terminal too: no dashboard, the report at the end',
      file: 'on a terminal too: print the report instead of the dashboard',
    },
  },
  {
    long: 'demo',
    help: {
      live: 'build a two-node VXLAN lab in network namespaces (root), run DNS and TCP through it, inject checksum faults in bursts and show the dashboard on both nodes; the lab is removed on exit',
    },
  },
  {
    long: 'demo-broken',
    help: { live: "--demo with node 1 switched into variant A's broken state (udpcsum VXLAN + MASQUERADE --random-fully: bad outer checksums)" },
  },
  {
    long: 'metrics',
    arg: '[ADDR:]PORT',
    value: 'text',
    help: {
      live: 'serve Prometheus metrics at /metrics and health at /healthz; ADDR defaults to 127.0.0.1 (0.0.0.0 or [::] for all, [::1]:PORT for IPv6); port 0 picks a free one (printed)',
    },
  },
  { long: 'metrics-max-peers', arg: 'N', value: 'number', help: { live: 'peers with their own label (default 64); more are counted under peer="other"' } },
  {
    long: 'write',
    short: 'w',
    arg: 'FILE',
    value: 'file',
    help: {
      live: 'write every frame with a bad checksum to FILE, a pcap file (Ethernet; Linux cooked v2 when some interface has no Ethernet header) written by the capture threads, each record whole: readable after a crash or SIGKILL; mode 0600, a symlink is refused; opened before --user drops root',
      file: 'write every frame with a bad checksum to FILE (same format as the input; an existing regular file is replaced, a symlink is never followed; created with mode 0600)',
    },
  },
  {
    long: 'file-size',
    short: 'C',
    arg: 'SIZE',
    value: 'number',
    usage: '-C SIZE',
    help: { live: 'with -w: start a new file once the current one is larger than SIZE million bytes (1-100000): FILE, FILE1, FILE2, ... (tcpdump)' },
  },
  {
    long: 'file-count',
    short: 'W',
    arg: 'COUNT',
    value: 'number',
    usage: '-W COUNT',
    help: { live: 'with -C: at most COUNT files (1-100000), FILE0 .. FILE<COUNT-1>, then the oldest is overwritten (tcpdump)' },
  },
  {
    long: 'context',
    arg: 'N',
    value: 'number',
    help: { live: 'with -w: also the N frames (0-64, default 0) of the same flow before and after each bad frame, each written once' },
  },
  { long: 'fast', help: { file: 'on a terminal: replay into the dashboard as fast as possible (default: at the recorded speed); the final view stays' } },
  {
    long: 'no-correlate',
    help: { file: 'checksum verdicts only (no peers, DNS/SYN symptoms or findings): the file is decoded on every core, several times faster' },
  },
  { long: 'list', help: { both: 'also list every frame with a bad checksum' } },
  { long: 'numeric', short: 'n', help: { both: "dashboard: peer addresses only, no names (tcpdump's -n)" } },
  {
    long: 'dns-names',
    help: {
      both: 'dashboard: peer names also from the system resolver (DNS PTR queries, asynchronous, cached); default: names from /etc/hosts only, since the incident csumtop is for breaks DNS',
    },
  },
  {
    long: 'top',
    arg: 'N',
    value: 'number',
    help: { both: "flows shown in the text report (default 20; --json has all of a file, a live run's 4096 most frequent)" },
  },
  { long: 'vxlan-port', arg: 'P[,P]', value: 'text', help: { both: 'UDP destination ports decoded as VXLAN (default 4789,8472)' } },
  { long: 'geneve-port', arg: 'P', value: 'text', help: { both: 'UDP destination ports decoded as Geneve (default 6081)' } },
  {
    long: 'max-flows',
    arg: 'N',
    value: 'number',
    help: {
      both: 'flows kept per table (default 65536): bad flows (per capture thread), carrier flows, open DNS queries, SYN attempts; more are counted as evicted (report: correlation.tables). Memory grows with it: RSS stays under 440 MiB + the rings + N x (656 + 216 x threads) bytes (docs/line-rate.md)',
    },
  },
  {
    long: 'max-vanished',
    arg: 'N',
    value: 'number',
    help: {
      live: 'interfaces that vanished (a pod\'s veth) kept one by one, rows and counters (default 256, 0-100000); older ones are added into one "(N older vanished interfaces)" row',
    },
  },
  { long: 'help', short: 'h', help: { both: 'this text' } },
  { long: 'version', short: 'V', help: { both: 'the version, the checksum engine, the kernel, Node and libpcap' } },
] as const satisfies readonly Flag[];

/** What the parser returns per flag: a string (string[] when repeatable) or true; absent when not given. */
export type FlagValues = {
  [F in (typeof FLAGS)[number] as F['long']]?: F extends { arg: string } ? (F extends { multiple: true } ? string[] : string) : boolean;
};

/** node:util parseArgs() options of the table. */
export function parseArgsOptions(): Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> {
  const out: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const f of FLAGS as readonly Flag[]) {
    out[f.long] = {
      type: f.arg !== undefined ? 'string' : 'boolean',
      ...(f.short !== undefined ? { short: f.short } : {}),
      ...(f.multiple ? { multiple: true } : {}),
    };
  }
  return out;
}

/** The flag as --help shows it: `-i, --interface LIST`, `    --netns NAME|PATH`, `-C SIZE`. */
export function flagUsage(f: Flag): string {
  if (f.usage !== undefined) return f.usage;
  return `${f.short !== undefined ? `-${f.short}, ` : '    '}--${f.long}${f.arg !== undefined ? ` ${f.arg}` : ''}`;
}

/** The first clause of a flag's description without its parentheses: a one-line summary (completions). */
export function flagSummary(f: Flag): string {
  let text = f.help.both ?? f.help.live ?? f.help.file ?? '';
  for (let before = ''; before !== text;) {
    before = text;
    text = text.replace(/ ?\([^()]*\)/g, '');
  }
  const first = text.split(/; |(?<!\.)\. /)[0]; // not at the '..' of a range
  // A shell's completion menu has one line per flag: cut a long clause at a comma.
  return first.length <= 80 ? first : first.slice(0, first.lastIndexOf(', ', 80));
}

/** The subcommands csumtop takes as its first word. */
export const SUBCOMMANDS: ReadonlyArray<{ name: string; summary: string }> = [{ name: 'cluster', summary: 'bad VXLAN carriers node x peer, from Prometheus' }];
