// \summary: Offload-aware verdicts for live capture: pending (CHECKSUM_PARTIAL),
// validated (CHECKSUM_UNNECESSARY) and GSO super-packets.
//
// The kernel tells AF_PACKET per frame whether the checksum is still to be computed
// (TP_STATUS_CSUMNOTREADY) or already verified (TP_STATUS_CSUM_VALID); see tpacket_rcv()
// in net/packet/af_packet.c. With PACKET_VNET_HDR it also says where the pending
// checksum lives (virtio_net_hdr csum_start/csum_offset, filled by
// virtio_net_hdr_from_skb()). A CHECKSUM_PARTIAL field holds the pseudo-header sum and
// the device finishes it by summing from csum_start to the end of the packet and storing
// the complement at csum_start + csum_offset (include/linux/skbuff.h, "CHECKSUM_PARTIAL").
#include "decode/decode_internal.h"

namespace csumtop {

namespace {

// A checksum the kernel's offload flags can describe: a transport one. Never the IPv4
// header (always complete in software) nor GRE's (gre_build_header() computes it in
// full; only segmentation redoes it, see transports_unverifiable()).
bool offloadable(const CsumEntry& e) {
  return e.kind != kKindIPv4 && e.kind != kKindGre && e.status != kStatusAbsent;
}

// The innermost transport checksum: where the stack leaves the pending one when the
// kernel gives no csum_start (no vnet header). VXLAN with local checksum offload
// (Documentation/networking/checksum-offloads.rst, "LCO") keeps the inner one pending.
const CsumEntry* innermost_l4(const Frame& f) {
  const CsumEntry* best = nullptr;
  for (int i = 0; i < f.ncsum; i++) {
    const CsumEntry& e = f.csum[i];
    if (!offloadable(e)) continue;
    if (!best || e.depth >= best->depth) best = &e;
  }
  return best;
}

CsumEntry* entry_at(Frame* f, uint32_t field_offset) {
  for (int i = 0; i < f->ncsum; i++)
    if (f->csum[i].field_offset == field_offset && f->csum[i].kind != kKindIPv4) return &f->csum[i];
  return nullptr;
}

// Marks every transport checksum of the frame unverifiable (GSO, or completion impossible);
// GRE's too: segmentation recomputes it per segment (SKB_GSO_GRE_CSUM, gre_gso_segment()).
void transports_unverifiable(Frame* f, UnverifiableWhy why) {
  for (int i = 0; i < f->ncsum; i++) {
    CsumEntry& e = f->csum[i];
    if (e.kind == kKindIPv4 || e.status == kStatusAbsent) continue;
    e.status = kStatusUnverifiable;
    e.why = why;
  }
}

void mark_validated(Frame* f) {
  // Only the outermost transport checksum is covered (csum_level 0 of
  // CHECKSUM_UNNECESSARY); inner ones keep their own verdicts. And the flag is only
  // believed where our own verification does not contradict it: after a VXLAN device
  // decapsulates a carrier whose outer checksum was verified, skb->csum_valid is still
  // set, so TP_STATUS_CSUM_VALID (tpacket_rcv: skb_csum_unnecessary()) shows on the
  // inner packet captured on flannel.1 although nobody checked it, and the kernel then
  // drops it for a bad checksum (measured in test/lab/vxlan-live.test.ts). A checksum we
  // find bad stays bad.
  for (int i = 0; i < f->ncsum; i++) {
    CsumEntry& e = f->csum[i];
    if (e.depth == 0 && offloadable(e)) {
      if (e.status == kStatusOk || e.status == kStatusUnverifiable) e.status = kStatusValidated;
      return;
    }
  }
}

}  // namespace

void decode_live(const uint8_t* data, uint32_t caplen, uint32_t wirelen, uint16_t linktype,
                 const DecodeOptions& opts, const OffloadHint& hint, uint8_t* scratch,
                 uint32_t scratch_size, Frame* out) {
  decode_frame(data, caplen, wirelen, linktype, opts, &hint, out);
  if (hint.guess_partial) {
    // smoltcp's verify_partial_checksum accepts the same thing; Suricata instead stops
    // validating when too many packets fail. Either way it is a heuristic, and every
    // output of the libpcap backend says so.
    for (int i = 0; i < out->ncsum; i++) {
      CsumEntry& e = out->csum[i];
      if (e.status == kStatusBad && e.looks_partial) e.status = kStatusPending;
    }
    return;
  }
  if (hint.gso) {
    // Segmentation recomputes every transport checksum per segment (and the device
    // fills the pending one): nothing in the super-packet's fields is final.
    transports_unverifiable(out, kWhyOversize);
    return;
  }
  if (!hint.csum_not_ready) {
    if (hint.csum_valid) mark_validated(out);
    return;
  }
  uint32_t start, field;
  if (hint.has_vnet) {
    start = hint.csum_start;
    field = static_cast<uint32_t>(hint.csum_start) + hint.csum_offset;
  } else {
    const CsumEntry* e = innermost_l4(*out);
    if (!e) return;  // nothing we decode is pending
    field = e->field_offset;
    const uint8_t depth = e->depth;
    start = out->layer[depth].l4_offset;
  }
  if (field < start || field + 2 > caplen || caplen < wirelen || caplen > scratch_size) {
    // The device sums to the end of the packet: without all of it captured (or room to
    // copy it) the pending value, and every checksum covering it, cannot be known.
    CsumEntry* p = entry_at(out, field);
    for (int i = 0; i < out->ncsum; i++) {
      CsumEntry& e = out->csum[i];
      if (e.kind == kKindIPv4 || e.status == kStatusAbsent) continue;  // GRE covers it too
      if (&e == p) {
        e.status = kStatusPending;
      } else {
        e.status = kStatusUnverifiable;
        e.why = kWhyOffloadOther;
      }
    }
    return;
  }
  std::memcpy(scratch, data, caplen);
  const uint32_t sum = csum::partial(scratch + start, caplen - start, 0);
  uint16_t value = csum::finish(sum);
  const uint16_t original = decode::be16(data + field);
  // UDP transmits a computed zero as all ones (RFC 768); the kernel's udp checksum
  // helpers (csum_fold via udp_set_csum) do the same, TCP has no such rule but 0xffff
  // and 0 are the same ones-complement value.
  if (value == 0) value = 0xffff;
  scratch[field] = static_cast<uint8_t>(value >> 8);
  scratch[field + 1] = static_cast<uint8_t>(value);
  decode_frame(scratch, caplen, wirelen, linktype, opts, &hint, out);
  CsumEntry* p = entry_at(out, field);
  if (p) {
    p->status = kStatusPending;
    p->found = original;
    p->expected = value;
    p->looks_partial = 0;
  }
  if (hint.csum_valid) mark_validated(out);
}

}  // namespace csumtop
