#!/usr/bin/env bash
# \summary: Builds and runs the benchmark of the kernel-drop frame matcher's insert
# (bench/kdrops/bench.cc) against its reference (the probing before its probe tags), with
# the addon's optimisation level (-O3, no -march=native). Arguments go to the benchmark
# (--frames N, --rounds N). CSUMTOP_NATIVE=DIR builds the matcher from another tree's
# native/ sources (the reference always comes from this tree). Exits 0 whatever the
# figures (it is a benchmark), 1 if the two resolved the drops differently.
set -euo pipefail
cd "$(dirname "$0")/../.."
native="${CSUMTOP_NATIVE:-native}"
out=bench/out
mkdir -p "$out"
"${CXX:-g++}" -std=c++17 -O3 -Wall -Wextra -I"$native" -Inative bench/kdrops/bench.cc \
  "$native/kdrops/frame_match.cc" "$native/kdrops/event.cc" -o "$out/kdrops_bench"
"$out/kdrops_bench" "$@"
