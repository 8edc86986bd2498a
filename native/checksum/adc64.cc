// \summary: 64-bit loads summed with add-with-carry (the Linux kernel's csum_partial technique).
//
// Linux, arch/x86/lib/csum-partial_64.c, sums 64 bits at a time with an `adcq` chain,
// relying on 2^64 == 1 (mod 2^16 - 1) so that a 64-bit ones-complement sum folds to
// the 16-bit one. The portable core lives in csum_internal.h (the AVX2/SSE2 kernels
// reuse it for short buffers and tails); it sums host-order words, converted at the
// end as RFC 1071 section 2(B) allows.
#include "checksum/csum_internal.h"

namespace csumtop {
namespace csum {

namespace detail {
CSUMTOP_KERNEL_ALIGN __attribute__((noinline)) uint32_t small_packet(const uint8_t* data,
                                                                     size_t len, uint32_t initial) {
  return finish_host(adc64_small(data, len), initial);
}
}  // namespace detail

CSUMTOP_KERNEL_ALIGN uint32_t adc64(const uint8_t* data, size_t len, uint32_t initial) {
  // The vector kernels send short packets to this same code (see csum_internal.h).
  if (len < 64) return detail::small_packet(data, len, initial);
  return detail::finish_host(detail::adc64_host(data, len, 0), initial);
}

}  // namespace csum
}  // namespace csumtop
