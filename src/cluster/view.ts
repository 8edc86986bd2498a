/**
 * The cluster view out of Prometheus (issue 6, `csumtop cluster`): which nodes exchange
 * broken tunnel carriers with which peers, per node what csumtop and the kernel counted,
 * and the findings that hold now. The queries are PromQL over the exporter's metrics
 * (src/output/metrics/exporter.ts); `instance` is the node (deploy/README.md relabels it
 * to the node name).
 */
import type { ClusterFinding, ClusterView, NodeTotals, PeerCell } from '../model/cluster.js';
import { CLUSTER_VIEW_VERSION } from '../model/cluster.js';
import { printable } from '../output/printable.js';
import { instantQuery, type QueryLimits, type VectorSample } from './prometheus-api.js';

/** A PromQL duration: one or more NUMBER UNIT (prometheus.io/docs/prometheus/latest/querying/basics/#time-durations). */
export const WINDOW_SYNTAX = /^(\d+(ms|s|m|h|d|w|y))+$/;

export function clusterQueries(window: string): Record<'bad' | 'total' | 'badChecksums' | 'kernel' | 'drops' | 'findings' | 'nodeInfo', string> {
  return {
    bad: `sum by (instance, peer, direction) (increase(csumtop_vxlan_peer_carriers_total{verdict=~"bad.*"}[${window}]))`,
    total: `sum by (instance, peer, direction) (increase(csumtop_vxlan_peer_carriers_total{verdict=~"ok|bad.*"}[${window}]))`,
    badChecksums: `sum by (instance) (increase(csumtop_checksums_total{verdict="bad"}[${window}]))`,
    kernel: `sum by (instance) (increase(csumtop_kernel_checksum_errors_total[${window}]))`,
    drops: `sum by (instance) (increase(csumtop_capture_drops_total[${window}]))`,
    findings: 'csumtop_finding == 1',
    // kube-state-metrics: one series per node with its InternalIP (the address a tunnel
    // peer is known by on flannel and calico VXLAN, whose VTEP is the node's address).
    nodeInfo: 'kube_node_info',
  };
}

const label = (s: VectorSample, name: string): string => s.metric[name] ?? '';

function direction(s: VectorSample): 'received' | 'sent' {
  return label(s, 'direction') === 'sent' ? 'sent' : 'received';
}

/**
 * Asks Prometheus (seven instant queries, in parallel, each bounded by `limits`) and
 * assembles the view. The first query that fails abandons the others: nothing is left
 * reading from a Prometheus that stalls once the answer is known to be an error.
 */
export async function fetchClusterView(base: URL, window: string, limits: Omit<QueryLimits, 'signal'> = {}): Promise<ClusterView> {
  const q = clusterQueries(window);
  const abandon = new AbortController();
  let results: VectorSample[][];
  try {
    results = await Promise.all(
      [q.bad, q.total, q.badChecksums, q.kernel, q.drops, q.findings, q.nodeInfo].map((query) =>
        instantQuery(base, query, { ...limits, signal: abandon.signal }),
      ),
    );
  } finally {
    abandon.abort();
  }
  const [bad, total, badChecksums, kernel, drops, findings, nodeInfo] = results;
  return buildClusterView({ bad, total, badChecksums, kernel, drops, findings, nodeInfo }, { prometheus: base.href, window, time: new Date().toISOString() });
}

export function buildClusterView(
  r: {
    bad: VectorSample[];
    total: VectorSample[];
    badChecksums: VectorSample[];
    kernel: VectorSample[];
    drops: VectorSample[];
    findings: VectorSample[];
    nodeInfo?: VectorSample[];
  },
  meta: { prometheus: string; window: string; time: string },
): ClusterView {
  const cellKey = (instance: string, peer: string, dir: string): string => `${instance}\u0000${peer}\u0000${dir}`;
  const cells = new Map<string, PeerCell>();
  const cell = (s: VectorSample): PeerCell => {
    const key = cellKey(label(s, 'instance'), label(s, 'peer'), direction(s));
    let c = cells.get(key);
    if (!c) {
      c = { instance: label(s, 'instance'), peer: label(s, 'peer'), direction: direction(s), bad: 0, total: null };
      cells.set(key, c);
    }
    return c;
  };
  for (const s of r.bad) cell(s).bad = s.value;
  for (const s of r.total) cell(s).total = s.value;
  const matrix = [...cells.values()].sort(
    (a, b) => a.instance.localeCompare(b.instance) || a.peer.localeCompare(b.peer) || a.direction.localeCompare(b.direction),
  );

  const totals = new Map<string, NodeTotals>();
  const node = (instance: string): NodeTotals => {
    let t = totals.get(instance);
    if (!t) {
      t = { instance, badChecksums: null, kernelChecksumErrors: null, captureDrops: null };
      totals.set(instance, t);
    }
    return t;
  };
  for (const s of r.badChecksums) node(label(s, 'instance')).badChecksums = s.value;
  for (const s of r.kernel) node(label(s, 'instance')).kernelChecksumErrors = s.value;
  for (const s of r.drops) node(label(s, 'instance')).captureDrops = s.value;

  const severityRank: Record<string, number> = { critical: 0, warning: 1, info: 2 };
  const findings: ClusterFinding[] = r.findings
    .map((s) => ({ instance: label(s, 'instance'), id: label(s, 'id'), severity: label(s, 'severity'), subject: label(s, 'subject') }))
    .sort(
      (a, b) =>
        (severityRank[a.severity] ?? 9) - (severityRank[b.severity] ?? 9) ||
        a.instance.localeCompare(b.instance) ||
        a.id.localeCompare(b.id) ||
        a.subject.localeCompare(b.subject),
    );

  const nodes = new Set<string>([...matrix.map((c) => c.instance), ...totals.keys(), ...findings.map((f) => f.instance)]);
  return {
    version: CLUSTER_VIEW_VERSION,
    prometheus: meta.prometheus,
    window: meta.window,
    time: meta.time,
    nodes: [...nodes].sort(),
    peers: [...new Set(matrix.map((c) => c.peer))].sort(),
    matrix,
    totals: [...totals.values()].sort((a, b) => a.instance.localeCompare(b.instance)),
    findings,
    peerNames: peerNames(r.nodeInfo ?? []),
  };
}

/** internal_ip -> node names of kube_node_info series; null when there are none. */
function peerNames(nodeInfo: VectorSample[]): Record<string, string[]> | null {
  if (nodeInfo.length === 0) return null;
  const names = new Map<string, Set<string>>();
  for (const s of nodeInfo) {
    const ip = label(s, 'internal_ip');
    const node = label(s, 'node');
    if (ip === '' || node === '') continue;
    if (!names.has(ip)) names.set(ip, new Set());
    names.get(ip)!.add(node);
  }
  return Object.fromEntries([...names].sort(([a], [b]) => a.localeCompare(b)).map(([ip, n]) => [ip, [...n].sort()]));
}

/** A peer address with its node name(s) when kube_node_info has them: "10.0.0.2 (node-b)". */
function named(v: ClusterView, address: string): string {
  const n = v.peerNames?.[address];
  return n && n.length > 0 ? `${address} (${n.join('|')})` : address;
}

/** Whole counts for the table: increase() extrapolates to the window's edges. */
function count(n: number | null): string {
  return n === null ? '-' : String(Math.round(n));
}

function table(header0: string[], rows0: string[][]): string {
  // Label values (peers in the header too) are whatever the scraped targets and
  // relabelling put there (printable.ts).
  const header = header0.map(printable);
  const rows = rows0.map((r) => r.map(printable));
  const widths = header.map((h, k) => Math.max(h.length, ...rows.map((r) => r[k].length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, k) => (k === cells.length - 1 ? c : c.padEnd(widths[k])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** The view as text: one matrix per direction, node totals, findings. */
export function renderClusterView(v: ClusterView): string {
  let out = `csumtop cluster: ${v.prometheus}, last ${v.window}, ${v.nodes.length} node(s)\n`;
  const titles: Record<PeerCell['direction'], string> = {
    received: "Bad tunnel carriers RECEIVED from each peer (dropped by the node's kernel)",
    sent: "Bad tunnel carriers SENT to each peer (the peer's kernel drops them)",
  };
  if (v.matrix.length === 0) {
    out += '\nNo tunnel carriers per peer in Prometheus for this window (no csumtop_vxlan_peer_carriers_total series).\n';
  }
  for (const dir of ['received', 'sent'] as const) {
    const cells = v.matrix.filter((c) => c.direction === dir);
    if (cells.length === 0) continue;
    const peers = [...new Set(cells.map((c) => c.peer))].sort();
    const nodes = [...new Set(cells.map((c) => c.instance))].sort();
    const rows = nodes.map((n) => [
      n,
      ...peers.map((p) => {
        const c = cells.find((x) => x.instance === n && x.peer === p);
        return c ? `${count(c.bad)}/${count(c.total)}` : '-';
      }),
    ]);
    out += `\n${titles[dir]}; bad/all, rows: node, columns: peer\n` + table(['node', ...peers.map((p) => named(v, p))], rows);
  }
  if (v.totals.length > 0) {
    out +=
      '\nPer node\n' +
      table(
        ['node', 'bad checksums', 'kernel checksum errors', 'capture drops'],
        v.totals.map((t) => [t.instance, count(t.badChecksums), count(t.kernelChecksumErrors), count(t.captureDrops)]),
      );
  } else {
    out += '\nNo csumtop metrics in Prometheus for this window (is csumtop scraped?).\n';
  }
  if (v.findings.length === 0) out += '\nNo active findings.\n';
  else {
    out +=
      `\nActive findings (${v.findings.length})\n` +
      table(
        ['severity', 'finding', 'subject', 'node'],
        v.findings.map((f) => [f.severity, f.id, named(v, f.subject), f.instance]),
      );
  }
  // Where the peers' names come from, or why there are none (issue 19).
  if (v.matrix.length > 0) {
    out +=
      v.peerNames === null
        ? '\nPeers are shown by address: Prometheus has no kube_node_info (scrape kube-state-metrics to name them).\n'
        : Object.keys(v.peerNames).length === 0
          ? '\nPeers are shown by address: kube_node_info has no node with an internal_ip label.\n'
          : '\nPeer names: kube_node_info (kube-state-metrics), internal_ip -> node.\n';
  }
  return out;
}

/** Something is broken in the window: a bad carrier, a bad checksum, or a critical finding. */
export function clusterHasBad(v: ClusterView): boolean {
  return (
    v.matrix.some((c) => Math.round(c.bad) > 0) ||
    v.totals.some((t) => Math.round(t.badChecksums ?? 0) > 0 || Math.round(t.kernelChecksumErrors ?? 0) > 0) ||
    v.findings.some((f) => f.severity === 'critical')
  );
}
