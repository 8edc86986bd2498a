#!/usr/bin/env node
/**
 * npm's install step for csumtop (package.json "install"), in a checkout (`npm ci`) and in
 * an installed package (`npm install -g csumtop-X.tgz`).
 *
 * 1. The addon. A prebuilt one for this platform (prebuilds/linux-ARCH/csumtop.LIBC.node,
 *    made by scripts/prebuild.js when the package is packed) is used when it loads; it is
 *    N-API (NAPI_VERSION 8), so one build serves every Node version from 20 on. Otherwise
 *    it is compiled from source with node-gyp (g++, make and python3 needed), which is also
 *    what a checkout always does (a checkout has no prebuilds/). When neither works the
 *    install fails with the platforms that have prebuilds and how to build from source.
 * 2. The libpcap backend (`--backend libpcap`, the vendored `cap` in native/vendor/cap).
 *    `cap` uses nan, not N-API, so a prebuild would only fit one Node ABI: it is compiled
 *    here when a compiler and libpcap's headers exist, and skipped with a note otherwise;
 *    `--backend libpcap` then says why it is absent (src/capture/libpcap-source.ts). It is
 *    optional: its failure never fails the install.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { prebuildPath, PREBUILT_PLATFORMS } = require('./prebuilds.js');

const root = path.resolve(__dirname, '..');
const quiet = process.env.CSUMTOP_INSTALL_QUIET === '1';

function say(line) {
  if (!quiet) process.stderr.write(`csumtop install: ${line}\n`);
}

/** node-gyp as npm runs it for install scripts (npm puts its own on PATH), or the one npm names. */
function nodeGyp(args, cwd) {
  const viaEnv = process.env.npm_config_node_gyp;
  const cmd = viaEnv ? process.execPath : 'node-gyp';
  const argv = viaEnv ? [viaEnv, ...args] : args;
  return spawnSync(cmd, argv, { cwd, stdio: quiet ? 'ignore' : 'inherit' });
}

function loads(file) {
  // In a child: a prebuild for another libc can abort the process that loads it.
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(file)})`], { stdio: 'ignore' });
  return r.status === 0;
}

function addon() {
  // A checkout (it has test/, which the package does not ship) always compiles: a
  // prebuilds/ left there by an earlier `npm pack` may be older than the sources.
  const checkout = fs.existsSync(path.join(root, 'test'));
  const pre = checkout ? null : prebuildPath(root);
  if (pre && fs.existsSync(pre) && loads(pre)) {
    say(`using the prebuilt addon ${path.relative(root, pre)}`);
    return true;
  }
  if (pre && fs.existsSync(pre)) say(`the prebuilt addon ${path.relative(root, pre)} does not load here; building from source`);
  const r = nodeGyp(['rebuild'], root);
  if (r.status === 0) return true;
  process.stderr.write(
    `csumtop install: no prebuilt addon for ${process.platform}-${process.arch} ` +
      `(prebuilds: ${PREBUILT_PLATFORMS.join(', ')}), and building it from source failed.\n` +
      '  To build from source: install a C++17 compiler, make and python3 (Debian/Ubuntu:\n' +
      '  apt-get install g++ make python3; Alpine: apk add g++ make python3 linux-headers),\n' +
      '  then run `npm rebuild csumtop` (or `npx node-gyp rebuild` in the package folder).\n',
  );
  return false;
}

function libpcapBackend() {
  const cap = path.join(root, 'native', 'vendor', 'cap');
  const built = path.join(cap, 'build', 'Release', 'cap.node');
  const note = path.join(cap, 'build', 'not-built.txt');
  if (!fs.existsSync(cap)) return;
  const missing = [];
  for (const tool of ['make', 'python3']) if (!onPath(tool)) missing.push(tool);
  if (!onPath('g++') && !onPath('c++')) missing.push('g++');
  if (!['/usr/include/pcap/pcap.h', '/usr/include/pcap.h'].some((f) => fs.existsSync(f))) missing.push("libpcap's headers (libpcap-dev)");
  let why;
  if (missing.length > 0) {
    why = `not built at install: ${missing.join(', ')} missing`;
  } else if (nodeGyp(['rebuild'], cap).status !== 0) {
    why = 'not built at install: node-gyp failed (see the install log)';
  }
  if (why && !fs.existsSync(built)) {
    fs.mkdirSync(path.dirname(note), { recursive: true });
    fs.writeFileSync(note, `${why}\n`);
    say(`the libpcap backend (--backend libpcap) is ${why}; csumtop's own capture works without it`);
  } else if (!why) {
    fs.rmSync(note, { force: true });
  }
}

function onPath(tool) {
  return (process.env.PATH || '').split(path.delimiter).some((d) => {
    try {
      fs.accessSync(path.join(d, tool), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

if (!addon()) process.exit(1);
libpcapBackend();
