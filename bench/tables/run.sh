#!/usr/bin/env bash
# \summary: Builds and runs the carrier-flow table benchmark (bench/tables/bench.cc), with
# the addon's optimisation level (-O3, no -march=native). Arguments go to the benchmark
# (--events N, --rounds N). Exits 0 whatever the figures: it is a benchmark.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=bench/out
mkdir -p "$out"
"${CXX:-g++}" -std=c++17 -O3 -Wall -Wextra -Inative \
  bench/tables/bench.cc native/flow/carrier_flows.cc -o "$out/tables_bench"
"$out/tables_bench" "$@" || true
