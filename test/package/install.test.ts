/**
 * The npm package as a user gets it: `npm pack` (prepack compiles the TypeScript and the
 * prebuilt addons, scripts/prebuild.js), then `npm install -g` of the tarball into a fresh
 * prefix with a PATH that has no C++ compiler, make or python3, as on a Kubernetes node
 * or a slim image. The installed csumtop must answer --version, analyse the example
 * capture exactly as the checkout does, capture live on lo (root), and say why
 * --backend libpcap is absent (its vendored `cap` needs a compiler at install).
 * Needs the npm registry (the package's dependencies) and root for the live run: CI has
 * both; elsewhere the test fails and says which is missing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';

import { ROOT } from '../../src/native/addon.js';

/** Tools an install must not need: a node without them still installs csumtop. */
const BUILD_TOOLS =
  /^(g\+\+|c\+\+|gcc|cc|cpp|clang|clang\+\+|clang-\d+|clang\+\+-\d+|make|gmake|python|python3|python3\.\d+|[\w.-]+-linux-gnu-(g\+\+|gcc|c\+\+)|g\+\+-\d+|gcc-\d+)$/;

let work: string;
let tarball: string;
let prefix: string;
let env: NodeJS.ProcessEnv;
let csumtop: string;

/** A directory of links to every command on the usual PATH except the build tools. */
function pathWithoutBuildTools(dir: string): string {
  fs.mkdirSync(dir);
  for (const d of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin', path.dirname(process.execPath)]) {
    let names: string[];
    try {
      names = fs.readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names) {
      if (BUILD_TOOLS.test(n) || fs.existsSync(path.join(dir, n))) continue;
      fs.symlinkSync(path.join(d, n), path.join(dir, n));
    }
  }
  return dir;
}

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeout?: number } = {}) {
  return spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, timeout: opts.timeout ?? 600_000, env: opts.env ?? process.env, cwd: opts.cwd });
}

before(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'csumtop-pack-'));
  const packed = run('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT });
  assert.equal(packed.status, 0, `npm pack failed:\n${packed.stderr}`);
  const info = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = path.join(work, info[0].filename);
  (globalThis as Record<string, unknown>).csumtopPackFiles = info[0].files.map((f) => f.path);
  const bin = pathWithoutBuildTools(path.join(work, 'bin'));
  // dash's `command -v` exits 127 for a missing command, bash's 1: anything but 0.
  for (const t of ['g++', 'make', 'python3', 'cc'])
    assert.notEqual(run('sh', ['-c', `command -v ${t}`], { env: { PATH: bin } }).status, 0, `${t} is still on the test PATH`);
  prefix = path.join(work, 'prefix');
  // The caller's environment but PATH: the registry may need its CA settings
  // (NODE_EXTRA_CA_CERTS) or proxy; npm's own lifecycle variables would point it at the
  // checkout.
  env = Object.fromEntries(
    Object.entries({ ...process.env, PATH: bin }).filter(([k]) => !/^npm_(lifecycle|package|config_prefix|config_global_prefix|config_local_prefix)/i.test(k)),
  );
  const installed = run('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', tarball], { env });
  assert.equal(installed.status, 0, `npm install -g of the tarball failed without a compiler:\n${installed.stdout}\n${installed.stderr}`);
  csumtop = path.join(prefix, 'bin', 'csumtop');
});

after(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('the tarball holds what runs (dist/src, prebuilt addons, the example) and no build output or tests', () => {
  const files = (globalThis as Record<string, unknown>).csumtopPackFiles as string[];
  assert.ok(files.includes('dist/src/cli/run.js'), 'dist/src is not in the tarball');
  assert.ok(files.includes('prebuilds/linux-x64/csumtop.glibc.node'), 'no linux-x64 prebuild in the tarball');
  assert.ok(files.includes('examples/incident.pcapng'));
  assert.ok(files.includes('scripts/install.js'));
  // A build from source (no prebuild for the platform) compiles the eBPF program too.
  assert.ok(files.includes('native/bpf/kernel_drops.bpf.c') && files.includes('native/bpf/kernel_drops_event.h'), 'the eBPF program source is not shipped');
  assert.ok(files.includes('scripts/build-bpf.js'), "binding.gyp's kernel_drops_bpf action needs scripts/build-bpf.js");
  assert.ok(files.includes('native/vendor/cap/binding.gyp'), 'the vendored cap (libpcap backend) is not shipped');
  for (const f of files) {
    assert.doesNotMatch(f, /^(build|dist\/test|dist\/bench|test|node_modules)\//, `${f} should not be in the tarball`);
    assert.doesNotMatch(f, /^native\/vendor\/cap\/build\//, `${f}: a build of cap for this machine`);
  }
});

test("installed without a compiler: --version, and -r gives the checkout's own report", () => {
  const v = run(csumtop, ['--version'], { env });
  assert.equal(v.status, 0, v.stderr);
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.equal(v.stdout.split('\n')[0], `csumtop ${pkg.version}`);
  assert.match(v.stdout, /^checksum engine: (scalar|adc64|sse2|avx2|neon)$/m);
  assert.match(v.stdout, new RegExp(`^kernel: ${os.release().replace(/[.+]/g, '\\$&')}$`, 'm'));
  // The addon came from the prebuild: no build/ was made in the installed package.
  const pkgDir = path.join(prefix, 'lib', 'node_modules', 'csumtop');
  assert.equal(fs.existsSync(path.join(pkgDir, 'build', 'Release', 'csumtop.node')), false, 'the install compiled the addon');
  const example = path.join(ROOT, 'examples', 'incident.pcapng');
  const mine = run(csumtop, ['-r', example, '--json'], { env });
  const repo = run(path.join(ROOT, 'bin', 'csumtop'), ['-r', example, '--json']);
  assert.equal(mine.status, repo.status, mine.stderr);
  assert.equal(mine.status, 1, 'the example has bad checksums');
  assert.deepEqual(JSON.parse(mine.stdout), JSON.parse(repo.stdout));
});

test('installed without a compiler: a live capture on lo for one second', () => {
  assert.equal(process.getuid?.(), 0, 'this test needs root for the live capture (CI runs as root)');
  const live = run(csumtop, ['-i', 'lo', '--duration', '1', '--json'], { env, timeout: 30_000 });
  assert.equal(live.status, 0, live.stderr);
  const lines = live.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string });
  assert.equal(lines.at(-1)?.type, 'report', 'the live run ends with its report');
  assert.ok(
    lines.some((l) => l.type === 'interface'),
    'lo was attached',
  );
});

test('installed without a compiler: --backend libpcap says why it is absent and how to get it', () => {
  const r = run(csumtop, ['--backend', 'libpcap', '--promisc', '-i', 'lo', '--duration', '1'], { env, timeout: 30_000 });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /libpcap backend .* unavailable: not built at install: .*(g\+\+|make|python3)/);
  assert.match(r.stderr, /npm rebuild csumtop/);
});

test('installed without a compiler: the prebuilt addon carries the eBPF object, does not link libbpf, and runs without libbpf.so.1 (one line says so)', () => {
  assert.equal(process.getuid?.(), 0, 'this test needs root (unshare, mount, the live capture)');
  const pkgDir = path.join(prefix, 'lib', 'node_modules', 'csumtop');
  const addon = path.join(pkgDir, 'prebuilds', `linux-${process.arch}`, 'csumtop.glibc.node');
  const dyn = run('readelf', ['-d', addon]);
  assert.equal(dyn.status, 0, dyn.stderr);
  assert.doesNotMatch(dyn.stdout, /NEEDED.*libbpf/, 'the addon must load where libbpf is not installed (native/kdrops/libbpf_dl.h)');
  const builtIn = run(process.execPath, ['-p', `require(${JSON.stringify(addon)}).kernelDropsBuiltIn`]);
  assert.equal(builtIn.stdout.trim(), 'true', `the prebuild was made without the eBPF program: ${builtIn.stderr}`);
  // As root with libbpf: on, nothing said.
  const on = run(csumtop, ['-i', 'lo', '--duration', '1', '--json'], { env, timeout: 30_000 });
  assert.equal(on.status, 0, on.stderr);
  assert.doesNotMatch(on.stdout, /kernel drop verdicts/, 'root with libbpf: the verdicts are on');
  // libbpf.so.1 made unloadable in a private mount namespace (an empty file over it).
  const lib = run('sh', ['-c', 'ldconfig -p | sed -n "s/.*libbpf.so.1 (.*) => //p" | head -1']).stdout.trim();
  assert.ok(lib, 'libbpf.so.1 is not installed here (apt-get install libbpf1)');
  const off = run(
    'unshare',
    ['-m', 'sh', '-c', `mount --bind /dev/null "$(readlink -f ${lib})" && exec "$0" "$@"`, csumtop, '-i', 'lo', '--duration', '1', '--json'],
    { env, timeout: 30_000 },
  );
  assert.equal(off.status, 0, off.stderr);
  const notes = off.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; message?: string })
    .filter((l) => l.type === 'warning' && /kernel drop verdicts/.test(l.message ?? ''));
  assert.equal(notes.length, 1, off.stdout);
  assert.match(
    notes[0].message!,
    /^kernel drop verdicts: unavailable \(libbpf\.so\.1 cannot be loaded .*\); findings weigh the per-namespace \/proc\/net\/snmp checksum counters instead$/,
  );
});
