/**
 * Answers of Prometheus' /api/v1/query in the real API format
 * (prometheus.io/docs/prometheus/latest/querying/api/#expression-query-result-formats),
 * as a Prometheus 2.42 with three csumtop targets (node-a, node-b, node-c) answers the
 * queries of src/cluster/view.ts. Values are strings, times float seconds, as the API
 * sends them; increase() gives non-whole numbers (extrapolation).
 */
export const T = 1763729000.123;

const vector = (result: Array<{ metric: Record<string, string>; value: string }>): string =>
  JSON.stringify({ status: 'success', data: { resultType: 'vector', result: result.map((r) => ({ metric: r.metric, value: [T, r.value] })) } });

export const BAD = vector([
  { metric: { instance: 'node-b', peer: '192.168.189.4', direction: 'received' }, value: '5.172413793103448' },
  { metric: { instance: 'node-a', peer: '192.168.189.5', direction: 'sent' }, value: '5' },
  { metric: { instance: 'node-c', peer: '192.168.189.4', direction: 'received' }, value: '0' },
]);

export const TOTAL = vector([
  { metric: { instance: 'node-b', peer: '192.168.189.4', direction: 'received' }, value: '120.3' },
  { metric: { instance: 'node-a', peer: '192.168.189.5', direction: 'sent' }, value: '118' },
  { metric: { instance: 'node-c', peer: '192.168.189.4', direction: 'received' }, value: '40' },
]);

export const BAD_CHECKSUMS = vector([
  { metric: { instance: 'node-a' }, value: '5' },
  { metric: { instance: 'node-b' }, value: '5.172413793103448' },
  { metric: { instance: 'node-c' }, value: '0' },
]);

export const KERNEL = vector([
  { metric: { instance: 'node-a' }, value: '0' },
  { metric: { instance: 'node-b' }, value: '5' },
  { metric: { instance: 'node-c' }, value: '0' },
]);

export const DROPS = vector([
  { metric: { instance: 'node-a' }, value: '0' },
  { metric: { instance: 'node-b' }, value: '0' },
  { metric: { instance: 'node-c' }, value: '12' },
]);

export const FINDINGS = vector([
  {
    metric: {
      __name__: 'csumtop_finding',
      instance: 'node-b',
      job: 'csumtop',
      id: 'vxlan-outer-bad-from-peer',
      severity: 'critical',
      subject: '192.168.189.4',
    },
    value: '1',
  },
  { metric: { __name__: 'csumtop_finding', instance: 'node-c', job: 'csumtop', id: 'capture-loss', severity: 'warning', subject: 'eth0' }, value: '1' },
  {
    metric: { __name__: 'csumtop_finding', instance: 'node-a', job: 'csumtop', id: 'vxlan-outer-bad-sent', severity: 'critical', subject: '192.168.189.5' },
    value: '1',
  },
]);

/**
 * kube-state-metrics' kube_node_info as scraped (labels of kube-state-metrics v2), with
 * a replaced node whose series is still in Prometheus claiming node-a's address.
 */
export const NODE_INFO = vector([
  {
    metric: {
      __name__: 'kube_node_info',
      instance: '10.244.0.9:8080',
      job: 'kube-state-metrics',
      node: 'node-a',
      internal_ip: '192.168.189.4',
      kernel_version: '6.1.0-28-amd64',
      os_image: 'Debian GNU/Linux 12 (bookworm)',
      container_runtime_version: 'containerd://1.7.24',
      kubelet_version: 'v1.31.4',
      kubeproxy_version: 'deprecated',
      provider_id: '',
      pod_cidr: '10.244.0.0/24',
      system_uuid: 'a',
    },
    value: '1',
  },
  {
    metric: {
      __name__: 'kube_node_info',
      instance: '10.244.0.9:8080',
      job: 'kube-state-metrics',
      node: 'node-b',
      internal_ip: '192.168.189.5',
      kernel_version: '6.1.0-28-amd64',
      os_image: 'Debian GNU/Linux 12 (bookworm)',
      container_runtime_version: 'containerd://1.7.24',
      kubelet_version: 'v1.31.4',
      kubeproxy_version: 'deprecated',
      provider_id: '',
      pod_cidr: '10.244.1.0/24',
      system_uuid: 'b',
    },
    value: '1',
  },
  {
    metric: {
      __name__: 'kube_node_info',
      instance: '10.244.0.9:8080',
      job: 'kube-state-metrics',
      node: 'node-a-old',
      internal_ip: '192.168.189.4',
      kernel_version: '6.1.0-26-amd64',
      os_image: 'Debian GNU/Linux 12 (bookworm)',
      container_runtime_version: 'containerd://1.7.22',
      kubelet_version: 'v1.30.8',
      kubeproxy_version: 'deprecated',
      provider_id: '',
      pod_cidr: '10.244.2.0/24',
      system_uuid: 'c',
    },
    value: '1',
  },
]);

export const EMPTY = vector([]);

/** HTTP 400 from a bad query. */
export const BAD_DATA = JSON.stringify({
  status: 'error',
  errorType: 'bad_data',
  error: 'invalid parameter "query": 1:96: parse error: bad duration syntax: "5x"',
});

/** HTTP 503 while Prometheus starts up. */
export const UNAVAILABLE = JSON.stringify({ status: 'error', errorType: 'unavailable', error: 'TSDB not ready' });

/** A matrix where a vector was expected. */
export const MATRIX = JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [] } });
