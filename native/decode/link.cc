// \summary: Link layers: Ethernet with 802.1Q/802.1ad tags, Linux cooked SLL/SLL2, raw IP,
// BSD loopback.
//
// Link-type numbers and header layouts: https://www.tcpdump.org/linktypes.html
// (LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2 pages); VLAN tags: IEEE 802.1Q.
#include "decode/decode_internal.h"

namespace csumtop {
namespace decode {

namespace {
constexpr uint16_t kEtherIPv4 = 0x0800;
constexpr uint16_t kEtherIPv6 = 0x86dd;
constexpr uint16_t kEtherVlan = 0x8100;   // 802.1Q
constexpr uint16_t kEtherQinQ = 0x88a8;   // 802.1ad
constexpr uint16_t kEtherQinQOld = 0x9100;  // pre-standard QinQ, still seen

// A header of `len` bytes at `off` within a link frame ending at `end`: true when it
// can be read; otherwise records truncation or malformation.
bool need(Ctx& c, uint32_t off, uint32_t len, uint32_t end) {
  if (off > end || len > end - off) {
    c.malformed(kMalformedLinkShort, off);
    return false;
  }
  if (!c.captured(off, len)) {
    c.truncated();
    return false;
  }
  return true;
}
}  // namespace

void ethertype(Ctx& c, uint16_t type, uint32_t off, uint32_t end, uint8_t tunnel, uint32_t vni) {
  int tags = 0;
  while (type == kEtherVlan || type == kEtherQinQ || type == kEtherQinQOld) {
    if (++tags > kMaxVlanTags) {
      c.malformed(kMalformedVlanDepth, off);
      return;
    }
    if (!need(c, off, 4, end)) return;
    if (c.f->nlayers == 0) {  // the outer frame's tags describe the capture point
      if (c.f->vlan_count == 0) c.f->vlan_id = be16(c.data + off) & 0x0fff;
      c.f->vlan_count++;
    }
    type = be16(c.data + off + 2);
    off += 4;
  }
  if (type == kEtherIPv4) {
    ipv4(c, off, end, tunnel, vni);
  } else if (type == kEtherIPv6) {
    ipv6(c, off, end, tunnel, vni);
  }
  // ARP, LLDP, 802.3 length fields and the rest carry no checksum we verify.
}

void ethernet(Ctx& c, uint32_t off, uint32_t end, uint8_t tunnel, uint32_t vni) {
  if (!need(c, off, 14, end)) return;
  ethertype(c, be16(c.data + off + 12), off + 14, end, tunnel, vni);
}

void raw_ip(Ctx& c, uint32_t off, uint32_t end, uint8_t tunnel, uint32_t vni) {
  if (!need(c, off, 1, end)) return;
  const uint8_t version = c.data[off] >> 4;
  if (version == 4) {
    ipv4(c, off, end, tunnel, vni);
  } else if (version == 6) {
    ipv6(c, off, end, tunnel, vni);
  } else {
    c.malformed(kMalformedIpVersion, off);
  }
}

void link(Ctx& c, uint16_t linktype) {
  const uint32_t end = c.wire;
  switch (linktype) {
    case kLinkEthernet:
      ethernet(c, 0, end, kTunnelNone, 0);
      return;
    case kLinkRaw:
    case 12:  // DLT_RAW on OpenBSD; some files carry it
    case 14:  // DLT_RAW on BSD/OS
      raw_ip(c, 0, end, kTunnelNone, 0);
      return;
    case kLinkIPv4:
      ipv4(c, 0, end, kTunnelNone, 0);
      return;
    case kLinkIPv6:
      ipv6(c, 0, end, kTunnelNone, 0);
      return;
    case kLinkLinuxSll:
      // packet type (2), ARPHRD (2), address length (2), address (8), protocol (2)
      if (!need(c, 0, 16, end)) return;
      c.f->direction = static_cast<uint8_t>(be16(c.data));
      ethertype(c, be16(c.data + 14), 16, end, kTunnelNone, 0);
      return;
    case kLinkLinuxSll2:
      // protocol (2), reserved (2), ifindex (4), ARPHRD (2), packet type (1),
      // address length (1), address (8)
      if (!need(c, 0, 20, end)) return;
      c.f->direction = c.data[10];
      ethertype(c, be16(c.data), 20, end, kTunnelNone, 0);
      return;
    case kLinkNull:
    case kLinkLoop: {
      if (!need(c, 0, 4, end)) return;
      // AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24, 28 or 30 (BSDs, macOS).
      // DLT_NULL is in the capturing host's byte order, so accept either.
      uint32_t af = be32(c.data);
      if (linktype == kLinkNull && af > 0xffff) af = __builtin_bswap32(af);
      if (af == 2) {
        ipv4(c, 4, end, kTunnelNone, 0);
      } else if (af == 10 || af == 24 || af == 28 || af == 30) {
        ipv6(c, 4, end, kTunnelNone, 0);
      }
      return;
    }
    default:
      c.f->unsupported_link = 1;
      return;
  }
}

}  // namespace decode
}  // namespace csumtop
