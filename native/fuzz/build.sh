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
# Everything that parses bytes from outside, without the N-API layer.
mapfile -t libsrc < <(ls "$root"/native/checksum/*.cc "$root"/native/decode/*.cc \
  "$root"/native/capture/*.cc "$root"/native/flow/*.cc "$root"/native/host/*.cc)
flags=(-std=c++17 -g -O1 -fno-omit-frame-pointer -I"$root/native"
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)
for target in decode reader links; do
  "$cxx" "${flags[@]}" -o "$out/fuzz_$target" "$here/fuzz_$target.cc" "${libsrc[@]}"
done
echo "$out"
