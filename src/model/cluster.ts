/**
 * What `csumtop cluster --prometheus URL` reads back from Prometheus: the node x peer
 * matrix of bad tunnel carriers, the per-node checksum totals and the findings active
 * across the cluster. `--json` prints one ClusterView; the table renders the same object.
 * Bump CLUSTER_VIEW_VERSION on an incompatible change.
 */
import type { FindingId, Severity } from './findings.js';

export const CLUSTER_VIEW_VERSION = 1;

/** One cell: carriers between a node (Prometheus `instance`) and a peer, one direction. */
export interface PeerCell {
  instance: string;
  peer: string;
  /** received: carriers from the peer (dropped by this node's kernel when bad); sent: to it. */
  direction: 'received' | 'sent';
  /** increase() over the window: Prometheus extrapolates, so not always a whole number. */
  bad: number;
  /** All carriers (ok and bad) over the window; null when Prometheus had none. */
  total: number | null;
}

/** Per node, over the window, from csumtop's capture and from the kernel's own counters. */
export interface NodeTotals {
  instance: string;
  /** csumtop_checksums_total{verdict="bad"}: bad checksums csumtop saw. */
  badChecksums: number | null;
  /** csumtop_kernel_checksum_errors_total: checksum drops the kernel counted. */
  kernelChecksumErrors: number | null;
  /** csumtop_capture_drops_total: frames csumtop could not see (counts are a lower bound). */
  captureDrops: number | null;
}

export interface ClusterFinding {
  instance: string;
  id: FindingId | string;
  severity: Severity | string;
  subject: string;
}

export interface ClusterView {
  version: number;
  prometheus: string;
  /** The PromQL range, e.g. "5m". */
  window: string;
  /** ISO 8601: when the queries were answered. */
  time: string;
  /** Sorted instance names seen in any query. */
  nodes: string[];
  /** Sorted peer addresses in the matrix. */
  peers: string[];
  matrix: PeerCell[];
  totals: NodeTotals[];
  findings: ClusterFinding[];
  /**
   * Peer addresses by node name, from kube-state-metrics' `kube_node_info` (its
   * `internal_ip` label to its `node` label; several names when several nodes claim one
   * address, e.g. a replaced node's series still in the window). null when Prometheus has
   * no kube_node_info series: peers are then known by address only, and the table says so.
   */
  peerNames: Record<string, string[]> | null;
}
