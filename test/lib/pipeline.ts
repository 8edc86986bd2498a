/** What the tests' Correlators are built from (src/correlate/pipeline.ts). */
import { type PipelineContext, type PipelineInterface } from '../../src/correlate/pipeline.js';
import { nativeLayout } from '../../src/native/analyzer.js';

/** An underlay interface of the host namespace, attached, with no facts known. */
export function underlay(id: number, name: string): PipelineInterface {
  return { id, label: name, name, namespace: 'host', role: 'underlay', kind: null, driver: null, txChecksumOffload: null, vxlan: null, captureDrops: 0 };
}

/** A live Correlator's context over `interfaces` with zero counters and no host facts;
 * `over` sets anything else. */
export function pipelineContext(interfaces: PipelineInterface[], over: Partial<PipelineContext> = {}): PipelineContext {
  const L = nativeLayout();
  return {
    layout: L,
    interfaces: () => interfaces,
    counters: () => new Float64Array(L.counterStride),
    kernel: null,
    facts: { kernel: null, hypervisor: null, nat: {} },
    live: true,
    guessesOffload: false,
    maxFlows: 100,
    ...over,
  };
}
