// \summary: pcapng bytes for the fuzz targets that frame their input into valid blocks
// (fuzz_pcapng.cc, fuzz_pcapng_scan.cc): integers in the section's byte order, and whole
// blocks (pcapng, draft-ietf-opsawg-pcapng section 3.1: block type, total length, body
// padded to 32 bits, total length again).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace csumtop {
namespace fuzz {

struct PcapngOut {
  std::vector<uint8_t> v;
  // A big-endian section: every integer, the byte-order magic included, is written
  // in that order (pcapng section 4.1).
  bool big;

  void u16(uint16_t x) {
    if (big) x = static_cast<uint16_t>(x >> 8 | x << 8);
    raw(&x, 2);
  }
  void u32(uint32_t x) {
    if (big) x = __builtin_bswap32(x);
    raw(&x, 4);
  }
  void u64(uint64_t x) {
    if (big) x = __builtin_bswap64(x);
    raw(&x, 8);
  }
  void raw(const void* p, size_t n) {
    const uint8_t* b = static_cast<const uint8_t*>(p);
    v.insert(v.end(), b, b + n);
  }
  // One block. `bad_trailer`: the trailing length 4 more than the leading one, which a
  // reader must refuse.
  void block(uint32_t type, const std::vector<uint8_t>& body, bool bad_trailer = false) {
    const size_t padded = (body.size() + 3) & ~size_t{3};
    const uint32_t len = static_cast<uint32_t>(12 + padded);
    u32(type);
    u32(len);
    raw(body.data(), body.size());
    v.insert(v.end(), padded - body.size(), 0);
    u32(bad_trailer ? len + 4 : len);
  }
};

}  // namespace fuzz
}  // namespace csumtop
