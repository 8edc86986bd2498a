// \summary: Transport checksums: UDP (RFC 768), TCP (RFC 9293), ICMP (RFC 792),
// ICMPv6 (RFC 4443), and IP-in-IP (RFC 2003, RFC 2473) and GRE (RFC 2784) encapsulation.
#include "decode/decode_internal.h"

namespace csumtop {
namespace decode {

namespace {
enum : uint8_t { kIcmp = 1, kIpip = 4, kTcp = 6, kUdp = 17, kIpv6 = 41, kGre = 47, kIcmp6 = 58 };

bool port_in(const uint16_t* ports, uint8_t n, uint16_t port) {
  for (uint8_t i = 0; i < n; i++)
    if (ports[i] == port) return true;
  return false;
}

void udp(Ctx& c, IpLayer* layer, const L4& l4) {
  const uint32_t avail = l4.end - l4.off;
  if (l4.fragment == 2) {  // no header in a later fragment
    c.unverifiable(l4.depth, kKindUdp, 0, kWhyFragment);
    return;
  }
  if (avail < 8) {
    c.malformed(kMalformedUdpLength, l4.off);
    return;
  }
  if (!c.captured(l4.off, 8)) {
    c.truncated();
    return;
  }
  const uint8_t* u = c.data + l4.off;
  layer->l4_offset = l4.off;
  layer->sport = be16(u);
  layer->dport = be16(u + 2);
  uint32_t ulen = be16(u + 4);
  if (l4.oversize || (ulen == 0 && l4.family == 6)) {
    ulen = avail;  // GSO super-packet or jumbogram (RFC 2675 section 4)
  } else if (ulen < 8 || (!l4.fragment && ulen > avail)) {
    c.malformed(kMalformedUdpLength, l4.off + 4);
    return;
  }
  const bool vxlan = port_in(c.opts->vxlan_ports, c.opts->n_vxlan, layer->dport);
  const bool gen = !vxlan && port_in(c.opts->geneve_ports, c.opts->n_geneve, layer->dport);
  const uint16_t field = be16(u + 6);
  if (field == 0 && !l4.fragment) {
    // RFC 768: zero means "no checksum" over IPv4. Over IPv6 it is only allowed for
    // tunnels (RFC 6935, RFC 6936; VXLAN RFC 7348 section 5, Geneve RFC 8926 section 3.3).
    if (l4.family == 4 || vxlan || gen) {
      CsumEntry* e = c.add_csum(l4.depth, kKindUdp, l4.off + 6);
      if (e) e->status = kStatusAbsent;
    } else {
      check_segment(c, l4, kKindUdp, l4.off, ulen, l4.off + 6, l4.pseudo + ulen, true);
    }
  } else {
    check_segment(c, l4, kKindUdp, l4.off, ulen, l4.off + 6, l4.pseudo + ulen, true);
  }
  if (l4.fragment) return;
  if (vxlan) {
    decode::vxlan(c, l4.off + 8, l4.off + ulen);
  } else if (gen) {
    geneve(c, l4.off + 8, l4.off + ulen);
  }
}

void tcp(Ctx& c, IpLayer* layer, const L4& l4) {
  const uint32_t avail = l4.end - l4.off;
  if (l4.fragment == 2) {
    c.unverifiable(l4.depth, kKindTcp, 0, kWhyFragment);
    return;
  }
  if (avail < 20) {
    if (!l4.fragment)
      c.malformed(kMalformedTcpOffset, l4.off);
    else
      c.unverifiable(l4.depth, kKindTcp, 0, kWhyFragment);
    return;
  }
  if (!c.captured(l4.off, 20)) {
    c.truncated();
    return;
  }
  const uint8_t* t = c.data + l4.off;
  layer->l4_offset = l4.off;
  layer->sport = be16(t);
  layer->dport = be16(t + 2);
  layer->tcp_flags = t[13];
  const uint32_t hlen = static_cast<uint32_t>(t[12] >> 4) * 4;
  if (hlen < 20 || hlen > avail) {
    c.malformed(kMalformedTcpOffset, l4.off + 12);
    return;
  }
  check_segment(c, l4, kKindTcp, l4.off, avail, l4.off + 16, l4.pseudo + avail, false);
}

void icmp(Ctx& c, IpLayer* layer, const L4& l4, bool v6) {
  const CsumKind kind = v6 ? kKindIcmp6 : kKindIcmp;
  const uint32_t avail = l4.end - l4.off;
  if (l4.fragment == 2) {
    c.unverifiable(l4.depth, kind, 0, kWhyFragment);
    return;
  }
  if (avail < 8 && !l4.fragment) {  // type, code, checksum, 4 bytes of rest-of-header
    c.malformed(kMalformedIcmpLength, l4.off);
    return;
  }
  if (!c.captured(l4.off, 4)) {
    c.truncated();
    return;
  }
  layer->l4_offset = l4.off;
  layer->sport = c.data[l4.off];      // type
  layer->dport = c.data[l4.off + 1];  // code
  // ICMP sums the message alone (RFC 792); ICMPv6 adds the pseudo-header (RFC 4443 2.3).
  const uint32_t initial = v6 ? l4.pseudo + avail : 0;
  check_segment(c, l4, kind, l4.off, avail, l4.off + 2, initial, false);
}
}  // namespace

void check_segment(Ctx& c, const L4& l4, CsumKind kind, uint32_t off, uint32_t len,
                   uint32_t field_off, uint32_t initial, bool udp) {
  if (l4.fragment) {
    c.unverifiable(l4.depth, kind, field_off, kWhyFragment);
    return;
  }
  if (l4.oversize) {
    c.unverifiable(l4.depth, kind, field_off, kWhyOversize);
    return;
  }
  if (!c.captured(off, len)) {
    c.unverifiable(l4.depth, kind, field_off, kWhyTruncated);
    return;
  }
  CsumEntry* e = c.add_csum(l4.depth, kind, field_off);
  if (!e) return;
  verify(c, e, off, len, initial, udp);
  if (e->status == kStatusBad && kind != kKindIcmp && kind != kKindGre) {
    // (ICMPv4 and GRE sum no pseudo-header, so the test means nothing for them.)
    // Transmit offload leaves the folded pseudo-header sum in the field
    // (CHECKSUM_PARTIAL; e.g. udp4_hwcsum/__tcp_v4_send_check in the kernel).
    e->looks_partial = e->found == csum::fold(initial);
  }
}

void transport(Ctx& c, IpLayer* layer, const L4& l4) {
  switch (l4.proto) {
    case kUdp:
      udp(c, layer, l4);
      return;
    case kTcp:
      tcp(c, layer, l4);
      return;
    case kIcmp:
      if (l4.family == 4) icmp(c, layer, l4, false);
      return;
    case kIcmp6:
      if (l4.family == 6) icmp(c, layer, l4, true);
      return;
    case kIpip:
    case kIpv6:
      if (l4.fragment) return;  // reassembly is out of scope: the inner header may be cut
      if (l4.proto == kIpip) {
        ipv4(c, l4.off, l4.end, kTunnelIpip, 0);
      } else {
        ipv6(c, l4.off, l4.end, kTunnelIp6ip, 0);
      }
      return;
    case kGre:
      gre(c, l4);
      return;
    default:
      return;
  }
}

}  // namespace decode
}  // namespace csumtop
