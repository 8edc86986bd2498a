/**
 * `--metrics` during live capture: the exporter fed from the live state at every scrape,
 * the kernel's checksum counters of every captured namespace read once a second (only
 * while metrics are on), and the health that /healthz reports.
 *
 * Health: every capture engine hands over a batch every --batch-ms even when no packet
 * arrives (native/capture/live_capture.cc run(); the libpcap source's timer), so a
 * batch older than STALL_BATCHES intervals (and at least MIN_STALL_MS) means the
 * capture is stuck, and /healthz says 503; so does a capture that stopped.
 */
import type { NamespaceSpec } from '../../capture/live-source.js';
import { CounterSampler } from '../../host/snmp.js';
import type { ListenAddress } from './address.js';
import { MetricsExporter, type CounterLayout, type InterfaceSample } from './exporter.js';
import { MetricsServer } from './server.js';

const STALL_BATCHES = 20;
const MIN_STALL_MS = 5000;
const KERNEL_PERIOD_MS = 1000;

export interface LiveMetricsOptions {
  listen: ListenAddress;
  maxPeers: number;
  batchMs: number;
  /** Capture engines (--threads): each must keep delivering batches. */
  engines: number;
  namespaces: readonly NamespaceSpec[];
  tool: { version: string; checksumPath: string; backend: string };
  layout: CounterLayout;
  /** The captured interfaces with their cumulative counters, read at every scrape. */
  interfaces: () => InterfaceSample[];
  warn: (text: string) => void;
  now?: () => number;
}

export class LiveMetrics {
  private readonly lastBatch: number[];
  private stoppedWhy: string | null = null;
  private readonly kernelTimer: NodeJS.Timeout;
  private readonly samplers: Array<{ label: string; sampler: CounterSampler; failing: boolean }>;
  private readonly now: () => number;

  private constructor(
    readonly exporter: MetricsExporter,
    private readonly opts: LiveMetricsOptions,
    readonly server: MetricsServer,
  ) {
    this.now = opts.now ?? (() => performance.now());
    this.lastBatch = new Array<number>(Math.max(1, opts.engines)).fill(this.now());
    this.samplers = opts.namespaces.map((ns) => ({ label: ns.label, sampler: CounterSampler.forNetns(ns.path ?? undefined), failing: false }));
    this.sampleKernel(); // the baseline: csumtop_kernel_* count from here
    this.kernelTimer = setInterval(() => this.sampleKernel(), KERNEL_PERIOD_MS);
    this.kernelTimer.unref();
  }

  /** Binds the endpoint; rejects with MetricsListenError (a usage error) before capture starts. */
  static async start(opts: LiveMetricsOptions): Promise<LiveMetrics> {
    const exporter = new MetricsExporter({ ...opts.tool, layout: opts.layout, maxPeers: opts.maxPeers });
    let self: LiveMetrics | null = null;
    const server = await MetricsServer.listen(opts.listen, {
      metrics: () => {
        exporter.observeInterfaces(opts.interfaces());
        return exporter.text();
      },
      contentType: exporter.contentType,
      unhealthy: () => self?.unhealthy() ?? null,
    });
    self = new LiveMetrics(exporter, opts, server);
    return self;
  }

  private sampleKernel(): void {
    for (const s of this.samplers) {
      try {
        const rates = s.sampler.sample();
        s.failing = false;
        if (rates !== null) this.exporter.observeKernel(s.label, rates.delta);
      } catch (err) {
        // Said once per failing stretch, not every second.
        if (!s.failing) this.opts.warn(`--metrics: cannot read the kernel counters of ${s.label}: ${(err as Error).message}`);
        s.failing = true;
      }
    }
  }

  /** A capture engine delivered a batch. */
  batch(engine: number): void {
    if (engine >= 0 && engine < this.lastBatch.length) this.lastBatch[engine] = this.now();
  }

  /** Capture is over (signal, --duration, failure): /healthz answers 503 from now on. */
  stopped(why: string): void {
    this.stoppedWhy ??= why;
  }

  unhealthy(): string | null {
    if (this.stoppedWhy !== null) return this.stoppedWhy;
    const limit = Math.max(MIN_STALL_MS, STALL_BATCHES * this.opts.batchMs);
    const now = this.now();
    for (let e = 0; e < this.lastBatch.length; e++) {
      const age = now - this.lastBatch[e];
      if (age > limit) return `capture stalled: engine ${e} delivered no batch for ${Math.round(age)} ms`;
    }
    return null;
  }

  async close(): Promise<void> {
    clearInterval(this.kernelTimer);
    this.stopped('csumtop is exiting');
    await this.server.close();
  }
}
