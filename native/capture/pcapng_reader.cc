// \summary: CaptureFileReader's pcapng part: sections, interfaces, packet blocks, skipped blocks.
//
// draft-ietf-opsawg-pcapng-02: General Block Structure (section 3.1), Physical File Layout
// (3.4), Options (3.5), Section Header Block (4.1), Interface Description Block (4.2),
// Enhanced Packet Block (4.3), Simple Packet Block (4.4), Packet Block (appendix A).
// Every block is checked (length, trailer) before its body is read; every other block
// type is skipped and counted.
#include <algorithm>
#include <string>

#include "capture/capture_file.h"
#include "capture/reader_impl.h"

namespace csumtop {
namespace capfile {

namespace {

constexpr uint16_t kOptEndOfOpt = 0;  // section 3.5
constexpr uint16_t kOptIfName = 2;    // section 4.2
constexpr uint16_t kOptIfDescription = 3;
constexpr uint16_t kOptIfTsresol = 9;
constexpr uint16_t kOptIfTsoffset = 14;

bool host_is_little_endian() {
  const uint16_t one = 1;
  uint8_t first;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

unsigned long long ull(uint64_t v) { return static_cast<unsigned long long>(v); }

std::string option_string(const uint8_t* v, uint16_t len) {
  // Section 3.6.3: UTF-8, not zero-terminated; some writers add a NUL anyway.
  std::string s(reinterpret_cast<const char*>(v), len);
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

}  // namespace
}  // namespace capfile

using capfile::Fill;
using capfile::strfmt;
using capfile::ull;

bool CaptureFileReader::Impl::open_pcapng() {
  // Section 3.4: the file MUST begin with a Section Header Block.
  ReadStatus s = read_shb(0, /*at_open=*/true);
  if (s != ReadStatus::kFrame) return false;
  // Read the Interface Description Blocks that follow at once (the usual layout,
  // section 3.4 Figure 5) so that interfaces() is known before the first frame. Anything
  // unusual (another block, a short or bad one) is left for next() to handle and report.
  for (;;) {
    if (fill(8) != capfile::Fill::kOk) break;
    if (capfile::load32(cur(), swap) != capfile::kBlockIDB) break;
    const uint32_t len = capfile::load32(cur() + 4, swap);
    if (len < capfile::kMinBlockLen || len % 4 != 0 || len > kMaxRecord) break;
    if (fill(len) != capfile::Fill::kOk) break;
    if (capfile::load32(cur() + len - 4, swap) != len) break;
    if (read_idb(owner->consumed_, cur() + 8, len - capfile::kMinBlockLen) != ReadStatus::kFrame) {
      return false;
    }
    consume(len);
  }
  return true;
}

ReadStatus CaptureFileReader::Impl::check_block_length(uint64_t offset, uint32_t len) {
  // Section 3.1: Block Total Length counts type, both lengths and the padded body
  // (so at least 12) and MUST be a multiple of 4.
  if (len < capfile::kMinBlockLen) {
    return fail(
        strfmt("corrupt pcapng block at byte offset %llu: total length %u is less than "
               "the minimum of %u",
               ull(offset), len, capfile::kMinBlockLen));
  }
  if (len % 4 != 0) {
    return fail(
        strfmt("corrupt pcapng block at byte offset %llu: total length %u is not a "
               "multiple of 4",
               ull(offset), len));
  }
  // libpcap refuses blocks above 16 MiB as well; anything larger is corruption.
  if (len > kMaxRecord) {
    return fail(
        strfmt("corrupt pcapng block at byte offset %llu: total length %u exceeds the "
               "maximum of %u",
               ull(offset), len, kMaxRecord));
  }
  return ReadStatus::kFrame;
}

ReadStatus CaptureFileReader::Impl::load_block(uint64_t offset, uint32_t len, bool at_open) {
  Fill f = fill(len);
  if (f == Fill::kIoError) return io_error();
  if (f == Fill::kShort) {
    if (at_open) {
      return fail(
          strfmt("truncated pcapng section header block at byte offset %llu: %u bytes "
                 "needed, %zu present",
                 ull(offset), len, avail()));
    }
    return truncated(offset,
                     strfmt("pcapng block header says %u bytes, %zu present", len, avail()));
  }
  // Section 3.1: the trailing Block Total Length repeats the leading one.
  uint32_t trailer = capfile::load32(cur() + len - 4, swap);
  if (trailer != len) {
    return fail(
        strfmt("corrupt pcapng block at byte offset %llu: total length %u at the start "
               "but %u at the end",
               ull(offset), len, trailer));
  }
  return ReadStatus::kFrame;
}

ReadStatus CaptureFileReader::Impl::read_shb(uint64_t offset, bool at_open) {
  // Section 4.1: type, length, Byte-Order Magic, major, minor, section length, options.
  // The length is in the section's byte order, which only the magic at +8 tells.
  Fill f = fill(12);
  if (f == Fill::kIoError) return io_error();
  if (f == Fill::kShort) {
    if (at_open) {
      return fail(
          strfmt("truncated pcapng section header block at byte offset %llu: %u bytes "
                 "needed, %zu present",
                 ull(offset), capfile::kMinSHBLen, avail()));
    }
    return truncated(offset, strfmt("%zu bytes of a pcapng section header block present", avail()));
  }
  const uint8_t* p = cur();
  static const uint8_t kLittle[4] = {0x4D, 0x3C, 0x2B, 0x1A};
  static const uint8_t kBig[4] = {0x1A, 0x2B, 0x3C, 0x4D};
  bool file_little;
  if (std::memcmp(p + 8, kLittle, 4) == 0) {
    file_little = true;
  } else if (std::memcmp(p + 8, kBig, 4) == 0) {
    file_little = false;
  } else {
    return fail(
        strfmt("corrupt pcapng section header block at byte offset %llu: byte-order "
               "magic 0x%08x is neither 0x1a2b3c4d nor 0x4d3c2b1a",
               ull(offset), capfile::load32_be(p + 8)));
  }
  swap = file_little != capfile::host_is_little_endian();
  uint32_t len = capfile::load32(p + 4, swap);
  ReadStatus s = check_block_length(offset, len);
  if (s != ReadStatus::kFrame) return s;
  if (len < capfile::kMinSHBLen) {
    return fail(
        strfmt("corrupt pcapng block at byte offset %llu: total length %u is less than "
               "%u, the minimum for a section header block",
               ull(offset), len, capfile::kMinSHBLen));
  }
  s = load_block(offset, len, at_open);
  if (s != ReadStatus::kFrame) return s;
  p = cur();
  uint16_t major = capfile::load16(p + 12, swap);
  uint16_t minor = capfile::load16(p + 14, swap);
  // Section 4.1: version 1.0; libpcap and Wireshark also read 1.2 (written by some old
  // tools) as 1.0. Another major version may have different blocks: refuse it.
  if (major != 1 || (minor != 0 && minor != 2)) {
    return fail(
        strfmt("unsupported pcapng version %u.%u in the section header block at byte "
               "offset %llu (only 1.0 is supported)",
               major, minor, ull(offset)));
  }
  // Section 3.4: interfaces belong to their section; the next section starts afresh.
  ++sections;
  ++state;
  section_ifaces.clear();
  section_ignored = 0;
  consume(len);
  return ReadStatus::kFrame;
}

ReadStatus CaptureFileReader::Impl::read_idb(uint64_t offset, const uint8_t* body,
                                             uint32_t body_len) {
  // Section 4.2: LinkType (16), Reserved (16), SnapLen (32), options.
  if (body_len < 8) {
    return fail(
        strfmt("corrupt pcapng block at byte offset %llu: interface description block "
               "body of %u bytes is shorter than its 8 fixed bytes",
               ull(offset), body_len));
  }
  if (owner->interfaces_.size() >= kMaxInterfaces) {
    // Past the cap (capture_file.h kMaxInterfaces): counted, never stored. Interface IDs
    // are assigned in IDB order within a section (section 4.2), so the ignored ones are
    // the section's last IDs and a packet block names one by its ID alone.
    ++owner->interfaces_ignored_;
    ++section_ignored;
    ++state;
    return ReadStatus::kFrame;
  }
  CaptureInterface iface;
  iface.linktype = capfile::load16(body, swap);
  iface.snaplen = capfile::load32(body + 4, swap);
  iface.section = sections - 1;
  capfile::SectionInterface si;
  si.linktype = iface.linktype;
  si.snaplen = iface.snaplen;

  const uint8_t* o = body + 8;
  const size_t n = body_len - 8;
  size_t i = 0;
  // Section 3.5: code (16), length (16), value padded to 32 bits; opt_endofopt ends.
  while (i + 4 <= n) {
    uint16_t code = capfile::load16(o + i, swap);
    uint16_t olen = capfile::load16(o + i + 2, swap);
    if (code == capfile::kOptEndOfOpt) break;
    if (i + 4 + olen > n) {
      return fail(
          strfmt("corrupt pcapng block at byte offset %llu: interface description "
                 "block option %u of %u bytes runs past the end of the block",
                 ull(offset), code, olen));
    }
    const uint8_t* v = o + i + 4;
    switch (code) {
      case capfile::kOptIfName:
        iface.name = capfile::option_string(v, olen);
        break;
      case capfile::kOptIfDescription:
        iface.description = capfile::option_string(v, olen);
        break;
      case capfile::kOptIfTsresol: {
        if (olen < 1) break;
        // If the most significant bit is 0 the rest is a negative power of 10, else of 2.
        uint8_t r = v[0];
        if (r & 0x80) {
          unsigned exp = r & 0x7Fu;
          if (exp > 63) {
            return fail(
                strfmt("unsupported if_tsresol 2^-%u in the interface description "
                       "block at byte offset %llu (at most 2^-63)",
                       exp, ull(offset)));
          }
          si.units = uint64_t{1} << exp;
        } else {
          if (r > 19) {  // 10^20 does not fit in 64 bits
            return fail(
                strfmt("unsupported if_tsresol 10^-%u in the interface description "
                       "block at byte offset %llu (at most 10^-19)",
                       r, ull(offset)));
          }
          si.units = 1;
          for (unsigned k = 0; k < r; ++k) si.units *= 10;
        }
        break;
      }
      case capfile::kOptIfTsoffset:
        if (olen >= 8) si.tsoffset = static_cast<int64_t>(capfile::load64(v, swap));
        break;
      default:
        break;
    }
    i += 4 + ((size_t{olen} + 3) & ~size_t{3});
  }
  si.ns_per_unit = (si.units <= capfile::kNsPerSecond && capfile::kNsPerSecond % si.units == 0)
                       ? capfile::kNsPerSecond / si.units
                       : 0;
  si.global = static_cast<uint32_t>(owner->interfaces_.size());
  owner->interfaces_.push_back(std::move(iface));
  section_ifaces.push_back(si);
  ++state;
  return ReadStatus::kFrame;
}

ReadStatus CaptureFileReader::Impl::next_pcapng(CapturedFrame* out) {
  for (;;) {
    const uint64_t offset = owner->consumed_;
    Fill f = fill(8);
    if (f == Fill::kIoError) return io_error();
    if (f == Fill::kShort) {
      if (avail() == 0) {
        finish(ReadStatus::kEof);
        return ReadStatus::kEof;
      }
      return truncated(offset,
                       strfmt("%zu bytes of an 8-byte pcapng block header present", avail()));
    }
    const uint32_t type = capfile::load32(cur(), swap);
    if (type == capfile::kBlockSHB) {
      ReadStatus s = read_shb(offset, /*at_open=*/false);
      if (s != ReadStatus::kFrame) return s;
      continue;
    }
    const uint32_t len = capfile::load32(cur() + 4, swap);
    ReadStatus s = check_block_length(offset, len);
    if (s != ReadStatus::kFrame) return s;
    s = load_block(offset, len, /*at_open=*/false);
    if (s != ReadStatus::kFrame) return s;

    const uint8_t* body = cur() + 8;
    const uint32_t body_len = len - capfile::kMinBlockLen;
    uint32_t ifid = 0;
    uint64_t ts = 0;
    uint32_t caplen = 0;
    uint32_t wirelen = 0;
    bool has_ts = true;
    const char* kind = nullptr;
    switch (type) {
      case capfile::kBlockIDB:
        s = read_idb(offset, body, body_len);
        if (s != ReadStatus::kFrame) return s;
        consume(len);
        continue;
      case capfile::kBlockEPB:
        // Section 4.3: Interface ID (32), Timestamp upper/lower (32+32), Captured Packet
        // Length, Original Packet Length, data padded to 32 bits, options.
      case capfile::kBlockPB:
        // Appendix A: as EPB but Interface ID (16) followed by Drops Count (16).
        kind = type == capfile::kBlockEPB ? "enhanced packet block" : "packet block";
        if (body_len < 20) {
          return fail(
              strfmt("corrupt pcapng block at byte offset %llu: %s body of %u bytes is "
                     "shorter than its 20 fixed bytes",
                     ull(offset), kind, body_len));
        }
        ifid =
            type == capfile::kBlockEPB ? capfile::load32(body, swap) : capfile::load16(body, swap);
        ts = (uint64_t{capfile::load32(body + 4, swap)} << 32) | capfile::load32(body + 8, swap);
        caplen = capfile::load32(body + 12, swap);
        wirelen = capfile::load32(body + 16, swap);
        if (ifid >= section_ifaces.size() && ifid - section_ifaces.size() < section_ignored) {
          // A packet of an interface past the cap: numbered (as tshark does), not read.
          ++owner->frames_;
          ++owner->frames_ignored_;
          consume(len);
          continue;
        }
        if (ifid >= section_ifaces.size()) {
          return fail(
              strfmt("corrupt pcapng block at byte offset %llu: %s refers to interface "
                     "%u, but this section defines %zu interface(s)",
                     ull(offset), kind, ifid, section_ifaces.size()));
        }
        if (caplen > body_len - 20) {
          return fail(
              strfmt("corrupt pcapng block at byte offset %llu: captured length %u is "
                     "greater than the block body (%u bytes for packet data)",
                     ull(offset), caplen, body_len - 20));
        }
        out->data = body + 20;
        break;
      case capfile::kBlockSPB: {
        // Section 4.4: Original Packet Length, data. No interface ID (the section's first
        // interface) and no timestamp; the captured length is min(original length,
        // SnapLen of that interface) and cannot exceed the block body.
        if (body_len < 4) {
          return fail(
              strfmt("corrupt pcapng block at byte offset %llu: simple packet block "
                     "body of %u bytes is shorter than its 4 fixed bytes",
                     ull(offset), body_len));
        }
        if (section_ifaces.empty()) {
          return fail(
              strfmt("corrupt pcapng block at byte offset %llu: simple packet block, "
                     "but this section defines no interface",
                     ull(offset)));
        }
        wirelen = capfile::load32(body, swap);
        caplen = std::min(wirelen, body_len - 4);
        if (section_ifaces[0].snaplen != 0) caplen = std::min(caplen, section_ifaces[0].snaplen);
        has_ts = false;
        out->data = body + 4;
        break;
      }
      default:
        // Name resolution, interface statistics, decryption secrets, custom and
        // unknown blocks: nothing to analyse (section 3.1: "simply ignore their content").
        ++owner->skipped_blocks_;
        consume(len);
        continue;
    }
    const capfile::SectionInterface& si = section_ifaces[ifid];
    out->caplen = caplen;
    out->wirelen = wirelen;
    out->ts_ns = has_ts ? capfile::to_ns(ts, si) : 0;
    out->iface = si.global;
    out->offset = offset;
    out->number = ++owner->frames_;
    consume(len);
    return ReadStatus::kFrame;
  }
}

}  // namespace csumtop
