/**
 * Live correlation for `--metrics`: the correlation pipeline (src/correlate/pipeline.ts)
 * over the live batches, one tick a second on the wall clock, each CorrelationSnapshot
 * handed to the exporter's update() (csumtop_vxlan_peer_carriers_total, csumtop_finding).
 * Runs only while metrics are on: the live text and JSON outputs do not read it yet.
 *
 * Host facts for the rules: the kernel release and the hypervisor (cheap reads of /proc
 * and /sys); the NAT rules are left out (reading them runs iptables-save in every
 * namespace), so remedies that depend on them are not proposed from here.
 */
import type { CaptureSource, CapturedInterface, SourceBatch } from '../../capture/source.js';
import { KernelCounterTracker } from '../../correlate/kernel.js';
import { Correlator, type PipelineInterface } from '../../correlate/pipeline.js';
import type { NamespaceSpec } from '../../capture/live-source.js';
import { detectHypervisor, readKernelFacts } from '../../host/facts.js';
import { checksumCounters } from '../../host/snmp.js';
import type { CorrelationSnapshot } from '../../model/correlation.js';
import type { NativeLayout } from '../../native/analyzer.js';

const TICK_MS = 1000;

export interface CorrelationFeedOptions {
  source: CaptureSource;
  layout: NativeLayout;
  counters: (id: number) => Float64Array;
  captureDrops: (id: number) => number;
  namespaces: readonly NamespaceSpec[];
  maxFlows: number;
  /** Receives each snapshot (the exporter's update). */
  onSnapshot: (s: CorrelationSnapshot) => void;
  warn: (text: string) => void;
}

function labelOf(i: CapturedInterface): string {
  return i.namespace === 'host' ? i.name : `${i.namespace}/${i.name}`;
}

function orNull<T>(read: () => T): T | null {
  try {
    return read();
  } catch {
    return null;
  }
}

export class CorrelationFeed {
  private readonly correlator: Correlator;
  private readonly timer: NodeJS.Timeout;
  private failed = false;

  constructor(private readonly opts: CorrelationFeedOptions) {
    const interfaces = (): PipelineInterface[] =>
      opts.source.interfaces().map((i) => ({
        id: i.id,
        label: labelOf(i),
        name: i.name,
        namespace: i.namespace,
        role: i.role,
        kind: i.kind,
        driver: i.driver,
        txChecksumOffload: i.txChecksumOffload,
        vxlan: i.vxlan ? { port: i.vxlan.port, udpCsum: i.vxlan.udpCsum } : null,
        captureDrops: opts.captureDrops(i.id),
      }));
    this.correlator = new Correlator({
      layout: opts.layout,
      interfaces,
      counters: opts.counters,
      kernel: new KernelCounterTracker(opts.namespaces.map((ns) => ({ label: ns.label, read: () => checksumCounters(ns.path ?? undefined) }))),
      facts: { kernel: orNull(() => readKernelFacts()), hypervisor: orNull(() => detectHypervisor()), nat: {} },
      live: true,
      guessesOffload: opts.source.capabilities.guessesOffload,
      maxFlows: opts.maxFlows,
    });
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  /** One live batch (call for every batch, in order). */
  add(b: SourceBatch): void {
    if (this.failed) return;
    try {
      this.correlator.add(b.events, b.records);
    } catch (err) {
      this.fail(err);
    }
  }

  private tick(): void {
    if (this.failed) return;
    try {
      this.opts.onSnapshot(this.correlator.tick(Date.now() * 1e6));
    } catch (err) {
      this.fail(err);
    }
  }

  /** A pipeline error must not stop the capture or the counters: said once, then off. */
  private fail(err: unknown): void {
    this.failed = true;
    this.opts.warn(`--metrics: correlation stopped (peer and finding metrics are frozen): ${(err as Error).message}`);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
