// \summary: libFuzzer target: the parallel pcap decoding of flow/parallel.cc on arbitrary
// mapped bytes: sync_pcap() guessing a record boundary in the middle of a file, and
// decode_segment() decoding from there, never reading at or past the mapping's end.
//
// FileAnalysis only splits pcap files of 8 MB or more, which fuzz_reader's inputs never
// are; this calls the same functions on small inputs. Byte 0: byte order, precision and
// link type; byte 1: where the guess starts; byte 2: where the segment stops; the rest
// is the mapped file body, copied into an exactly-sized heap buffer.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "capture/record_scan.h"
#include "flow/parallel.h"

namespace {
const uint16_t kLinkTypes[] = {1, 101, 113, 276};
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  csumtop::PcapScan scan;
  scan.swap = data[0] & 1;
  scan.nsec = data[0] & 2;
  scan.linktype = kLinkTypes[(data[0] >> 2) & 3];
  scan.max_caplen = (data[0] & 0x10) ? 262144 : 65535;
  const size_t body = size - 3;
  uint8_t* buf = new uint8_t[body ? body : 1];
  if (body) std::memcpy(buf, data + 3, body);
  const uint8_t* limit = buf + body;
  const uint8_t* from = buf + (body ? data[1] % (body + 1) : 0);

  const uint8_t* at = csumtop::sync_pcap(scan, from, limit, limit);
  if (at != nullptr && (at < from || at >= limit)) __builtin_trap();

  static csumtop::Frame frame;
  csumtop::Segment seg;
  seg.begin = at ? at : from;
  seg.stop = seg.begin + (data[2] * 97) % (body + 1);
  if (seg.stop > limit) seg.stop = limit;
  seg.limit = limit;
  seg.max_frames = 1 + data[2] % 64;
  seg.bad.reserve(seg.max_frames);         // as file_analysis.cc does: no allocation inside
  seg.counters.resize(scan.interfaces());  // as SegmentPool::start does
  const auto* reserved = seg.bad.data();
  csumtop::decode_segment(scan, csumtop::DecodeOptions{}, &seg, &frame);
  if (seg.end < seg.begin || seg.end > limit || seg.frames > seg.max_frames) __builtin_trap();
  if (seg.bad.size() > seg.frames || seg.bad.data() != reserved) __builtin_trap();
  for (const csumtop::SegmentEvent& e : seg.bad) {
    if (e.data < buf || e.data + e.caplen > limit) __builtin_trap();
  }
  delete[] buf;
  return 0;
}
