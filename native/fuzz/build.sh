#!/usr/bin/env bash
# Builds the libFuzzer targets with AddressSanitizer and UndefinedBehaviorSanitizer.
# Usage: native/fuzz/build.sh [OUTDIR]   (default native/fuzz/out)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$here/out}
mkdir -p "$out"
cxx=${CXX_FUZZ:-clang++}
if ! command -v "$cxx" >/dev/null; then
  echo "fuzz/build.sh: $cxx not found (apt-get install clang)" >&2
  exit 3
fi
# libFuzzer and the sanitizers link against clang's runtime, which Debian packages apart
# (libclang-rt-14-dev, only a Recommends of clang): say so rather than a linker error.
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' >"$probe/p.cc"
if ! "$cxx" -fsanitize=fuzzer,address,undefined "$probe/p.cc" -o "$probe/p" 2>"$probe/err"; then
  echo "fuzz/build.sh: $cxx cannot link a libFuzzer + ASan program; clang's compiler runtime is missing (Debian: apt-get install libclang-rt-14-dev):" >&2
  cat "$probe/err" >&2
  exit 3
fi
# Everything that parses bytes from outside, without the N-API layer.
mapfile -t libsrc < <(ls "$root"/native/checksum/*.cc "$root"/native/decode/*.cc \
  "$root"/native/capture/*.cc "$root"/native/flow/*.cc "$root"/native/host/*.cc \
  "$root"/native/kdrops/event.cc "$root"/native/kdrops/drop_table.cc \
  "$root"/native/kdrops/frame_match.cc)
flags=(-std=c++17 -g -O1 -fno-omit-frame-pointer -I"$root/native"
  -fsanitize=address,undefined -fno-sanitize-recover=undefined)
# The library is compiled once (instrumented for coverage, without libFuzzer's main) and
# linked into every target; two compilers at a time.
obj="$out/obj"
rm -rf "$obj"
mkdir -p "$obj"
export cxx obj
printf '%s\n' "${libsrc[@]}" | xargs -P 2 -I{} sh -c \
  'f={}; o="$obj/$(echo "${f#'"$root"'/native/}" | tr / _).o"; "$cxx" "$@" -fsanitize=fuzzer-no-link -c "$f" -o "$o"' \
  sh "${flags[@]}"
targets=(decode reader links events segment writer selector pcapng pcapng_scan kdrops)
printf '%s\n' "${targets[@]}" | xargs -P 2 -I{} sh -c \
  '"$cxx" "$@" -fsanitize=fuzzer -o "'"$out"'/fuzz_{}" "'"$here"'/fuzz_{}.cc" "$obj"/*.o' \
  sh "${flags[@]}"
echo "$out"
