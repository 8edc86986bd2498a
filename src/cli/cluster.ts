/**
 * `csumtop cluster --prometheus URL [--window 5m] [--json]`: the fleet view read back
 * from the Prometheus that scrapes every node's csumtop (issue 6). Exit status: 0 nothing
 * bad in the window, 1 bad carriers / bad checksums / kernel checksum errors / a
 * critical finding, 2 usage error or Prometheus unreachable / erroring / not answering
 * like Prometheus.
 */
import { parseArgs } from 'node:util';

import { PrometheusError, prometheusBase } from '../cluster/prometheus-api.js';
import { clusterHasBad, fetchClusterView, renderClusterView, WINDOW_SYNTAX } from '../cluster/view.js';

export const CLUSTER_HELP = `Usage: csumtop cluster --prometheus URL [--window DURATION] [--json]

Reads the metrics every node's csumtop exports (--metrics) back from Prometheus and
prints, for the window: the node x peer matrix of bad tunnel carriers (received and
sent), per node the bad checksums csumtop saw, the kernel's checksum errors and capture
drops, and the findings active now. Nodes are Prometheus' "instance" label.

      --prometheus URL   Prometheus' base URL, e.g. http://prometheus:9090
      --window DURATION  PromQL range (default 5m): 30s, 5m, 1h, 1d, 1h30m
      --json             one JSON document (schema: src/model/cluster.ts)
  -h, --help             this text

Exit status: 0 nothing bad in the window, 1 something bad, 2 usage error or Prometheus
unreachable or answering with an error.
`;

export interface ClusterIo {
  out: (text: string) => Promise<void>;
  warn: (text: string) => Promise<void>;
}

export async function clusterMain(argv: string[], io: ClusterIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        prometheus: { type: 'string' },
        window: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    await io.warn(`cluster: ${(err as Error).message}\nTry 'csumtop cluster --help'.`);
    return 2;
  }
  if (values.help === true) {
    await io.out(CLUSTER_HELP);
    return 0;
  }
  if (values.prometheus === undefined) {
    await io.warn("cluster: --prometheus URL is required\nTry 'csumtop cluster --help'.");
    return 2;
  }
  const window = values.window ?? '5m';
  if (!WINDOW_SYNTAX.test(window)) {
    await io.warn(`cluster: --window: '${window}' is not a PromQL duration (e.g. 30s, 5m, 1h, 1h30m)`);
    return 2;
  }
  try {
    const view = await fetchClusterView(prometheusBase(values.prometheus), window);
    await io.out(values.json === true ? JSON.stringify(view, null, 2) + '\n' : renderClusterView(view));
    return clusterHasBad(view) ? 1 : 0;
  } catch (err) {
    if (err instanceof PrometheusError) {
      await io.warn(`cluster: ${err.message}`);
      return 2;
    }
    throw err;
  }
}
