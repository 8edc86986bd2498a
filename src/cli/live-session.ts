/**
 * The one way live capture starts, for every live mode (text and --json lines, the
 * dashboard, the demo; issue 15): the namespaces, the compiled filter and the source
 * (prepareLive), then the kernel's drop verdicts, the capture itself with --user's drop of
 * rights, and the correlation over it (startLive). Each failure is a message and an exit
 * status (src/cli/exit-status.ts), never a throw to the caller. What is then done with
 * the batches (state, -c, correlation, the interval ticks) is one LiveFeed
 * (src/cli/live-feed.ts) each mode subscribes to.
 */
import type { CorrelationSnapshot } from '../model/correlation.js';
import { pidNetns, resolveNetns } from '../host/links.js';
import { KernelDropsSource } from '../host/kernel-drops.js';
import { LibpcapSource } from '../capture/libpcap-source.js';
import { LiveSource, namespaceSpecs, ringMemoryCap, type NamespaceSpec } from '../capture/live-source.js';
import { CaptureError, type CaptureSource } from '../capture/source.js';
import { LiveState } from '../capture/live-state.js';
import { compileFilter, FilterError, FILTER_TIME_LIMIT_MS } from '../capture/filter-compile.js';
import type { Correlator } from '../correlate/pipeline.js';
import { nativeLayout } from '../native/analyzer.js';
import { namespaceRefused } from '../native/host.js';
import { createFrameBudget, type FilterProgram } from '../native/live.js';
import type { Options } from './args.js';
import { EXIT_NO_PRIVILEGE, EXIT_USAGE } from './exit-status.js';
import { liveCorrelator } from './live-correlation.js';
import { dropTo, PrivilegeError } from './privileges.js';
import { shutdown, signalStatus, type StopSignal } from './shutdown.js';
import type { LineWrite } from '../output/write.js';

/**
 * The ring's block: the kernel hands a block over when it is full or retire_ms (50 ms)
 * after it opened, so sparse traffic takes a block per 50 ms and a ring of N blocks loses
 * frames once its capture thread has not run for N x 50 ms
 * (net/packet/af_packet.c, prb_retire_rx_blk_timer_expired and the frozen queue after
 * it). With 1 MiB blocks, `--ring-mb 2` on a loaded machine dropped 1 frame in 2400 on
 * 160 quiet veths (test/lab/vanished.test.ts): 256 KiB makes it 4 blocks per MiB (8
 * with `--ring-mb 2`, 400 ms; 32 by default). A block still holds a 64 KiB GSO frame
 * whole (a frame longer than a block is cut to fit it).
 */
export const RING_BLOCK_BYTES = 256 << 10;

export interface LiveIo {
  /** The line stream and the report (src/output/write.ts lineWriter). */
  out: LineWrite;
  /** A long output in pieces, written as the reader takes them (the report with --list); without it, joined and given to out. */
  outPieces?: (pieces: Iterable<string>, suffix?: string) => Promise<void>;
  warn: (text: string) => Promise<void>;
  /** Every interval's correlation snapshot (dashboard, metrics). */
  snapshot?: (s: CorrelationSnapshot) => void;
}

/**
 * -f compiled before capture starts, off the JavaScript thread and bounded
 * (src/capture/filter-compile.ts): the programs (null without -f), or the exit status
 * after a message: 2 for a filter that cannot be used, 128+N for a stop signal that came
 * while compiling (nothing was captured). --duration bounds the compile too.
 */
export async function compiledFilter(opts: Options, io: LiveIo): Promise<FilterProgram | null | number> {
  if (opts.filter === null) return null;
  const limitMs = opts.duration !== null ? Math.min(FILTER_TIME_LIMIT_MS, opts.duration * 1000) : FILTER_TIME_LIMIT_MS;
  const stop = new AbortController();
  const unsubscribe = shutdown.onStop((sig) => stop.abort(sig));
  try {
    return await compileFilter(opts.filter, { limitMs, limitWhy: limitMs < FILTER_TIME_LIMIT_MS ? ' (--duration)' : '', signal: stop.signal });
  } catch (err) {
    if (err instanceof FilterError) {
      await io.warn(err.message);
      return EXIT_USAGE;
    }
    if (stop.signal.aborted) {
      const sig = stop.signal.reason as StopSignal;
      await io.warn(`${sig} while compiling the -f filter: stopped before capturing anything`);
      return signalStatus(sig);
    }
    throw err;
  } finally {
    unsubscribe();
  }
}

/** The capture source the options ask for (AF_PACKET rings, or libpcap through cap); not started. */
export function createSource(opts: Options, specs: NamespaceSpec[], filter: FilterProgram | null): CaptureSource {
  return opts.backend === 'libpcap'
    ? new LibpcapSource({
        patterns: opts.interfaces,
        filter: opts.filter,
        count: opts.count ?? undefined,
        promisc: opts.promisc,
        batchMs: opts.batchMs,
        rescanMs: 1000,
        sink: { vxlanPorts: opts.vxlanPorts, genevePorts: opts.genevePorts, maxFlows: opts.maxFlows },
      })
    : new LiveSource({
        patterns: opts.interfaces,
        namespaces: specs,
        // Link notifications (rtnetlink) are read this often: a non-blocking read per
        // namespace when nothing changed, so new pod interfaces attach within 250 ms.
        rescanMs: 250,
        resyncMs: 60_000,
        threads: opts.threads,
        maxVanished: opts.maxVanished,
        ringMemoryCap: ringMemoryCap() ?? undefined,
        capture: {
          batchMs: opts.batchMs,
          blockSize: RING_BLOCK_BYTES,
          blockCount: opts.ringMb * ((1 << 20) / RING_BLOCK_BYTES),
          promisc: opts.promisc,
          vxlanPorts: opts.vxlanPorts,
          genevePorts: opts.genevePorts,
          maxFlows: opts.maxFlows,
          filter: filter ?? undefined,
          // -c: one budget for every capture thread (native/capture/frame_budget.h).
          frameBudget: opts.count !== null ? createFrameBudget(opts.count) : undefined,
        },
        write:
          opts.write !== null
            ? { path: opts.write, rotateBytes: (opts.rotateMb ?? 0) * 1_000_000, rotateCount: opts.rotateCount ?? 0, context: opts.context }
            : undefined,
      });
}

/** The namespaces -i/--netns/--pid/--host select; null (after a message) when one cannot be resolved. */
/** The namespaces to capture in, or the exit status after a message (3: not allowed, 2: no such namespace). */
export async function selectedNamespaces(opts: Options, io: LiveIo): Promise<NamespaceSpec[] | number> {
  const includeHost = opts.host || (opts.netns.length === 0 && opts.pids.length === 0);
  try {
    return namespaceSpecs(opts.netns, opts.pids, includeHost, { netns: resolveNetns, pid: pidNetns });
  } catch (err) {
    await io.warn((err as Error).message);
    return namespaceRefused(err) ? EXIT_NO_PRIVILEGE : EXIT_USAGE;
  }
}

/**
 * Starts capture and drops privileges for --user (every live mode): null when capture
 * runs, else the exit status after a message (3 without the right to capture).
 */
export async function startCapture(source: CaptureSource, opts: Options, io: LiveIo): Promise<number | null> {
  try {
    source.start();
  } catch (err) {
    if (err instanceof CaptureError) {
      await io.warn(err.message);
      // Not allowed is 3 whichever right is missing: CAP_NET_RAW for the sockets, or
      // CAP_SYS_ADMIN to enter a namespace (--netns/--pid): both are code EPERM
      // (LiveSource.scan, from the addon's errno).
      return err.code === 'EPERM' ? EXIT_NO_PRIVILEGE : EXIT_USAGE;
    }
    throw err;
  }
  if (opts.user !== null) {
    try {
      dropTo(opts.user);
      source.freeze(`running as ${opts.user} (--user) without the rights to open capture sockets`);
    } catch (err) {
      await source.stop();
      await io.warn((err as Error).message);
      return err instanceof PrivilegeError && !err.notPermitted ? EXIT_USAGE : EXIT_NO_PRIVILEGE;
    }
  }
  return null;
}

/** A live capture chosen and built, not started: what --metrics needs before capture starts. */
export interface LivePrepared {
  specs: NamespaceSpec[];
  source: CaptureSource;
  /** The capture's counters as batches arrive (the caller applies each batch). */
  state: LiveState;
}

/** Namespaces, filter and source for the options; `specs` given (the demo's) skips the selection. */
export async function prepareLive(opts: Options, io: LiveIo, specs?: NamespaceSpec[]): Promise<LivePrepared | number> {
  const chosen = specs ?? (await selectedNamespaces(opts, io));
  if (typeof chosen === 'number') return chosen;
  const filter = await compiledFilter(opts, io);
  if (typeof filter === 'number') return filter;
  return { specs: chosen, source: createSource(opts, chosen, filter), state: new LiveState() };
}

/** A live capture running, with its correlation; close() once it has stopped. */
export interface LiveSession extends LivePrepared {
  kernelDrops: KernelDropsSource;
  correlator: Correlator;
  close(): void;
}

/**
 * Starts the prepared capture: the kernel's drop verdicts are loaded while it starts (with
 * --user, before startCapture drops the rights they need, issue 18), then the capture, then
 * the correlation over it. The exit status after a message when capture cannot start.
 */
export async function startLive(p: LivePrepared, opts: Options, io: LiveIo): Promise<LiveSession | number> {
  const kernelDrops = KernelDropsSource.start(opts.kernelDrops);
  if (opts.user !== null) kernelDrops.waitLoaded();
  const engines = opts.backend === 'libpcap' ? 1 : opts.threads;
  const build = (): Correlator => liveCorrelator(p.source, p.state, p.specs, nativeLayout(), opts.maxFlows, engines, kernelDrops);
  // The correlation is built before capture starts: its tables are allocated and made
  // resident, the host's facts read and iptables-save spawned (~200 ms), time in which a
  // running capture's batches only queued up (in a profiled run at 100,000 frames/s that
  // dropped 16,383 events, this was the JavaScript thread's longest busy stretch,
  // bench/RESULTS-live.md). With --user it is built after the rights are dropped, as
  // before: the NAT facts' tools then run without them.
  let correlator = opts.user === null ? build() : null;
  const failed = await startCapture(p.source, opts, io);
  if (failed !== null) {
    kernelDrops.close();
    return failed;
  }
  correlator ??= build();
  return { ...p, kernelDrops, correlator, close: () => kernelDrops.close() };
}
