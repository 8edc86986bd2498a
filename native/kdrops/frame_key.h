// \summary: When a captured frame can be the packet of a kernel drop, and where the frame
// matcher (frame_match.h) keeps it: the key comparisons and hashes of the matcher, in a
// header so that its reference (native/fuzz/frame_match_reference.h, the probing before
// the matcher's probe tags, kept as the oracle of fuzz_kdrops and bench/kdrops) places
// and compares frames by the very same rules. Plain C++17, no Node.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kdrops/event.h"
#include "kdrops/frame_match.h"

namespace csumtop {
namespace kdrops {

// Same device and network header: addresses, protocol, IPv4 identification.
inline bool same_addresses(const KernelDrop& a, const KernelDrop& b) {
  return a.netns == b.netns && a.ifindex == b.ifindex && a.family == b.family &&
         a.proto == b.proto && a.ip_id == b.ip_id && std::memcmp(a.src, b.src, sizeof a.src) == 0 &&
         std::memcmp(a.dst, b.dst, sizeof a.dst) == 0;
}

inline bool same_outer(const KernelDrop& a, const KernelDrop& b) {
  return same_addresses(a, b) && a.has_ports == b.has_ports && a.sport == b.sport &&
         a.dport == b.dport;
}

inline bool same_inner(const KernelDrop& a, const KernelDrop& b) {
  return a.vxlan == b.vxlan && a.vni == b.vni && a.has_inner == b.has_inner &&
         a.inner_proto == b.inner_proto && a.inner_sport == b.inner_sport &&
         a.inner_dport == b.inner_dport && std::memcmp(a.inner_src, b.inner_src, 4) == 0 &&
         std::memcmp(a.inner_dst, b.inner_dst, 4) == 0;
}

inline bool same_verdict(const SeenVerdict& a, const SeenVerdict& b) {
  return a.ipv4 == b.ipv4 && a.l4 == b.l4 && a.l4_kind == b.l4_kind && a.malformed == b.malformed &&
         a.inner_bad == b.inner_bad;
}

// Two drops that wait as one entry: the same key, reason and overflow.
inline bool same_drop(const KernelDrop& a, const KernelDrop& b) {
  return a.reason == b.reason && a.in_overflow == b.in_overflow && same_outer(a, b) &&
         same_inner(a, b);
}

// The frame can be the packet the kernel recorded: the outer key is the same and, where
// the kernel's record holds the VNI or inner tuple (its linear bytes reached that far),
// they are the same too.
inline bool fits(const KernelDrop& frame, const KernelDrop& drop) {
  if (!same_addresses(frame, drop)) return false;
  // A record cut short before the transport header (the kernel's linear part ended with
  // the IPv4 header: an IP_CSUM drop of a paged skb, as a PACKET_TX_RING sender or a NIC
  // driver building skbs from page fragments makes) has no ports to compare.
  if (drop.has_ports &&
      (!frame.has_ports || frame.sport != drop.sport || frame.dport != drop.dport))
    return false;
  if (drop.vxlan && (!frame.vxlan || frame.vni != drop.vni)) return false;
  if (drop.has_inner &&
      (!frame.has_inner || frame.inner_proto != drop.inner_proto ||
       frame.inner_sport != drop.inner_sport || frame.inner_dport != drop.inner_dport ||
       std::memcmp(frame.inner_src, drop.inner_src, 4) != 0 ||
       std::memcmp(frame.inner_dst, drop.inner_dst, 4) != 0))
    return false;
  return true;
}

// FNV-1a over the drop's fields that a frame must share: its namespace, interface,
// protocol, IPv4 id and addresses, and its ports unless `with_ports` is false.
inline size_t drop_hash(const KernelDrop& k, bool with_ports) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](const void* p, size_t n) {
    const uint8_t* b = static_cast<const uint8_t*>(p);
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
  };
  mix(&k.netns, 4);
  mix(&k.ifindex, 4);
  mix(&k.proto, 1);
  mix(&k.ip_id, 2);
  if (with_ports) {
    mix(&k.sport, 2);
    mix(&k.dport, 2);
  }
  mix(k.src, k.family == 6 ? 16 : 4);
  mix(k.dst, k.family == 6 ? 16 : 4);
  return static_cast<size_t>(h ^ (h >> 29));
}

// Where a frame is kept: its home slot is this & (slots - 1). A frame fits a drop with
// ports only if the two hash alike (fits() compares every field hashed here).
inline size_t outer_hash(const KernelDrop& k) { return drop_hash(k, true); }

// The hash of same_addresses() fields: where a frame is found by a drop without ports.
inline size_t address_hash(const KernelDrop& k) { return drop_hash(k, false); }

// Where the waiting drop of a key and reason is indexed (FrameMatcher::index_).
inline size_t pending_slot(const KernelDrop& d, size_t slots) {
  return (outer_hash(d) ^ (static_cast<size_t>(d.reason) * 0x9e3779b97f4a7c15ull)) & (slots - 1);
}

inline uint64_t capture_key(uint32_t netns, uint32_t ifindex) {
  return static_cast<uint64_t>(netns) << 32 | ifindex;
}

}  // namespace kdrops
}  // namespace csumtop
