/**
 * csumtop's entry point: parses flags, runs the chosen mode, returns the exit status.
 * Exit statuses (also in --help and the README): 0 no bad checksum, 1 bad checksums
 * found, 2 usage or input error, 3 not allowed to capture; after a signal see
 * shutdown.ts (live: the report's status; -r: 128 + the signal's number).
 */
import { fstatSync, readFileSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { analyzeFileInterruptible, InputError } from '../capture/file-run.js';
import { ROOT } from '../native/addon.js';
import { activeChecksumPath } from '../native/checksum.js';
import { libpcapVersion } from '../native/live.js';
import { buildReport, fileReportInput, listedReports } from '../output/report.js';
import { reportPieces, writePieces } from '../output/report-stream.js';
import { printable, printableLines } from '../output/printable.js';
import { lineWriter, write } from '../output/write.js';
import { parseOptions, UsageError, type Options } from './args.js';
import { environmentError } from './environment.js';
import { EXIT_BAD, EXIT_OK, EXIT_USAGE } from './exit-status.js';
import { HELP } from './help.js';
import { Progress } from './progress.js';
import { shutdown, signalStatus } from './shutdown.js';

// The live, dashboard, demo and cluster modes are loaded when chosen: RxJS, blessed and
// prom-client together doubled the start-up of `csumtop -r` and `--version` (0.17 s
// against 0.08 s for `node -e 0`), which matters for a tool run on many files.

function version(): string {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * `csumtop --version`. The first line is the version alone (scripts compare it); then what
 * a bug report needs: the checksum engine chosen at run time, the kernel, Node, the
 * libpcap that -f filters are compiled and -r filters run with (loaded at run time:
 * src/capture/filter-compile.ts), and whether --backend libpcap (the vendored cap) loads.
 */
export async function versionText(): Promise<string> {
  const pcap = libpcapVersion();
  let backend = 'available';
  try {
    (await import('../capture/libpcap-source.js')).loadCap();
  } catch (err) {
    backend = `not available: ${(err as Error).message}`;
  }
  return formatVersion({ version: version(), engine: activeChecksumPath(), kernel: os.release(), node: process.version, libpcap: pcap, backend });
}

export function formatVersion(v: {
  version: string;
  engine: string;
  kernel: string;
  node: string;
  libpcap: { version: string } | { error: string };
  backend: string;
}): string {
  const pcap = 'version' in v.libpcap ? v.libpcap.version : `not available (${v.libpcap.error})`;
  return `csumtop ${v.version}\nchecksum engine: ${v.engine}\nkernel: ${v.kernel}\nnode: ${v.node}\nlibpcap: ${pcap}\nlibpcap backend: ${v.backend}\n`;
}

/** Every message on standard error: they quote interface, namespace and file names (printable.ts). */
function warn(text: string): Promise<void> {
  return write(process.stderr, `csumtop: ${printableLines(text)}\n`);
}

/** Progress on standard error while a file is read, only when it is a terminal (src/cli/progress.ts). */
function fileProgress(file: string): Progress | null {
  if (process.stderr.isTTY !== true) return null;
  let total: number | null = null;
  try {
    const st = file === '-' ? fstatSync(0) : statSync(file);
    if (st.isFile()) total = st.size;
  } catch {
    // unreadable: the analysis reports it
  }
  // CSUMTOP_PROGRESS_MS (tests only): the redraw interval, so a test sees lines however
  // fast the file is read (test/unit/progress.test.ts; 500 ms otherwise).
  const every = Number(process.env.CSUMTOP_PROGRESS_MS);
  return new Progress(process.stderr, total, Number.isFinite(every) && every >= 0 && process.env.CSUMTOP_PROGRESS_MS !== '' ? every : undefined);
}

async function readMode(opts: Options & { read: string }): Promise<number> {
  const progress = fileProgress(opts.read);
  // A signal stops reading at the next step: what was read is reported, marked interrupted.
  let run;
  try {
    run = await analyzeFileInterruptible(
      opts.read,
      {
        vxlanPorts: opts.vxlanPorts,
        genevePorts: opts.genevePorts,
        maxFlows: opts.maxFlows,
        listBad: opts.list,
        write: opts.write ?? undefined,
        overwrite: true,
        events: !opts.noCorrelate,
        // The text report shows the top flows only: the rest need not be converted.
        topFlows: opts.json ? 0 : opts.top,
        filter: opts.filter ?? undefined,
        count: opts.count ?? undefined,
      },
      () => shutdown.signal,
      progress ? (done) => progress.update(done) : undefined,
    );
  } finally {
    progress?.clear();
  }
  const input = fileReportInput(run);
  const doc = buildReport(input, { version: version(), checksumPath: activeChecksumPath() });
  if (opts.write !== null && run.error === null) doc.written = { path: opts.write, frames: run.stats.written };
  // The --list frames are made into text as they are written (issue 17 item 10).
  await writePieces(process.stdout, reportPieces(doc, listedReports(input), opts.json ? { json: 2 } : { maxFlows: opts.top }), opts.json ? '\n' : '');
  // One warning, one line: a line break inside one (a pcapng name) is escaped too.
  for (const w of doc.source.warnings) await warn(`warning: ${printable(w)}`);
  if (run.error !== null) return EXIT_USAGE;
  // Not read to the end: neither "none" nor "some" is the file's answer.
  if (shutdown.lost !== null) return EXIT_USAGE;
  if (run.interrupted !== null && shutdown.signal !== null) return signalStatus(shutdown.signal);
  return doc.totals.badFrames > 0 ? EXIT_BAD : EXIT_OK;
}

/**
 * The dashboard when a person is watching: standard output (and input) a terminal and no
 * flag that asks for a report or machine output. Everything else keeps the report.
 */
export function wantsDashboard(opts: Options, isTty = process.stdout.isTTY === true && process.stdin.isTTY === true): boolean {
  // --metrics is for a node agent (the exporter runs in the report mode's capture).
  if (!isTty || opts.json || opts.report || opts.noCorrelate || opts.list || opts.write !== null || opts.duration !== null || opts.metrics !== null)
    return false;
  // -c ends in a report, as --duration does; a file replay asks for its filter programs
  // only in the report's reader (src/capture/file-run.ts).
  if (opts.count !== null || (opts.read !== null && opts.filter !== null)) return false;
  // A file read from standard input cannot share it with the keyboard.
  return opts.read !== '-';
}

/** -r with a FILE (or standard input) that is not a regular file: read with blocking reads. */
function readsFromPipe(argv: string[]): boolean {
  let read: string | null;
  try {
    read = parseOptions(argv).read;
  } catch {
    return false; // a usage error: reported below
  }
  if (read === null) return false;
  try {
    return !(read === '-' ? fstatSync(0) : statSync(read)).isFile();
  } catch {
    return false; // unreadable: reported by the analysis
  }
}

export async function main(argv: string[]): Promise<number> {
  // A closed pipe (csumtop ... | head) or a full disk (> /dev/full) ends the run at once
  // with status 2 and, for a write error, one line (shutdown.outputLost; issue 13 s.5,
  // issue 17 item 8: it was a stack trace, or a capture running on until killed). A
  // terminal that went away (EIO on a hung-up pty) is left to the SIGHUP that comes with it.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EIO') shutdown.outputLost('stdout', err);
  });
  process.stderr.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EIO') shutdown.outputLost('stderr', err);
  });
  // SIGINT, SIGTERM, SIGHUP: an orderly stop in every mode, bounded (shutdown.ts). Not
  // for -r from a pipe: the addon reads it with a blocking read(2) on this thread, which
  // a signal handled in JavaScript cannot interrupt (a stalled writer would make csumtop
  // deaf to signals), so there the signal keeps its default action and ends csumtop at
  // once, before anything was printed; a shell sees 128+N all the same.
  if (!readsFromPipe(argv)) shutdown.install();
  // A subcommand: the fleet view from Prometheus (no capture, no addon needed).
  if (argv[0] === 'cluster') return (await import('./cluster.js')).clusterMain(argv.slice(1), { out: (text) => write(process.stdout, text), warn });
  let opts: Options;
  try {
    opts = parseOptions(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      await warn(`${err.message}\nTry 'csumtop --help'.`);
      return EXIT_USAGE;
    }
    throw err;
  }
  if (opts.help) {
    await write(process.stdout, HELP);
    return EXIT_OK;
  }
  if (opts.version) {
    await write(process.stdout, await versionText());
    return EXIT_OK;
  }
  // After --help and --version (which need no addon), before any mode uses the addon.
  const envError = environmentError();
  if (envError !== null) {
    await warn(`${envError}\nTry 'csumtop --help'.`);
    return EXIT_USAGE;
  }
  if (opts.listInterfaces) return (await import('./list-interfaces.js')).listInterfacesMode(opts, { out: (text) => write(process.stdout, text), warn });
  if (opts.demo) return (await import('./demo-mode.js')).demoMode(opts, { out: (text) => write(process.stdout, text), warn });
  if (wantsDashboard(opts)) {
    const { liveDashboard, replayDashboard } = await import('./dashboard-mode.js');
    if (opts.read === null) return liveDashboard(opts, { out: (text) => write(process.stdout, text), warn }, { mode: 'live' });
    try {
      return await replayDashboard({ ...opts, read: opts.read }, opts.fast);
    } catch (err) {
      if (err instanceof InputError) {
        await warn(err.message);
        return EXIT_USAGE;
      }
      throw err;
    }
  }
  if (opts.read === null) {
    const { liveMode } = await import('./live-mode.js');
    return liveMode(
      opts,
      { version: version(), checksumPath: activeChecksumPath() },
      {
        // The line stream to a regular file is written off the JavaScript thread
        // (lineWriter). The final report comes after every line was written (live-mode.ts
        // awaits the queue), at the same offset.
        out: lineWriter(1, process.stdout, (err) => shutdown.outputLost('stdout', err)),
        outPieces: (pieces, suffix) => writePieces(process.stdout, pieces, suffix),
        warn,
      },
    );
  }
  try {
    return await readMode({ ...opts, read: opts.read });
  } catch (err) {
    if (err instanceof InputError) {
      await warn(err.message);
      return EXIT_USAGE;
    }
    throw err;
  }
}
