/**
 * Attaching during an incident and installing on a fleet, as an operator does it with
 * kubectl: the `kubectl csumtop NODE` plugin (deploy/kubectl/kubectl-csumtop) runs the
 * documented `kubectl debug node/NODE ... -- csumtop ARGS` (checked against a kubectl
 * that records its arguments), and the kustomize base (deploy/kustomization.yaml, deploy/base/) and its hardened overlay (deploy/hardened/)
 * renders with the real `kubectl kustomize`, namespace overridable by an overlay.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { parseAllDocuments } from 'yaml';

import { parseOptions } from '../../src/cli/args.js';
import { ROOT } from '../../src/native/addon.js';

const PLUGIN = path.join(ROOT, 'deploy', 'kubectl', 'kubectl-csumtop');
let work: string;
let fakeBin: string;
let argvFile: string;

before(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'csumtop-kubectl-'));
  fakeBin = path.join(work, 'bin');
  fs.mkdirSync(fakeBin);
  argvFile = path.join(work, 'argv.json');
  // A kubectl that writes its arguments, one JSON array, and exits with $FAKE_STATUS.
  fs.writeFileSync(
    path.join(fakeBin, 'kubectl'),
    `#!${process.execPath}\nrequire('fs').writeFileSync(${JSON.stringify(argvFile)}, JSON.stringify(process.argv.slice(2)));\nprocess.exit(Number(process.env.FAKE_STATUS || 0));\n`,
    { mode: 0o755 },
  );
});

after(() => fs.rmSync(work, { recursive: true, force: true }));

function plugin(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  fs.rmSync(argvFile, { force: true });
  const r = spawnSync(PLUGIN, args, {
    encoding: 'utf8',
    env: { ...process.env, CSUMTOP_IMAGE: '', ...extraEnv, PATH: `${fakeBin}:${process.env.PATH}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const argv = fs.existsSync(argvFile) ? (JSON.parse(fs.readFileSync(argvFile, 'utf8')) as string[]) : null;
  return { ...r, argv };
}

test('kubectl csumtop NODE ARGS runs csumtop in a node debug pod with the netadmin profile', () => {
  const r = plugin(['node-1', '--', '-i', 'eth0,flannel.1', '--duration', '30']);
  assert.equal(r.status, 0, r.stderr);
  // No terminal here (stdin is /dev/null): -i without -t, so a pipe into jq works.
  assert.deepEqual(r.argv, [
    'debug',
    'node/node-1',
    '-i',
    '--profile=netadmin',
    '--image=csumtop:0.1.0',
    '--',
    'csumtop',
    '-i',
    'eth0,flannel.1',
    '--duration',
    '30',
  ]);
  assert.match(r.stderr, /debug pod stays/);
});

test('kubectl csumtop: image, profile and namespace flags; csumtop flags after NODE pass through', () => {
  const r = plugin(['--image', 'reg.example/csumtop:1', 'node-2', '--profile=sysadmin', '-n', 'ops', '--', '--netns', '/host/run/netns/cni-1', '--host']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.argv, [
    'debug',
    'node/node-2',
    '-i',
    '--profile=sysadmin',
    '--image=reg.example/csumtop:1',
    '--namespace=ops',
    '--',
    'csumtop',
    '--netns',
    '/host/run/netns/cni-1',
    '--host',
  ]);
  const env = plugin(['node-3', '--json'], { CSUMTOP_IMAGE: 'mirror/csumtop:2' });
  assert.deepEqual(env.argv?.slice(0, 5), ['debug', 'node/node-3', '-i', '--profile=netadmin', '--image=mirror/csumtop:2']);
  assert.deepEqual(env.argv?.slice(5), ['--', 'csumtop', '--json']);
});

test("kubectl csumtop: --help, a missing NODE (exit 2), and kubectl's own exit status", () => {
  const help = plugin(['--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^Usage: kubectl csumtop NODE/);
  assert.equal(help.argv, null, '--help must not run kubectl');
  const none = plugin([]);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /Usage: kubectl csumtop NODE/);
  const bad = plugin(['--image']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--image needs a value/);
  const failed = plugin(['node-1'], { FAKE_STATUS: '1' });
  assert.equal(failed.status, 1, 'csumtop found bad checksums (exit 1): the plugin says so too');
});

test('the kustomize base renders with kubectl kustomize, and an overlay moves it to another namespace', () => {
  const kubectl = spawnSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' });
  assert.equal(kubectl.status, 0, 'kubectl is not installed (Debian: apt-get install kubernetes-client; .ci/run installs it)');
  const base = spawnSync('kubectl', ['kustomize', path.join(ROOT, 'deploy')], { encoding: 'utf8' });
  assert.equal(base.status, 0, base.stderr);
  const docs = parseAllDocuments(base.stdout).map((d) => d.toJS() as { kind: string; metadata: { namespace?: string } });
  assert.deepEqual(docs.map((d) => d.kind).sort(), ['DaemonSet', 'PodMonitor', 'PrometheusRule']);
  for (const d of docs) assert.equal(d.metadata.namespace, 'kube-system');
  const overlay = path.join(work, 'overlay');
  fs.mkdirSync(overlay);
  fs.writeFileSync(
    path.join(overlay, 'kustomization.yaml'),
    `resources:\n  - ${path.relative(overlay, path.join(ROOT, 'deploy'))}\nnamespace: monitoring\nimages:\n  - name: csumtop\n    newName: reg.example/csumtop\n    newTag: "9.9"\n`,
  );
  const o = spawnSync('kubectl', ['kustomize', overlay], { encoding: 'utf8' });
  assert.equal(o.status, 0, o.stderr);
  const odocs = parseAllDocuments(o.stdout).map((d) => d.toJS() as { kind: string; metadata: { namespace?: string }; spec: any });
  for (const d of odocs) assert.equal(d.metadata.namespace, 'monitoring');
  const ds = odocs.find((d) => d.kind === 'DaemonSet');
  assert.equal(ds?.spec.template.spec.containers[0].image, 'reg.example/csumtop:9.9');
});

test('the hardened overlay: csumtop on 127.0.0.1 only, kube-rbac-proxy in front with the RBAC it needs, the PodMonitor scraping it with a token; otherwise the base', () => {
  const render = (
    dir: string,
  ): Array<{
    kind: string;
    metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
    spec?: any;
    roleRef?: any;
    subjects?: any[];
    rules?: any[];
  }> => {
    const r = spawnSync('kubectl', ['kustomize', path.join(ROOT, dir)], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return parseAllDocuments(r.stdout).map((d) => d.toJS());
  };
  const base = render('deploy');
  const hard = render('deploy/hardened');
  const byKind = (docs: typeof hard, kind: string, name?: string) => docs.find((d) => d.kind === kind && (name === undefined || d.metadata.name === name));
  const pod = byKind(hard, 'DaemonSet')!.spec.template.spec;
  const [csumtop, proxy] = [pod.containers.find((c: any) => c.name === 'csumtop'), pod.containers.find((c: any) => c.name === 'kube-rbac-proxy')];
  assert.ok(csumtop && proxy, 'both containers');
  // csumtop: the base's flags but --metrics, which binds loopback; no port of its own.
  const baseArgs: string[] = byKind(base, 'DaemonSet')!.spec.template.spec.containers[0].args;
  const opts = parseOptions(csumtop.args);
  assert.deepEqual(opts.metrics, { host: '127.0.0.1', port: 9977, family: 4 });
  assert.deepEqual(
    csumtop.args.filter((a: string) => !a.startsWith('--metrics')),
    baseArgs.filter((a) => !a.startsWith('--metrics')),
    'the other flags follow the base',
  );
  assert.ok(!csumtop.ports || csumtop.ports.length === 0, 'csumtop publishes no port');
  // The proxy: upstream is csumtop's address, listens on its named port, /healthz open.
  const flag = (name: string): string | undefined => proxy.args.find((a: string) => a.startsWith(`--${name}=`))?.split('=')[1];
  assert.equal(flag('upstream'), `http://127.0.0.1:${opts.metrics?.port}/`);
  const listen = Number(flag('secure-listen-address')?.split(':')[1]);
  assert.equal(proxy.ports.find((p: any) => p.name === 'https-metrics')?.containerPort, listen);
  assert.match(flag('ignore-paths') ?? '', /(^|,)\/healthz(,|$)/);
  for (const probe of [csumtop.livenessProbe, csumtop.readinessProbe]) assert.deepEqual(probe.httpGet, { path: '/healthz', port: listen, scheme: 'HTTPS' });
  assert.equal(proxy.securityContext.allowPrivilegeEscalation, false);
  // RBAC: the pod's ServiceAccount may create TokenReviews and SubjectAccessReviews.
  assert.equal(pod.automountServiceAccountToken, true, 'the proxy needs its token');
  const sa = pod.serviceAccountName;
  assert.ok(byKind(hard, 'ServiceAccount', sa), `ServiceAccount ${sa}`);
  const bound = (subject: string, role: string): boolean =>
    hard.some((d) => d.kind === 'ClusterRoleBinding' && d.roleRef?.name === role && d.subjects?.some((s) => s.kind === 'ServiceAccount' && s.name === subject));
  assert.ok(bound(sa, 'csumtop-kube-rbac-proxy'));
  const reviews = byKind(hard, 'ClusterRole', 'csumtop-kube-rbac-proxy')!.rules!.flatMap((r: any) => r.resources);
  assert.deepEqual(reviews.sort(), ['subjectaccessreviews', 'tokenreviews']);
  // The PodMonitor: the proxy's port over HTTPS with the scraper's token, which may get /metrics.
  const ep = byKind(hard, 'PodMonitor')!.spec.podMetricsEndpoints[0];
  assert.equal(ep.port, 'https-metrics');
  assert.equal(ep.scheme, 'https');
  const secret = byKind(hard, 'Secret', ep.authorization.credentials.name)!;
  const scraper = secret.metadata.annotations?.['kubernetes.io/service-account.name'] ?? '';
  assert.ok(byKind(hard, 'ServiceAccount', scraper) && bound(scraper, 'csumtop-metrics-reader'));
  assert.deepEqual(byKind(hard, 'ClusterRole', 'csumtop-metrics-reader')!.rules, [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }]);
  // Annotation-based discovery would scrape plain HTTP: off here.
  assert.equal(byKind(hard, 'DaemonSet')!.spec.template.metadata.annotations['prometheus.io/scrape'], 'false');
});
