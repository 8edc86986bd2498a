// \summary: IPv4 (RFC 791): header checksum, options, fragments, then the transport.
#include "decode/decode_internal.h"

namespace csumtop {
namespace decode {

void ipv4(Ctx& c, uint32_t off, uint32_t end, uint8_t tunnel, uint32_t vni) {
  const uint32_t avail = end > off ? end - off : 0;  // bytes on the wire from here
  if (avail < 20) {  // the wire (or the enclosing length) has no room for a header
    c.malformed(kMalformedIpv4Length, off);
    return;
  }
  if (!c.captured(off, 1)) {
    c.truncated();
    return;
  }
  const uint8_t* h = c.data + off;
  if ((h[0] >> 4) != 4) {
    c.malformed(kMalformedIpVersion, off);
    return;
  }
  const uint32_t hlen = (h[0] & 0x0fu) * 4;
  if (hlen < 20) {
    c.malformed(kMalformedIpv4Ihl, off);
    return;
  }
  if (hlen > avail) {
    c.malformed(kMalformedIpv4Length, off);
    return;
  }
  if (!c.captured(off, hlen)) {
    c.truncated();
    return;
  }
  uint32_t total = be16(h + 2);
  uint8_t oversize = 0;
  bool length_ok = true;
  if (total == 0) {
    // TSO/GSO super-packets captured before segmentation may carry a zero length
    // (the stack fills it per segment); the datagram is what the frame holds.
    total = avail;
    oversize = 1;
  } else if (total < hlen || total > avail) {
    length_ok = false;
  }
  IpLayer* l = new_layer(c, off, tunnel, vni);
  if (!l) return;
  const int depth = c.f->nlayers - 1;
  l->family = 4;
  l->proto = h[9];
  l->ip_id = be16(h + 4);
  l->ip_len = total;
  std::memcpy(l->src, h + 12, 4);
  std::memcpy(l->dst, h + 16, 4);

  CsumEntry* e = c.add_csum(depth, kKindIPv4, off + 10);
  if (e) {
    if (oversize && be16(h + 10) == 0) {
      // A transmit-segmentation super-packet as the sender's capture sees it (Windows
      // LSO, some drivers' TSO): total length 0 and header checksum 0, with the
      // transport field holding the pseudo-header sum. The NIC writes total length and
      // header checksum into each segment it cuts (Microsoft's "Offloading the
      // Segmentation of Large TCP Packets"; Wireshark's ip.tso_support), so neither is
      // final here: an offload artefact, unverifiable like the transport below.
      e->status = kStatusUnverifiable;
      e->why = kWhyOversize;
      e->found = 0;
    } else {
      // Verified even when the total length is impossible: the header checksum covers
      // that field, and a bit flip there is exactly what it exists to catch (RFC 791
      // section 3.1). tcpdump -vv and tshark flag it when the length runs past the
      // frame; below the header length both stop before the checksum, we do not.
      verify(c, e, off, hlen, 0, false);
    }
  }
  if (!length_ok) {
    c.malformed(kMalformedIpv4Length, off + 2);
    return;
  }

  // RFC 791 section 3.1: MF flag (0x2000) and fragment offset (low 13 bits).
  const uint16_t frag = be16(h + 6);
  uint8_t fragment = 0;
  if (frag & 0x1fff) {
    fragment = 2;
  } else if (frag & 0x2000) {
    fragment = 1;
  }
  l->is_fragment = fragment;

  // Pseudo-header (RFC 768, RFC 793 section 3.1): source, destination, zero, protocol;
  // the length is added by the transport, which knows which one applies.
  uint32_t pseudo = 0;
  pseudo += be16(h + 12) + be16(h + 14) + be16(h + 16) + be16(h + 18);
  pseudo += h[9];
  L4 l4;
  l4.depth = depth;
  l4.proto = h[9];
  l4.off = off + hlen;
  l4.end = off + total;
  l4.pseudo = pseudo;
  l4.family = 4;
  l4.fragment = fragment;
  l4.oversize = oversize;
  transport(c, l, l4);
}

}  // namespace decode
}  // namespace csumtop
