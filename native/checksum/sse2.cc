// \summary: SSE2 kernel: the AVX2 kernel's three-operation scheme on 16-byte vectors.
//
// SSE2 is part of x86-64, but the per-function target attribute keeps this file
// building for 32-bit x86 too, where dispatch.cc checks __builtin_cpu_supports("sse2").
// See avx2.cc for why A = sum(v) mod 2^64 and H = sum(hi 32 bits) recover the exact
// lane sums (RFC 1071 sections 2(B) and 2(D)).
#if defined(__x86_64__) || defined(__i386__)
#include <emmintrin.h>

#include "checksum/csum_internal.h"

namespace csumtop {
namespace csum {
namespace {

constexpr size_t kMinVectorLen = 64;  // the adc64 core is as fast below this
constexpr size_t kBlock = size_t{1} << 30;

__attribute__((target("sse2"))) inline uint64_t reduce(__m128i a, __m128i h, uint64_t acc) {
  const __m128i lo = _mm_sub_epi64(a, _mm_slli_epi64(h, 32));
  const __m128i lanes = _mm_add_epi64(lo, h);
  alignas(16) uint64_t out[2];
  _mm_store_si128(reinterpret_cast<__m128i*>(out), lanes);
  acc = detail::add_eac(acc, out[0]);
  return detail::add_eac(acc, out[1]);
}

__attribute__((target("sse2"))) inline __m128i loadu(const uint8_t* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

}  // namespace

__attribute__((target("sse2"))) uint32_t sse2(const uint8_t* data, size_t len, uint32_t initial) {
  if (len < kMinVectorLen) return detail::finish_host(detail::adc64_host(data, len, 0), initial);

  uint64_t acc = 0;
  const uint8_t* p = data;
  size_t n = len;
  while (n >= 16) {
    const size_t block = n < kBlock ? n : kBlock;
    size_t m = block;
    __m128i a0 = _mm_setzero_si128(), h0 = _mm_setzero_si128();
    __m128i a1 = _mm_setzero_si128(), h1 = _mm_setzero_si128();
    __m128i a2 = _mm_setzero_si128(), h2 = _mm_setzero_si128();
    __m128i a3 = _mm_setzero_si128(), h3 = _mm_setzero_si128();
    while (m >= 64) {
      const __m128i v0 = loadu(p), v1 = loadu(p + 16), v2 = loadu(p + 32), v3 = loadu(p + 48);
      a0 = _mm_add_epi64(a0, v0);
      h0 = _mm_add_epi64(h0, _mm_srli_epi64(v0, 32));
      a1 = _mm_add_epi64(a1, v1);
      h1 = _mm_add_epi64(h1, _mm_srli_epi64(v1, 32));
      a2 = _mm_add_epi64(a2, v2);
      h2 = _mm_add_epi64(h2, _mm_srli_epi64(v2, 32));
      a3 = _mm_add_epi64(a3, v3);
      h3 = _mm_add_epi64(h3, _mm_srli_epi64(v3, 32));
      p += 64;
      m -= 64;
    }
    a0 = _mm_add_epi64(_mm_add_epi64(a0, a1), _mm_add_epi64(a2, a3));
    h0 = _mm_add_epi64(_mm_add_epi64(h0, h1), _mm_add_epi64(h2, h3));
    while (m >= 16) {
      const __m128i v = loadu(p);
      a0 = _mm_add_epi64(a0, v);
      h0 = _mm_add_epi64(h0, _mm_srli_epi64(v, 32));
      p += 16;
      m -= 16;
    }
    acc = reduce(a0, h0, acc);
    n -= block - m;
  }
  return detail::finish_host(detail::adc64_host(p, n, acc), initial);
}

}  // namespace csum
}  // namespace csumtop
#endif
