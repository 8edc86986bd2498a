// \summary: Decoder internals shared by the per-protocol files: bounds-checked reads and
// the per-frame context.
//
// Every layer works within two limits: `cap` (bytes actually captured, never read past)
// and `end` (where this layer's bytes end on the wire, from the enclosing length field).
// A header that crosses `cap` but not `end` is truncation, a normal outcome; one that
// crosses `end` is malformed.
#pragma once
#include <cstring>

#include "checksum/csum_internal.h"
#include "decode/frame.h"

namespace csumtop {
namespace decode {

inline uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
inline uint32_t be32(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
         (static_cast<uint32_t>(p[2]) << 8) | p[3];
}

struct Ctx {
  const uint8_t* data;
  uint32_t cap;   // captured length of the whole frame
  uint32_t wire;  // original length (>= cap)
  const DecodeOptions* opts;
  const OffloadHint* hint;
  Frame* f;

  // True when [off, off+len) was captured.
  bool captured(uint32_t off, uint32_t len) const { return off <= cap && len <= cap - off; }
  // Stops decoding: the snap length cut the frame before `off + len`.
  void truncated() { f->truncated = 1; }
  // Records why part of the frame is not decoded (the first reason is kept); decoding of
  // that part stops, checksums verified before it stand.
  void undecoded(Undecoded why) {
    if (f->undecoded == kUndecodedNone) f->undecoded = why;
  }
  void malformed(Malformed why, uint32_t off) {
    if (f->malformed == kMalformedNone) {
      f->malformed = why;
      f->malformed_offset = off;
    }
  }
  CsumEntry* add_csum(int depth, CsumKind kind, uint32_t field_offset) {
    if (f->ncsum >= kMaxChecksums) return nullptr;  // cannot happen: 3 per layer at most
    CsumEntry* e = &f->csum[f->ncsum++];
    e->depth = static_cast<uint8_t>(depth);
    e->kind = kind;
    e->status = kStatusOk;
    e->why = kWhyNone;
    e->found = 0;
    e->expected = 0;
    e->field_offset = field_offset;
    e->looks_partial = 0;
    return e;
  }
  void unverifiable(int depth, CsumKind kind, uint32_t field_offset, UnverifiableWhy why) {
    CsumEntry* e = add_csum(depth, kind, field_offset);
    if (!e) return;
    e->status = kStatusUnverifiable;
    e->why = why;
    if (why == kWhyTruncated) truncated();
  }
};

// Starts a new IP layer; returns nullptr (and marks the frame malformed) past kMaxDepth.
IpLayer* new_layer(Ctx& c, uint32_t off, uint8_t tunnel, uint32_t vni);

// Link layers (link.cc). `end` bounds the frame on the wire (inner frames end with their
// tunnel's UDP payload). `depth` is the index the next IP layer gets.
void ethernet(Ctx& c, uint32_t off, uint32_t end, uint8_t tunnel, uint32_t vni);
void link(Ctx& c, uint16_t linktype);
// Dispatches on an ethertype (0x0800, 0x86dd; anything else ends decoding quietly).
void ethertype(Ctx& c, uint16_t type, uint32_t off, uint32_t end, uint8_t tunnel, uint32_t vni);
// Raw IP: version from the first nibble.
void raw_ip(Ctx& c, uint32_t off, uint32_t end, uint8_t tunnel, uint32_t vni);

// Network layers (ipv4.cc, ipv6.cc).
void ipv4(Ctx& c, uint32_t off, uint32_t end, uint8_t tunnel, uint32_t vni);
void ipv6(Ctx& c, uint32_t off, uint32_t end, uint8_t tunnel, uint32_t vni);

// Transport (transport.cc): the IP payload [off, end) of protocol `proto` at layer `depth`.
// `pseudo` is the partial sum of the pseudo-header without the length (added here).
struct L4 {
  int depth;
  uint8_t proto;
  uint32_t off, end;  // payload on the wire
  uint32_t pseudo;    // pseudo-header partial sum: addresses + protocol (RFC 768/793/8200 8.1)
  uint8_t family;
  uint8_t fragment;  // 0 none, 1 first fragment, 2 later fragment
  uint8_t oversize;  // IP length field was 0 (TSO/BIG TCP): checksums unverifiable
};
void transport(Ctx& c, IpLayer* layer, const L4& l4);

// Verifies the checksum of the whole segment [off, off+len) unless the layer is a
// fragment, oversize, or not captured that far (transport.cc).
void check_segment(Ctx& c, const L4& l4, CsumKind kind, uint32_t off, uint32_t len,
                   uint32_t field_off, uint32_t initial, bool udp);

// Tunnels (tunnel.cc): the UDP payload [off, end) of a VXLAN or Geneve port; GRE as the
// IP payload of protocol 47.
void vxlan(Ctx& c, uint32_t off, uint32_t end);
void geneve(Ctx& c, uint32_t off, uint32_t end);
void gre(Ctx& c, const L4& l4);

// Link layers other than Ethernet that carry IP (link.cc): MPLS label stacks and NFLOG.
void mpls(Ctx& c, uint32_t off, uint32_t end, uint8_t tunnel, uint32_t vni);
void nflog(Ctx& c);

// The fast path (fast.cc): decodes the frame completely and returns true, or returns
// false, having written nothing that the general decoder does not overwrite.
bool fast(const uint8_t* data, uint32_t caplen, uint32_t wirelen, uint16_t linktype,
          const DecodeOptions& opts, Frame* out);
// The same, but a frame with no bad checksum is only described in *good (0); 1: *out
// holds it; -1: not taken, nothing written.
int fast_or_good(const uint8_t* data, uint32_t caplen, uint32_t wirelen, uint16_t linktype,
                 const DecodeOptions& opts, Frame* out, GoodFrame* good);

// Verifies a checksum over [off, off+len) plus `initial`, the field at `field_off`.
// Fills found/expected/status; `udp` maps a computed 0 to 0xffff (RFC 768).
void verify(Ctx& c, CsumEntry* e, uint32_t off, uint32_t len, uint32_t initial, bool udp);

}  // namespace decode
}  // namespace csumtop
