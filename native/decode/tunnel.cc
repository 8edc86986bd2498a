// \summary: Tunnels: VXLAN (RFC 7348) and Geneve (RFC 8926) over UDP, GRE (RFC 2784,
// RFC 2890) over IP; the inner frame is decoded and verified like the outer one.
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

void gre(Ctx& c, const L4& l4) {
  // RFC 2784 section 2.1 with RFC 2890 section 2: C (checksum present) | reserved |
  // K (key present) | S (sequence present) | Reserved0 (9) | Ver (3) | Protocol Type (16),
  // then Checksum (16) + Reserved1 (16) if C, Key (32) if K, Sequence Number (32) if S.
  if (l4.fragment) return;  // as IP-in-IP: no reassembly, the inner header may be cut
  const uint32_t off = l4.off;
  const uint32_t avail = l4.end - off;
  if (avail < 4) {
    c.malformed(kMalformedGreHeader, off);
    return;
  }
  if (!c.captured(off, 4)) {
    c.truncated();
    return;
  }
  const uint8_t* g = c.data + off;
  const uint16_t flags = be16(g);
  if ((flags & 0x7) != 0) {
    // Version 1 is PPTP's enhanced GRE (RFC 2637) carrying PPP: not decoded.
    c.undecoded(kUndecodedGrePayload);
    return;
  }
  if (flags & 0x4c00) {
    // RFC 2784 section 2.3: a receiver not implementing RFC 1701 MUST discard a packet
    // with any of bits 1-5 set; RFC 2890 defines bits 2 and 3 (K, S), which leaves the
    // routing-present, strict-source-route and recursion bits 1, 4 and 5.
    c.malformed(kMalformedGreHeader, off);
    return;
  }
  const bool has_csum = flags & 0x8000;
  const bool has_key = flags & 0x2000;
  const bool has_seq = flags & 0x1000;
  const uint32_t hlen = 4 + (has_csum ? 4 : 0) + (has_key ? 4 : 0) + (has_seq ? 4 : 0);
  if (hlen > avail) {
    c.malformed(kMalformedGreHeader, off);
    return;
  }
  if (!c.captured(off, hlen)) {
    c.truncated();
    return;
  }
  if (has_csum) {
    // RFC 2784 section 2.5: the ones-complement checksum of the GRE header and the
    // payload packet, the field counted as zero; no pseudo-header.
    check_segment(c, l4, kKindGre, off, avail, off + 4, 0, false);
  }
  const uint8_t tunnel = has_key ? kTunnelGreKey : kTunnelGre;
  const uint32_t key = has_key ? be32(g + 4 + (has_csum ? 4 : 0)) : 0;
  const uint16_t proto = be16(g + 2);
  const uint32_t inner = off + hlen;
  switch (proto) {
    case 0x6558:  // Transparent Ethernet Bridging (RFC 1701 protocol types)
      ethernet(c, inner, l4.end, tunnel, key);
      return;
    case 0x0800:
    case 0x86dd:
    case 0x8847:  // MPLS unicast and multicast (RFC 4023)
    case 0x8848:
      ethertype(c, proto, inner, l4.end, tunnel, key);
      return;
    default:
      // ERSPAN, WCCP, NSH, ...: the GRE checksum (if any) stands, the payload is not seen.
      c.undecoded(kUndecodedGrePayload);
      return;
  }
}

}  // namespace decode
}  // namespace csumtop
