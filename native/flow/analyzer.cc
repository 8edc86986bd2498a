// \summary: Per-frame decode and accounting (see analyzer.h).
#include "flow/analyzer.h"

#include <cstring>

namespace csumtop {

Analyzer::Analyzer(const AnalyzerOptions& opts) : opts_(opts), flows_(opts.max_flows) {
  if (opts_.max_records) records_.reserve(opts_.max_records < 4096 ? opts_.max_records : 4096);
}

InterfaceCounters& Analyzer::counters(uint32_t iface) {
  if (iface >= counters_.size()) counters_.resize(iface + 1);
  return counters_[iface];
}

const Frame& Analyzer::process(uint32_t iface, const uint8_t* data, uint32_t caplen,
                               uint32_t wirelen, uint64_t ts_ns, uint16_t linktype,
                               uint64_t frame_number, const OffloadHint* hint) {
  if (hint) {
    if (scratch_.empty()) scratch_.resize(kScratchSize);
    decode_live(data, caplen, wirelen, linktype, opts_.decode, *hint, scratch_.data(),
                static_cast<uint32_t>(scratch_.size()), &frame_);
  } else {
    decode_frame(data, caplen, wirelen, linktype, opts_.decode, nullptr, &frame_);
  }
  account(iface, frame_, frame_number, ts_ns, caplen, wirelen);
  return frame_;
}

void Analyzer::account(uint32_t iface, const Frame& f, uint64_t frame_number, uint64_t ts_ns,
                       uint32_t caplen, uint32_t wirelen) {
  uint64_t* v = counters(iface).v;
  v[InterfaceCounters::kFrames]++;
  v[InterfaceCounters::kBytes] += wirelen > caplen ? wirelen : caplen;
  if (f.unsupported_link) {
    v[InterfaceCounters::kUnsupported]++;
    return;
  }
  if (f.malformed != kMalformedNone) {
    v[InterfaceCounters::kMalformed]++;
    v[InterfaceCounters::kMalformedBase + f.malformed]++;
  }
  if (f.truncated) v[InterfaceCounters::kTruncated]++;
  uint32_t bad = 0;
  for (int i = 0; i < f.ncsum; i++) {
    const CsumEntry& e = f.csum[i];
    const uint32_t layer = e.depth == 0 ? kLayerOuter : kLayerInner;
    v[InterfaceCounters::csum_slot(layer, e.kind, e.status)]++;
    if (e.status == kStatusBad) {
      bad++;
      if (e.looks_partial) v[InterfaceCounters::kLooksPartial]++;
    }
  }
  if (!bad) return;
  v[InterfaceCounters::kBadFrames]++;
  v[InterfaceCounters::kBadChecksums] += bad;
  flows_.add(f, iface, frame_number, ts_ns);
  if (!opts_.max_records) return;
  if (records_.size() >= opts_.max_records) {
    records_dropped_++;
    return;
  }
  records_.emplace_back();
  BadFrameRecord& r = records_.back();
  std::memset(&r, 0, sizeof r);
  r.frame_number = frame_number;
  r.ts_ns = ts_ns;
  r.iface = iface;
  r.caplen = caplen;
  r.wirelen = wirelen;
  r.n_layers = f.nlayers;
  FlowKey key;
  flow_key_of(f, iface, &key);
  r.outer = key.outer;
  r.inner = key.inner;
  r.tunnel = key.tunnel;
  r.vni = key.vni;
  r.has_inner = key.has_inner;
  r.n_bad = static_cast<uint8_t>(bad_samples_of(f, r.bad));
}

}  // namespace csumtop
