/**
 * `csumtop cluster --prometheus URL [--window 5m] [--json]`: the fleet view read back
 * from the Prometheus that scrapes every node's csumtop (issue 6). Exit status: 0 nothing
 * bad in the window, 1 bad carriers / bad checksums / kernel checksum errors / a
 * critical finding, 2 usage error or Prometheus unreachable / erroring / not answering
 * like Prometheus.
 */
import { parseArgs } from 'node:util';

import { PrometheusError, prometheusBase, QUERY_TIMEOUT_MS } from '../cluster/prometheus-api.js';
import { clusterHasBad, fetchClusterView, renderClusterView, WINDOW_SYNTAX } from '../cluster/view.js';
import { jsonText } from '../output/json-lines.js';
import { EXIT_BAD, EXIT_OK, EXIT_USAGE } from './exit-status.js';

export const CLUSTER_HELP = `Usage: csumtop cluster --prometheus URL [--window DURATION] [--timeout SECONDS] [--json]

Reads the metrics every node's csumtop exports (--metrics) back from Prometheus and
prints, for the window: the node x peer matrix of bad tunnel carriers (received and
sent), per node the bad checksums csumtop saw, the kernel's checksum errors and capture
drops, and the findings active now. Nodes are Prometheus' "instance" label; peers
are named by node when Prometheus has kube-state-metrics' kube_node_info.

      --prometheus URL   Prometheus' base URL, e.g. http://prometheus:9090
      --window DURATION  PromQL range (default 5m): 30s, 5m, 1h, 1d, 1h30m
      --timeout SECONDS  give up on a query not answered in full by then (default 10)
      --json             one JSON document (schema: src/model/cluster.ts)
  -h, --help             this text

Exit status: 0 nothing bad in the window, 1 something bad, 2 usage error or Prometheus
unreachable, not answering in time, answering more than 32 MiB, or with an error.
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
        timeout: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    await io.warn(`cluster: ${(err as Error).message}\nTry 'csumtop cluster --help'.`);
    return EXIT_USAGE;
  }
  if (values.help === true) {
    await io.out(CLUSTER_HELP);
    return EXIT_OK;
  }
  if (values.prometheus === undefined) {
    await io.warn("cluster: --prometheus URL is required\nTry 'csumtop cluster --help'.");
    return EXIT_USAGE;
  }
  const window = values.window ?? '5m';
  if (!WINDOW_SYNTAX.test(window)) {
    await io.warn(`cluster: --window: '${window}' is not a PromQL duration (e.g. 30s, 5m, 1h, 1h30m)`);
    return EXIT_USAGE;
  }
  const timeout = values.timeout ?? String(QUERY_TIMEOUT_MS / 1000);
  if (!/^\d+(\.\d+)?$/.test(timeout) || Number(timeout) <= 0 || Number(timeout) > 3600) {
    await io.warn(`cluster: --timeout: '${timeout}' is not a number of seconds (0 < SECONDS <= 3600)`);
    return EXIT_USAGE;
  }
  try {
    const view = await fetchClusterView(prometheusBase(values.prometheus), window, { timeoutMs: Number(timeout) * 1000 });
    await io.out(values.json === true ? jsonText(view, 2) + '\n' : renderClusterView(view));
    return clusterHasBad(view) ? EXIT_BAD : EXIT_OK;
  } catch (err) {
    if (err instanceof PrometheusError) {
      await io.warn(`cluster: ${err.message}`);
      return EXIT_USAGE;
    }
    throw err;
  }
}
