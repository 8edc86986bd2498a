// \summary: pcap records and pcapng blocks read straight from a mapped file, for threads
// that decode a part of the file ahead of the reader (flow/parallel.cc).
//
// scan_record() accepts exactly the records and blocks that CaptureFileReader::next()
// returns as frames (pcap_reader.cc next_pcap, pcapng_reader.cc next_pcapng) or skips
// without a trace but a count (pcapng blocks of other types), and refuses anything else,
// which the reader then meets and reports itself: a pcapng block that changes what the
// reader knows (a Section Header or Interface Description Block), a packet of an
// interface past the cap, a record it cannot place. sync_record() guesses where a record
// starts in the middle of a file by looking for a run of records that chain up
// plausibly; the caller must check the guess (the reader arriving there in the state the
// scan was made for).
#pragma once
#include <cstdint>
#include <cstring>

#include "capture/capture_file.h"

namespace csumtop {

namespace capfile {

// pcapng block types (pcapng draft section 10.1) and fixed sizes.
constexpr uint32_t kBlockSHB = 0x0A0D0D0A;  // section 4.1, a palindrome in both byte orders
constexpr uint32_t kBlockIDB = 0x00000001;  // section 4.2
constexpr uint32_t kBlockPB = 0x00000002;   // appendix A (obsolete)
constexpr uint32_t kBlockSPB = 0x00000003;  // section 4.4
constexpr uint32_t kBlockEPB = 0x00000006;  // section 4.3
constexpr uint32_t kMinBlockLen = 12;       // type + length + trailing length (section 3.1)

// One pcapng interface as the current section defines it (pcapng_reader.cc read_idb).
struct SectionInterface {
  uint32_t global = 0;          // index into CaptureFileReader::interfaces()
  uint16_t linktype = 0;        // LINKTYPE_*
  uint64_t units = 1000000;     // timestamp units per second (if_tsresol, default 10^-6)
  uint64_t ns_per_unit = 1000;  // 10^9 / units when that is exact, else 0
  int64_t tsoffset = 0;         // if_tsoffset, seconds
  uint32_t snaplen = 0;         // 0: no limit
};

constexpr uint64_t kNsPerSecond = 1000000000u;

// Timestamp in the interface's units (if_tsresol) to nanoseconds since the epoch, plus
// if_tsoffset seconds (pcapng draft section 4.2). ts * 10^9 overflows 64 bits as soon as
// the resolution is finer than a nanosecond or is a power of two (2^-32 units of today's
// time are ~7e18), so the arithmetic is 128-bit and the result saturates.
inline uint64_t to_ns(uint64_t ts, const SectionInterface& si) {
  __int128 ns;
  if (si.ns_per_unit != 0) {
    ns = static_cast<__int128>(ts) * si.ns_per_unit;
  } else {
    const uint64_t secs = ts / si.units;
    const uint64_t frac = ts % si.units;
    const unsigned __int128 frac_ns =
        static_cast<unsigned __int128>(frac) * kNsPerSecond / si.units;
    ns = static_cast<__int128>(secs) * kNsPerSecond + static_cast<__int128>(frac_ns);
  }
  ns += static_cast<__int128>(si.tsoffset) * kNsPerSecond;
  if (ns < 0) return 0;
  if (ns > static_cast<__int128>(UINT64_MAX)) return UINT64_MAX;
  return static_cast<uint64_t>(ns);
}

}  // namespace capfile

// How the records of a mapped file are read ahead of the reader (pcap_scan()).
struct PcapScan {
  FileFormat format = FileFormat::kPcap;
  bool swap = false;  // the file's (pcapng: the section's) byte order differs from the host's
  // pcap
  bool nsec = false;        // nanosecond timestamps
  uint32_t max_caplen = 0;  // larger captured lengths are corruption
  uint16_t linktype = 0;
  // pcapng: the current section's interfaces by interface ID, a copy the reader keeps
  // unchanged while it is pinned; `state` is the reader's count of the blocks that
  // changed it (sections and interfaces read), so a scan holds where the reader's count
  // is still the same (CaptureFileReader::scan_holds).
  const capfile::SectionInterface* ifaces = nullptr;
  uint32_t n_ifaces = 0;
  uint64_t state = 0;

  // The interfaces a frame of this scan may name (CapturedFrame::iface) are
  // first_iface() + [0, interfaces()): a section's interfaces have consecutive indexes.
  uint32_t interfaces() const { return format == FileFormat::kPcap ? 1 : n_ifaces; }
  uint32_t first_iface() const {
    return format == FileFormat::kPcap || n_ifaces == 0 ? 0 : ifaces[0].global;
  }
  uint16_t linktype_of(uint32_t iface) const {
    return format == FileFormat::kPcap ? linktype : ifaces[iface - first_iface()].linktype;
  }
};

namespace scan_detail {
inline uint16_t load16(const uint8_t* p, bool swap) {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return swap ? static_cast<uint16_t>((v >> 8) | (v << 8)) : v;
}
inline uint32_t load32(const uint8_t* p, bool swap) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return swap ? __builtin_bswap32(v) : v;
}
}  // namespace scan_detail

// The record whose header is at `p`, wholly before `limit`: true and *out filled (data,
// caplen, wirelen, ts_ns; iface 0) when next() would return it as a frame.
inline bool scan_pcap_record(const PcapScan& s, const uint8_t* p, const uint8_t* limit,
                             CapturedFrame* out) {
  if (limit - p < 16) return false;
  const uint32_t caplen = scan_detail::load32(p + 8, s.swap);
  if (caplen > s.max_caplen || static_cast<uint64_t>(limit - p) - 16 < caplen) return false;
  const uint32_t sec = scan_detail::load32(p, s.swap);
  const uint32_t frac = scan_detail::load32(p + 4, s.swap);
  out->data = p + 16;
  out->caplen = caplen;
  out->wirelen = scan_detail::load32(p + 12, s.swap);
  out->ts_ns = uint64_t{sec} * 1000000000u + (s.nsec ? uint64_t{frac} : uint64_t{frac} * 1000u);
  out->iface = 0;
  return true;
}

// The first offset in [from, scan_end) where kSyncRecords records chain up (or run to
// `limit` exactly), each with a sub-second fraction that is valid for the precision;
// nullptr if there is none.
inline const uint8_t* sync_pcap(const PcapScan& s, const uint8_t* from, const uint8_t* scan_end,
                                const uint8_t* limit) {
  constexpr int kSyncRecords = 16;
  const uint32_t frac_max = s.nsec ? 1000000000u : 1000000u;
  CapturedFrame fr;
  for (const uint8_t* p = from; p < scan_end; p++) {
    const uint8_t* q = p;
    int k = 0;
    while (k < kSyncRecords && q != limit && scan_pcap_record(s, q, limit, &fr) &&
           scan_detail::load32(q + 4, s.swap) < frac_max) {
      q = fr.data + fr.caplen;
      k++;
    }
    if (k == kSyncRecords || (k > 0 && q == limit)) return p;
  }
  return nullptr;
}

enum class ScanResult : uint8_t {
  kFrame,  // *out holds a frame that next() would return
  kSkip,   // a pcapng block next() skips and counts (blocks_skipped)
  kStop,   // anything else: left for the reader
};

// The pcapng block at `p` (a block boundary of the scan's section), wholly before
// `limit`, as next_pcapng() would take it; *next: where the next block starts (kFrame,
// kSkip). The checks are next_pcapng()'s, in its order (pcapng draft sections 3.1, 4.3,
// 4.4, appendix A); SHB and IDB stop the scan: they change the byte order or the
// interfaces, which only the reader may do.
inline ScanResult scan_pcapng_block(const PcapScan& s, const uint8_t* p, const uint8_t* limit,
                                    CapturedFrame* out, const uint8_t** next) {
  using namespace capfile;
  using scan_detail::load16;
  using scan_detail::load32;
  if (limit - p < kMinBlockLen) return ScanResult::kStop;
  const uint32_t type = load32(p, s.swap);
  if (type == kBlockSHB || type == kBlockIDB) return ScanResult::kStop;
  const uint32_t len = load32(p + 4, s.swap);
  if (len < kMinBlockLen || len % 4 != 0 || len > CaptureFileReader::kMaxRecord ||
      static_cast<uint64_t>(limit - p) < len || load32(p + len - 4, s.swap) != len) {
    return ScanResult::kStop;
  }
  *next = p + len;
  const uint8_t* body = p + 8;
  const uint32_t body_len = len - kMinBlockLen;
  switch (type) {
    case kBlockEPB:
    case kBlockPB: {
      if (body_len < 20) return ScanResult::kStop;
      const uint32_t ifid = type == kBlockEPB ? load32(body, s.swap) : load16(body, s.swap);
      // Past the section's interfaces: ignored (past the cap) or corrupt, the reader's call.
      if (ifid >= s.n_ifaces) return ScanResult::kStop;
      const uint32_t caplen = load32(body + 12, s.swap);
      if (caplen > body_len - 20) return ScanResult::kStop;
      const capfile::SectionInterface& si = s.ifaces[ifid];
      const uint64_t ts = (uint64_t{load32(body + 4, s.swap)} << 32) | load32(body + 8, s.swap);
      out->data = body + 20;
      out->caplen = caplen;
      out->wirelen = load32(body + 16, s.swap);
      out->ts_ns = capfile::to_ns(ts, si);
      out->iface = si.global;
      return ScanResult::kFrame;
    }
    case kBlockSPB: {
      // The section's first interface, no timestamp; captured length min(original
      // length, body, SnapLen).
      if (body_len < 4 || s.n_ifaces == 0) return ScanResult::kStop;
      const uint32_t wirelen = load32(body, s.swap);
      uint32_t caplen = wirelen < body_len - 4 ? wirelen : body_len - 4;
      if (s.ifaces[0].snaplen != 0 && s.ifaces[0].snaplen < caplen) caplen = s.ifaces[0].snaplen;
      out->data = body + 4;
      out->caplen = caplen;
      out->wirelen = wirelen;
      out->ts_ns = 0;
      out->iface = s.ifaces[0].global;
      return ScanResult::kFrame;
    }
    default:
      return ScanResult::kSkip;
  }
}

// One record (pcap) or block (pcapng) at `p`; see scan_pcap_record, scan_pcapng_block.
inline ScanResult scan_record(const PcapScan& s, const uint8_t* p, const uint8_t* limit,
                              CapturedFrame* out, const uint8_t** next) {
  if (s.format == FileFormat::kPcapng) return scan_pcapng_block(s, p, limit, out, next);
  if (!scan_pcap_record(s, p, limit, out)) return ScanResult::kStop;
  *next = out->data + out->caplen;
  return ScanResult::kFrame;
}

// The first offset in [from, scan_end) where a packet block starts a run of kSyncBlocks
// blocks that scan_pcapng_block() takes (or that runs to `limit` exactly); nullptr if
// there is none. Blocks start at offsets that are multiples of 4 (section 3.1: every
// length is), and the mapping starts at a page-aligned offset of the file, so only
// addresses that are multiples of 4 are tried. Reading the 8-byte headers of every block
// from the reader's position instead would be exact, but it is serial work on the
// reader's thread through the whole stretch (every page of it faulted in there); a guess
// costs a few compares per 4 bytes near the stretch start, and the proof comes free.
inline const uint8_t* sync_pcapng(const PcapScan& s, const uint8_t* from, const uint8_t* scan_end,
                                  const uint8_t* limit) {
  constexpr int kSyncBlocks = 16;
  const uintptr_t mis = reinterpret_cast<uintptr_t>(from) & 3u;
  CapturedFrame fr;
  const uint8_t* next = nullptr;
  for (const uint8_t* p = mis ? from + (4 - mis) : from; p < scan_end; p += 4) {
    // A packet block type first (EPB, SPB, PB): the block's trailing length, far away
    // for a random length, is read only then.
    if (limit - p < capfile::kMinBlockLen) break;
    const uint32_t type = scan_detail::load32(p, s.swap);
    if (type != capfile::kBlockEPB && type != capfile::kBlockSPB && type != capfile::kBlockPB)
      continue;
    if (scan_pcapng_block(s, p, limit, &fr, &next) != ScanResult::kFrame) continue;
    const uint8_t* q = next;
    int k = 1;
    while (k < kSyncBlocks && q != limit &&
           scan_pcapng_block(s, q, limit, &fr, &next) != ScanResult::kStop) {
      q = next;
      k++;
    }
    if (k == kSyncBlocks || q == limit) return p;
  }
  return nullptr;
}

// sync_pcap or sync_pcapng, by the scan's format.
inline const uint8_t* sync_record(const PcapScan& s, const uint8_t* from, const uint8_t* scan_end,
                                  const uint8_t* limit) {
  return s.format == FileFormat::kPcapng ? sync_pcapng(s, from, scan_end, limit)
                                         : sync_pcap(s, from, scan_end, limit);
}

}  // namespace csumtop
