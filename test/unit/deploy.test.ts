/**
 * deploy/ checked as files a cluster would load:
 *  - the DaemonSet parsed: host network, NET_RAW added, ALL dropped, NET_ADMIN only in a
 *    commented variant, read-only root, limits, tolerations for every taint, liveness on
 *    /healthz through the metrics port, and args that csumtop's own parser accepts;
 *  - the Dockerfile parsed: the build stage runs what CI runs (`npm ci`, packages from
 *    .ci/run), and the CLI runs from exactly the files the runtime stage copies;
 *  - the alert rules: one source of truth (the PrometheusRule embeds rules.yml's
 *    groups), `promtool check rules` and `promtool test rules` pass, and the promtool
 *    tests fail on a broken rule; rules and dashboard name only metrics the exporter has.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';

import { parseOptions } from '../../src/cli/args.js';
import { memoryBoundBytes } from '../../src/correlate/limits.js';
import { nativeLayout } from '../../src/native/analyzer.js';
import { MetricsExporter } from '../../src/output/metrics/exporter.js';
import { ROOT } from '../fixtures/harness.js';
import { parseExposition } from '../lib/exposition.js';

const DEPLOY = path.join(ROOT, 'deploy');
const read = (f: string): string => fs.readFileSync(path.join(DEPLOY, f), 'utf8');

// ------------------------------------------------------------------ DaemonSet

interface Container {
  name: string;
  image: string;
  args?: string[];
  ports?: Array<{ name?: string; containerPort: number; protocol?: string }>;
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    runAsNonRoot?: boolean;
    allowPrivilegeEscalation?: boolean;
    privileged?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { add?: string[]; drop?: string[] };
  };
}

interface DaemonSet {
  apiVersion: string;
  kind: string;
  spec: {
    template: {
      metadata: { annotations?: Record<string, string> };
      spec: {
        hostNetwork?: boolean;
        hostPID?: boolean;
        tolerations?: Array<{ operator?: string; key?: string; effect?: string }>;
        containers: Container[];
      };
    };
  };
}

test('DaemonSet: host network, NET_RAW only, ALL dropped, read-only root, limits, every taint tolerated, liveness on /healthz', () => {
  const text = read('base/daemonset.yaml');
  const ds = parseYaml(text) as DaemonSet;
  assert.equal(ds.apiVersion, 'apps/v1');
  assert.equal(ds.kind, 'DaemonSet');
  const pod = ds.spec.template.spec;
  assert.equal(pod.hostNetwork, true, "the node's interfaces and counters are in the host network namespace");
  assert.notEqual(pod.hostPID, true, 'hostPID is only for --pid');
  // An empty key with operator Exists tolerates every taint (any key, value and effect).
  assert.ok(
    pod.tolerations?.some((t) => t.operator === 'Exists' && t.key === undefined && t.effect === undefined),
    JSON.stringify(pod.tolerations),
  );
  assert.equal(pod.containers.length, 1);
  const c = pod.containers[0];
  const sc = c.securityContext;
  assert.ok(sc, 'securityContext');
  assert.deepEqual(sc.capabilities?.add, ['NET_RAW']);
  assert.ok(sc.capabilities?.drop?.includes('ALL'));
  assert.ok(!(sc.capabilities?.add ?? []).includes('NET_ADMIN'), 'NET_ADMIN must not be in the default');
  assert.equal(sc.readOnlyRootFilesystem, true);
  assert.equal(sc.allowPrivilegeEscalation, false);
  assert.notEqual(sc.privileged, true);
  assert.equal(sc.runAsNonRoot, false);
  // The reasons are in the file, next to the capabilities.
  assert.match(text, /# AF_PACKET sockets .* need CAP_NET_RAW/);
  assert.match(text, /#\s*- NET_ADMIN/, 'the --promisc variant is a commented NET_ADMIN line');
  assert.match(text, /Variant for --promisc/);
  assert.match(text, /runAsNonRoot: false/);
  assert.match(text, /ambient capabilities/);
  for (const kind of ['requests', 'limits'] as const) {
    assert.ok(c.resources?.[kind]?.cpu && c.resources[kind].memory, `resources.${kind} needs cpu and memory`);
  }
  const metricsPort = c.ports?.find((p) => p.name === 'metrics');
  assert.equal(metricsPort?.containerPort, 9977);
  assert.equal(c.livenessProbe?.httpGet?.path, '/healthz');
  assert.ok(c.livenessProbe?.httpGet?.port === 'metrics' || c.livenessProbe?.httpGet?.port === 9977);
  // The args are csumtop's: its parser accepts them, and they serve what the probe and
  // Prometheus expect.
  const opts = parseOptions(c.args ?? []);
  assert.deepEqual(opts.metrics, { host: '0.0.0.0', port: 9977, family: 4 });
  assert.equal(opts.json, true);
  assert.equal(opts.read, null);
  assert.ok(opts.interfaces?.some((p) => p.startsWith('flannel')) && opts.interfaces.some((p) => p.startsWith('eth')), `interfaces: ${opts.interfaces}`);
  assert.equal(ds.spec.template.metadata.annotations?.['prometheus.io/port'], '9977');
  // The memory limit: twice the bound csumtop keeps at these args (issue 14), with the
  // number of devices the ring comment plans for.
  const devices = Number(/# \d+ MiB of ring per interface; the memory limit plans for (\d+) devices/.exec(text)?.[1]);
  assert.ok(devices >= 1, 'the ring comment says how many devices the limit plans for');
  const bound = memoryBoundBytes({ maxFlows: opts.maxFlows, threads: opts.threads, ringBytes: devices * opts.ringMb * 2 ** 20 });
  const limit = bytesOf(c.resources?.limits?.memory ?? '0');
  assert.ok(limit >= 2 * bound, `memory limit ${c.resources?.limits?.memory} < 2 x the bound ${Math.round(bound / 2 ** 20)} MiB`);
});

/** A Kubernetes memory quantity ("1Gi", "384Mi", "500M") in bytes. */
function bytesOf(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q);
  assert.ok(m, `memory quantity ${q}`);
  const unit: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Number(m[1]) * (m[2] ? unit[m[2]] : 1);
}

// ------------------------------------------------------------------ Dockerfile

interface Instruction {
  op: string;
  args: string;
}

interface Stage {
  from: string;
  name: string | null;
  steps: Instruction[];
}

/** Dockerfile instructions by stage (comments dropped, backslash continuations joined). */
function dockerStages(text: string): Stage[] {
  const logical: string[] = [];
  let cur = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (cur === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      cur += line.slice(0, -1) + ' ';
      continue;
    }
    logical.push((cur + line).trim());
    cur = '';
  }
  const stages: Stage[] = [];
  for (const l of logical) {
    const m = /^(\w+)\s+(.*)$/.exec(l);
    assert.ok(m, `not an instruction: ${l}`);
    const op = m[1].toUpperCase();
    if (op === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(m[2]);
      assert.ok(f, `bad FROM: ${l}`);
      stages.push({ from: f[1], name: f[2] ?? null, steps: [] });
      continue;
    }
    assert.ok(stages.length > 0, `${op} before FROM`);
    stages[stages.length - 1].steps.push({ op, args: m[2] });
  }
  return stages;
}

/** The commands CI runs after installing packages, and its package list (.ci/run). */
function ciRun(): { packages: string[]; commands: string[] } {
  const text = fs.readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8');
  const p = /^packages=\(([^)]*)\)/m.exec(text);
  assert.ok(p, '.ci/run has no packages=(...) line');
  const last =
    text
      .trim()
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.trim().startsWith('#'))
      .pop() ?? '';
  return { packages: p[1].trim().split(/\s+/), commands: last.split('&&').map((c) => c.trim()) };
}

test('Dockerfile: multi-stage; the build stage runs the install CI runs, with packages CI installs', () => {
  const stages = dockerStages(read('Dockerfile'));
  assert.equal(stages.length, 2);
  const [build, runtime] = stages;
  assert.equal(build.from, 'node:24-bookworm', 'the image uses the current Node LTS');
  assert.equal(build.name, 'build');
  assert.equal(runtime.from, 'node:24-bookworm-slim');
  // csumtop on PATH, for kubectl debug node/NODE ... -- csumtop (deploy/kubectl/kubectl-csumtop).
  assert.ok(
    runtime.steps.some((s) => s.op === 'RUN' && /ln -s \/opt\/csumtop\/bin\/csumtop \/usr\/local\/bin\/csumtop/.test(s.args)),
    'csumtop is not on PATH in the image',
  );
  const ci = ciRun();
  const install = ci.commands[0];
  assert.equal(install, 'npm ci', `.ci/run installs with '${install}'`);
  const runs = build.steps.filter((s) => s.op === 'RUN').map((s) => s.args);
  assert.ok(runs.includes(install), `the build stage must RUN '${install}' as CI does; it runs: ${runs.join(' | ')}`);
  assert.ok(runs.includes('npm prune --omit=dev'));
  assert.ok(!runs.some((r) => /npm (install|i)\b/.test(r)), 'npm install would not use the lock file as CI does');
  assert.ok(runs.indexOf(install) < runs.indexOf('npm prune --omit=dev'));
  // The toolchain apt-get installs in the build stage: g++/make/python3, all from CI's list.
  const apt = runs.find((r) => r.includes('apt-get install'));
  assert.ok(apt, 'the build stage installs its toolchain');
  const pkgs = apt
    .split('&&')
    .find((c) => c.includes('apt-get install'))!
    .split(/\s+/)
    .filter((w) => /^[a-z0-9][a-z0-9.+-]*$/.test(w) && !['apt-get', 'install'].includes(w));
  for (const need of ['g++', 'make', 'python3']) assert.ok(pkgs.includes(need), `build stage lacks ${need}: ${pkgs.join(' ')}`);
  for (const p of pkgs) assert.ok(ci.packages.includes(p), `${p} is installed by the Dockerfile but not by .ci/run (${ci.packages.join(' ')})`);
  // Sources the build needs are copied before npm ci.
  const copied = build.steps.filter((s) => s.op === 'COPY').flatMap((s) => s.args.split(/\s+/).slice(0, -1));
  for (const f of ['package.json', 'package-lock.json', 'binding.gyp', 'tsconfig.json', 'native', 'src', 'bin']) {
    assert.ok(copied.includes(f), `${f} is not copied into the build stage`);
    assert.ok(fs.existsSync(path.join(ROOT, f)), `${f} does not exist in the repository`);
  }
  // Runtime: no compiler, no npm run; the addon is copied from the build stage.
  const rtRuns = runtime.steps
    .filter((s) => s.op === 'RUN')
    .map((s) => s.args)
    .join(' ');
  assert.doesNotMatch(rtRuns, /g\+\+|\bmake\b|npm /);
  const fromBuild = runtime.steps.filter((s) => s.op === 'COPY' && s.args.startsWith('--from=build '));
  assert.ok(
    fromBuild.some((s) => s.args.includes('build/Release/csumtop.node')),
    'the runtime stage must copy the addon',
  );
});

test('Dockerfile: the CLI runs from exactly the files the runtime stage copies', () => {
  const [build, runtime] = dockerStages(read('Dockerfile'));
  const buildDir = build.steps.filter((s) => s.op === 'WORKDIR').pop()?.args;
  const rtDir = runtime.steps.filter((s) => s.op === 'WORKDIR').pop()?.args;
  assert.ok(buildDir && rtDir);
  const entry = runtime.steps.find((s) => s.op === 'ENTRYPOINT');
  assert.ok(entry);
  const entryPath = (JSON.parse(entry.args) as string[])[0];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'csumtop-image-'));
  try {
    for (const s of runtime.steps.filter((x) => x.op === 'COPY' && x.args.startsWith('--from=build '))) {
      const [src, dst] = s.args.split(/\s+/).slice(1);
      assert.ok(src.startsWith(`${buildDir}/`), `${src} is not under the build WORKDIR ${buildDir}`);
      const from = path.join(ROOT, src.slice(buildDir.length + 1));
      assert.ok(fs.existsSync(from), `${from} (copied by the runtime stage) does not exist after npm ci`);
      const to = path.resolve(tmp, dst);
      fs.mkdirSync(path.dirname(to), { recursive: true });
      // node_modules by link: the point is resolution from the image layout, not 45 MB of copying.
      if (path.basename(from) === 'node_modules') fs.symlinkSync(from, to);
      else fs.cpSync(from, to, { recursive: true });
    }
    assert.ok(entryPath.startsWith(`${rtDir}/`));
    const bin = path.join(tmp, entryPath.slice(rtDir.length + 1));
    const version = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    assert.equal(version.status, 0, version.stderr);
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(version.stdout.split('\n')[0], `csumtop ${pkg.version}`);
    // The addon is loaded: a capture file analysed from the image layout equals the repo's own run.
    const file = path.join(ROOT, 'examples', 'incident.pcapng');
    const fromImage = spawnSync(bin, ['-r', file, '--json'], { encoding: 'utf8' });
    const fromRepo = spawnSync(path.join(ROOT, 'bin', 'csumtop'), ['-r', file, '--json'], { encoding: 'utf8' });
    assert.equal(fromImage.status, fromRepo.status, fromImage.stderr);
    assert.deepEqual(JSON.parse(fromImage.stdout), JSON.parse(fromRepo.stdout));
    // prom-client (loaded only with --metrics) resolves from the image's dist/.
    const req = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(path.join(tmp, 'dist', 'src', 'output', 'metrics', 'exporter.js'))})`], {
      encoding: 'utf8',
    });
    assert.equal(req.status, 0, req.stderr);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

// ------------------------------------------------------------------ alert rules

interface RuleGroup {
  name: string;
  rules: Array<{ alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }>;
}

function plainRules(): { groups: RuleGroup[] } {
  return parseYaml(read(path.join('prometheus', 'rules.yml'))) as { groups: RuleGroup[] };
}

/** Names of the metrics the exporter publishes (from its exposition, every family present). */
async function exporterMetricNames(): Promise<Set<string>> {
  const m = new MetricsExporter({ version: '0', checksumPath: 'scalar', backend: 'afpacket', layout: nativeLayout() });
  return new Set(parseExposition(await m.text()).types.keys());
}

function metricNamesIn(expr: string): string[] {
  return [...new Set(expr.match(/\bcsumtop_[a-z_]+/g) ?? [])];
}

test("alert rules: the PrometheusRule carries exactly rules.yml's groups; every alert has severity, text and a runbook section", () => {
  const crd = parseYaml(read('base/prometheus-rules.yaml')) as { apiVersion: string; kind: string; spec: { groups: RuleGroup[] } };
  assert.equal(crd.apiVersion, 'monitoring.coreos.com/v1');
  assert.equal(crd.kind, 'PrometheusRule');
  const plain = plainRules();
  assert.deepEqual(
    crd.spec.groups,
    plain.groups,
    'deploy/base/prometheus-rules.yaml spec.groups differs from deploy/prometheus/rules.yml: copy the groups over',
  );
  const alerts = plain.groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined);
  assert.deepEqual(alerts.map((a) => a.alert).sort(), [
    'CsumtopAbsent',
    'CsumtopBadVxlanCarriers',
    'CsumtopCaptureDrops',
    'CsumtopCriticalFinding',
    'CsumtopDown',
    'CsumtopKernelUdpChecksumErrors',
  ]);
  const runbook = fs.readFileSync(path.join(ROOT, 'docs', 'runbook.md'), 'utf8');
  for (const a of alerts) {
    assert.ok(['critical', 'warning', 'info'].includes(a.labels?.severity ?? ''), `${a.alert}: severity`);
    assert.ok(a.annotations?.summary && a.annotations.description, `${a.alert}: summary and description`);
    // runbook_url names a section of docs/runbook.md that exists (GitHub's anchor: the heading lower-cased).
    assert.equal(a.annotations?.runbook_url, `docs/runbook.md#${a.alert!.toLowerCase()}`, `${a.alert}: runbook_url`);
    assert.match(runbook, new RegExp(`^## ${a.alert}$`, 'm'), `docs/runbook.md has no section for ${a.alert}`);
  }
  assert.match(alerts.find((a) => a.alert === 'CsumtopKernelUdpChecksumErrors')!.expr, /Udp6\?_InCsumErrors/);
});

test('rules and dashboard name only metrics the exporter publishes', async () => {
  const known = await exporterMetricNames();
  const used: Array<[string, string]> = [];
  for (const r of plainRules().groups.flatMap((g) => g.rules)) for (const n of metricNamesIn(r.expr)) used.push([`rule ${r.alert}`, n]);
  const dash = JSON.parse(read('grafana-dashboard.json')) as {
    uid: string;
    panels: Array<{ title: string; type: string; targets: Array<{ expr: string }>; transformations?: Array<{ id: string; options: Record<string, unknown> }> }>;
    templating: { list: Array<{ name: string; definition?: string }> };
  };
  for (const p of dash.panels) for (const t of p.targets) for (const n of metricNamesIn(t.expr)) used.push([`panel "${p.title}"`, n]);
  for (const v of dash.templating.list) for (const n of metricNamesIn(v.definition ?? '')) used.push([`variable ${v.name}`, n]);
  assert.ok(used.length >= 10);
  for (const [where, name] of used) assert.ok(known.has(name), `${where} uses ${name}, which csumtop does not export (${[...known].join(', ')})`);
  // The node x peer matrix, per node and per interface views, filtered by the node variable.
  const matrix = dash.panels.find((p) => p.transformations?.some((t) => t.id === 'groupingToMatrix'));
  assert.ok(matrix, 'a node x peer matrix panel');
  assert.deepEqual(matrix.transformations!.find((t) => t.id === 'groupingToMatrix')!.options, {
    rowField: 'instance',
    columnField: 'peer',
    valueField: 'Value',
    emptyValue: 'zero',
  });
  assert.ok(dash.panels.some((p) => p.type === 'heatmap' && /by \(instance, peer\)/.test(p.targets[0].expr)));
  assert.ok(dash.panels.some((p) => /by \(instance, netns, device, layer, protocol\)/.test(p.targets[0].expr)));
  assert.ok(dash.templating.list.some((v) => v.name === 'node'));
  for (const p of dash.panels) for (const t of p.targets) assert.match(t.expr, /instance=~"\$node"/, `panel "${p.title}" ignores the node filter`);
});

function promtool(args: string[], cwd: string): { status: number | null; out: string } {
  const r = spawnSync('promtool', args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function havePromtool(): boolean {
  return spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
}

test('promtool check rules and promtool test rules pass; the tests catch a broken rule', (t) => {
  if (!havePromtool()) {
    // .ci/run installs Debian's "prometheus" package (promtool is in it): CI never lands here.
    t.diagnostic('MISSING TOOL: promtool is not installed (apt-get install prometheus); the alert rules were NOT checked');
    t.skip('MISSING TOOL: promtool');
    return;
  }
  const dir = path.join(DEPLOY, 'prometheus');
  const check = promtool(['check', 'rules', 'rules.yml'], dir);
  assert.equal(check.status, 0, check.out);
  assert.match(check.out, /SUCCESS: 6 rules found/);
  const run = promtool(['test', 'rules', 'rules.test.yml'], dir);
  assert.equal(run.status, 0, run.out);
  assert.match(run.out, /SUCCESS/);

  // The same tests against rules that never fire / always fire must fail.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'csumtop-rules-'));
  try {
    fs.copyFileSync(path.join(dir, 'rules.test.yml'), path.join(tmp, 'rules.test.yml'));
    const original = fs.readFileSync(path.join(dir, 'rules.yml'), 'utf8');
    const mutants: Array<[string, string]> = [
      ['bad carriers never fire', original.replace('{verdict=~"bad.*"}[5m])) >= 5', '{verdict=~"bad.*"}[5m])) > 1e9')],
      ['one bad carrier pages', original.replace('{verdict=~"bad.*"}[5m])) >= 5', '{verdict=~"bad.*"}[5m])) > 0')],
      ['critical findings never fire', original.replace('(csumtop_finding{severity="critical"}) == 1', '(csumtop_finding{severity="critical"}) == 2')],
      ['findings of any severity fire', original.replace('csumtop_finding{severity="critical"}', 'csumtop_finding')],
      ['down never fires', original.replace('up{job=~"(.*/)?csumtop"} == 0', 'up{job=~"(.*/)?csumtop"} == 2')],
      ['absent always fires', original.replace('absent(csumtop_build_info)', 'vector(1)')],
      ['kernel alert on any counter', original.replace('{counter=~"Udp6?_InCsumErrors"}', '')],
      ['drops never fire', original.replace('increase(csumtop_capture_drops_total[10m])) > 0', 'increase(csumtop_capture_drops_total[10m])) < 0')],
    ];
    for (const [what, text] of mutants) {
      assert.notEqual(text, original, `mutation "${what}" did not apply`);
      fs.writeFileSync(path.join(tmp, 'rules.yml'), text);
      const r = promtool(['test', 'rules', 'rules.test.yml'], tmp);
      assert.notEqual(r.status, 0, `promtool test rules passed on a broken rule set (${what}):\n${r.out}`);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
