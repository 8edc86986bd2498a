#!/usr/bin/env bash
# \summary: Builds and runs the checksum kernel benchmark (plain -O3, run-time dispatch).
#
# No -march=native on purpose: the addon is built the same way and picks its kernel at
# run time, so that is what this measures. Arguments are passed to the benchmark
# (--stream-mib N, --rounds N, --quick). Exits 0 whatever the figures: it is a benchmark.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=bench/out
mkdir -p "$out"
"${CXX:-g++}" -std=c++17 -O3 -Wall -Wextra -Inative \
  bench/checksum/bench.cc native/checksum/*.cc -o "$out/checksum_bench"
"$out/checksum_bench" "$@" || true
