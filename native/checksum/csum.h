// \summary: RFC 1071 Internet checksum: scalar reference, SIMD kernels, run-time dispatch.
//
// Every kernel computes the same thing: the 16-bit ones-complement sum of the bytes
// taken as big-endian 16-bit words (an odd trailing byte is padded with zero on the
// right), added to `initial`, returned as a 32-bit partial sum that callers fold.
// Partial sums can be combined with add_partial(); a buffer that starts at an odd
// offset of a larger message must be byte-swapped (RFC 1071 section 2(B)) before it is
// combined, which is what sum_at() does.
#pragma once
#include <cstddef>
#include <cstdint>

namespace csumtop {
namespace csum {

enum class Path : uint8_t { kScalar = 0, kAdc64 = 1, kSse2 = 2, kAvx2 = 3, kNeon = 4, kCount = 5 };

using Kernel = uint32_t (*)(const uint8_t* data, size_t len, uint32_t initial);

// Name as used by CSUMTOP_CSUM_PATH and the benchmarks: scalar, adc64, sse2, avx2, neon.
const char* path_name(Path p);
// True when the kernel is compiled in and this CPU can run it.
bool path_available(Path p);
Kernel kernel_for(Path p);  // nullptr when unavailable

// The path chosen at start-up: the best available, unless the environment variable
// CSUMTOP_CSUM_PATH names another available one (tests and benchmarks force paths).
Path active_path();
// Returns false (and leaves the active path alone) when `p` is unavailable.
bool set_active_path(Path p);

// The best path this build and CPU can run: avx2 > sse2 > adc64 on x86, neon > adc64 on
// arm64, adc64 elsewhere (scalar is the reference, never the best).
Path best_path();
// Parses a CSUMTOP_CSUM_PATH value; false for a name that is not a Path.
bool parse_path(const char* name, Path* out);

// How the start-up choice was made, so that a forced path that could not be honoured is
// observable (the binding exports it; tests assert on it).
struct PathSelection {
  Path active;         // chosen at start-up (set_active_path() may change it later)
  bool forced;         // CSUMTOP_CSUM_PATH was set and non-empty
  bool fell_back;      // ...but named an unknown or unavailable path, so `active` is best_path()
  char requested[16];  // its value, truncated; "" when unset
};
const PathSelection& startup_selection();

// Partial sum with the active kernel.
uint32_t partial(const uint8_t* data, size_t len, uint32_t initial = 0);

// Folds a partial sum to 16 bits (end-around carry), without complementing.
inline uint16_t fold(uint64_t sum) {
  sum = (sum & 0xffffffffu) + (sum >> 32);
  sum = (sum & 0xffffffffu) + (sum >> 32);
  sum = (sum & 0xffffu) + (sum >> 16);
  sum = (sum & 0xffffu) + (sum >> 16);
  sum = (sum & 0xffffu) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

// Ones-complement addition of two partial sums, result still a partial sum.
inline uint32_t add_partial(uint32_t a, uint32_t b) {
  uint64_t s = static_cast<uint64_t>(a) + b;
  return static_cast<uint32_t>((s & 0xffffffffu) + (s >> 32));
}

// The checksum field value for data whose partial sum is `sum`: ~fold(sum).
inline uint16_t finish(uint32_t sum) { return static_cast<uint16_t>(~fold(sum)); }

// Partial sum of `len` bytes that start at byte `offset` of the message being summed,
// ready to add_partial() to the sums of the other pieces. At an odd offset the bytes pair
// up the other way round, which byte-swaps the piece's sum (RFC 1071 section 2(B));
// swapping the folded sum keeps zero as zero and is exact modulo 2^16 - 1.
inline uint32_t sum_at(const uint8_t* data, size_t len, size_t offset) {
  const uint32_t s = partial(data, len, 0);
  if ((offset & 1) == 0) return s;
  const uint16_t f = fold(s);
  return static_cast<uint16_t>((f << 8) | (f >> 8));
}

// Reference implementations, always available; the others are checked against these.
uint32_t scalar(const uint8_t* data, size_t len, uint32_t initial);
// 64-bit loads with add-with-carry, the Linux kernel's technique (arch/x86/lib/csum-partial_64.c).
uint32_t adc64(const uint8_t* data, size_t len, uint32_t initial);

}  // namespace csum
}  // namespace csumtop
