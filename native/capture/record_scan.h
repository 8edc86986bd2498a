// \summary: pcap records read straight from a mapped file, for threads that decode a part
// of the file ahead of the reader (flow/parallel.cc).
//
// scan_pcap_record() accepts exactly the records that CaptureFileReader::next() returns
// as frames (pcap_reader.cc, next_pcap) and refuses anything else, which the reader then
// meets and reports itself. sync_pcap() guesses where a record starts in the middle of a
// file: pcap records carry no marker, so it looks for a run of records whose headers
// chain up plausibly; the caller must check the guess (the reader arriving there).
#pragma once
#include <cstdint>
#include <cstring>

#include "capture/capture_file.h"

namespace csumtop {

struct PcapScan {
  bool swap = false;        // the file's byte order differs from the host's
  bool nsec = false;        // nanosecond timestamps
  uint32_t max_caplen = 0;  // larger captured lengths are corruption
  uint16_t linktype = 0;
};

namespace scan_detail {
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

}  // namespace csumtop
