// \summary: Per-frame decode and accounting (see analyzer.h).
#include "flow/analyzer.h"

#include <cstring>

namespace csumtop {

Analyzer::Analyzer(const AnalyzerOptions& opts)
    : opts_(opts), flows_(opts.max_flows, opts.populate_flows), events_(opts.events) {
  if (opts_.max_records) records_.reserve(opts_.max_records < 4096 ? opts_.max_records : 4096);
}

InterfaceCounters& Analyzer::counters(uint32_t iface) {
  if (iface == cached_id_) return *cached_;
  InterfaceCounters& c = counters_[iface];
  if (iface >= id_end_) id_end_ = iface + 1;
  cached_id_ = iface;
  cached_ = &c;
  return c;
}

void Analyzer::release(uint32_t iface) {
  counters_.erase(iface);
  if (iface == cached_id_) {
    cached_id_ = UINT32_MAX;
    cached_ = nullptr;
  }
  events_.set_plain(iface, false);
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
  account(iface, frame_, frame_number, ts_ns, caplen, wirelen, data);
  if (events_.enabled())
    events_.observe(frame_, data, caplen, wirelen, iface, ts_ns, frame_number, direction_);
  return frame_;
}

uint32_t count_frame(InterfaceCounters& c, const Frame& f, uint32_t caplen, uint32_t wirelen,
                     bool received) {
  uint64_t* v = c.v;
  v[InterfaceCounters::kFrames]++;
  v[InterfaceCounters::kBytes] += wirelen > caplen ? wirelen : caplen;
  if (f.undecoded != kUndecodedNone) {
    // Counted, and the checksums verified before the part not decoded count as well.
    v[InterfaceCounters::kUnsupported]++;
    v[InterfaceCounters::kUndecodedBase + f.undecoded]++;
  }
  if (f.malformed != kMalformedNone) {
    v[InterfaceCounters::kMalformed]++;
    v[InterfaceCounters::kMalformedBase + f.malformed]++;
  }
  if (f.truncated) v[InterfaceCounters::kTruncated]++;
  uint32_t bad = 0;
  uint32_t partial = 0;
  for (int i = 0; i < f.ncsum; i++) {
    const CsumEntry& e = f.csum[i];
    const uint32_t layer = e.depth == 0 ? kLayerOuter : kLayerInner;
    v[InterfaceCounters::csum_slot(layer, e.kind, e.status)]++;
    if (e.status == kStatusBad) {
      bad++;
      if (e.looks_partial) {
        partial++;
        v[InterfaceCounters::kLooksPartial]++;
        v[InterfaceCounters::partial_slot(layer, e.kind)]++;
      }
      if (received && e.kind != kKindIPv4) v[InterfaceCounters::kBadReceivedL4]++;
    }
  }
  if (!bad) return 0;
  v[InterfaceCounters::kBadFrames]++;
  if (partial == bad) v[InterfaceCounters::kPartialOnlyFrames]++;
  v[InterfaceCounters::kBadChecksums] += bad;
  return bad;
}

void count_good(InterfaceCounters& c, const GoodFrame& g, uint32_t caplen, uint32_t wirelen) {
  uint64_t* v = c.v;
  v[InterfaceCounters::kFrames]++;
  v[InterfaceCounters::kBytes] += wirelen > caplen ? wirelen : caplen;
  for (int i = 0; i < g.n; i++) {
    v[InterfaceCounters::csum_slot(i < 2 ? kLayerOuter : kLayerInner, g.kind[i], g.status[i])]++;
  }
}

uint32_t decode_and_count(const uint8_t* data, uint32_t caplen, uint32_t wirelen, uint16_t linktype,
                          const DecodeOptions& opts, InterfaceCounters& c, Frame* frame) {
  GoodFrame g;
  if (!decode_frame_or_good(data, caplen, wirelen, linktype, opts, frame, &g)) {
    count_good(c, g, caplen, wirelen);
    return 0;
  }
  return count_frame(c, *frame, caplen, wirelen);
}

uint32_t Analyzer::process_file(uint32_t iface, const uint8_t* data, uint32_t caplen,
                                uint32_t wirelen, uint64_t ts_ns, uint16_t linktype,
                                uint64_t frame_number) {
  if (events_.enabled()) {
    // Correlation needs every frame's layers: no counting-only shortcut.
    decode_frame(data, caplen, wirelen, linktype, opts_.decode, nullptr, &frame_);
    const uint32_t n = count_frame(counters(iface), frame_, caplen, wirelen);
    if (n != 0) {
      BadFrameSummary s;
      summarize_bad(frame_, iface, &s);
      keep_bad(s, iface, frame_number, ts_ns, caplen, wirelen, data);
    }
    events_.observe(frame_, data, caplen, wirelen, iface, ts_ns, frame_number, 0xff);
    return n;
  }
  const uint32_t bad =
      decode_and_count(data, caplen, wirelen, linktype, opts_.decode, counters(iface), &frame_);
  if (bad == 0) return 0;
  BadFrameSummary s;
  summarize_bad(frame_, iface, &s);
  keep_bad(s, iface, frame_number, ts_ns, caplen, wirelen, data);
  return bad;
}

void Analyzer::account(uint32_t iface, const Frame& f, uint64_t frame_number, uint64_t ts_ns,
                       uint32_t caplen, uint32_t wirelen, const uint8_t* data) {
  // 4: PACKET_OUTGOING (linux/if_packet.h); files leave direction_ unknown (0xff).
  if (count_frame(counters(iface), f, caplen, wirelen, direction_ != 4) == 0) return;
  BadFrameSummary s;
  summarize_bad(f, iface, &s);
  keep_bad(s, iface, frame_number, ts_ns, caplen, wirelen, data);
}

void Analyzer::add_counters(uint32_t iface, const InterfaceCounters& c) {
  uint64_t* v = counters(iface).v;
  for (uint32_t j = 0; j < InterfaceCounters::kStride; j++) v[j] += c.v[j];
}

void Analyzer::keep_bad(const BadFrameSummary& s, uint32_t iface, uint64_t frame_number,
                        uint64_t ts_ns, uint32_t caplen, uint32_t wirelen, const uint8_t* data) {
  flows_.add(s, frame_number, ts_ns);
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
  r.n_layers = s.n_layers;
  r.outer = s.key.outer;
  r.inner = s.key.inner;
  r.tunnel = s.key.tunnel;
  r.vni = s.key.vni;
  r.has_inner = s.key.has_inner;
  r.n_bad = s.n_samples;
  std::memcpy(r.bad, s.samples, sizeof r.bad);
  r.direction = direction_;
  if (opts_.record_bytes && data != nullptr) {
    const uint32_t n = caplen < kRecordBytes ? caplen : kRecordBytes;
    if (record_bytes_.size() + n <= kRecordBytesPerDrain) {
      r.bytes_off = static_cast<uint32_t>(record_bytes_.size());
      r.bytes_len = n;
      record_bytes_.append(reinterpret_cast<const char*>(data), n);
    }
  }
}

}  // namespace csumtop
