// \summary: The `bad` line of live capture's --json stream (src/output/json-lines.ts) made
// from a bad-frame record (flow/analyzer.h BadFrameRecord) in C++, for a whole batch at a
// time: at a flood of bad frames (every carrier through a NAT that breaks its outer
// checksum: 25,000 a second in bench/live.ts) the JavaScript line, a string built of some
// thirty pieces and joined with the others before each write, was the largest part of
// the JavaScript thread after the collector (line-queue.ts's join alone: 860 of 6,500 ms
// busy in 8 s at 100,000 frames/s, docs/line-rate.md), and every piece was garbage.
//
// The text is the JavaScript line's, byte for byte (badLine over decodeRecords;
// test/unit/bad-lines-native.test.ts compares them on real and on random records). The
// names (checksum kinds, tunnels, layers, directions) and the schema version come from
// JavaScript (src/model/verdict.ts), so they are written in one place.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "flow/analyzer.h"

namespace csumtop {

struct BadLineNames {
  uint32_t version = 0;
  std::vector<std::string> kinds;       // CsumKind order (KINDS)
  std::vector<std::string> tunnels;     // Tunnel order (TUNNELS)
  std::vector<std::string> layers;      // outer, inner (LAYERS)
  std::vector<std::string> directions;  // sll_pkttype 0-4 (records.ts DIRECTIONS)
};

// Appends the line of `r` and its newline to *out. `iface_json` is the interface's name as
// JSON text (quoted and escaped, jsonText in json-lines.ts); empty: "#<id>" as JavaScript
// writes an interface it has no name for. Frame numbers are exact below 2^53 (JavaScript
// numbers); a capture never counts that far.
void append_bad_line(const BadFrameRecord& r, std::string_view iface_json,
                     const BadLineNames& names, std::string* out);

// Nanoseconds since the epoch as src/model/addr.ts formatTimeNs writes them:
// 2026-11-21T10:00:00.123456789Z (UTC, all nine fractional digits).
void append_time_ns(uint64_t ns, std::string* out);

// An address as src/model/addr.ts formatAddress writes it: dotted quad, or RFC 5952 (lowercase,
// the longest run of two or more zero groups compressed, the first of equal runs;
// IPv4-mapped addresses keep the dotted quad, section 5).
void append_address(bool v6, const uint8_t* a, std::string* out);

}  // namespace csumtop
