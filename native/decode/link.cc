// \summary: Link layers: Ethernet with 802.1Q/802.1ad tags, Linux cooked SLL/SLL2, raw IP,
// BSD loopback, MPLS label stacks and Linux NFLOG; what is not decoded is said so.
//
// Link-type numbers and header layouts: https://www.tcpdump.org/linktypes.html
// (LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_NFLOG pages); VLAN tags: IEEE 802.1Q.
//
// Decided for issue 13: MPLS and NFLOG are decoded. Both are a few lines over headers
// that hold no checksum of their own, and both carry plain IP that nodes do see: an MPLS
// underlay between data centres, and NFLOG is what iptables' NFLOG target (and tcpdump
// -i nflog:N) captures on Kubernetes nodes. Frames whose IP cannot be reached without
// keys or a PPP/802.11 decoder (MACsec, PPPoE, switch tags, other link types) are
// counted per reason (Undecoded) so that a report never calls them clean.
#include "decode/decode_internal.h"

namespace csumtop {
namespace decode {

namespace {
constexpr uint16_t kEtherIPv4 = 0x0800;
constexpr uint16_t kEtherIPv6 = 0x86dd;
constexpr uint16_t kEtherVlan = 0x8100;     // 802.1Q
constexpr uint16_t kEtherQinQ = 0x88a8;     // 802.1ad
constexpr uint16_t kEtherQinQOld = 0x9100;  // pre-standard QinQ, still seen
constexpr uint16_t kEtherMpls = 0x8847;     // RFC 3032 section 5
constexpr uint16_t kEtherMplsMc = 0x8848;
constexpr uint16_t kEtherPppoe = 0x8864;   // RFC 2516 session stage
constexpr uint16_t kEtherMacsec = 0x88e5;  // IEEE 802.1AE
// Switch tags that come with an ethertype (linux/if_ether.h ETH_P_EDSA, ETH_P_DSA_8021Q,
// ETH_P_DSA_A5PSW). Tags without one (Marvell DSA, Broadcom) cannot be told from the
// bytes: a frame captured on a DSA master looks like a bad ethertype, carries no IP we
// would reach, and is not counted here.
constexpr uint16_t kEtherEdsa = 0xdada;
constexpr uint16_t kEtherDsa8021q = 0xdadb;
constexpr uint16_t kEtherDsaA5psw = 0xe001;

// NFLOG TLV types (linux/netfilter/nfnetlink_log.h, enum nfulnl_attr_type).
constexpr uint16_t kNfulaPayload = 9;

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
  switch (type) {
    case kEtherIPv4:
      ipv4(c, off, end, tunnel, vni);
      return;
    case kEtherIPv6:
      ipv6(c, off, end, tunnel, vni);
      return;
    case kEtherMpls:
    case kEtherMplsMc:
      mpls(c, off, end, tunnel, vni);
      return;
    case kEtherMacsec:
      c.undecoded(kUndecodedMacsec);
      return;
    case kEtherPppoe:
      c.undecoded(kUndecodedPppoe);
      return;
    case kEtherEdsa:
    case kEtherDsa8021q:
    case kEtherDsaA5psw:
      c.undecoded(kUndecodedDsaTag);
      return;
    default:
      // ARP, LLDP, 802.3 length fields and the rest carry no checksum we verify.
      return;
  }
}

void mpls(Ctx& c, uint32_t off, uint32_t end, uint8_t tunnel, uint32_t vni) {
  // RFC 3032 section 2.1: label (20) | TC (3) | S, bottom of stack (1) | TTL (8), per
  // entry, until S is set.
  for (int n = 0;; n++) {
    if (n == kMaxMplsLabels) {
      c.malformed(kMalformedMplsStack, off);
      return;
    }
    if (off > end || end - off < 4) {
      c.malformed(kMalformedMplsStack, off);
      return;
    }
    if (!c.captured(off, 4)) {
      c.truncated();
      return;
    }
    const bool bottom = c.data[off + 2] & 0x01;
    off += 4;
    if (bottom) break;
  }
  // The label stack does not say what follows; like every LSR doing ECMP (RFC 7325
  // section 2.4.5.1) we go by the first nibble. A pseudowire's control word starts with
  // 0000 (RFC 4385 section 3) and an Ethernet pseudowire without one with a MAC address:
  // neither is IP, so they are counted as not decoded.
  if (off >= end) {
    c.undecoded(kUndecodedMplsPayload);
    return;
  }
  if (!c.captured(off, 1)) {
    c.truncated();
    return;
  }
  const uint8_t version = c.data[off] >> 4;
  if (version == 4) {
    ipv4(c, off, end, tunnel, vni);
  } else if (version == 6) {
    ipv6(c, off, end, tunnel, vni);
  } else {
    c.undecoded(kUndecodedMplsPayload);
  }
}

void nflog(Ctx& c) {
  // https://www.tcpdump.org/linktypes/LINKTYPE_NFLOG.html: family (1), version (1),
  // resource id (2, big-endian), then TLVs: length (2) and type (2) in the capturing
  // host's byte order, the length counting those 4 bytes, each TLV padded to 4 bytes.
  // NFULA_PAYLOAD holds the packet from its network header on.
  const uint32_t end = c.wire;
  if (!need(c, 0, 4, end)) return;
  const uint8_t family = c.data[0];
  uint32_t off = 4;
  // The kernel writes NFULA_PACKET_HDR (type 1) first: its type's high byte is 0, which
  // tells the byte order (a little-endian type reads 01 00, a big-endian one 00 01).
  bool little = true;
  if (c.captured(4, 4)) little = !(c.data[6] == 0 && c.data[7] != 0);
  const auto host16 = [&](uint32_t at) -> uint16_t {
    return little ? static_cast<uint16_t>(c.data[at] | (c.data[at + 1] << 8)) : be16(c.data + at);
  };
  while (off < end) {
    if (!need(c, off, 4, end)) return;
    const uint32_t len = host16(off);
    const uint16_t type = host16(off + 2) & 0x7fff;  // NLA_F_NESTED is not a type bit
    if (len < 4 || len > end - off) {
      c.malformed(kMalformedNflogTlv, off);
      return;
    }
    if (type == kNfulaPayload) {
      // The payload is the packet cut to the rule's copy range (--nflog-size), so it is
      // what was captured of a packet of unknown length: bytes beyond it are treated as
      // not captured (truncation), not as missing from the wire. 65575 = the largest
      // IPv6 packet without a jumbogram (RFC 8200 section 3), larger than any IPv4 one.
      Ctx p = c;
      const uint32_t pay = off + 4;
      if (off + len < p.cap) p.cap = off + len;
      const uint32_t pend = pay + 65575u;
      if (family == 2) {  // AF_INET / NFPROTO_IPV4
        ipv4(p, pay, pend, kTunnelNone, 0);
      } else if (family == 10) {  // AF_INET6 / NFPROTO_IPV6
        ipv6(p, pay, pend, kTunnelNone, 0);
      } else {  // NFPROTO_BRIDGE, ARP, ...
        c.undecoded(kUndecodedNflogPayload);
      }
      return;
    }
    off += (len + 3) & ~3u;
  }
  c.undecoded(kUndecodedNflogPayload);  // no payload: nothing of the packet was logged
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
    case kLinkNflog:
      nflog(c);
      return;
    default:
      c.undecoded(kUndecodedLinkType);
      return;
  }
}

}  // namespace decode
}  // namespace csumtop
