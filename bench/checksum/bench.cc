// \summary: Checksum kernel benchmark: bytes/ns per path and size, in cache and streaming.
//
// Built by bench/checksum/run.sh with plain `g++ -O3` (no -march=native) against
// native/checksum/*.cc, so what is measured is the run-time dispatched code the addon
// ships: the kernels are in other translation units and cannot be inlined into the
// timing loops, and every result feeds a sink that is printed, so no work is deleted.
//
// Method. Each kernel gets its own copy of the timing loop (a template instantiation
// with a direct call), the way the addon calls one kernel from one call site. A single
// loop calling every kernel through one function pointer made the short-packet figures
// bimodal: with identical instructions behind two pointers, the avx2/adc64 ratio at 40
// bytes came out 0.83 or 1.20 depending on which kernel that call site had been trained
// on first. In cache, rounds are interleaved (each round runs every path once, in a
// rotating order) so a slow spell of the virtual machine hits all paths alike; a figure
// is the median over rounds and a ratio is the median of per-round ratios. Streaming
// walks a buffer much larger than the last-level cache.
//
// Usage: checksum_bench [--stream-mib N] [--rounds N] [--quick]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "checksum/csum_internal.h"  // the kernels by name, for direct calls

using csumtop::csum::Kernel;
using csumtop::csum::Path;
namespace csum = csumtop::csum;

namespace {

constexpr size_t kSizes[] = {40, 64, 576, 1500, 9000, 65535};
constexpr size_t kNumSizes = sizeof kSizes / sizeof kSizes[0];
constexpr size_t kNumPaths = static_cast<size_t>(Path::kCount);

// Targets for the AVX2 kernel on the AMD EPYC this was developed on.
constexpr double kTargetBytesPerNs = 60.0;  // at 1500 bytes in cache
constexpr double kTargetRatio = 1.6;        // avx2/adc64 at 1500 bytes in cache
constexpr double kNoise = 0.97;             // "not slower than adc64" at 40 and 64 bytes, 3% noise

uint64_t g_sink = 0;  // every checksum lands here; printed at the end

double now_ns() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double, std::nano>(clock::now().time_since_epoch()).count();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void fill_random(uint8_t* p, size_t n, uint64_t seed) {
  uint64_t x = seed | 1;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    x ^= x << 13;  // xorshift64: fast enough to fill 512 MiB in well under a second
    x ^= x >> 7;
    x ^= x << 17;
    std::memcpy(p + i, &x, 8);
  }
  for (; i < n; ++i) p[i] = static_cast<uint8_t>(i * 131);
}

// One timed run of `reps` calls on the same bytes (they stay in L1/L2).
template <Kernel K>
__attribute__((noinline, aligned(64))) double run_cached(const uint8_t* p, size_t size, size_t reps) {
  uint32_t acc = 0;
  const double t0 = now_ns();
  for (size_t r = 0; r < reps; ++r) {
    // `initial` varies so no call can be treated as a repeat of the previous one.
    acc += K(p, size, static_cast<uint32_t>(r));
  }
  const double t1 = now_ns();
  g_sink += acc;
  return static_cast<double>(size) * static_cast<double>(reps) / (t1 - t0);
}

// One pass over a buffer much larger than the last-level cache: a "packet" of `size`
// bytes every size + 24 bytes (like records in a capture file), from `start`, so the
// alignment varies from packet to packet and from run to run.
template <Kernel K>
__attribute__((noinline, aligned(64))) double run_stream(const uint8_t* buf, size_t buf_len, size_t size,
                                                         size_t start) {
  const size_t stride = size + 24;
  uint32_t acc = 0;
  size_t calls = 0;
  const double t0 = now_ns();
  for (size_t off = start; off + size <= buf_len; off += stride) {
    acc += K(buf + off, size, static_cast<uint32_t>(off));
    ++calls;
  }
  const double t1 = now_ns();
  g_sink += acc;
  return static_cast<double>(size) * static_cast<double>(calls) / (t1 - t0);
}

struct Bench {
  Path path;
  Kernel kernel;
  double (*cached)(const uint8_t*, size_t, size_t);
  double (*stream)(const uint8_t*, size_t, size_t, size_t);
};

template <Kernel K>
Bench make(Path p) {
  return Bench{p, K, &run_cached<K>, &run_stream<K>};
}

// The paths this build and CPU can run, each with its own timing loops.
std::vector<Bench> available_benches() {
  const Bench all[] = {
      make<csum::scalar>(Path::kScalar),
      make<csum::adc64>(Path::kAdc64),
#if defined(__x86_64__) || defined(__i386__)
      make<csum::sse2>(Path::kSse2),
      make<csum::avx2>(Path::kAvx2),
#endif
#if defined(CSUMTOP_HAVE_NEON)
      make<csum::neon>(Path::kNeon),
#endif
  };
  std::vector<Bench> out;
  for (const Bench& b : all) {
    if (csum::path_available(b.path)) out.push_back(b);
  }
  return out;
}

// Calls per timed run so that one run takes about 2 ms.
size_t calibrate(const Bench& b, const uint8_t* p, size_t size) {
  size_t reps = 64;
  for (;;) {
    const double t0 = now_ns();
    b.cached(p, size, reps);
    const double dt = now_ns() - t0;
    if (dt > 5e5 || reps > (size_t{1} << 30)) {
      return std::max<size_t>(16, static_cast<size_t>(static_cast<double>(reps) * 2e6 / dt));
    }
    reps *= 4;
  }
}

// The vector path compared with adc64: avx2 on x86 (sse2 without it), neon on arm64.
Path g_simd = Path::kCount;

struct Row {
  double v[kNumPaths] = {};
  double simd_over_adc64 = 0;  // g_simd/adc64: median of per-round ratios in cache
};

Row bench_cached(const std::vector<Bench>& benches, const uint8_t* p, size_t size, int rounds) {
  std::vector<size_t> reps;
  for (const Bench& b : benches) reps.push_back(calibrate(b, p, size));
  std::vector<std::vector<double>> runs(benches.size());
  std::vector<double> ratios;
  for (int r = 0; r < rounds; ++r) {
    double by_path[kNumPaths] = {};
    for (size_t j = 0; j < benches.size(); ++j) {
      const size_t i = (j + static_cast<size_t>(r)) % benches.size();
      const double v = benches[i].cached(p, size, reps[i]);
      runs[i].push_back(v);
      by_path[static_cast<size_t>(benches[i].path)] = v;
    }
    const double a = by_path[static_cast<size_t>(Path::kAdc64)];
    const double b = g_simd == Path::kCount ? 0 : by_path[static_cast<size_t>(g_simd)];
    if (a > 0 && b > 0) ratios.push_back(b / a);
  }
  Row row;
  for (size_t i = 0; i < benches.size(); ++i) row.v[static_cast<size_t>(benches[i].path)] = median(runs[i]);
  row.simd_over_adc64 = median(ratios);
  return row;
}

Row bench_stream(const std::vector<Bench>& benches, const uint8_t* buf, size_t buf_len, size_t size, int passes) {
  std::vector<std::vector<double>> runs(benches.size());
  for (int r = 0; r < passes; ++r) {
    for (size_t j = 0; j < benches.size(); ++j) {
      const size_t i = (j + static_cast<size_t>(r)) % benches.size();
      runs[i].push_back(benches[i].stream(buf, buf_len, size, static_cast<size_t>(r) * 7 % 64));
    }
  }
  Row row;
  for (size_t i = 0; i < benches.size(); ++i) row.v[static_cast<size_t>(benches[i].path)] = median(runs[i]);
  const double a = row.v[static_cast<size_t>(Path::kAdc64)];
  const double b = g_simd == Path::kCount ? 0 : row.v[static_cast<size_t>(g_simd)];
  row.simd_over_adc64 = a > 0 && b > 0 ? b / a : 0;
  return row;
}

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t c = line.find(':');
      if (c != std::string::npos) return line.substr(c + 2);
    }
  }
  return "unknown";
}

void print_table(const char* title, const Row (&rows)[kNumSizes], const std::vector<Bench>& benches) {
  std::printf("\n%s\n%8s", title, "bytes");
  for (const Bench& b : benches) std::printf(" %9s", csum::path_name(b.path));
  std::printf("\n");
  for (size_t s = 0; s < kNumSizes; ++s) {
    std::printf("%8zu", kSizes[s]);
    for (const Bench& b : benches) std::printf(" %9.2f", rows[s].v[static_cast<size_t>(b.path)]);
    std::printf("\n");
  }
}

size_t size_index(size_t size) {
  for (size_t s = 0; s < kNumSizes; ++s) {
    if (kSizes[s] == size) return s;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  size_t stream_mib = 512;
  int rounds = 21;  // interleaved in-cache rounds per figure
  int passes = 5;   // streaming passes per figure
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--stream-mib") == 0 && i + 1 < argc) {
      stream_mib = std::max<size_t>(1, std::strtoul(argv[++i], nullptr, 10));
    } else if (std::strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
      rounds = std::max(1, std::atoi(argv[++i]));
    } else if (std::strcmp(argv[i], "--quick") == 0) {
      stream_mib = 64;
      rounds = 7;
      passes = 3;
    } else {
      std::fprintf(stderr, "usage: %s [--stream-mib N] [--rounds N] [--quick]\n", argv[0]);
      return 2;
    }
  }

  const std::vector<Bench> benches = available_benches();
  for (Path p : {Path::kAvx2, Path::kNeon, Path::kSse2}) {
    if (g_simd == Path::kCount && csum::path_available(p)) g_simd = p;
  }
  const csum::PathSelection& sel = csum::startup_selection();
  std::printf("csumtop checksum benchmark (g++ -O3, no -march: run-time dispatch)\n");
  std::printf("cpu: %s\n", cpu_model().c_str());
  {
    // Other processes on a small virtual machine skew every figure: say so beside them.
    std::ifstream la("/proc/loadavg");
    double l1 = 0;
    if (la >> l1) {
      std::printf("load average (1 min) at start: %.2f%s\n", l1,
                  l1 > 0.5 ? "  WARNING: other work is running, figures will be noisy" : "");
    }
  }
  std::printf("best path: %s, active: %s", csum::path_name(csum::best_path()), csum::path_name(csum::active_path()));
  if (sel.forced) {
    std::printf(" (CSUMTOP_CSUM_PATH=%s%s)", sel.requested, sel.fell_back ? ": not available here, fell back" : "");
  }
  std::printf("\nunits: bytes per nanosecond; in cache: median of %d interleaved ~2 ms runs; streaming: median of %d passes\n",
              rounds, passes);

  // In-cache buffer, 64-byte aligned, with room for a misaligned start.
  std::vector<uint8_t> small_storage(65535 + 128 + 64);
  uint8_t* small = small_storage.data() + (64 - reinterpret_cast<uintptr_t>(small_storage.data()) % 64) % 64;
  fill_random(small, 65535 + 128, 12345);

  // Every path must agree with the reference before its speed means anything.
  bool agree = true;
  for (size_t size : kSizes) {
    for (size_t off : {size_t{0}, size_t{1}, size_t{7}}) {
      const uint16_t ref = csum::fold(csum::scalar(small + off, size, 0x1234));
      for (const Bench& b : benches) {
        if (csum::fold(b.kernel(small + off, size, 0x1234)) != ref) {
          std::printf("FAIL: %s disagrees with scalar at %zu bytes, offset %zu\n", csum::path_name(b.path), size, off);
          agree = false;
        }
      }
    }
  }
  if (agree) std::printf("all paths agree with the scalar reference on the benchmark inputs\n");

  static Row cached[kNumSizes], cached_odd[kNumSizes], stream[kNumSizes];
  for (size_t s = 0; s < kNumSizes; ++s) {
    cached[s] = bench_cached(benches, small, kSizes[s], rounds);
    cached_odd[s] = bench_cached(benches, small + 1, kSizes[s], rounds);
  }
  {
    const size_t big_len = stream_mib << 20;
    std::vector<uint8_t> big(big_len);
    fill_random(big.data(), big_len, 67890);
    for (size_t s = 0; s < kNumSizes; ++s) stream[s] = bench_stream(benches, big.data(), big_len, kSizes[s], passes);
  }

  print_table("(a) in cache (L1; 65535 bytes sit in L2), 64-byte aligned start", cached, benches);
  print_table("(a') in cache, start at offset 1 (odd address)", cached_odd, benches);
  char title[160];
  std::snprintf(title, sizeof title,
                "(b) streaming through %zu MiB, a packet every size+24 bytes (varying alignment)", stream_mib);
  print_table(title, stream, benches);

  const bool have_avx2 = g_simd == Path::kAvx2;
  if (g_simd != Path::kCount) {
    std::printf("\nratio %s/adc64 (in cache: median of per-round ratios)\n%8s %9s %9s %9s\n", csum::path_name(g_simd),
                "bytes", "cache", "cache+1", "stream");
    for (size_t s = 0; s < kNumSizes; ++s) {
      std::printf("%8zu %9.2f %9.2f %9.2f\n", kSizes[s], cached[s].simd_over_adc64, cached_odd[s].simd_over_adc64,
                  stream[s].simd_over_adc64);
    }
  }

  std::printf("\ntargets (avx2, in cache, aligned start)\n");
  if (!have_avx2) {
    std::printf("SKIP: avx2 is not available on this CPU; the targets apply to AVX2 machines\n");
  } else {
    const Row& r1500 = cached[size_index(1500)];
    const double v1500 = r1500.v[static_cast<size_t>(Path::kAvx2)];
    std::printf("%s: avx2 >= %.0f B/ns at 1500 bytes (measured %.2f)\n", v1500 >= kTargetBytesPerNs ? "PASS" : "FAIL",
                kTargetBytesPerNs, v1500);
    std::printf("%s: avx2 >= %.1fx adc64 at 1500 bytes (measured %.2fx)\n",
                r1500.simd_over_adc64 >= kTargetRatio ? "PASS" : "FAIL", kTargetRatio, r1500.simd_over_adc64);
    for (size_t size : {size_t{40}, size_t{64}}) {
      const double r = cached[size_index(size)].simd_over_adc64;
      std::printf("%s: avx2 not slower than adc64 at %zu bytes (>= %.2fx allowed for noise; measured %.2fx)\n",
                  r >= kNoise ? "PASS" : "FAIL", size, kNoise, r);
    }
  }
  if (!agree) std::printf("FAIL: some path disagrees with the scalar reference (see above)\n");
  std::printf("\n(sink %llu)\n", static_cast<unsigned long long>(g_sink));
  return 0;  // a benchmark: results are printed, never an exit status
}
