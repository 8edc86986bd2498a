#!/usr/bin/env bash
# Builds the addon with AddressSanitizer and UndefinedBehaviorSanitizer (binding.gyp
# `-Dsanitize=1`) into OUTDIR, leaving build/Release/csumtop.node (what every other test
# and the CLI load) alone: node-gyp always builds into ./build of the directory holding
# binding.gyp, so binding.gyp and native/ are copied to OUTDIR/tree and built there.
# Prints the path of the sanitized csumtop.node on its last line.
#
# Usage: native/sanitize/build.sh [OUTDIR]   (default $TMPDIR/csumtop-sanitize, outside the repo)
# Load it with: CSUMTOP_ADDON=<that path> LD_PRELOAD=$(g++ -print-file-name=libasan.so) node ...
# (ASan must be the first DSO loaded; node itself is not instrumented.)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-${TMPDIR:-/tmp}/csumtop-sanitize}
tree="$out/tree"
rm -rf "$tree"
mkdir -p "$tree"
cp "$root/binding.gyp" "$tree/"
cp -r "$root/native" "$tree/native"
# binding.gyp's kernel_drops_bpf action compiles the eBPF program with this script.
mkdir -p "$tree/scripts"
cp "$root/scripts/build-bpf.js" "$tree/scripts/"
rm -rf "$tree/native/fuzz/out" "$tree/native/vendor" # vendor: the cap package, built by npm, not part of the addon
# binding.gyp resolves node-addon-api with require() from its own directory.
ln -s "$root/node_modules" "$tree/node_modules"
# node-gyp ships with npm; npm runs it for `npm ci`, but it is not on PATH by itself.
npm_dir=$(dirname "$(readlink -f "$(command -v npm)")")/..
gyp="$npm_dir/node_modules/node-gyp/bin/node-gyp.js"
if [ ! -f "$gyp" ]; then
  echo "sanitize/build.sh: node-gyp not found at $gyp" >&2
  exit 3
fi
# Use the installed Node headers (as npm ci did) instead of downloading them.
prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
nodedir=()
if [ -f "$prefix/include/node/node.h" ]; then nodedir=(--nodedir="$prefix"); fi
lib=$(g++ -print-file-name=libasan.so)
if [ ! -e "$lib" ] || [ "$lib" = libasan.so ]; then
  echo "sanitize/build.sh: libasan.so not found (g++ -print-file-name=libasan.so); install g++" >&2
  exit 3
fi
(cd "$tree" && node "$gyp" rebuild -j 2 "${nodedir[@]}" -- -Dsanitize=1) >"$out/build.log" 2>&1 || {
  tail -40 "$out/build.log" >&2
  exit 1
}
echo "$tree/build/Release/csumtop.node"
