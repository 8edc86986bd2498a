// \summary: Per-interface counters, laid out flat so they cross to JavaScript as one
// Float64Array (the layout is exported by the addon, never duplicated in TypeScript).
#pragma once
#include <cstdint>
#include <cstring>

#include "decode/frame.h"

namespace csumtop {

struct InterfaceCounters {
  // Scalar slots, in this order; kNumScalars must follow the last one.
  enum Slot : uint32_t {
    kFrames = 0,
    kBytes,          // wire bytes
    kBadFrames,      // frames with at least one bad checksum
    kMalformed,
    kTruncated,
    kUnsupported,    // frames not decoded in full (any Undecoded reason; per reason below)
    kBadChecksums,
    kLooksPartial,   // bad checksums whose field equals the pseudo-header sum
    kOutgoing,       // live: frames sent by this host (PACKET_OUTGOING)
    // Bad transport (UDP/TCP/ICMP/ICMPv6) checksums in frames this host received: what
    // the kernel's InCsumErrors can be compared with. Counted here, not from the records
    // JavaScript gets, because those are dropped when it falls behind (issue 13 s.3).
    kBadReceivedL4,
    kNumScalars
  };
  static constexpr uint32_t kMalformedBase = kNumScalars;
  static constexpr uint32_t kUndecodedBase = kMalformedBase + kNumMalformed;
  static constexpr uint32_t kCsumBase = kUndecodedBase + kNumUndecoded;
  static constexpr uint32_t kStride = kCsumBase + kNumLayers * kNumKinds * kNumStatus;

  uint64_t v[kStride];

  InterfaceCounters() { clear(); }
  void clear() { std::memset(v, 0, sizeof v); }
  static constexpr uint32_t csum_slot(uint32_t layer, uint32_t kind, uint32_t status) {
    return kCsumBase + (layer * kNumKinds + kind) * kNumStatus + status;
  }
};

}  // namespace csumtop
