// \summary: libFuzzer target: the frame decoder and analyzer on arbitrary bytes.
//
// The first byte picks the link type and the second the snap length cut, so one input
// covers every link layer and the truncation paths. The analyzer is run too (counters,
// bad-flow table, records), since that is what every captured frame goes through.
// Every input is also decoded by the general decoder alone (decode_frame_general): the
// fast path (decode/fast.cc) must give exactly the same Frame, and the same counters when
// it counts without a Frame (decode_and_count), or the target traps.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "flow/analyzer.h"

namespace {
const uint16_t kLinkTypes[] = {1, 101, 228, 229, 113, 276, 0, 108, 12, 147, 239};

// Field by field: the structs have padding, and entries past nlayers/ncsum are stale.
bool same_frame(const csumtop::Frame& a, const csumtop::Frame& b) {
  if (a.nlayers != b.nlayers || a.ncsum != b.ncsum || a.malformed != b.malformed ||
      a.undecoded != b.undecoded || a.truncated != b.truncated || a.vlan_count != b.vlan_count ||
      a.vlan_id != b.vlan_id || a.direction != b.direction ||
      a.malformed_offset != b.malformed_offset) {
    return false;
  }
  for (int i = 0; i < a.nlayers; i++) {
    const csumtop::IpLayer& x = a.layer[i];
    const csumtop::IpLayer& y = b.layer[i];
    if (x.family != y.family || x.proto != y.proto || x.tunnel != y.tunnel ||
        x.is_fragment != y.is_fragment || x.sport != y.sport || x.dport != y.dport ||
        x.ip_id != y.ip_id || x.ip_len != y.ip_len || x.vni != y.vni ||
        x.l3_offset != y.l3_offset || x.l4_offset != y.l4_offset || x.tcp_flags != y.tcp_flags ||
        std::memcmp(x.src, y.src, sizeof x.src) != 0 ||
        std::memcmp(x.dst, y.dst, sizeof x.dst) != 0) {
      return false;
    }
  }
  for (int i = 0; i < a.ncsum; i++) {
    const csumtop::CsumEntry& x = a.csum[i];
    const csumtop::CsumEntry& y = b.csum[i];
    if (x.depth != y.depth || x.kind != y.kind || x.status != y.status || x.why != y.why ||
        x.found != y.found || x.expected != y.expected || x.field_offset != y.field_offset ||
        x.looks_partial != y.looks_partial) {
      return false;
    }
  }
  return true;
}

csumtop::Analyzer& analyzer() {
  static csumtop::AnalyzerOptions opts = [] {
    csumtop::AnalyzerOptions o;
    o.max_flows = 64;
    o.max_records = 64;
    return o;
  }();
  static csumtop::Analyzer a(opts);
  return a;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint16_t linktype = kLinkTypes[data[0] % (sizeof kLinkTypes / sizeof kLinkTypes[0])];
  const uint8_t cut = data[1];
  data += 2;
  size -= 2;
  // Copy into an exactly-sized heap buffer so ASan catches any read past the end.
  uint32_t caplen = static_cast<uint32_t>(size);
  uint32_t wirelen = caplen;
  if (cut & 0x80) {  // snap length shorter than the wire
    wirelen = caplen + (cut & 0x7f) * 16;
  }
  uint8_t* buf = new uint8_t[caplen ? caplen : 1];
  if (caplen) std::memcpy(buf, data, caplen);
  csumtop::Analyzer& a = analyzer();
  const csumtop::Frame& fast = a.process(cut & 1, buf, caplen, wirelen, 1, linktype, 1, nullptr);
  static csumtop::Frame general;
  csumtop::decode_frame_general(buf, caplen, wirelen, linktype, a.options().decode, nullptr,
                                &general);
  if (!same_frame(fast, general)) __builtin_trap();
  // Counting as a capture file is counted (decode_and_count: no Frame for a frame with no
  // bad checksum) must match the general decoder's frame counted with count_frame().
  static csumtop::InterfaceCounters by_file, by_general;
  static csumtop::Frame file_frame;
  const uint32_t bad = csumtop::decode_and_count(buf, caplen, wirelen, linktype, a.options().decode,
                                                 by_file, &file_frame);
  if (bad != csumtop::count_frame(by_general, general, caplen, wirelen)) __builtin_trap();
  if (bad != 0 && !same_frame(file_frame, general)) __builtin_trap();
  if (std::memcmp(by_file.v, by_general.v, sizeof by_file.v) != 0) __builtin_trap();
  if (a.records().size() >= 64) a.clear_records();
  delete[] buf;
  return 0;
}
