// \summary: NEON kernel (arm64): vpadalq_u16 widens and accumulates 16 bytes in one op.
//
// UADALP adds adjacent 16-bit lanes pairwise into 32-bit accumulator lanes, so the
// widening that costs extra work on x86 is free here. Each op adds at most 2 * 0xffff
// to a 32-bit lane, so a lane is safe for 2^15 ops; blocks stay below that and are then
// widened into 64-bit lanes with UADALP again. Words are summed in host (little-endian)
// order and swapped once at the end (RFC 1071 section 2(B)); see csum_internal.h.
#include "checksum/csum_internal.h"

#if defined(CSUMTOP_HAVE_NEON)
#include <arm_neon.h>

namespace csumtop {
namespace csum {
namespace {

// Below this the adc64 core is as fast or faster: the vector set-up and reduction cost
// about as much as they save (measured with bench/checksum). At least 64.
constexpr size_t kMinVectorLen = 128;
// 4 accumulators * 16 bytes * 16384 ops per block: each 32-bit lane sees 16384 ops,
// at most 16384 * 2 * 0xffff < 2^32.
#ifdef CSUMTOP_CSUM_TEST_BLOCK  // a multiple of 128; tests shrink it to cross block ends
constexpr size_t kBlock = CSUMTOP_CSUM_TEST_BLOCK;
#else
constexpr size_t kBlock = size_t{64} * 16384;
#endif

inline uint16x8_t load(const uint8_t* p) { return vreinterpretq_u16_u8(vld1q_u8(p)); }

// Out of line so that none of its set-up is hoisted above neon()'s short-packet test.
__attribute__((noinline)) uint32_t neon_long(const uint8_t* data, size_t len, uint32_t initial) {
  const uint8_t* p = data;
  size_t n = len;
  uint64_t acc = 0;
  while (n >= 16) {
    const size_t block = n < kBlock ? n : kBlock;
    size_t m = block;
    uint32x4_t a0 = vdupq_n_u32(0), a1 = vdupq_n_u32(0), a2 = vdupq_n_u32(0), a3 = vdupq_n_u32(0);
    while (m >= 64) {
      a0 = vpadalq_u16(a0, load(p));
      a1 = vpadalq_u16(a1, load(p + 16));
      a2 = vpadalq_u16(a2, load(p + 32));
      a3 = vpadalq_u16(a3, load(p + 48));
      p += 64;
      m -= 64;
    }
    while (m >= 16) {
      a0 = vpadalq_u16(a0, load(p));  // a0 gets at most 3 more ops than the block bound
      p += 16;
      m -= 16;
    }
    // Widen once per block; each 64-bit lane gets less than 2^36, so no carry is lost.
    uint64x2_t wide = vpaddlq_u32(a0);
    wide = vpadalq_u32(wide, a1);
    wide = vpadalq_u32(wide, a2);
    wide = vpadalq_u32(wide, a3);
    acc = detail::add_eac(acc, vgetq_lane_u64(wide, 0));
    acc = detail::add_eac(acc, vgetq_lane_u64(wide, 1));
    n -= block - m;
  }
  return detail::finish_host(detail::adc64_host(p, n, acc), initial);
}

}  // namespace

CSUMTOP_KERNEL_ALIGN uint32_t neon(const uint8_t* data, size_t len, uint32_t initial) {
  // Laid out as the fall-through path, so a short packet takes no extra taken jump on
  // its way to the shared code (a 40-byte packet is only ~8 cycles in all).
  if (__builtin_expect(len < 64, 1))
    return detail::small_packet(data, len, initial);  // shared with adc64
  if (len < kMinVectorLen) return detail::finish_host(detail::adc64_host(data, len, 0), initial);
  return neon_long(data, len, initial);
}

}  // namespace csum
}  // namespace csumtop
#endif
