// \summary: Attribution of a DNS query or TCP SYN to a carrier with a bad checksum, shared
// by the transaction tables (dns_txns.h, syn_txns.h): when a query, answer or SYN
// travelled in a carrier with a bad checksum, that carrier is the likely reason it went
// unanswered (the receiving kernel drops it in UDP input, before decapsulation:
// net/ipv4/udp.c udp_lib_checksum_complete). Only carriers are attributed: the report
// says "carrier from <node>", and a packet without a tunnel has pod addresses where a
// carrier has node addresses. Mirrors src/correlate/symptoms.ts attribute().
#pragma once
#include <cstdint>

#include "flow/bad_flows.h"
#include "flow/events.h"

namespace csumtop {

// Frames listed per attribution (the first ones).
constexpr uint32_t kAttributionFrames = 16;

// The checksums an attribution names, in the order first seen (codes: kAttrIpv4 "ipv4",
// kAttrOuterL4 "outer/l4", kAttrInnerL4 "inner/l4").
enum AttributionChecksum : uint8_t { kAttrIpv4 = 0, kAttrOuterL4 = 1, kAttrInnerL4 = 2 };

// Trivial (copied into the packed summaries; layout exported by the addon).
struct TxnAttribution {
  FlowEndpoint outer;  // of the first bad carrier: peer, sender and receiver come from it
  double frames[kAttributionFrames];  // frame numbers as JavaScript reads them (doubles)
  uint32_t place;                     // where it was seen (places.h)
  uint8_t sent;                       // sent by the capturing host: its peer is the receiver
  uint8_t n_checksums;
  uint8_t checksums[3];
  uint8_t n_frames;
};

inline bool event_is_bad(uint16_t flags) {
  return (flags & (kEvBadOuter | kEvBadInner | kEvBadIpv4)) != 0;
}

// Adds event `e` (a bad frame seen at `place`) to `a`; starts it when `fresh`. False when
// the event is no carrier (nothing attributed).
inline bool attribute_event(TxnAttribution* a, bool fresh, const FrameEvent& e, uint32_t place) {
  if (!(e.flags & kEvCarrier)) return false;
  if (fresh) {
    *a = TxnAttribution{};
    a->outer = e.outer;
    a->sent = e.direction == 4;  // PACKET_OUTGOING (linux/if_packet.h)
    a->place = place;
  }
  const uint8_t codes[3] = {kAttrIpv4, kAttrOuterL4, kAttrInnerL4};
  const uint16_t bits[3] = {kEvBadIpv4, kEvBadOuter, kEvBadInner};
  for (int k = 0; k < 3; k++) {
    if (!(e.flags & bits[k])) continue;
    bool have = false;
    for (uint8_t j = 0; j < a->n_checksums; j++)
      if (a->checksums[j] == codes[k]) have = true;
    if (!have) a->checksums[a->n_checksums++] = codes[k];
  }
  if (a->n_frames < kAttributionFrames)
    a->frames[a->n_frames++] = static_cast<double>(e.frame_number);
  return true;
}

}  // namespace csumtop
