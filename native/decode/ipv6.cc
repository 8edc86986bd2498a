// \summary: IPv6 (RFC 8200): extension header chain (bounded), fragments, pseudo-header
// with the final destination of a Routing header, then the transport.
#include "decode/decode_internal.h"

namespace csumtop {
namespace decode {

namespace {
// Extension headers we walk (IANA "IPv6 Extension Header Types").
enum : uint8_t {
  kHopByHop = 0,
  kRouting = 43,
  kFragment = 44,
  kEsp = 50,
  kAh = 51,
  kNoNext = 59,
  kDestOpts = 60,
  kMobility = 135,
  kHip = 139,
  kShim6 = 140,
};

uint32_t sum_addr(const uint8_t* a) {
  uint32_t s = 0;
  for (int i = 0; i < 16; i += 2) s += be16(a + i);
  return s;
}
}  // namespace

void ipv6(Ctx& c, uint32_t off, uint32_t end, uint8_t tunnel, uint32_t vni) {
  const uint32_t avail = end > off ? end - off : 0;
  if (avail < 40) {
    c.malformed(kMalformedIpv6Length, off);
    return;
  }
  if (!c.captured(off, 40)) {
    c.truncated();
    return;
  }
  const uint8_t* h = c.data + off;
  if ((h[0] >> 4) != 6) {
    c.malformed(kMalformedIpVersion, off);
    return;
  }
  uint32_t payload = be16(h + 4);
  uint8_t oversize = 0;
  if (payload == 0) {
    // Jumbograms (RFC 2675) and BIG TCP GSO packets carry 0 here; take the frame.
    payload = avail - 40;
    oversize = 1;
  } else if (payload > avail - 40) {
    c.malformed(kMalformedIpv6Length, off + 4);
    return;
  }
  IpLayer* l = new_layer(c, off, tunnel, vni);
  if (!l) return;
  const int depth = c.f->nlayers - 1;
  l->family = 6;
  l->ip_len = 40 + payload;
  std::memcpy(l->src, h + 8, 16);
  std::memcpy(l->dst, h + 24, 16);

  const uint32_t pend = off + 40 + payload;
  const uint8_t* final_dst = h + 24;
  uint8_t next = h[6];
  uint32_t p = off + 40;
  uint8_t fragment = 0;
  for (int count = 0;; count++) {
    if (next != kHopByHop && next != kRouting && next != kFragment && next != kDestOpts &&
        next != kAh && next != kMobility && next != kHip && next != kShim6) {
      break;
    }
    if (count >= kMaxIpv6ExtHeaders) {
      c.malformed(kMalformedIpv6ExtChain, p);
      return;
    }
    if (pend - p < 8) {
      c.malformed(kMalformedIpv6ExtLength, p);
      return;
    }
    if (!c.captured(p, 8)) {
      c.truncated();
      return;
    }
    const uint8_t* x = c.data + p;
    uint32_t xlen;
    if (next == kFragment) {
      xlen = 8;
      const uint16_t fo = be16(x + 2);  // offset (13 bits) << 3 | M flag
      if (fo & 0xfff8) {
        fragment = 2;
      } else if (fo & 1) {
        fragment = 1;
      }
      // An atomic fragment (offset 0, M clear; RFC 6946) is a whole datagram.
    } else if (next == kAh) {
      xlen = (static_cast<uint32_t>(x[1]) + 2) * 4;  // RFC 4302 section 2.2
    } else {
      xlen = (static_cast<uint32_t>(x[1]) + 1) * 8;
    }
    if (xlen > pend - p) {
      c.malformed(kMalformedIpv6ExtLength, p);
      return;
    }
    if (next == kRouting && x[3] != 0 && c.captured(p, xlen)) {
      // RFC 8200 section 8.1: with a Routing header the pseudo-header uses the final
      // destination. Type 0 (RFC 2460) lists it last; type 2 (RFC 6275) holds one home
      // address; a Segment Routing Header (RFC 8754) holds it as Segment List[0].
      const uint8_t type = x[2];
      if (type == 0 && xlen >= 24) {
        final_dst = x + xlen - 16;
      } else if ((type == 2 || type == 4) && xlen >= 24) {
        final_dst = x + 8;
      }
    }
    next = x[0];
    p += xlen;
    if (fragment == 2) break;  // later fragments: the rest is payload bytes
  }
  l->proto = next;
  l->is_fragment = fragment;
  if (next == kNoNext || next == kEsp) return;  // nothing (readable) follows

  // Pseudo-header (RFC 8200 section 8.1): source, final destination, upper-layer length
  // (added by the transport), next header.
  L4 l4;
  l4.depth = depth;
  l4.proto = next;
  l4.off = p;
  l4.end = pend;
  l4.pseudo = sum_addr(h + 8) + sum_addr(final_dst) + next;
  l4.family = 6;
  l4.fragment = fragment;
  l4.oversize = oversize;
  transport(c, l, l4);
}

}  // namespace decode
}  // namespace csumtop
