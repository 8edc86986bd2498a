// \summary: Bounded bad-flow table (see bad_flows.h).
#include "flow/bad_flows.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace csumtop {

static_assert(sizeof(FlowEndpoint) == 40, "FlowEndpoint must have no padding: it is hashed");
static_assert(sizeof(FlowKey) == 92, "FlowKey must have no padding: it is hashed");
static_assert(sizeof(BadFlow) == 192,
              "bad_flows.h states the bytes per flow: update it with the size");

void endpoint_of(const IpLayer& l, FlowEndpoint* ep) {
  std::memset(ep, 0, sizeof *ep);
  ep->family = l.family;
  ep->proto = l.proto;
  ep->has_ports = l.l4_offset != 0;
  if (ep->has_ports) {
    ep->sport = l.sport;
    ep->dport = l.dport;
  }
  std::memcpy(ep->src, l.src, 16);
  std::memcpy(ep->dst, l.dst, 16);
}

void flow_key_of(const Frame& f, uint32_t iface, FlowKey* key) {
  std::memset(key, 0, sizeof *key);
  key->iface = iface;
  if (f.nlayers == 0) return;
  endpoint_of(f.layer[0], &key->outer);
  if (f.nlayers > 1) {
    const IpLayer& in = f.layer[f.nlayers - 1];
    key->has_inner = 1;
    key->tunnel = f.layer[1].tunnel;
    key->vni = f.layer[1].vni;
    endpoint_of(in, &key->inner);
  }
}

int bad_samples_of(const Frame& f, BadChecksumSample* out) {
  int n = 0;
  for (int i = 0; i < f.ncsum && n < kMaxSampleChecksums; i++) {
    const CsumEntry& e = f.csum[i];
    if (e.status != kStatusBad) continue;
    out[n].depth = e.depth;
    out[n].kind = e.kind;
    out[n].looks_partial = e.looks_partial;
    out[n].pad = 0;
    out[n].found = e.found;
    out[n].expected = e.expected;
    out[n].offset = e.field_offset;
    n++;
  }
  return n;
}

uint64_t fnv1a(const void* data, size_t n) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return h;
}

// FNV-1a: bad frames are the rare case, so simplicity beats speed here.
uint64_t flow_hash(const FlowKey& k) { return fnv1a(&k, sizeof k); }

void summarize_bad(const Frame& f, uint32_t iface, BadFrameSummary* out) {
  flow_key_of(f, iface, &out->key);
  out->hash = flow_hash(out->key);
  uint32_t mask = 0;
  for (int j = 0; j < f.ncsum; j++) {
    const CsumEntry& e = f.csum[j];
    if (e.status == kStatusBad) {
      const uint32_t layer = e.depth == 0 ? kLayerOuter : kLayerInner;
      mask |= 1u << (layer * kNumKinds + e.kind);
    }
  }
  out->bad_mask = mask;
  out->n_layers = f.nlayers;
  std::memset(out->samples, 0, sizeof out->samples);
  out->n_samples = static_cast<uint8_t>(bad_samples_of(f, out->samples));
}

BadFlowTable::BadFlowTable(uint32_t max_flows, bool populate) : max_(max_flows ? max_flows : 1) {
  uint32_t cap = 16;
  while (cap < max_ * 2) cap <<= 1;  // load factor at most 1/2
  // Live capture populates both arrays at once: left to be provided as flows land,
  // hostile traffic whose every bad frame is a new flow touched a new page per frame and
  // resident memory climbed for as long as the table filled (the hostile lab's
  // flat-memory test: +26 MB over 20 s at the default cap, when the flows were in the
  // slots). The bound is the same; it is resident from the start, where the DaemonSet's
  // limit can be checked against it. A capture file has an end: there the pages come as
  // flows land (the flow array is filled from its start, so ~21 flows a page).
  index_.assign(cap, populate ? Residency::kAtOnce : Residency::kPageByPage);
  flows_.assign(max_, populate ? Residency::kAtOnce : Residency::kPageByPage);
  mask_ = cap - 1;
}

size_t BadFlowTable::resident_bytes() const {
  return index_.resident_bytes() + flows_.resident_bytes();
}

void BadFlowTable::clear() {
  for (uint32_t i : used_) index_[i] = 0;
  used_.clear();
  used_sorted_ = true;
  size_ = 0;
  evicted_ = 0;
}

void BadFlowTable::sort_used() const {
  if (used_sorted_) return;
  std::sort(used_.begin(), used_.end());
  used_sorted_ = true;
}

void BadFlowTable::add(const BadFrameSummary& s, uint64_t frame_number, uint64_t ts_ns) {
  const FlowKey& key = s.key;
  // The same slots in the same probe order as when the flows were in the slots, so
  // for_each() (slot order) and every report are unchanged.
  uint32_t i = static_cast<uint32_t>(s.hash) & mask_;
  for (;; i = (i + 1) & mask_) {
    const uint32_t at = index_[i];
    BadFlow* b;
    if (at == 0) {
      if (size_ >= max_) {
        evicted_++;
        return;
      }
      used_.push_back(i);  // before anything changes: push_back may throw bad_alloc
      used_sorted_ = used_.size() == 1 || (used_sorted_ && used_[used_.size() - 2] < i);
      b = &flows_[size_];
      b->used = 1;
      b->key = key;
      b->count = 0;
      b->first_ns = ts_ns;
      b->last_ns = ts_ns;
      b->bad_mask = 0;
      b->example_frame = frame_number;
      b->n_example = s.n_samples;
      std::memcpy(b->example, s.samples, sizeof b->example);
      index_[i] = ++size_;
    } else {
      b = &flows_[at - 1];
      if (std::memcmp(&b->key, &key, sizeof key) != 0) continue;
    }
    b->count++;
    if (ts_ns < b->first_ns) b->first_ns = ts_ns;
    if (ts_ns > b->last_ns) b->last_ns = ts_ns;
    b->bad_mask |= s.bad_mask;
    return;
  }
}

}  // namespace csumtop
