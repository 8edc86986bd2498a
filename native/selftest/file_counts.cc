// \summary: The native core without Node, as a command-line program: every checksum kernel
// this CPU runs checked against the scalar reference, then capture files read with the
// reader and analyzer the addon uses, every per-interface counter printed.
//
// Why: the addon is prebuilt for linux-arm64 on an x86-64 machine (scripts/prebuild.js),
// where it cannot be loaded. This program, built from the same sources for arm64 and run
// under qemu-user (test/package/arm64.test.ts), shows the arm64 build (NEON checksum kernel,
// arm64 byte order and alignment rules) counts exactly what the x86-64 build counts.
//
// Usage: file_counts FILE...   Output (stable, diffable):
//   path NAME                        the active checksum kernel
//   kernels N checked                N (kernel, length, alignment, seed) cases, all equal
//   file FILE frames N status S      then per interface:
//   iface I linktype L: V0 V1 ...    InterfaceCounters::v (counters.h order)
//   flows N evicted M
// Exit 0, or 1 when a kernel disagrees with the reference (the case is printed).
#include <cstdint>
#include <cstdio>
#include <vector>

#include "capture/capture_file.h"
#include "checksum/csum.h"
#include "flow/analyzer.h"

namespace {

using csumtop::csum::Path;

// Every available kernel against scalar() on lengths 0..1600 at every alignment 0..7,
// with seeds that make the carries run (all-ones bytes) and not (random bytes).
int check_kernels() {
  std::vector<uint8_t> buf(1600 + 8 + 64);
  uint64_t x = 0x9e3779b97f4a7c15ull;
  uint64_t cases = 0;
  for (int pattern = 0; pattern < 2; pattern++) {
    for (auto& b : buf) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      b = pattern == 0 ? static_cast<uint8_t>(x) : 0xff;
    }
    for (size_t align = 0; align < 8; align++) {
      for (size_t len = 0; len <= 1600; len++) {
        const uint8_t* p = buf.data() + align;
        const uint32_t seed = static_cast<uint32_t>(len * 2654435761u);
        const uint16_t want = csumtop::csum::fold(csumtop::csum::scalar(p, len, seed));
        for (int k = 0; k < static_cast<int>(Path::kCount); k++) {
          const Path path = static_cast<Path>(k);
          if (!csumtop::csum::path_available(path)) continue;
          const uint16_t got = csumtop::csum::fold(csumtop::csum::kernel_for(path)(p, len, seed));
          cases++;
          if (got != want) {
            std::printf(
                "kernel %s differs: length %zu alignment %zu pattern %d: 0x%04x, scalar 0x%04x\n",
                csumtop::csum::path_name(path), len, align, pattern, got, want);
            return 1;
          }
        }
      }
    }
  }
  std::printf("kernels %llu checked\n", static_cast<unsigned long long>(cases));
  return 0;
}

void count_file(const char* path) {
  csumtop::CaptureFileReader reader;
  if (!reader.open(path)) {
    std::printf("file %s error %s\n", path, reader.error().c_str());
    return;
  }
  csumtop::Analyzer analyzer{csumtop::AnalyzerOptions{}};
  csumtop::CapturedFrame fr;
  csumtop::ReadStatus st;
  uint64_t frames = 0;
  while ((st = reader.next(&fr)) == csumtop::ReadStatus::kFrame) {
    analyzer.process_file(fr.iface, fr.data, fr.caplen, fr.wirelen, fr.ts_ns,
                          reader.interfaces()[fr.iface].linktype, fr.number);
    frames++;
  }
  std::printf("file %s frames %llu status %d\n", path, static_cast<unsigned long long>(frames),
              static_cast<int>(st));
  for (uint32_t i = 0; i < analyzer.interface_count(); i++) {
    const auto& c = analyzer.counters(i);
    std::printf("iface %u linktype %u:", i,
                i < reader.interfaces().size() ? reader.interfaces()[i].linktype : 0u);
    for (uint32_t s = 0; s < csumtop::InterfaceCounters::kStride; s++)
      std::printf(" %llu", static_cast<unsigned long long>(c.v[s]));
    std::printf("\n");
  }
  std::printf("flows %u evicted %llu\n", analyzer.flows().size(),
              static_cast<unsigned long long>(analyzer.flows().evicted()));
}

}  // namespace

int main(int argc, char** argv) {
  std::printf("path %s\n", csumtop::csum::path_name(csumtop::csum::active_path()));
  if (check_kernels() != 0) return 1;
  for (int i = 1; i < argc; i++) count_file(argv[i]);
  return 0;
}
