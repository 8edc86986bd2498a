// \summary: Parse one kdrop_event (native/bpf/kernel_drops_event.h), the record the
// eBPF program sends for each packet the kernel dropped for a checksum or IPv4 header
// reason, into the key csumtop counts drops by: namespace, device, reason and the outer
// addresses; for a VXLAN carrier also the VNI and inner IPv4 tuple. The bytes come from
// the kernel's skb and may be cut short or malformed (that is why they were dropped):
// every read is bounds-checked against the record's len. Plain C++17, no Node.
#pragma once
#include <cstddef>
#include <cstdint>

namespace csumtop {
namespace kdrops {

struct KernelDrop {
  uint32_t netns = 0;
  uint32_t ifindex = 0;
  uint8_t reason = 0;    // KDROP_REASON_*
  uint8_t family = 0;    // 4, 6, or 0 when the network header could not be read
  uint8_t proto = 0;     // IPv4 protocol / IPv6 next header (0 when unknown)
  uint8_t src[16] = {};  // outer source: the peer (IPv4 in the first 4 bytes)
  uint8_t dst[16] = {};
  uint16_t ip_id = 0;  // IPv4 identification (0 for IPv6): with the tuple, tells packets apart
  uint16_t sport = 0;  // host byte order; 0 when the transport header was not there
  uint16_t dport = 0;
  bool has_ports = false;
  // A UDP carrier to a VXLAN port (4789 IANA, RFC 7348; 8472 the Linux/flannel default)
  // with its VXLAN header in the copied bytes.
  bool vxlan = false;
  uint32_t vni = 0;
  bool has_inner = false;  // inner Ethernet + IPv4 + ports were in the copied bytes
  uint8_t inner_proto = 0;
  uint8_t inner_src[4] = {};
  uint8_t inner_dst[4] = {};
  uint16_t inner_sport = 0;
  uint16_t inner_dport = 0;
  // Bookkeeping, not parsed: the drop table had no room for its key (drop_table.h), so
  // its outcome is counted with the overflow too.
  bool in_overflow = false;
};

// Parses `size` bytes at `data` (one ring buffer sample). Returns false when the sample
// is not a whole kdrop_event (wrong size) or names an unknown reason; `out` is then
// unspecified. A record whose headers cannot be read still parses (family 0).
bool parse_event(const void* data, size_t size, KernelDrop* out);

// The header part of parse_event(): `len` bytes from a network header (`protocol`: the
// ethertype, 0 when unknown) into the address, port, VNI and inner fields of `out` (the
// rest is left as it is). The frame matcher (frame_match.h) keys captured frames with it,
// from at most KDROP_DATA_BYTES of them, so that a frame and the kernel's record of the
// same packet give the same key.
void parse_network(const uint8_t* d, uint32_t len, uint16_t protocol, KernelDrop* out);

}  // namespace kdrops
}  // namespace csumtop
