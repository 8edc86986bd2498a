// \summary: Frame decoding entry point, the shared checksum verification step, and names.
#include "decode/decode_internal.h"

namespace csumtop {
namespace decode {

IpLayer* new_layer(Ctx& c, uint32_t off, uint8_t tunnel, uint32_t vni) {
  Frame* f = c.f;
  if (f->nlayers >= kMaxDepth) {
    c.malformed(kMalformedTunnelDepth, off);
    return nullptr;
  }
  IpLayer* l = &f->layer[f->nlayers++];
  l->family = 0;
  l->proto = 0;
  l->tunnel = tunnel;
  l->is_fragment = 0;
  l->sport = l->dport = 0;
  l->ip_id = 0;
  l->ip_len = 0;
  l->vni = vni;
  l->l3_offset = off;
  l->l4_offset = 0;
  l->tcp_flags = 0;
  std::memset(l->src, 0, sizeof l->src);
  std::memset(l->dst, 0, sizeof l->dst);
  return l;
}

void verify(Ctx& c, CsumEntry* e, uint32_t off, uint32_t len, uint32_t initial, bool udp) {
  const uint16_t found = be16(c.data + e->field_offset);
  e->found = found;
  // Summing the covered bytes *including* the field gives 0xffff (ones-complement -0)
  // exactly when the field is right (RFC 1071 section 2(A), verification).
  const uint32_t sum = len < 64 ? csum::partial_short(c.data + off, len, initial)
                                : csum::partial(c.data + off, len, initial);
  if (csum::fold(sum) == 0xffff) {
    e->status = kStatusOk;
    e->expected = found;
    return;
  }
  // What the field should hold: remove it from the sum (adding its complement, RFC 1624
  // eqn. 3) and complement the fold.
  uint16_t expected = csum::finish(csum::add_partial(sum, static_cast<uint16_t>(~found)));
  if (udp && expected == 0) expected = 0xffff;  // RFC 768: a computed 0 is sent as all ones
  e->status = kStatusBad;
  e->expected = expected;
}

}  // namespace decode

void decode_frame(const uint8_t* data, uint32_t caplen, uint32_t wirelen, uint16_t linktype,
                  const DecodeOptions& opts, const OffloadHint* hint, Frame* out) {
  if (decode::fast(data, caplen, wirelen, linktype, opts, out)) return;
  decode_frame_general(data, caplen, wirelen, linktype, opts, hint, out);
}

bool decode_frame_or_good(const uint8_t* data, uint32_t caplen, uint32_t wirelen, uint16_t linktype,
                          const DecodeOptions& opts, Frame* out, GoodFrame* good) {
  const int r = decode::fast_or_good(data, caplen, wirelen, linktype, opts, out, good);
  if (r == 0) return false;
  if (r < 0) decode_frame_general(data, caplen, wirelen, linktype, opts, nullptr, out);
  return true;
}

void decode_frame_general(const uint8_t* data, uint32_t caplen, uint32_t wirelen, uint16_t linktype,
                          const DecodeOptions& opts, const OffloadHint* hint, Frame* out) {
  out->reset_header();
  decode::Ctx c;
  c.data = data;
  c.cap = caplen;
  // A record claiming fewer bytes on the wire than it captured is trusted for what it
  // holds: the captured bytes exist.
  c.wire = wirelen < caplen ? caplen : wirelen;
  c.opts = &opts;
  c.hint = hint;
  c.f = out;
  decode::link(c, linktype);
}

static const char* const kMalformedNames[kNumMalformed] = {
    "none",
    "link-header-short",
    "vlan-too-deep",
    "ip-version-mismatch",
    "ipv4-ihl-below-5",
    "ipv4-total-length",
    "ipv6-payload-length",
    "ipv6-ext-chain-too-long",
    "ipv6-ext-header-length",
    "udp-length",
    "tcp-data-offset",
    "icmp-length",
    "vxlan-header",
    "geneve-header",
    "tunnel-too-deep",
    "gre-header",
    "mpls-label-stack",
    "nflog-tlv",
};
static const char* const kUndecodedNames[kNumUndecoded] = {
    "none",  "link-type",    "macsec",      "dsa-tag",
    "pppoe", "mpls-payload", "gre-payload", "nflog-payload",
};
static const char* const kKindNames[kNumKinds] = {"ipv4", "udp", "tcp", "icmp", "icmpv6", "gre"};
static const char* const kStatusNames[kNumStatus] = {"ok",           "bad",     "absent",
                                                     "unverifiable", "pending", "validated"};

const char* malformed_name(uint8_t reason) {
  return reason < kNumMalformed ? kMalformedNames[reason] : "unknown";
}
const char* undecoded_name(uint8_t reason) {
  return reason < kNumUndecoded ? kUndecodedNames[reason] : "unknown";
}
const char* kind_name(uint8_t kind) { return kind < kNumKinds ? kKindNames[kind] : "unknown"; }
const char* status_name(uint8_t status) {
  return status < kNumStatus ? kStatusNames[status] : "unknown";
}

}  // namespace csumtop
