/**
 * The DaemonSet's security context, reproduced without Kubernetes: csumtop as root with
 * every capability gone but CAP_NET_RAW (setpriv empties the bounding set except
 * net_raw, so the exec'd process holds nothing else, like `drop: [ALL], add: [NET_RAW]`),
 * inside a namespace of its own. It must capture, turn promiscuous mode on (--promisc:
 * why the DaemonSet keeps NET_ADMIN out of the default), read the kernel counters and
 * serve /metrics and /healthz. deploy/base/daemonset.yaml cites this test.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';

import { BIN, createNamespace, labProblem, nsSh, sh, sleep, track, uniqueNs, which } from './lab.js';

/** GET http://127.0.0.1:PORT/PATH from inside `ns` (python3: the lab's own dependency). */
function getInside(ns: string, port: number, urlPath: string): { status: number; body: string } {
  const script = [
    'import sys, urllib.request, urllib.error, json',
    'try:',
    `    r = urllib.request.urlopen("http://127.0.0.1:${port}${urlPath}", timeout=3)`,
    '    print(json.dumps({"status": r.status, "body": r.read().decode()}))',
    'except urllib.error.HTTPError as e:',
    '    print(json.dumps({"status": e.code, "body": e.read().decode()}))',
  ].join('\n');
  return JSON.parse(nsSh(ns, ['python3', '-c', script])) as { status: number; body: string };
}

test(
  "only CAP_NET_RAW (the DaemonSet's capabilities): capture, --promisc, kernel counters and the metrics endpoint all work",
  { timeout: 30_000 },
  async () => {
    const problem = labProblem(['setpriv']);
    if (problem) assert.fail(problem);
    assert.ok(which('setpriv'), 'setpriv (util-linux) is needed');
    const ns = uniqueNs('C');
    const remove = createNamespace(ns);
    try {
      sh('ip', ['-n', ns, 'link', 'add', 'cva', 'type', 'veth', 'peer', 'name', 'cvb']);
      sh('ip', ['-n', ns, 'link', 'set', 'cva', 'up']);
      sh('ip', ['-n', ns, 'link', 'set', 'cvb', 'up']);
      const port = 19977;
      const child = track(
        spawn(
          'ip',
          [
            'netns',
            'exec',
            ns,
            'setpriv',
            '--bounding-set',
            '-all,+net_raw',
            '--inh-caps',
            '-all',
            '--',
            BIN,
            '-i',
            'cva',
            '--promisc',
            '--metrics',
            `127.0.0.1:${port}`,
            '--duration',
            '4',
            '--json',
          ],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        ),
      );
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      const deadline = Date.now() + 3000;
      while (!/"event":"attached"/.test(stdout) && Date.now() < deadline && child.exitCode === null) await sleep(50);
      assert.match(stdout, /"event":"attached","interface":"cva"/, `csumtop did not attach with NET_RAW alone: ${stderr}`);

      // Its effective capabilities: exactly CAP_NET_RAW (bit 13).
      // ip netns exec, setpriv and the sh launcher all exec: the child's pid is csumtop's.
      const pid = child.pid!;
      const capEff = /CapEff:\s*([0-9a-f]+)/.exec(sh('cat', [`/proc/${pid}/status`]))?.[1];
      assert.equal(capEff, (1n << 13n).toString(16).padStart(16, '0'), 'csumtop must hold CAP_NET_RAW and nothing else');

      const link = JSON.parse(sh('ip', ['-n', ns, '-d', '-j', 'link', 'show', 'dev', 'cva'])) as Array<{ promiscuity: number }>;
      assert.equal(link[0].promiscuity, 1, '--promisc with only CAP_NET_RAW: promiscuous mode must be on');

      const health = getInside(ns, port, '/healthz');
      assert.deepEqual(health, { status: 200, body: 'ok\n' });
      const metrics = getInside(ns, port, '/metrics');
      assert.equal(metrics.status, 200);
      assert.match(metrics.body, /csumtop_packets_total\{device="cva",netns="host",direction="received"\} \d+/);
      // The kernel counters of its namespace were readable (published after one second).
      await sleep(1200);
      assert.match(getInside(ns, port, '/metrics').body, /csumtop_kernel_checksum_errors_total\{netns="host",counter="Udp_InCsumErrors"\} 0/);

      const code = await exited;
      assert.equal(code, 0, stderr);
      assert.doesNotMatch(stderr, /warning/i);
      const after = JSON.parse(sh('ip', ['-n', ns, '-d', '-j', 'link', 'show', 'dev', 'cva'])) as Array<{ promiscuity: number }>;
      assert.equal(after[0].promiscuity, 0, 'promiscuous mode ends with the socket');
    } finally {
      remove();
    }
  },
);
