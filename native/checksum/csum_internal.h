// \summary: Helpers shared by the checksum kernels: safe loads, host-order summing, adc64 core.
//
// Every fast kernel sums the data as *host-order* 16-bit words and converts once at the
// end. RFC 1071 section 2(B) ("byte order independence"): the ones-complement sum of
// byte-swapped words is the byte-swap of the sum, so on a little-endian host we sum
// little-endian words, swap the result once (finish_host), and only then add the
// caller's `initial` (which is already in network order). Adding `initial` before the
// swap would swap it too, which is the classic bug this ordering avoids.
//
// Nothing here allocates, throws or relies on alignment: every load goes through memcpy,
// which compilers turn into a plain (unaligned-safe) load instruction.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "checksum/csum.h"

namespace csumtop {
namespace csum {
namespace detail {

inline uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline uint32_t load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline uint16_t load16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// a + b with end-around carry, i.e. addition in ones-complement arithmetic modulo
// 2^64 - 1: the carry out of the top bit is added back in (RFC 1071 section 2(C),
// "parallel summation", folds wider sums the same way).
// s + carry cannot overflow again: if a + b wrapped, s <= 2^64 - 2.
inline uint64_t add_eac(uint64_t a, uint64_t b) {
  uint64_t s;
  const bool carry = __builtin_add_overflow(a, b, &s);
  return s + static_cast<uint64_t>(carry);
}

// Host-order 16-bit words of the 0..7 bytes at p (n < 8), as a 64-bit addend
// whose ones-complement fold equals the sum of those bytes' host-order words. A final
// odd byte sits at an even offset from the start of the buffer, so it is the first
// byte of a word padded with zero (RFC 1071 section 4.1: "if (count > 0) sum +=
// *(unsigned char *)addr" on a little-endian machine is exactly the low byte).
inline uint64_t tail_sum(const uint8_t* p, size_t n) {
  uint64_t s = 0;
  if (n & 4) {
    s += load32(p);
    p += 4;
  }
  if (n & 2) {
    s += load16(p);
    p += 2;
  }
  if (n & 1) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    s += *p;
#else
    s += static_cast<uint64_t>(*p) << 8;
#endif
  }
  return s;  // < 2^32 + 2^17: no carry can be lost
}

// The trailing r = n & 7 bytes that end at `end`, taken with one 8-byte load that ends
// there and a shift that drops the bytes already summed: no branch on r. The caller
// guarantees at least 8 bytes of buffer before `end`. The tail starts at an even offset
// (a multiple of 8 from the start), so an odd last byte lands as the first byte of a
// zero-padded word, as RFC 1071 section 4.1 pads it. The shift is split in two so that
// r == 0 shifts by 56 + 8 and yields 0 without an undefined 64-bit shift.
inline uint64_t tail_overlap(const uint8_t* end, size_t r) {
  const uint64_t v = load64(end - 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return (v >> (8 * (7 - r))) >> 8;  // the last r bytes are the top r bytes of v
#else
  return (v << (8 * (7 - r))) << 8;  // the last r bytes are the low r bytes of v
#endif
}

// The adc64 core: 64-bit loads summed with add-with-carry, as in the Linux kernel's
// arch/x86/lib/csum-partial_64.c (an `adcq` chain over 64 bytes per iteration, then
// `adcq $0`). Written portably: __builtin_add_overflow yields the carry, which the
// compiler turns into add/adc. Two independent carry chains let an out-of-order core
// overlap them. Returns a 64-bit host-order partial sum (with end-around carry).
//
// adc64_short is the part for fewer than 64 bytes, for buffers of at least 8 bytes.
inline uint64_t adc64_short(const uint8_t* p, size_t n, uint64_t acc, uint64_t acc2) {
  if (n & 32) {
    acc = add_eac(acc, load64(p));
    acc2 = add_eac(acc2, load64(p + 8));
    acc = add_eac(acc, load64(p + 16));
    acc2 = add_eac(acc2, load64(p + 24));
    p += 32;
  }
  if (n & 16) {
    acc = add_eac(acc, load64(p));
    acc2 = add_eac(acc2, load64(p + 8));
    p += 16;
  }
  if (n & 8) {
    acc = add_eac(acc, load64(p));
    p += 8;
  }
  acc = add_eac(acc, acc2);
  return add_eac(acc, tail_overlap(p + (n & 7), n & 7));
}

// Any buffer of fewer than 64 bytes.
inline uint64_t adc64_small(const uint8_t* p, size_t n) {
  if (n < 8) return tail_sum(p, n);
  return adc64_short(p, n, 0, 0);
}

// The whole kernel for packets of fewer than 64 bytes (TCP ACKs are 40), defined once in
// adc64.cc and *jumped to* by adc64 and by every vector kernel, so that a short packet
// costs exactly the same whichever kernel is active. With the same source inlined into
// each kernel instead, GCC laid each copy out differently (branch order, set-up hoisted
// above the length test) and 40-byte packets measured about 10% apart.
uint32_t small_packet(const uint8_t* data, size_t len, uint32_t initial);

// One 64-byte step of the adc64 loop, over the two carry chains.
inline void adc64_block(const uint8_t* p, uint64_t& acc, uint64_t& acc2) {
  acc = add_eac(acc, load64(p));
  acc2 = add_eac(acc2, load64(p + 8));
  acc = add_eac(acc, load64(p + 16));
  acc2 = add_eac(acc2, load64(p + 24));
  acc = add_eac(acc, load64(p + 32));
  acc2 = add_eac(acc2, load64(p + 40));
  acc = add_eac(acc, load64(p + 48));
  acc2 = add_eac(acc2, load64(p + 56));
}

// Any length; the buffer must be at least 8 bytes long (adc64_short's tail load).
inline uint64_t adc64_host(const uint8_t* p, size_t n, uint64_t acc) {
  uint64_t acc2 = 0;
  while (n >= 64) {
    adc64_block(p, acc, acc2);
    p += 64;
    n -= 64;
  }
  return adc64_short(p, n, acc, acc2);
}

// Converts a host-order 64-bit partial sum into the network-order 32-bit partial sum
// the API returns, then adds `initial`. Swapping the bytes of every 16-bit word (RFC 1071
// section 2(B)) multiplies the sum by 2^8 modulo 2^16 - 1, and so does rotating the whole
// 64-bit accumulator left by 8 bits: a rotation by k is multiplication by 2^k modulo
// 2^64 - 1, which 2^16 - 1 divides. One rotate instead of fold-swap-widen; zero stays
// zero and a non-zero sum stays non-zero, so the folded result is exactly the scalar one.
inline uint32_t finish_host(uint64_t host_sum, uint32_t initial) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  host_sum = (host_sum << 8) | (host_sum >> 56);
#endif
  const uint64_t s = add_eac(host_sum, initial);
  // 64 -> 32 bits with end-around carry (2^32 == 1 modulo 2^16 - 1).
  const uint32_t lo = static_cast<uint32_t>(s), hi = static_cast<uint32_t>(s >> 32);
  uint32_t r;
  const bool carry = __builtin_add_overflow(lo, hi, &r);
  return r + static_cast<uint32_t>(carry);
}

// True once the start-up choice is made and the active path is not the scalar
// reference: then every active kernel sums fewer than 64 bytes with adc64_short.
extern std::atomic<bool> g_short_inline;

}  // namespace detail

// partial() for len < 64, inline: exactly what every kernel but the scalar reference
// runs for such lengths (adc64_short), without the indirect call through the dispatch;
// the scalar reference, when forced, still gets the call. For IPv4 headers.
inline uint32_t partial_short(const uint8_t* data, size_t len, uint32_t initial) {
  if (len < 64 && detail::g_short_inline.load(std::memory_order_relaxed)) {
    return detail::finish_host(detail::adc64_short(data, len, 0, 0), initial);
  }
  return partial(data, len, initial);
}

// Kernel entry points start on a 64-byte boundary (a cache line and an op-cache line on
// current x86 and Arm cores), so that where the linker happens to place them does not
// change how fast a short packet goes: without it, identical code measured up to 30%
// apart at 40 bytes depending on its address.
#define CSUMTOP_KERNEL_ALIGN __attribute__((aligned(64)))

// Kernels behind kernel_for(); each exists only where it can be compiled.
#if defined(__x86_64__) || defined(__i386__)
uint32_t sse2(const uint8_t* data, size_t len, uint32_t initial);
uint32_t avx2(const uint8_t* data, size_t len, uint32_t initial);
#endif
#if defined(__aarch64__) && defined(__ARM_NEON) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define CSUMTOP_HAVE_NEON 1
uint32_t neon(const uint8_t* data, size_t len, uint32_t initial);
#endif

}  // namespace csum
}  // namespace csumtop
