#!/usr/bin/env node
/**
 * Builds the prebuilt addons `npm pack` ships (package.json "prepack"), each in a scratch
 * copy of the sources so the checkout's own build/ is left alone:
 *   prebuilds/linux-x64/csumtop.glibc.node    with this machine's g++
 *   prebuilds/linux-arm64/csumtop.glibc.node  with aarch64-linux-gnu-g++ (Debian's
 *                                             g++-aarch64-linux-gnu), when installed
 * glibc floor: what the build machine's libstdc++ and glibc headers pull in; on Debian 12
 * that is GLIBC_2.34 (dlopen/pthread_once moved into libc.so.6 in 2.34) and GLIBCXX_3.4.30
 * (the libstdc++ of GCC 12: Debian 12, Ubuntu 22.04, Fedora 36 and later; not RHEL/Rocky 9,
 * whose GCC 11 runtime stops at 3.4.29, there the install builds from source), both checked
 * below so the floor the README states stays true. Linking the C++ runtime in statically
 * (-static-libstdc++) was measured to raise the glibc floor to 2.36 instead (arc4random,
 * _dl_find_object of GCC 12's static runtime), so it is not done. musl (Alpine) has no prebuild: Debian ships no
 * musl C++ toolchain, so there the install builds from source (scripts/install.js).
 * CSUMTOP_PREBUILD_ARCHS=x64 limits the architectures (default: every one with a compiler).
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const GLIBC_FLOOR = [2, 34];
const GLIBCXX_FLOOR = [3, 4, 30];
const TARGETS = {
  x64: { triple: 'x86_64-linux-gnu', env: {} },
  arm64: {
    triple: 'aarch64-linux-gnu',
    env: { CC: 'aarch64-linux-gnu-gcc', CXX: 'aarch64-linux-gnu-g++', LINK: 'aarch64-linux-gnu-g++', AR: 'aarch64-linux-gnu-ar' },
  },
};

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function nodeGyp() {
  if (process.env.npm_config_node_gyp) return [process.execPath, process.env.npm_config_node_gyp];
  const bundled = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  return fs.existsSync(bundled) ? [process.execPath, bundled] : ['node-gyp'];
}

/** a > b, element by element (version numbers). */
function above(a, b) {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return false;
}

/** The highest PREFIX_x.y[.z] symbol version (GLIBC, GLIBCXX) the library needs, from its dynamic symbol table. */
function versionNeeded(file, triple, prefix) {
  const objdump = have(`${triple}-objdump`) ? `${triple}-objdump` : 'objdump';
  const r = spawnSync(objdump, ['-T', file], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  let max = [0];
  for (const m of r.stdout.matchAll(new RegExp(`\\(${prefix}_([\\d.]+)\\)`, 'g'))) {
    const v = m[1].split('.').map(Number);
    if (above(v, max)) max = v;
  }
  return max;
}

function build(arch) {
  const t = TARGETS[arch];
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `csumtop-prebuild-${arch}-`));
  try {
    for (const f of ['binding.gyp', 'package.json']) fs.copyFileSync(path.join(root, f), path.join(scratch, f));
    // binding.gyp's kernel_drops_bpf action runs it (the eBPF object embedded in the addon).
    fs.mkdirSync(path.join(scratch, 'scripts'));
    fs.copyFileSync(path.join(root, 'scripts', 'build-bpf.js'), path.join(scratch, 'scripts', 'build-bpf.js'));
    fs.cpSync(path.join(root, 'native'), path.join(scratch, 'native'), {
      recursive: true,
      filter: (src) => !/[/\\](vendor|fuzz|sanitize)$/.test(src) && !src.includes(`${path.sep}build${path.sep}`),
    });
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(scratch, 'node_modules'));
    const [cmd, ...pre] = nodeGyp();
    const r = spawnSync(cmd, [...pre, 'rebuild', `--arch=${arch}`, '-j', String(Math.max(1, os.availableParallelism?.() ?? 2))], {
      cwd: scratch,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, ...t.env, npm_config_nodedir: process.env.npm_config_nodedir || path.resolve(path.dirname(process.execPath), '..') },
    });
    if (r.status !== 0) throw new Error(`prebuild for linux-${arch} failed (node-gyp exit ${r.status})`);
    const out = path.join(root, 'prebuilds', `linux-${arch}`, 'csumtop.glibc.node');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.copyFileSync(path.join(scratch, 'build', 'Release', 'csumtop.node'), out);
    const needed = versionNeeded(out, t.triple, 'GLIBC');
    if (needed && above(needed, GLIBC_FLOOR)) {
      throw new Error(
        `linux-${arch} prebuild needs GLIBC_${needed.join('.')}, above the stated floor ${GLIBC_FLOOR.join('.')}: update PREBUILT_PLATFORMS and README`,
      );
    }
    const neededCxx = versionNeeded(out, t.triple, 'GLIBCXX');
    if (neededCxx && above(neededCxx, GLIBCXX_FLOOR)) {
      throw new Error(
        `linux-${arch} prebuild needs GLIBCXX_${neededCxx.join('.')}, above the stated floor ${GLIBCXX_FLOOR.join('.')}: update PREBUILT_PLATFORMS and README`,
      );
    }
    process.stderr.write(
      `prebuild: ${path.relative(root, out)} (needs GLIBC_${needed ? needed.join('.') : '?'}, GLIBCXX_${neededCxx ? neededCxx.join('.') : '?'})\n`,
    );
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

const wanted = (process.env.CSUMTOP_PREBUILD_ARCHS || Object.keys(TARGETS).join(',')).split(',');
fs.rmSync(path.join(root, 'prebuilds'), { recursive: true, force: true });
for (const arch of wanted) {
  const t = TARGETS[arch];
  if (!t) throw new Error(`CSUMTOP_PREBUILD_ARCHS: unknown architecture ${arch} (known: ${Object.keys(TARGETS).join(', ')})`);
  const native = (arch === 'x64' && process.arch === 'x64') || (arch === 'arm64' && process.arch === 'arm64');
  if (!native && !have(t.env.CXX)) {
    process.stderr.write(`prebuild: no ${t.env.CXX} here, so no linux-${arch} prebuild (Debian: apt-get install g++-${t.triple})\n`);
    continue;
  }
  build(arch);
}
