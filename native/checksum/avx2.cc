// \summary: AVX2 kernel: 32-byte loads, 3 vector ops per load, adc64 below 128 bytes.
//
// Compiled for any x86-64 with a per-function target attribute (binding.gyp has no
// per-file flags); dispatch.cc only calls it when __builtin_cpu_supports("avx2").
//
// The trick that keeps it at three operations per 32 bytes: view each 64-bit lane as
// hi * 2^32 + lo and keep two accumulators, A = sum(v) mod 2^64 and H = sum(hi) (exact).
// Then sum(lo) = A - H * 2^32 (mod 2^64), and since sum(lo) < 2^64 as long as fewer than
// 2^32 vectors are summed per lane, that difference *is* sum(lo), exactly. The lane's
// contribution is sum(lo) + sum(hi), and because 2^32 == 1 (mod 2^16 - 1) that is
// congruent to the sum of its 16-bit words (the same argument as RFC 1071 section 2(D),
// "parallel summation"). No unsigned compare or widening shuffle is needed: one add for
// A, one shift and one add for H. Words are summed in host order and swapped at the end
// (RFC 1071 section 2(B)), see csum_internal.h.
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include "checksum/csum_internal.h"

namespace csumtop {
namespace csum {
namespace {

// Below this the set-up and the horizontal reduction cost more than they save, and the
// adc64 core is at least as fast (measured with bench/checksum, see RESULTS.md).
constexpr size_t kMinVectorLen = 128;
// Bytes per block before the lane accumulators are reduced: keeps the vectors summed
// per lane far below the 2^31 that the exactness argument above needs.
constexpr size_t kBlock = size_t{1} << 30;

// Reduces the (A, H) accumulator pair to a scalar host-order partial sum.
__attribute__((target("avx2"))) inline uint64_t reduce(__m256i a, __m256i h, uint64_t acc) {
  const __m256i lo = _mm256_sub_epi64(a, _mm256_slli_epi64(h, 32));
  const __m256i lanes = _mm256_add_epi64(lo, h);  // < 2^64: both terms < 2^62 per block
  alignas(32) uint64_t out[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(out), lanes);
  acc = detail::add_eac(acc, out[0]);
  acc = detail::add_eac(acc, out[1]);
  acc = detail::add_eac(acc, out[2]);
  return detail::add_eac(acc, out[3]);
}

__attribute__((target("avx2"))) inline __m256i loadu(const uint8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

}  // namespace

__attribute__((target("avx2"))) uint32_t avx2(const uint8_t* data, size_t len, uint32_t initial) {
  if (len < kMinVectorLen) return detail::finish_host(detail::adc64_host(data, len, 0), initial);

  uint64_t acc = 0;
  const uint8_t* p = data;
  size_t n = len;
  while (n >= 32) {
    const size_t block = n < kBlock ? n : kBlock;
    size_t m = block;
    // Four independent (A, H) pairs so the adds do not wait on each other.
    __m256i a0 = _mm256_setzero_si256(), h0 = _mm256_setzero_si256();
    __m256i a1 = _mm256_setzero_si256(), h1 = _mm256_setzero_si256();
    __m256i a2 = _mm256_setzero_si256(), h2 = _mm256_setzero_si256();
    __m256i a3 = _mm256_setzero_si256(), h3 = _mm256_setzero_si256();
    while (m >= 128) {
      const __m256i v0 = loadu(p), v1 = loadu(p + 32), v2 = loadu(p + 64), v3 = loadu(p + 96);
      a0 = _mm256_add_epi64(a0, v0);
      h0 = _mm256_add_epi64(h0, _mm256_srli_epi64(v0, 32));
      a1 = _mm256_add_epi64(a1, v1);
      h1 = _mm256_add_epi64(h1, _mm256_srli_epi64(v1, 32));
      a2 = _mm256_add_epi64(a2, v2);
      h2 = _mm256_add_epi64(h2, _mm256_srli_epi64(v2, 32));
      a3 = _mm256_add_epi64(a3, v3);
      h3 = _mm256_add_epi64(h3, _mm256_srli_epi64(v3, 32));
      p += 128;
      m -= 128;
    }
    // The pairs combine linearly: A stays a sum mod 2^64 and H stays exact.
    a0 = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
    h0 = _mm256_add_epi64(_mm256_add_epi64(h0, h1), _mm256_add_epi64(h2, h3));
    while (m >= 32) {
      const __m256i v = loadu(p);
      a0 = _mm256_add_epi64(a0, v);
      h0 = _mm256_add_epi64(h0, _mm256_srli_epi64(v, 32));
      p += 32;
      m -= 32;
    }
    acc = reduce(a0, h0, acc);
    n -= block - m;
  }
  // Fewer than 32 bytes left: the adc64 core handles the 16/8/4/2/1-byte pieces.
  return detail::finish_host(detail::adc64_host(p, n, acc), initial);
}

}  // namespace csum
}  // namespace csumtop
#endif
