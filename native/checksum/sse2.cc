// \summary: SSE2 kernel: the AVX2 kernel's three-operation scheme on 16-byte vectors.
//
// SSE2 is part of x86-64, but the per-function target attribute keeps this file
// building for 32-bit x86 too, where dispatch.cc checks __builtin_cpu_supports("sse2").
// See avx2.cc for why A = sum(v) mod 2^64 and H = sum(hi 32 bits) recover the exact
// lane sums (RFC 1071 sections 2(B) and 2(C)); the structure (short packets through the
// adc64 core, out-of-line vector body, masked overlapping tail) is the same.
#if defined(__x86_64__) || defined(__i386__)
#include <emmintrin.h>

#include "checksum/csum_internal.h"

namespace csumtop {
namespace csum {
namespace {

// Below this the adc64 core is as fast or faster: the vector set-up and reduction cost
// about as much as they save (measured with bench/checksum). At least 64.
constexpr size_t kMinVectorLen = 128;
#ifdef CSUMTOP_CSUM_TEST_BLOCK  // a multiple of 128; tests shrink it to cross block ends
constexpr size_t kBlock = CSUMTOP_CSUM_TEST_BLOCK;
#else
constexpr size_t kBlock = size_t{1} << 30;
#endif

// loadu(kTailMask + r) keeps the last r bytes of a 16-byte vector and zeroes the rest.
alignas(32) constexpr uint8_t kTailMask[32] = {
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

__attribute__((target("sse2"))) inline __m128i loadu(const uint8_t* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

__attribute__((target("sse2"))) inline void step(__m128i v, __m128i& a, __m128i& h) {
  a = _mm_add_epi64(a, v);
  h = _mm_add_epi64(h, _mm_srli_epi64(v, 32));
}

// See avx2.cc: each lane is < 2^59 per block, so the two lanes add without overflow.
__attribute__((target("sse2"))) inline uint64_t reduce(__m128i a, __m128i h, uint64_t acc) {
  const __m128i lo = _mm_sub_epi64(a, _mm_slli_epi64(h, 32));
  __m128i x = _mm_add_epi64(lo, h);
  x = _mm_add_epi64(x, _mm_unpackhi_epi64(x, x));
#if defined(__x86_64__)
  return detail::add_eac(acc, static_cast<uint64_t>(_mm_cvtsi128_si64(x)));
#else
  uint64_t out;
  _mm_storel_epi64(reinterpret_cast<__m128i*>(&out), x);
  return detail::add_eac(acc, out);
#endif
}

// Out of line for the same reason as avx2_long. Needs len >= 16.
__attribute__((target("sse2"), noinline)) uint32_t sse2_long(const uint8_t* data, size_t len,
                                                             uint32_t initial) {
  // Odd final byte: the low byte of a zero-padded little-endian word (RFC 1071 4.1).
  uint64_t acc = data[len - 1] & (0 - static_cast<uint64_t>(len & 1));
  const uint8_t* p = data;
  size_t n = len & ~size_t{1};

  __m128i a0 = _mm_setzero_si128(), h0 = _mm_setzero_si128();
  __m128i a1 = _mm_setzero_si128(), h1 = _mm_setzero_si128();
  __m128i a2 = _mm_setzero_si128(), h2 = _mm_setzero_si128();
  __m128i a3 = _mm_setzero_si128(), h3 = _mm_setzero_si128();
  while (n >= 64) {
    size_t m = (n < kBlock ? n : kBlock) & ~size_t{63};
    n -= m;
    do {
      step(loadu(p), a0, h0);
      step(loadu(p + 16), a1, h1);
      step(loadu(p + 32), a2, h2);
      step(loadu(p + 48), a3, h3);
      p += 64;
      m -= 64;
    } while (m != 0);
    if (n >= 64) {  // another block follows (only past 1 GiB): reduce before it
      a0 = _mm_add_epi64(_mm_add_epi64(a0, a1), _mm_add_epi64(a2, a3));
      h0 = _mm_add_epi64(_mm_add_epi64(h0, h1), _mm_add_epi64(h2, h3));
      acc = reduce(a0, h0, acc);
      a0 = a1 = a2 = a3 = h0 = h1 = h2 = h3 = _mm_setzero_si128();
    }
  }
  a0 = _mm_add_epi64(_mm_add_epi64(a0, a1), _mm_add_epi64(a2, a3));
  h0 = _mm_add_epi64(_mm_add_epi64(h0, h1), _mm_add_epi64(h2, h3));
  while (n >= 16) {
    step(loadu(p), a0, h0);
    p += 16;
    n -= 16;
  }
  // Last n < 16 bytes (even): the 16 bytes ending there, already-summed ones masked off.
  step(_mm_and_si128(loadu(p + n - 16), loadu(kTailMask + n)), a0, h0);
  return detail::finish_host(reduce(a0, h0, acc), initial);
}

}  // namespace

CSUMTOP_KERNEL_ALIGN __attribute__((target("sse2"))) uint32_t sse2(const uint8_t* data, size_t len,
                                                                   uint32_t initial) {
  // Laid out as the fall-through path, so a short packet takes no extra taken jump on
  // its way to the shared code (a 40-byte packet is only ~8 cycles in all).
  if (__builtin_expect(len < 64, 1))
    return detail::small_packet(data, len, initial);  // shared with adc64
  if (len < kMinVectorLen) return detail::finish_host(detail::adc64_host(data, len, 0), initial);
  return sse2_long(data, len, initial);
}

}  // namespace csum
}  // namespace csumtop
#endif
