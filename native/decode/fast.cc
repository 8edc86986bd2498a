// \summary: The fast path of decode_frame() for the shapes that make up nearly all
// overlay traffic: Ethernet / IPv4 / UDP or TCP, optionally VXLAN / Ethernet / IPv4 /
// UDP or TCP, with every byte that a checksum covers captured.
//
// It produces exactly the Frame the general decoder (link.cc, ipv4.cc, transport.cc,
// tunnel.cc) produces for such a frame, and declines anything else (VLAN tags, IPv6,
// fragments, Geneve, ICMP, nested tunnels, truncation, any malformation) before it
// writes a verdict: decode_frame() then runs the general decoder from the start. The
// fuzz_decode target checks the two against each other on every input.
//
// Where it saves time: one pass of checks instead of a chain of calls with the same
// checks spread out, IPv4 headers summed inline, and the outer UDP checksum of a tunnel
// computed from the sums of the inner checksums plus the bytes between them instead of
// summing the whole inner frame a second time (RFC 1071 section 2: the sum may be
// computed in any grouping, a part at an odd offset byte-swapped, section 2(B); a
// non-zero ones-complement sum folds to the same 16 bits however it is grouped).
#include "decode/decode_internal.h"

namespace csumtop {
namespace decode {

namespace {

constexpr uint16_t kEtherIPv4 = 0x0800;
constexpr uint8_t kTcp = 6;
constexpr uint8_t kUdp = 17;

// A parsed IPv4 header that the general decoder would accept without remark.
struct Ip4 {
  uint32_t off;    // of the header in the frame
  uint32_t hlen;   // header length
  uint32_t total;  // datagram length
  uint8_t proto;
  uint32_t pseudo;  // pseudo-header sum without the length (as ipv4.cc computes it)
};

// One transport header, parsed.
struct L4Hdr {
  uint32_t off;  // of the header
  uint32_t len;  // bytes the checksum covers (UDP length; TCP: the rest of the datagram)
  uint16_t sport, dport;
  uint16_t field;  // checksum field value
  uint8_t proto;
  uint8_t tcp_flags;
};

inline uint32_t short_or_long(const uint8_t* p, uint32_t len) {
  return len < 64 ? csum::partial_short(p, len, 0) : csum::partial(p, len, 0);
}

// The IPv4 header at `off`, within a layer that ends at `end` on the wire: true when
// ipv4.cc would decode it with no malformation, truncation, oversize or fragment, and
// its protocol is UDP or TCP.
inline bool parse_ip4(const uint8_t* data, uint32_t cap, uint32_t off, uint32_t end, Ip4* ip) {
  if (end <= off || end - off < 20) return false;
  const uint32_t avail = end - off;
  if (off > cap || cap - off < 20) return false;
  const uint8_t* h = data + off;
  if ((h[0] >> 4) != 4) return false;
  const uint32_t hlen = (h[0] & 0x0fu) * 4;
  if (hlen < 20 || hlen > avail || hlen > cap - off) return false;
  const uint32_t total = be16(h + 2);
  if (total == 0 || total < hlen || total > avail) return false;
  if (be16(h + 6) & 0x3fff) return false;  // MF or a fragment offset
  if (h[9] != kUdp && h[9] != kTcp) return false;
  ip->off = off;
  ip->hlen = hlen;
  ip->total = total;
  ip->proto = h[9];
  ip->pseudo = uint32_t{be16(h + 12)} + be16(h + 14) + be16(h + 16) + be16(h + 18) + h[9];
  return true;
}

// The transport header of `ip`: true when transport.cc would decode it with no
// malformation or truncation and, if its checksum is to be verified, all of the bytes it
// covers are captured.
inline bool parse_l4(const uint8_t* data, uint32_t cap, const Ip4& ip, L4Hdr* l4) {
  const uint32_t off = ip.off + ip.hlen;
  const uint32_t avail = ip.total - ip.hlen;
  const uint8_t* t = data + off;
  l4->off = off;
  l4->proto = ip.proto;
  if (ip.proto == kUdp) {
    if (avail < 8 || off > cap || cap - off < 8) return false;
    const uint32_t ulen = be16(t + 4);
    if (ulen < 8 || ulen > avail) return false;
    l4->len = ulen;
    l4->field = be16(t + 6);
    l4->tcp_flags = 0;
  } else {
    if (avail < 20 || off > cap || cap - off < 20) return false;
    const uint32_t hlen = static_cast<uint32_t>(t[12] >> 4) * 4;
    if (hlen < 20 || hlen > avail) return false;
    l4->len = avail;
    l4->field = be16(t + 16);
    l4->tcp_flags = t[13];
  }
  l4->sport = be16(t);
  l4->dport = be16(t + 2);
  // A UDP checksum of 0 over IPv4 is absent and needs nothing captured.
  const bool summed = ip.proto == kTcp || l4->field != 0;
  return !summed || l4->len <= cap - off;
}

inline bool port_in(const uint16_t* ports, uint8_t n, uint16_t port) {
  for (uint8_t i = 0; i < n; i++)
    if (ports[i] == port) return true;
  return false;
}

// new_layer() + ipv4() + transport() for this layer, field by field.
inline void fill_layer(IpLayer* l, const uint8_t* data, const Ip4& ip, const L4Hdr& t,
                       uint8_t tunnel, uint32_t vni) {
  const uint8_t* h = data + ip.off;
  l->family = 4;
  l->proto = ip.proto;
  l->tunnel = tunnel;
  l->is_fragment = 0;
  l->sport = t.sport;
  l->dport = t.dport;
  l->ip_id = be16(h + 4);
  l->ip_len = ip.total;
  l->vni = vni;
  l->l3_offset = ip.off;
  l->l4_offset = t.off;
  l->tcp_flags = t.tcp_flags;
  std::memset(l->src, 0, sizeof l->src);
  std::memset(l->dst, 0, sizeof l->dst);
  std::memcpy(l->src, h + 12, 4);
  std::memcpy(l->dst, h + 16, 4);
}

// Ctx::add_csum() + verify() (+ the looks_partial test of check_segment() for L4),
// from the sum of the covered bytes (`data_sum`, without `initial`).
inline void verdict(CsumEntry* e, int depth, CsumKind kind, uint32_t field_offset, uint16_t found,
                    uint32_t data_sum, uint32_t initial, bool udp, bool l4) {
  e->depth = static_cast<uint8_t>(depth);
  e->kind = kind;
  e->why = kWhyNone;
  e->field_offset = field_offset;
  e->found = found;
  e->looks_partial = 0;
  const uint32_t sum = csum::add_partial(data_sum, initial);
  if (csum::fold(sum) == 0xffff) {
    e->status = kStatusOk;
    e->expected = found;
    return;
  }
  uint16_t expected = csum::finish(csum::add_partial(sum, static_cast<uint16_t>(~found)));
  if (udp && expected == 0) expected = 0xffff;
  e->status = kStatusBad;
  e->expected = expected;
  if (l4) e->looks_partial = found == csum::fold(initial);
}

inline void absent(CsumEntry* e, int depth, uint32_t field_offset) {
  e->depth = static_cast<uint8_t>(depth);
  e->kind = kKindUdp;
  e->status = kStatusAbsent;
  e->why = kWhyNone;
  e->found = 0;
  e->expected = 0;
  e->field_offset = field_offset;
  e->looks_partial = 0;
}

// A part's sum placed `rel` bytes into the range being summed (RFC 1071 section 2(B)).
inline uint32_t placed(uint32_t sum, uint32_t rel) {
  if ((rel & 1) == 0) return sum;
  const uint16_t f = csum::fold(sum);
  return static_cast<uint16_t>((f << 8) | (f >> 8));
}

// One accepted frame: its layers and the sums of what each checksum covers.
struct Parsed {
  Ip4 oip;
  L4Hdr ol4;
  bool tunnel;
  Ip4 iip;
  L4Hdr il4;
  uint32_t vni;
  // Sums of the covered bytes (without the pseudo-header); an L4 sum only when the
  // checksum is present (not a UDP zero).
  uint32_t oip_sum, ol4_sum, iip_sum, il4_sum;
};

inline bool l4_present(const L4Hdr& t) { return t.proto == kTcp || t.field != 0; }

// The checks of the general decoder for the accepted shapes: false for anything else.
inline bool parse(const uint8_t* data, uint32_t caplen, uint32_t wirelen, uint16_t linktype,
                  const DecodeOptions& opts, Parsed* f) {
  if (linktype != kLinkEthernet) return false;
  const uint32_t cap = caplen;
  const uint32_t wire = wirelen < caplen ? caplen : wirelen;
  if (cap < 14 || be16(data + 12) != kEtherIPv4) return false;
  if (!parse_ip4(data, cap, 14, wire, &f->oip) || !parse_l4(data, cap, f->oip, &f->ol4))
    return false;
  f->tunnel = false;
  f->vni = 0;
  if (f->ol4.proto != kUdp) return true;
  if (port_in(opts.vxlan_ports, opts.n_vxlan, f->ol4.dport)) {
    // RFC 7348 section 5, as tunnel.cc: I flag, VNI; then the inner Ethernet frame,
    // which ends with the outer UDP payload.
    const uint32_t voff = f->ol4.off + 8;
    const uint32_t vend = f->ol4.off + f->ol4.len;
    if (vend - voff < 8 || voff > cap || cap - voff < 8) return false;
    if (!(data[voff] & 0x08)) return false;
    f->vni = be32(data + voff + 4) >> 8;
    const uint32_t eoff = voff + 8;
    if (eoff > vend || vend - eoff < 14 || eoff > cap || cap - eoff < 14) return false;
    if (be16(data + eoff + 12) != kEtherIPv4) return false;
    if (!parse_ip4(data, cap, eoff + 14, vend, &f->iip) || !parse_l4(data, cap, f->iip, &f->il4)) {
      return false;
    }
    if (f->il4.proto == kUdp && (port_in(opts.vxlan_ports, opts.n_vxlan, f->il4.dport) ||
                                 port_in(opts.geneve_ports, opts.n_geneve, f->il4.dport))) {
      return false;  // a tunnel in the tunnel
    }
    f->tunnel = true;
  } else if (port_in(opts.geneve_ports, opts.n_geneve, f->ol4.dport)) {
    return false;
  }
  return true;
}

// Sums every checksum of a parsed frame.
inline void sum_all(const uint8_t* data, Parsed* f) {
  f->oip_sum = csum::partial_short(data + f->oip.off, f->oip.hlen, 0);
  if (!f->tunnel) {
    if (l4_present(f->ol4)) f->ol4_sum = short_or_long(data + f->ol4.off, f->ol4.len);
    return;
  }
  f->iip_sum = csum::partial_short(data + f->iip.off, f->iip.hlen, 0);
  // The inner segment is summed even when its own checksum is absent if the outer UDP
  // checksum, which covers it, is present.
  if (l4_present(f->il4) || l4_present(f->ol4)) {
    f->il4_sum = short_or_long(data + f->il4.off, f->il4.len);
  }
  if (!l4_present(f->ol4)) return;
  // [UDP header .. inner IP header) + inner IP header + inner segment + the rest (inner
  // Ethernet padding, or what the inner UDP length leaves out).
  const uint32_t u = f->ol4.off;
  const uint32_t uend = f->ol4.off + f->ol4.len;
  const uint32_t seg_end = f->il4.off + f->il4.len;
  uint32_t s = short_or_long(data + u, f->iip.off - u);
  s = csum::add_partial(s, placed(f->iip_sum, f->iip.off - u));
  s = csum::add_partial(s, placed(f->il4_sum, f->il4.off - u));
  if (seg_end < uend) {
    s = csum::add_partial(s, placed(short_or_long(data + seg_end, uend - seg_end), seg_end - u));
  }
  f->ol4_sum = s;
}

inline bool sum_ok(uint32_t data_sum, uint32_t initial) {
  return csum::fold(csum::add_partial(data_sum, initial)) == 0xffff;
}

inline uint32_t l4_initial(const Parsed& f, bool inner) {
  return inner ? f.iip.pseudo + f.il4.len : f.oip.pseudo + f.ol4.len;
}

// The checksum entries of one layer, appended to out->csum.
inline void layer_entries(Frame* out, const uint8_t* data, int depth, const Ip4& ip, const L4Hdr& t,
                          uint32_t ip_sum, uint32_t l4_sum) {
  verdict(&out->csum[out->ncsum++], depth, kKindIPv4, ip.off + 10, be16(data + ip.off + 10), ip_sum,
          0, false, false);
  const bool udp = t.proto == kUdp;
  const uint32_t field_offset = t.off + (udp ? 6 : 16);
  if (!l4_present(t)) {
    absent(&out->csum[out->ncsum++], depth, field_offset);
    return;
  }
  verdict(&out->csum[out->ncsum++], depth, udp ? kKindUdp : kKindTcp, field_offset, t.field, l4_sum,
          ip.pseudo + t.len, udp, true);
}

// Writes the frame as decode_frame() + the general decoder would.
inline void write_frame(const uint8_t* data, const Parsed& f, Frame* out) {
  out->reset_header();
  out->nlayers = f.tunnel ? 2 : 1;
  fill_layer(&out->layer[0], data, f.oip, f.ol4, kTunnelNone, 0);
  layer_entries(out, data, 0, f.oip, f.ol4, f.oip_sum, f.ol4_sum);
  if (!f.tunnel) return;
  fill_layer(&out->layer[1], data, f.iip, f.il4, kTunnelVxlan, f.vni);
  layer_entries(out, data, 1, f.iip, f.il4, f.iip_sum, f.il4_sum);
}

// The kinds and statuses of a frame none of whose checksums is bad.
inline void describe_good(const Parsed& f, GoodFrame* g) {
  const auto l4_kind = [](const L4Hdr& t) { return t.proto == kUdp ? kKindUdp : kKindTcp; };
  const auto l4_status = [](const L4Hdr& t) { return l4_present(t) ? kStatusOk : kStatusAbsent; };
  g->n = f.tunnel ? 4 : 2;
  g->kind[0] = kKindIPv4;
  g->status[0] = kStatusOk;
  g->kind[1] = l4_kind(f.ol4);
  g->status[1] = l4_status(f.ol4);
  if (!f.tunnel) return;
  g->kind[2] = kKindIPv4;
  g->status[2] = kStatusOk;
  g->kind[3] = l4_kind(f.il4);
  g->status[3] = l4_status(f.il4);
}

}  // namespace

bool fast(const uint8_t* data, uint32_t caplen, uint32_t wirelen, uint16_t linktype,
          const DecodeOptions& opts, Frame* out) {
  Parsed f;
  if (!parse(data, caplen, wirelen, linktype, opts, &f)) return false;
  sum_all(data, &f);
  write_frame(data, f, out);
  return true;
}

int fast_or_good(const uint8_t* data, uint32_t caplen, uint32_t wirelen, uint16_t linktype,
                 const DecodeOptions& opts, Frame* out, GoodFrame* good) {
  Parsed f;
  if (!parse(data, caplen, wirelen, linktype, opts, &f)) return -1;
  sum_all(data, &f);
  bool ok = sum_ok(f.oip_sum, 0) && (!l4_present(f.ol4) || sum_ok(f.ol4_sum, l4_initial(f, false)));
  if (ok && f.tunnel) {
    ok = sum_ok(f.iip_sum, 0) && (!l4_present(f.il4) || sum_ok(f.il4_sum, l4_initial(f, true)));
  }
  if (ok) {
    describe_good(f, good);
    return 0;
  }
  write_frame(data, f, out);
  return 1;
}

}  // namespace decode
}  // namespace csumtop
