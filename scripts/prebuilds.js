'use strict';
/**
 * Where a prebuilt addon for this machine lives: prebuilds/PLATFORM-ARCH/csumtop.LIBC.node
 * (the layout of prebuildify and node-gyp-build, so the tools people know read it). Shared
 * by the install step (scripts/install.js), the packer (scripts/prebuild.js) and the
 * loader (src/native/addon.ts, which has its own copy of these few lines in TypeScript).
 */
const fs = require('node:fs');
const path = require('node:path');

/** The platforms `npm pack` builds prebuilds for (scripts/prebuild.js); the rest build from source. */
const PREBUILT_PLATFORMS = ['linux-x64 (glibc >= 2.34, libstdc++ of GCC >= 12)', 'linux-arm64 (glibc >= 2.34, libstdc++ of GCC >= 12)'];

/** 'musl' when this Node runs on musl libc (Alpine), else 'glibc'. */
function libc() {
  // process.report names the glibc Node was built against; musl builds have none.
  const header = process.report && typeof process.report.getReport === 'function' ? process.report.getReport().header : null;
  if (header && header.glibcVersionRuntime) return 'glibc';
  try {
    return fs.readFileSync('/usr/bin/ldd', 'latin1').includes('musl') ? 'musl' : 'glibc';
  } catch {
    return 'glibc';
  }
}

function prebuildPath(root, arch = process.arch, lib = libc()) {
  if (process.platform !== 'linux') return null;
  return path.join(root, 'prebuilds', `linux-${arch}`, `csumtop.${lib}.node`);
}

module.exports = { PREBUILT_PLATFORMS, libc, prebuildPath };
