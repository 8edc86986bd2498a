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
    kBytes,      // wire bytes
    kBadFrames,  // frames with at least one bad checksum
    kMalformed,
    kTruncated,
    kUnsupported,  // frames not decoded in full (any Undecoded reason; per reason below)
    kBadChecksums,
    kLooksPartial,  // bad checksums whose field equals the pseudo-header sum
    kOutgoing,      // live: frames sent by this host (PACKET_OUTGOING)
    // Bad transport (UDP/TCP/ICMP/ICMPv6) checksums in frames this host received: what
    // the kernel's InCsumErrors can be compared with. Counted here, not from the records
    // JavaScript gets, because those are dropped when it falls behind (issue 13 s.3).
    kBadReceivedL4,
    // Frames whose every bad checksum holds exactly the pseudo-header sum: what transmit
    // offload leaves in a packet captured before the device fills it in (issue 19). The
    // dashboard counts them apart from real errors; kBadFrames still includes them.
    kPartialOnlyFrames,
    kNumScalars
  };
  static constexpr uint32_t kMalformedBase = kNumScalars;
  static constexpr uint32_t kUndecodedBase = kMalformedBase + kNumMalformed;
  static constexpr uint32_t kCsumBase = kUndecodedBase + kNumUndecoded;
  // Bad checksums holding exactly the pseudo-header sum, per layer and kind (kLooksPartial
  // is their total): the bad ones of the same csum_slot minus these are the real errors.
  static constexpr uint32_t kPartialBase = kCsumBase + kNumLayers * kNumKinds * kNumStatus;
  static constexpr uint32_t kStride = kPartialBase + kNumLayers * kNumKinds;

  uint64_t v[kStride];

  InterfaceCounters() { clear(); }
  void clear() { std::memset(v, 0, sizeof v); }
  static constexpr uint32_t csum_slot(uint32_t layer, uint32_t kind, uint32_t status) {
    return kCsumBase + (layer * kNumKinds + kind) * kNumStatus + status;
  }
  static constexpr uint32_t partial_slot(uint32_t layer, uint32_t kind) {
    return kPartialBase + layer * kNumKinds + kind;
  }
};

}  // namespace csumtop
