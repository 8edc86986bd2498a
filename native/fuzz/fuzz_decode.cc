// \summary: libFuzzer target: the frame decoder and analyzer on arbitrary bytes.
//
// The first byte picks the link type and the second the snap length cut, so one input
// covers every link layer and the truncation paths. The analyzer is run too (counters,
// bad-flow table, records), since that is what every captured frame goes through.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "flow/analyzer.h"

namespace {
const uint16_t kLinkTypes[] = {1, 101, 228, 229, 113, 276, 0, 108, 12, 147};

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
  a.process(cut & 1, buf, caplen, wirelen, 1, linktype, 1, nullptr);
  if (a.records().size() >= 64) a.clear_records();
  delete[] buf;
  return 0;
}
