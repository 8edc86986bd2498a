// \summary: UDP tunnels: VXLAN (RFC 7348) and Geneve (RFC 8926); the inner frame is
// decoded and verified like the outer one.
#include "decode/decode_internal.h"

namespace csumtop {
namespace decode {

void vxlan(Ctx& c, uint32_t off, uint32_t end) {
  // RFC 7348 section 5: flags (8, I = 0x08 must be set), reserved (24), VNI (24),
  // reserved (8); then the inner Ethernet frame.
  if (end - off < 8) {
    c.malformed(kMalformedVxlanHeader, off);
    return;
  }
  if (!c.captured(off, 8)) {
    c.truncated();
    return;
  }
  const uint8_t* v = c.data + off;
  if (!(v[0] & 0x08)) {
    c.malformed(kMalformedVxlanHeader, off);
    return;
  }
  const uint32_t vni = be32(v + 4) >> 8;
  ethernet(c, off + 8, end, kTunnelVxlan, vni);
}

void geneve(Ctx& c, uint32_t off, uint32_t end) {
  // RFC 8926 section 3.4: Ver (2) | Opt Len (6, in 4-byte words) | O | C | Rsvd (6) |
  // Protocol Type (16) | VNI (24) | Reserved (8) | options.
  if (end - off < 8) {
    c.malformed(kMalformedGeneveHeader, off);
    return;
  }
  if (!c.captured(off, 8)) {
    c.truncated();
    return;
  }
  const uint8_t* g = c.data + off;
  if ((g[0] >> 6) != 0) {  // only version 0 is defined
    c.malformed(kMalformedGeneveHeader, off);
    return;
  }
  const uint32_t hlen = 8 + static_cast<uint32_t>(g[0] & 0x3f) * 4;
  if (hlen > end - off) {
    c.malformed(kMalformedGeneveHeader, off);
    return;
  }
  const uint16_t proto = be16(g + 2);
  const uint32_t vni = be32(g + 4) >> 8;
  const uint32_t inner = off + hlen;
  if (proto == 0x6558) {  // Transparent Ethernet Bridging
    ethernet(c, inner, end, kTunnelGeneve, vni);
  } else if (proto == 0x0800) {
    ipv4(c, inner, end, kTunnelGeneve, vni);
  } else if (proto == 0x86dd) {
    ipv6(c, inner, end, kTunnelGeneve, vni);
  }
}

}  // namespace decode
}  // namespace csumtop
