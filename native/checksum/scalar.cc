// \summary: The RFC 1071 reference kernel: one big-endian 16-bit word at a time.
//
// This is the definition every other kernel is tested against, so it is written for
// obviousness, not speed: RFC 1071 section 4.1's loop, with the words read explicitly
// as big-endian (network order) so the result does not depend on the host.
#include "checksum/csum_internal.h"

namespace csumtop {
namespace csum {

CSUMTOP_KERNEL_ALIGN uint32_t scalar(const uint8_t* data, size_t len, uint32_t initial) {
  // A 64-bit accumulator cannot overflow: even 2^47 bytes of 0xff add less than 2^63.
  uint64_t sum = initial;
  size_t i = 0;
  for (; i + 1 < len; i += 2) {
    sum += (static_cast<uint32_t>(data[i]) << 8) | data[i + 1];
  }
  // RFC 1071 section 4.1: "Add left-over byte, if any": the odd trailing byte is the
  // high-order byte of a word whose low-order byte is zero.
  if (i < len) sum += static_cast<uint32_t>(data[i]) << 8;
  // Fold the carries above bit 31 back in (end-around carry) to keep a 32-bit partial.
  sum = (sum & 0xffffffffu) + (sum >> 32);
  sum = (sum & 0xffffffffu) + (sum >> 32);
  return static_cast<uint32_t>(sum);
}

}  // namespace csum
}  // namespace csumtop
