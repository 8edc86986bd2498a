// \summary: Benchmark of the kernel-drop frame matcher (native/kdrops/frame_match.h) on the
// capture thread's side: ns per frame handed to add_frames, in batches of 512 (the live
// capture's staging, LiveCapture::kStaged), against its reference (the probing before the
// probe tags, native/fuzz/frame_match_reference.h) built and run in the same process,
// rounds of the two alternating.
//
// Workloads (seeded: every run feeds the same frames):
//   new-flows: every frame a new key: bench/live.ts's stream at trafgen's top rate (see
//              new_flows() below), stamped 1,428 ns apart (700,000 frames/s), so the 2 s
//              window holds far more frames than the table's 32768 slots: every insert
//              probes all 32 slots, matches none and evicts the oldest.
//   ring:      the same, and before each batch the capture thread's other work is
//              modelled by reading its frames from the ring (512 frames of 700 bytes,
//              bench/live.ts's mean, from an 8 MiB ring): the matcher's tables are no
//              longer in the caches near the core, as in a live capture. Not timed.
//   drops:     as ring, and every 64th frame's packet is then dropped by the kernel
//              (add_drop at its stamp): the drop's look-up (match()) is timed too.
//   random:    as new-flows, but every key field random (IPv4 id, ports, addresses):
//              keys that differ early, where the reference's compare stops soonest.
// The two matchers must resolve the drops alike (the benchmark exits 1 otherwise).
//
// Usage: bench/kdrops/run.sh [--frames N] [--rounds N]. Prints the median and the best of
// the rounds' ns per frame of each, the median of the rounds' ratios (reference /
// matcher) and the ratio of the bests (on a machine shared with other work, the bests are
// the least disturbed).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "fuzz/frame_match_reference.h"
#include "kdrops/frame_match.h"

using namespace csumtop::kdrops;

namespace {

constexpr size_t kBatch = 512;
constexpr uint64_t kStepNs = 1'428;  // 700,000 frames per second

// n VXLAN carriers, each of a new flow. `live`: bench/live.ts's high-cardinality stream
// (test/lab/flow-stream.ts millionFlowConfig): one underlay pair, IPv4 id 0, four
// templates in turn (DNS, SYN, a bad outer IPv4 checksum, plain UDP) each counting its
// outer source port (period 32640) and inner source port (253): the outer keys, which
// place a frame, repeat every 32640 frames of a template and four at a time, only the
// inner ports tell them apart. Else every field random (IPv4 id, ports, inner addresses).
std::vector<SeenFrame> new_flows(size_t n, bool live) {
  std::mt19937_64 rng(14);
  std::vector<SeenFrame> v(n);
  for (size_t i = 0; i < n; i++) {
    KernelDrop& k = v[i].key;
    const uint64_t r = rng(), s = rng();
    const size_t t = i % 4, c = i / 4;
    k.netns = 4026531840u;
    k.ifindex = 2;
    k.family = 4;
    k.proto = 17;
    const uint8_t src[4] = {192, 168, 90, static_cast<uint8_t>(live ? 1 : 2 + (r & 15))};
    const uint8_t dst[4] = {192, 168, 90, 2};
    std::memcpy(k.src, src, 4);
    std::memcpy(k.dst, dst, 4);
    k.ip_id = live ? 0 : static_cast<uint16_t>(r >> 8);
    k.has_ports = true;
    k.sport = live ? static_cast<uint16_t>((0x80 + c % 128) << 8 | c % 255)
                   : static_cast<uint16_t>(49152 + (r >> 24) % 16384);
    k.dport = 8472;
    k.vxlan = true;
    k.vni = 2;
    k.has_inner = true;
    k.inner_proto = live && t == 1 ? 6 : 17;
    const uint8_t isrc[4] = {10, 244, 0, 5}, idst[4] = {10, 244, 1, 7};
    std::memcpy(k.inner_src, live ? isrc : reinterpret_cast<const uint8_t*>(&s), 4);
    std::memcpy(k.inner_dst, live ? idst : reinterpret_cast<const uint8_t*>(&s) + 4, 4);
    k.inner_sport =
        live ? static_cast<uint16_t>((0x9c + t) << 8 | c % 253) : static_cast<uint16_t>(r >> 40);
    k.inner_dport = live ? (t == 0 ? 53 : t == 1 ? 5000 : t == 2 ? 9999 : 9998) : 53;
    v[i].verdict.ipv4 = live && t == 2 ? 1 : 0;  // CsumStatus: 1 bad
    v[i].verdict.l4 = 0;
    v[i].verdict.l4_kind = 1;
    v[i].frame_number = i + 1;
  }
  return v;
}

struct Round {
  double ns_per_frame;
  std::vector<Resolved> resolved;
};

enum Workload { kNewFlows, kRing, kDrops, kRandom };

// The capture ring the `ring` and `drops` workloads read a block of before each batch.
constexpr size_t kRingBytes = 8u << 20, kBlockBytes = kBatch * 700;
std::vector<uint8_t> ring(kRingBytes, 1);
size_t ring_at = 0;
volatile uint64_t ring_sum;

void read_ring_block() {
  uint64_t sum = 0;
  for (size_t i = 0; i < kBlockBytes; i += 64) sum += ring[(ring_at + i) % kRingBytes];
  ring_at = (ring_at + kBlockBytes) % kRingBytes;
  ring_sum = sum;
}

// One round: `frames` stamped from `t0`, in batches; with kDrops, every 64th frame's
// packet dropped after its batch. The matcher is made and warmed (a full table) before.
template <typename Matcher>
Round run(Matcher* m, std::vector<SeenFrame>& frames, uint64_t t0, Workload w) {
  for (size_t i = 0; i < frames.size(); i++) frames[i].ts_ns = t0 + i * kStepNs;
  Round r;
  r.resolved.reserve(frames.size() / 64 + 16);
  std::chrono::steady_clock::duration spent{};
  for (size_t i = 0; i < frames.size(); i += kBatch) {
    const size_t n = std::min(kBatch, frames.size() - i);
    if (w == kRing || w == kDrops) read_ring_block();
    const auto start = std::chrono::steady_clock::now();
    m->add_frames(&frames[i], n);
    if (w == kDrops) {
      for (size_t j = i + 63; j < i + n; j += 64) {
        KernelDrop d = frames[j].key;
        d.reason = 1;  // UDP_CSUM
        m->add_drop(d, frames[j].ts_ns, &r.resolved);
      }
    }
    spent += std::chrono::steady_clock::now() - start;
  }
  r.ns_per_frame =
      std::chrono::duration<double, std::nano>(spent).count() / static_cast<double>(frames.size());
  return r;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

bool same(const std::vector<Resolved>& a, const std::vector<Resolved>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++)
    if (a[i].outcome != b[i].outcome || a[i].frame_number != b[i].frame_number ||
        a[i].count != b[i].count)
      return false;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  size_t n = 1'000'000, rounds = 5;
  for (int i = 1; i < argc; i++) {
    const std::string a = argv[i];
    if ((a == "--frames" || a == "--rounds") && i + 1 < argc) {
      const long v = std::strtol(argv[++i], nullptr, 10);
      if (v <= 0) {
        std::fprintf(stderr, "%s: a positive number\n", a.c_str());
        return 2;
      }
      (a == "--frames" ? n : rounds) = static_cast<size_t>(v);
    } else {
      std::fprintf(stderr, "usage: bench/kdrops/run.sh [--frames N] [--rounds N]\n");
      return 2;
    }
  }
  // The warm-up fills the table; the timed frames are other keys (new flows).
  const size_t warm = 4 * FrameMatcher::kFrameSlots;
  std::vector<SeenFrame> warmup[2], timed[2];  // [1]: the live stream
  for (const bool live : {false, true}) {
    std::vector<SeenFrame> all = new_flows(warm + n, live);
    warmup[live].assign(all.begin(), all.begin() + static_cast<long>(warm));
    timed[live].assign(all.begin() + static_cast<long>(warm), all.end());
  }
  std::printf(
      "frames: %zu per round in batches of %zu, %.0f frames/s of capture time, median "
      "of %zu rounds\n\n",
      n, kBatch, 1e9 / kStepNs, rounds);
  std::printf("%-10s %18s %18s %13s %9s\n", "workload", "matcher ns", "reference ns", "ratio",
              "resolved");
  std::printf("%-10s %18s %18s %13s\n", "", "median   best", "median   best", "median best");
  int status = 0;
  for (const Workload w : {kNewFlows, kRing, kDrops, kRandom}) {
    const bool live = w != kRandom;
    std::vector<double> a, b, ratio;
    size_t resolved = 0;
    for (size_t r = 0; r < rounds; r++) {
      // Frames stamped from 10 s on; the warm-up just before.
      const uint64_t t0 = 10'000'000'000ull;
      auto m = std::make_unique<FrameMatcher>();
      m->start();
      run(m.get(), warmup[live], t0 - warm * kStepNs, kNewFlows);
      auto ref = std::make_unique<ReferenceMatcher>();
      run(ref.get(), warmup[live], t0 - warm * kStepNs, kNewFlows);
      // Alternate which goes first: the second finds the frames in the cache.
      Round x, y;
      if (r % 2 == 0) {
        x = run(m.get(), timed[live], t0, w);
        y = run(ref.get(), timed[live], t0, w);
      } else {
        y = run(ref.get(), timed[live], t0, w);
        x = run(m.get(), timed[live], t0, w);
      }
      if (!same(x.resolved, y.resolved)) {
        std::fprintf(stderr, "the matcher and its reference resolved the drops differently\n");
        status = 1;
      }
      resolved = x.resolved.size();
      a.push_back(x.ns_per_frame);
      b.push_back(y.ns_per_frame);
      ratio.push_back(y.ns_per_frame / x.ns_per_frame);
    }
    const double best_a = *std::min_element(a.begin(), a.end());
    const double best_b = *std::min_element(b.begin(), b.end());
    std::printf("%-10s %11.1f %6.1f %11.1f %6.1f %8.2f %4.2f %9zu\n",
                w == kNewFlows ? "new-flows"
                : w == kRing   ? "ring"
                : w == kDrops  ? "drops"
                               : "random",
                median(a), best_a, median(b), best_b, median(ratio), best_b / best_a, resolved);
  }
  return status;
}
