// \summary: kdrop_event parser (event.h): IPv4 (RFC 791) / IPv6 (RFC 8200) outer header,
// the first 8 bytes of UDP (RFC 768) or TCP (RFC 9293) ports, and for a VXLAN carrier
// (RFC 7348) the VNI and the inner IPv4 tuple.
#include "kdrops/event.h"

#include <cstring>

#include "bpf/kernel_drops_event.h"

namespace csumtop {
namespace kdrops {

namespace {

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

constexpr uint8_t kTcp = 6;
constexpr uint8_t kUdp = 17;
constexpr uint16_t kEthIpv4 = 0x0800;
constexpr uint16_t kEthIpv6 = 0x86dd;

bool vxlan_port(uint16_t p) { return p == 4789 || p == 8472; }

// The VXLAN header and inner frame after a UDP header ending at `off`.
void vxlan(const uint8_t* d, uint32_t len, uint32_t off, KernelDrop* k) {
  // RFC 7348 section 5: flags (I bit 0x08 = VNI valid), 3 reserved, VNI (24 bits), 1 reserved.
  if (off + 8 > len || (d[off] & 0x08) == 0) return;
  k->vxlan = true;
  k->vni =
      static_cast<uint32_t>(d[off + 4]) << 16 | static_cast<uint32_t>(d[off + 5]) << 8 | d[off + 6];
  uint32_t eth = off + 8;
  if (eth + 14 > len || be16(d + eth + 12) != kEthIpv4) return;  // untagged inner IPv4 only
  uint32_t ip = eth + 14;
  if (ip + 20 > len || (d[ip] >> 4) != 4) return;
  uint32_t ihl = (d[ip] & 0x0fu) * 4;
  if (ihl < 20 || ip + ihl + 4 > len) return;
  k->has_inner = true;
  k->inner_proto = d[ip + 9];
  std::memcpy(k->inner_src, d + ip + 12, 4);
  std::memcpy(k->inner_dst, d + ip + 16, 4);
  if (k->inner_proto == kTcp || k->inner_proto == kUdp) {
    k->inner_sport = be16(d + ip + ihl);
    k->inner_dport = be16(d + ip + ihl + 2);
  }
}

void transport(const uint8_t* d, uint32_t len, uint32_t off, KernelDrop* k) {
  if ((k->proto != kUdp && k->proto != kTcp) || off + 4 > len) return;
  k->has_ports = true;
  k->sport = be16(d + off);
  k->dport = be16(d + off + 2);
  if (k->proto == kUdp && vxlan_port(k->dport)) vxlan(d, len, off + 8, k);
}

}  // namespace

void parse_network(const uint8_t* d, uint32_t len, uint16_t protocol, KernelDrop* out) {
  if (len >= 20 && (d[0] >> 4) == 4 && protocol != kEthIpv6) {
    out->family = 4;
    out->proto = d[9];
    out->ip_id = be16(d + 4);
    std::memcpy(out->src, d + 12, 4);
    std::memcpy(out->dst, d + 16, 4);
    const uint32_t ihl = (d[0] & 0x0fu) * 4;
    // A fragment after the first has no transport header (RFC 791 fragment offset).
    const bool later_fragment = (be16(d + 6) & 0x1fff) != 0;
    if (ihl >= 20 && !later_fragment) transport(d, len, ihl, out);
  } else if (len >= 40 && (d[0] >> 4) == 6 && protocol != kEthIpv4) {
    out->family = 6;
    std::memcpy(out->src, d + 8, 16);
    std::memcpy(out->dst, d + 24, 16);
    // RFC 8200 4: hop-by-hop options (0), routing (43) and destination options (60) give
    // their length in 8-octet units past the first 8; a fragment header (44) is 8 octets
    // and only the first fragment (offset 0) holds the transport header. Followed while
    // the bytes last; where they end, `proto` is the header not followed (no ports).
    uint8_t next = d[6];
    uint32_t off = 40;
    bool later_fragment = false;
    for (int i = 0; i < 8 && !later_fragment; i++) {
      if ((next == 0 || next == 43 || next == 60) && off + 2 <= len) {
        const uint32_t hdr = 8u + 8u * d[off + 1];
        next = d[off];
        off += hdr;
      } else if (next == 44 && off + 8 <= len) {
        later_fragment = (be16(d + off + 2) & 0xfff8) != 0;
        next = d[off];
        off += 8;
      } else {
        break;
      }
    }
    out->proto = next;
    if (!later_fragment) transport(d, len, off, out);
  }
}

bool parse_event(const void* data, size_t size, KernelDrop* out) {
  if (size < sizeof(kdrop_event)) return false;
  kdrop_event e;
  std::memcpy(&e, data, sizeof e);  // ring buffer samples are 8-byte aligned; copy anyway
  if (e.reason == KDROP_REASON_NONE || e.reason >= KDROP_REASON_COUNT) return false;
  *out = KernelDrop{};
  out->netns = e.netns;
  out->ifindex = e.ifindex;
  out->reason = e.reason;
  const uint32_t len = e.len > KDROP_DATA_BYTES ? KDROP_DATA_BYTES : e.len;
  parse_network(e.data, len, be16(reinterpret_cast<const uint8_t*>(&e.protocol_be)), out);
  return true;
}

}  // namespace kdrops
}  // namespace csumtop
