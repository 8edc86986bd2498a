/**
 * Live capture's correlation: the pipeline fed by the source's batches, ticked once per
 * interval on the wall clock, with the kernel's counters of every captured namespace and
 * the host facts (read once, in the background: iptables-save may take a while).
 */
import { Correlator, type PipelineInterface } from '../correlate/pipeline.js';
import { KernelCounterTracker } from '../correlate/kernel.js';
import { KERNEL_DROP_KEYS, KernelDropTracker } from '../correlate/kernel-drops.js';
import { kernelDropNames } from '../host/kernel-drops.js';
import type { KernelDropsSource } from '../host/kernel-drops.js';
import type { DiagnosisFacts } from '../diagnose/input.js';
import { detectHypervisor, readKernelFacts } from '../host/facts.js';
import { readNatFacts } from '../host/nat-rules.js';
import { checksumCounters } from '../host/snmp.js';
import type { NamespaceSpec } from '../capture/live-source.js';
import type { CaptureSource } from '../capture/source.js';
import type { LiveState } from '../capture/live-state.js';
import type { NativeLayout } from '../native/analyzer.js';
import { kernelDropMatchWindowMs } from '../native/kernel-drops.js';

export function liveCorrelator(
  source: CaptureSource,
  state: LiveState,
  specs: NamespaceSpec[],
  layout: NativeLayout,
  maxFlows: number,
  engines = 1,
  kernelDrops: KernelDropsSource | null = null,
): Correlator {
  const facts: DiagnosisFacts = { kernel: null, hypervisor: null, nat: {} };
  // Read when the rules are evaluated (once per tick): links come and go.
  if (source.uncaptured) Object.defineProperty(facts, 'uncaptured', { enumerable: true, get: () => source.uncaptured!() });
  try {
    facts.kernel = readKernelFacts();
    facts.hypervisor = detectHypervisor();
  } catch {
    // Facts are evidence, not a precondition: the rules say "unknown" without them.
  }
  for (const s of specs) {
    void readNatFacts(s.path ?? undefined, { timeoutMs: 5000 })
      .then((n) => {
        facts.nat[s.label] =
          n.sources.find((x) => x.status === 'ok' && x.analysis && x.analysis.masquerades.length > 0)?.analysis ??
          n.sources.find((x) => x.status === 'ok')?.analysis ??
          null;
      })
      .catch(() => {
        facts.nat[s.label] = null;
      });
  }
  const kernel = new KernelCounterTracker(specs.map((s) => ({ label: s.label, read: () => checksumCounters(s.path ?? undefined) })));
  // The interfaces as they are, with the ring drops counted so far (a new object per call:
  // the source's own change as interfaces vanish).
  const interfaces = (): PipelineInterface[] => source.interfaces().map((i) => ({ ...i, captureDrops: state.ringOf(i.id).drops }));
  kernel.sample(); // the baseline: "since start" means since now
  return new Correlator({
    layout,
    interfaces,
    counters: (id) => state.countersOf(id),
    kernel,
    kernelDrops: kernelDrops
      ? new KernelDropTracker(
          kernelDrops,
          kernelDropNames(specs, () => [...source.interfaces(), ...(source.uncaptured?.() ?? [])]),
          KERNEL_DROP_KEYS,
          kernelDropMatchWindowMs(),
          source.capabilities.backend === 'afpacket',
        )
      : null,
    facts,
    live: true,
    guessesOffload: source.capabilities.guessesOffload,
    maxFlows,
    recordsDropped: () => state.recordsDropped,
    // Each capture thread has its own table of --max-flows.
    nativeBadFlows: () => {
      const t = state.badFlows();
      return { size: t.kept, cap: maxFlows * engines, evicted: t.evicted };
    },
  });
}
