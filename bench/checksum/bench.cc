// \summary: Checksum kernel benchmark: bytes/ns per path and size, in cache and streaming.
//
// Built by bench/checksum/run.sh with plain `g++ -O3` (no -march=native) against
// native/checksum/*.cc, so what is measured is the run-time dispatched code the addon
// ships. Kernels are called through the same function pointers partial() uses, which
// also keeps the compiler from hoisting or deleting the work; every result feeds a sink
// that is printed. Each figure is the median of several timed runs.
//
// Usage: checksum_bench [--stream-mib N] [--runs N] [--processes N] [--quick]
//
// Short packets: at 40 and 64 bytes a call takes 8 to 12 cycles, and on the virtual
// machine this was written on, the avx2/adc64 ratio measured in one process came out
// anywhere from 0.8 to 1.1 *with the very same instructions on both sides*, stable
// within the process and different in the next one. So the short-packet verdict is the
// median over several fresh processes (--processes, each re-running this binary with
// --probe-short), and every process's figure is printed.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>  // readlink: re-run this binary for the short-packet probes

#include "checksum/csum.h"

using csumtop::csum::Kernel;
using csumtop::csum::Path;
namespace csum = csumtop::csum;

namespace {

constexpr size_t kSizes[] = {40, 64, 576, 1500, 9000, 65535};
constexpr size_t kNumSizes = sizeof kSizes / sizeof kSizes[0];
constexpr size_t kNumPaths = static_cast<size_t>(Path::kCount);

// Target thresholds from the brief for the AVX2 kernel on this class of machine.
constexpr double kTargetBytesPerNs = 60.0;
constexpr double kTargetRatio = 1.6;
constexpr double kNoise = 0.97;  // "not slower than adc64" allows 3% noise

uint64_t g_sink = 0;  // every checksum lands here; printed at the end

double now_ns() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double, std::nano>(clock::now().time_since_epoch()).count();
}

double median(std::vector<double> v) {
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

// One timed run over `reps` calls on the same bytes (they stay in L1/L2). noinline and
// 64-byte aligned so every path is driven by the very same loop code.
__attribute__((noinline, aligned(64))) double run_cached(Kernel k, const uint8_t* p, size_t size, size_t reps) {
  uint32_t acc = 0;
  const double t0 = now_ns();
  for (size_t r = 0; r < reps; ++r) {
    // `initial` varies so no call can be treated as a repeat of the previous one.
    acc += k(p, size, static_cast<uint32_t>(r));
  }
  const double t1 = now_ns();
  g_sink += acc;
  return static_cast<double>(size) * static_cast<double>(reps) / (t1 - t0);
}

// Calls per timed run so that one run takes about 2 ms.
size_t calibrate(Kernel k, const uint8_t* p, size_t size) {
  size_t reps = 64;
  for (;;) {
    const double t0 = now_ns();
    run_cached(k, p, size, reps);
    const double dt = now_ns() - t0;
    if (dt > 5e5 || reps > (size_t{1} << 30)) return std::max<size_t>(16, static_cast<size_t>(static_cast<double>(reps) * 2e6 / dt));
    reps *= 4;
  }
}

// In-cache figures for every path at one size. Runs are interleaved (every round runs
// each path once, in a rotating order), so a slow spell of this virtual machine or a
// frequency change hits all paths alike instead of whichever was running; the figure is
// the median over rounds. Ratios are taken per round, then their median.
struct CachedRow {
  double v[kNumPaths] = {};
  double avx2_over_adc64 = 0;
};

CachedRow bench_cached(const std::vector<Path>& paths, const uint8_t* p, size_t size, int rounds) {
  std::vector<size_t> reps;
  for (Path path : paths) reps.push_back(calibrate(csum::kernel_for(path), p, size));
  std::vector<std::vector<double>> runs(paths.size());
  std::vector<double> ratios;
  for (int r = 0; r < rounds; ++r) {
    double by_path[kNumPaths] = {};
    for (size_t j = 0; j < paths.size(); ++j) {
      const size_t i = (j + static_cast<size_t>(r)) % paths.size();
      const double v = run_cached(csum::kernel_for(paths[i]), p, size, reps[i]);
      runs[i].push_back(v);
      by_path[static_cast<size_t>(paths[i])] = v;
    }
    const double a = by_path[static_cast<size_t>(Path::kAdc64)], b = by_path[static_cast<size_t>(Path::kAvx2)];
    if (a > 0 && b > 0) ratios.push_back(b / a);
  }
  CachedRow row;
  for (size_t i = 0; i < paths.size(); ++i) row.v[static_cast<size_t>(paths[i])] = median(runs[i]);
  if (!ratios.empty()) row.avx2_over_adc64 = median(ratios);
  return row;
}

// One pass over a buffer much larger than the last-level cache, one "packet" of `size`
// bytes every size + gap bytes, like records in a capture file. The start offset changes
// per run so alignment varies.
double run_stream(Kernel k, const uint8_t* buf, size_t buf_len, size_t size, size_t start) {
  const size_t stride = size + 24;
  uint32_t acc = 0;
  size_t calls = 0;
  const double t0 = now_ns();
  for (size_t off = start; off + size <= buf_len; off += stride) {
    acc += k(buf + off, size, static_cast<uint32_t>(off));
    ++calls;
  }
  const double t1 = now_ns();
  g_sink += acc;
  return static_cast<double>(size) * static_cast<double>(calls) / (t1 - t0);
}

// Streaming figures for every path at one size, interleaved like the cached ones.
void bench_stream(const std::vector<Path>& paths, const uint8_t* buf, size_t buf_len, size_t size, int runs,
                  double* out) {
  std::vector<std::vector<double>> v(paths.size());
  for (int r = 0; r < runs; ++r) {
    for (size_t j = 0; j < paths.size(); ++j) {
      const size_t i = (j + static_cast<size_t>(r)) % paths.size();
      v[i].push_back(run_stream(csum::kernel_for(paths[i]), buf, buf_len, size, static_cast<size_t>(r) * 7 % 64));
    }
  }
  for (size_t i = 0; i < paths.size(); ++i) out[static_cast<size_t>(paths[i])] = median(v[i]);
}

// Child mode: avx2/adc64 at the short sizes, in cache, printed as "probe R40 R64".
int probe_short(int rounds) {
  if (!csum::path_available(Path::kAvx2)) return 0;
  const std::vector<Path> two = {Path::kAdc64, Path::kAvx2};
  std::vector<uint8_t> storage(256);
  uint8_t* p = storage.data() + (64 - reinterpret_cast<uintptr_t>(storage.data()) % 64) % 64;
  fill_random(p, 128, 4242);
  const double r40 = bench_cached(two, p, 40, rounds).avx2_over_adc64;
  const double r64 = bench_cached(two, p, 64, rounds).avx2_over_adc64;
  std::printf("probe %.4f %.4f\n", r40, r64);
  return 0;
}

// Runs `n` fresh processes of this binary in --probe-short mode; appends their ratios.
void spawn_probes(int n, int rounds, std::vector<double>* r40, std::vector<double>* r64) {
  char self[4096];
  const ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  if (len <= 0) return;
  self[len] = '\0';
  const std::string cmd = "'" + std::string(self) + "' --probe-short --runs " + std::to_string(std::max(1, rounds / 3));
  for (int i = 0; i < n; ++i) {
    FILE* f = popen(cmd.c_str(), "r");
    if (f == nullptr) return;
    double a = 0, b = 0;
    if (std::fscanf(f, "probe %lf %lf", &a, &b) == 2) {
      r40->push_back(a);
      r64->push_back(b);
    }
    pclose(f);
  }
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

using Table = double[kNumSizes][kNumPaths];

void print_table(const char* title, const Table& t, const std::vector<Path>& paths) {
  std::printf("\n%s\n", title);
  std::printf("%8s", "bytes");
  for (Path p : paths) std::printf(" %9s", csum::path_name(p));
  std::printf("\n");
  for (size_t s = 0; s < kNumSizes; ++s) {
    std::printf("%8zu", kSizes[s]);
    for (Path p : paths) std::printf(" %9.2f", t[s][static_cast<size_t>(p)]);
    std::printf("\n");
  }
}

}  // namespace

int main(int argc, char** argv) {
  size_t stream_mib = 512;
  int runs = 5;     // streaming passes per figure
  int rounds = 21;  // interleaved in-cache rounds per figure
  int processes = 7;  // fresh processes for the short-packet comparison
  bool probe = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--stream-mib") == 0 && i + 1 < argc) {
      stream_mib = std::strtoul(argv[++i], nullptr, 10);
    } else if (std::strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
      runs = std::max(1, std::atoi(argv[++i]));
      rounds = std::max(3, runs * 3);
    } else if (std::strcmp(argv[i], "--processes") == 0 && i + 1 < argc) {
      processes = std::max(0, std::atoi(argv[++i]));
    } else if (std::strcmp(argv[i], "--quick") == 0) {
      stream_mib = 64;
      runs = 3;
      rounds = 9;
      processes = 3;
    } else if (std::strcmp(argv[i], "--probe-short") == 0) {
      probe = true;
    } else {
      std::fprintf(stderr, "usage: %s [--stream-mib N] [--runs N] [--processes N] [--quick]\n", argv[0]);
      return 2;
    }
  }

  std::vector<Path> paths;
  for (size_t i = 0; i < kNumPaths; ++i) {
    if (csum::path_available(static_cast<Path>(i))) paths.push_back(static_cast<Path>(i));
  }
  if (probe) return probe_short(rounds);
  const csum::PathSelection& sel = csum::startup_selection();
  std::printf("csumtop checksum benchmark (g++ -O3, no -march: run-time dispatch)\n");
  std::printf("cpu: %s\n", cpu_model().c_str());
  {
    // Other processes on a 2-vCPU machine skew every figure: say so next to them.
    std::ifstream la("/proc/loadavg");
    double l1 = 0;
    if (la >> l1) {
      std::printf("load average (1 min) at start: %.2f%s\n", l1,
                  l1 > 0.5 ? "  WARNING: other work is running, figures will be noisy" : "");
    }
  }
  std::printf("best path: %s, active: %s", csum::path_name(csum::best_path()),
              csum::path_name(csum::active_path()));
  if (sel.forced) std::printf(" (CSUMTOP_CSUM_PATH=%s%s)", sel.requested, sel.fell_back ? ": unavailable, fell back" : "");
  std::printf("\nunits: bytes per nanosecond; in cache: median of %d interleaved ~2 ms runs, streaming: median of %d passes\n", rounds, runs);

  // In-cache buffer, 64-byte aligned, with room for misaligned starts.
  std::vector<uint8_t> small_storage(65535 + 128 + 64);
  uint8_t* small = small_storage.data() + (64 - reinterpret_cast<uintptr_t>(small_storage.data()) % 64) % 64;
  fill_random(small, 65535 + 128, 12345);

  // Every path must agree with the reference before its speed means anything.
  bool agree = true;
  for (size_t s = 0; s < kNumSizes; ++s) {
    for (size_t off : {size_t{0}, size_t{1}, size_t{7}}) {
      const uint16_t ref = csum::fold(csum::scalar(small + off, kSizes[s], 0x1234));
      for (Path p : paths) {
        if (csum::fold(csum::kernel_for(p)(small + off, kSizes[s], 0x1234)) != ref) {
          std::printf("FAIL: %s disagrees with scalar at %zu bytes, offset %zu\n", csum::path_name(p), kSizes[s], off);
          agree = false;
        }
      }
    }
  }
  if (agree) std::printf("all paths agree with the scalar reference on the benchmark inputs\n");

  static Table cached{}, cached_odd{}, stream{};
  double ratio_cached[kNumSizes] = {}, ratio_odd[kNumSizes] = {};
  for (size_t s = 0; s < kNumSizes; ++s) {
    const CachedRow even = bench_cached(paths, small, kSizes[s], rounds);
    const CachedRow odd = bench_cached(paths, small + 1, kSizes[s], rounds);
    for (size_t i = 0; i < kNumPaths; ++i) {
      cached[s][i] = even.v[i];
      cached_odd[s][i] = odd.v[i];
    }
    ratio_cached[s] = even.avx2_over_adc64;
    ratio_odd[s] = odd.avx2_over_adc64;
  }

  const size_t big_len = stream_mib << 20;
  std::vector<uint8_t> big(big_len);
  fill_random(big.data(), big_len, 67890);
  for (size_t s = 0; s < kNumSizes; ++s) bench_stream(paths, big.data(), big_len, kSizes[s], runs, stream[s]);

  print_table("(a) in cache (L1; 65535 bytes sit in L2), 64-byte aligned start", cached, paths);
  print_table("(a') in cache, start at offset 1 (odd address)", cached_odd, paths);
  char title[160];
  std::snprintf(title, sizeof title, "(b) streaming through %zu MiB, packet every size+24 bytes (varying alignment)", stream_mib);
  print_table(title, stream, paths);

  const size_t kA = static_cast<size_t>(Path::kAdc64);
  const size_t kV = static_cast<size_t>(Path::kAvx2);
  const bool have_avx2 = csum::path_available(Path::kAvx2);
  if (have_avx2) {
    std::printf("\nratio avx2/adc64 (in cache: median of per-round ratios)\n%8s %9s %9s %9s\n", "bytes", "cache", "cache+1", "stream");
    for (size_t s = 0; s < kNumSizes; ++s) {
      std::printf("%8zu %9.2f %9.2f %9.2f\n", kSizes[s], ratio_cached[s],
                  ratio_odd[s], stream[s][kV] / stream[s][kA]);
    }
  }

  std::printf("\ntargets (avx2, in cache, aligned)\n");
  if (!have_avx2) {
    std::printf("SKIP: avx2 is not available on this CPU; the targets apply to AVX2 machines\n");
  } else {
    auto idx = [](size_t size) {
      for (size_t s = 0; s < kNumSizes; ++s) {
        if (kSizes[s] == size) return s;
      }
      return size_t{0};
    };
    const size_t i1500 = idx(1500), i40 = idx(40), i64 = idx(64);
    const double v1500 = cached[i1500][kV], r1500 = ratio_cached[i1500];
    std::printf("%s: avx2 >= %.0f B/ns at 1500 bytes (measured %.2f)\n", v1500 >= kTargetBytesPerNs ? "PASS" : "FAIL",
                kTargetBytesPerNs, v1500);
    std::printf("%s: avx2 >= %.1fx adc64 at 1500 bytes (measured %.2fx)\n", r1500 >= kTargetRatio ? "PASS" : "FAIL",
                kTargetRatio, r1500);
    std::vector<double> short_ratio[2] = {{ratio_cached[i40]}, {ratio_cached[i64]}};
    std::fflush(stdout);
    spawn_probes(processes, rounds, &short_ratio[0], &short_ratio[1]);
    const size_t short_idx[2] = {i40, i64};
    for (int k = 0; k < 2; ++k) {
      const double r = median(short_ratio[k]);
      std::printf("%s: avx2 not slower than adc64 at %zu bytes (>= %.2fx allowed for noise; measured %.2fx, median of %zu processes:",
                  r >= kNoise ? "PASS" : "FAIL", kSizes[short_idx[k]], kNoise, r, short_ratio[k].size());
      for (double x : short_ratio[k]) std::printf(" %.2f", x);
      std::printf(")\n");
    }
  }
  if (!agree) std::printf("FAIL: some path disagrees with the scalar reference (see above)\n");
  std::printf("\n(sink %llu)\n", static_cast<unsigned long long>(g_sink));
  return 0;  // a benchmark: results are printed, never an exit status
}
