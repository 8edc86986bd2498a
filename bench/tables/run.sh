#!/usr/bin/env bash
# \summary: Builds and runs the benchmark of the native correlation tables
# (bench/tables/bench.cc: carrier flows, DNS and SYN transactions), with the addon's
# optimisation level (-O3, no -march=native). Arguments go to the benchmark (--events N,
# --rounds N). CSUMTOP_NATIVE=DIR builds the tables from another tree's native/ sources
# (e.g. a reference checkout, to measure a change before and after in the same way).
# Exits 0 whatever the figures: it is a benchmark.
set -euo pipefail
cd "$(dirname "$0")/../.."
native="${CSUMTOP_NATIVE:-native}"
out=bench/out
mkdir -p "$out"
"${CXX:-g++}" -std=c++17 -O3 -Wall -Wextra -I"$native" bench/tables/bench.cc \
  "$native/flow/carrier_flows.cc" "$native/flow/dns_txns.cc" "$native/flow/syn_txns.cc" \
  -o "$out/tables_bench"
"$out/tables_bench" "$@" || true
