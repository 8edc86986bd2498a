// \summary: libFuzzer target: the correlation events (flow/events.cc), the DNS question
// parser above all, on arbitrary frames.
//
// fuzz_decode runs the analyzer with events off (AnalyzerOptions::events.enabled is
// false by default), so EventBuffer::observe() and parse_dns() see no input there. Here
// the analyzer produces events for every frame (plain_everywhere), and parse_dns() also
// gets the raw bytes as a UDP payload. Input layout as fuzz_decode: byte 0 picks the link
// type, byte 1 the snap-length cut (bit 7) and the interface (bits 0-1).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "flow/analyzer.h"
#include "flow/events.h"

namespace {
const uint16_t kLinkTypes[] = {1, 101, 228, 229, 113, 276, 0, 108, 12, 147};

csumtop::Analyzer& analyzer() {
  static csumtop::Analyzer a([] {
    csumtop::AnalyzerOptions o;
    o.max_flows = 64;
    o.max_records = 64;
    o.record_bytes = true;
    o.events.enabled = true;
    o.events.plain_everywhere = true;
    o.events.max_per_drain = 256;  // reach the dropped() path too
    o.events.max_name_bytes = 4096;
    return o;
  }());
  return a;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint16_t linktype = kLinkTypes[data[0] % (sizeof kLinkTypes / sizeof kLinkTypes[0])];
  const uint8_t cut = data[1];
  data += 2;
  size -= 2;
  const uint32_t caplen = static_cast<uint32_t>(size);
  const uint32_t wirelen = (cut & 0x80) ? caplen + (cut & 0x7f) * 16 : caplen;
  // An exactly-sized heap copy: ASan sees any read past the captured bytes.
  uint8_t* buf = new uint8_t[caplen ? caplen : 1];
  if (caplen) std::memcpy(buf, data, caplen);

  csumtop::Analyzer& a = analyzer();
  a.process(cut & 3, buf, caplen, wirelen, 1, linktype, 1, nullptr);
  csumtop::EventBuffer& ev = a.events();
  // Every event's name lies inside the name buffer.
  for (const csumtop::FrameEvent& e : ev.events()) {
    if (e.name_len != 0 && uint64_t{e.name_off} + e.name_len > ev.names().size()) __builtin_trap();
    if (e.n_layers == 0) __builtin_trap();
  }
  if (ev.events().size() >= 256) ev.clear();
  if (a.records().size() >= 64) a.clear_records();

  // The DNS parser alone on the same bytes as a UDP payload.
  static std::string name;
  uint16_t id, flags, qtype;
  if (csumtop::parse_dns(buf, caplen, &id, &flags, &qtype, &name)) {
    // RFC 1035 3.1: at most 255 bytes of name, each byte shown as at most 4 (\DDD).
    if (name.empty() || name.size() > 4 * 255) __builtin_trap();
  }
  delete[] buf;
  return 0;
}
