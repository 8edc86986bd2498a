// \summary: AVX2 kernel: 32-byte loads, 3 vector ops per load, masked overlapping tail.
//
// Compiled for any x86-64 with a per-function target attribute (binding.gyp has no
// per-file flags); dispatch.cc only calls it when __builtin_cpu_supports("avx2").
//
// The trick that keeps it at three operations per 32 bytes: view each 64-bit lane as
// hi * 2^32 + lo and keep two accumulators, A = sum(v) mod 2^64 and H = sum(hi) (exact).
// Then sum(lo) = A - H * 2^32 (mod 2^64), and since sum(lo) < 2^64 as long as fewer than
// 2^32 vectors are summed per lane, that difference *is* sum(lo), exactly. The lane's
// contribution is sum(lo) + sum(hi), and because 2^32 == 1 (mod 2^16 - 1) that is
// congruent to the sum of its 16-bit words (the same argument as RFC 1071 section 2(C),
// "parallel summation"). No unsigned compare or widening shuffle is needed: one add for
// A, one shift and one add for H. Words are summed in host order and swapped at the end
// (RFC 1071 section 2(B)), see csum_internal.h.
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#include "checksum/csum_internal.h"

namespace csumtop {
namespace csum {
namespace {

// Below this the adc64 core is as fast or faster: the vector set-up and reduction cost
// about as much as they save (measured with bench/checksum). At least 64.
constexpr size_t kMinVectorLen = 128;
// Bytes per block before the lane accumulators are reduced: keeps the vectors summed
// per lane far below the 2^31 that the exactness argument above needs.
#ifdef CSUMTOP_CSUM_TEST_BLOCK  // a multiple of 128; tests shrink it to cross block ends
constexpr size_t kBlock = CSUMTOP_CSUM_TEST_BLOCK;
#else
constexpr size_t kBlock = size_t{1} << 30;
#endif

// loadu(kTailMask + r) keeps the last r bytes of a 32-byte vector and zeroes the rest.
alignas(64) constexpr uint8_t kTailMask[64] = {
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

__attribute__((target("avx2"))) inline __m256i loadu(const uint8_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

// One vector into an (A, H) pair: A += v (mod 2^64 per lane), H += v >> 32 (exact).
__attribute__((target("avx2"))) inline void step(__m256i v, __m256i& a, __m256i& h) {
  a = _mm256_add_epi64(a, v);
  h = _mm256_add_epi64(h, _mm256_srli_epi64(v, 32));
}

// Reduces an (A, H) pair to a scalar host-order partial sum. Per block each lane holds
// sum(lo) + sum(hi) < 2^59 (at most 2^25 vectors of two 32-bit halves), so the four
// lanes add without overflow and only the final add needs an end-around carry.
__attribute__((target("avx2"))) inline uint64_t reduce(__m256i a, __m256i h, uint64_t acc) {
  const __m256i lo = _mm256_sub_epi64(a, _mm256_slli_epi64(h, 32));
  const __m256i lanes = _mm256_add_epi64(lo, h);
  __m128i x = _mm_add_epi64(_mm256_castsi256_si128(lanes), _mm256_extracti128_si256(lanes, 1));
  x = _mm_add_epi64(x, _mm_unpackhi_epi64(x, x));
#if defined(__x86_64__)
  return detail::add_eac(acc, static_cast<uint64_t>(_mm_cvtsi128_si64(x)));
#else
  uint64_t out;
  _mm_storel_epi64(reinterpret_cast<__m128i*>(&out), x);
  return detail::add_eac(acc, out);
#endif
}

// Host-order partial sum of len >= 32 bytes with 32-byte vectors.
__attribute__((target("avx2"), always_inline)) inline uint64_t avx2_sum(const uint8_t* data,
                                                                        size_t len) {
  // An odd final byte is the first byte of a zero-padded word (RFC 1071 section 4.1),
  // i.e. the low byte of a little-endian word; taking it out here leaves an even length,
  // so the overlapping tail load below starts at an even offset and pairs bytes the same
  // way as the rest. Branch-free: p[len - 1] exists since len >= 32.
  uint64_t acc = data[len - 1] & (0 - static_cast<uint64_t>(len & 1));
  const uint8_t* p = data;
  size_t n = len & ~size_t{1};

  // Four independent (A, H) pairs so the adds do not wait on each other.
  __m256i a0 = _mm256_setzero_si256(), h0 = _mm256_setzero_si256();
  __m256i a1 = _mm256_setzero_si256(), h1 = _mm256_setzero_si256();
  __m256i a2 = _mm256_setzero_si256(), h2 = _mm256_setzero_si256();
  __m256i a3 = _mm256_setzero_si256(), h3 = _mm256_setzero_si256();
  while (n >= 128) {
    size_t m = (n < kBlock ? n : kBlock) & ~size_t{127};
    n -= m;
    do {
      step(loadu(p), a0, h0);
      step(loadu(p + 32), a1, h1);
      step(loadu(p + 64), a2, h2);
      step(loadu(p + 96), a3, h3);
      p += 128;
      m -= 128;
    } while (m != 0);
    if (n >= 128) {  // another block follows (only past 1 GiB): reduce before it
      a0 = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
      h0 = _mm256_add_epi64(_mm256_add_epi64(h0, h1), _mm256_add_epi64(h2, h3));
      acc = reduce(a0, h0, acc);
      a0 = a1 = a2 = a3 = h0 = h1 = h2 = h3 = _mm256_setzero_si256();
    }
  }
  // The pairs combine linearly: A stays a sum mod 2^64 and H stays exact.
  a0 = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
  h0 = _mm256_add_epi64(_mm256_add_epi64(h0, h1), _mm256_add_epi64(h2, h3));
  while (n >= 32) {
    step(loadu(p), a0, h0);
    p += 32;
    n -= 32;
  }
  // The last n < 32 bytes (n even): load the 32 bytes that end there, which lie inside
  // the buffer because len >= 32, and mask off the ones already summed. With n == 0 the
  // mask is all zero, so there is no branch.
  step(_mm256_and_si256(loadu(p + n - 32), loadu(kTailMask + n)), a0, h0);
  return reduce(a0, h0, acc);
}

// The vector kernel proper, kept out of line so that the compiler cannot hoist any of its
// set-up above the short-packet test in avx2(): inlined, GCC moved four instructions
// there, which cost short packets about 10% against adc64. Needs len >= 128.
__attribute__((target("avx2"), noinline)) uint32_t avx2_long(const uint8_t* data, size_t len,
                                                             uint32_t initial) {
  // A 32-byte load that straddles two cache lines costs about twice as much: from an odd
  // address the loop ran at 71 B/ns instead of 107 at 9000 bytes on the EPYC this was
  // tuned on. So sum the bytes up to the next 32-byte boundary with the adc64 code and
  // load aligned from there. Bytes after an odd-length head pair up the other way round,
  // which byte-swaps their sum (RFC 1071 section 2(B)): rotate it by 8 bits (see
  // finish_host for why a rotation is that swap).
  const size_t head = (0 - reinterpret_cast<uintptr_t>(data)) & 31;
  if (head == 0) return detail::finish_host(avx2_sum(data, len), initial);
  uint64_t rest = avx2_sum(data + head, len - head);  // len - head >= 97
  if (head & 1) rest = (rest << 8) | (rest >> 56);
  return detail::finish_host(detail::add_eac(detail::adc64_small(data, head), rest), initial);
}

}  // namespace

CSUMTOP_KERNEL_ALIGN __attribute__((target("avx2"))) uint32_t avx2(const uint8_t* data, size_t len,
                                                                   uint32_t initial) {
  // Short packets (TCP ACKs are 40 bytes) take the adc64 code, the very routine adc64
  // runs for them: its straight-line 32/16/8-byte steps beat the vector set-up and
  // reduction there (measured with bench/checksum). Laid out as the fall-through path,
  // so a short packet takes no extra taken jump (a 40-byte packet is ~8 cycles in all).
  if (__builtin_expect(len < 64, 1))
    return detail::small_packet(data, len, initial);  // shared with adc64
  if (len < kMinVectorLen) return detail::finish_host(detail::adc64_host(data, len, 0), initial);
  return avx2_long(data, len, initial);
}

}  // namespace csum
}  // namespace csumtop
#endif
