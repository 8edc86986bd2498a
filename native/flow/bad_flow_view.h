// \summary: The bad-flow view of a running capture: the flows with bad checksums that the
// dashboard's flow pane, the --json correlation lines and the snapshot's `badFlows` show,
// each with its count, first time, the names of its bad checksums, its first DNS name, its
// latest frames and the bytes of the latest one. Fed with the packed bad-frame records of
// each batch (flow/analyzer.h BadFrameRecord) on JavaScript's thread; JavaScript reads the
// top flows once per interval (src/correlate/bad-flows.ts).
//
// Why native: on a flood where every bad frame is a new flow (25,000 a second in
// bench/live.ts), the JavaScript view decoded every record into objects and kept each flow
// for the next 4096 new flows, so every one of them outlived a scavenge or two: that was
// half the collector's time of the live JavaScript thread, which then stalled long enough
// for the batch queues to overflow (docs/line-rate.md, issue 14). Here a record costs a
// hash, a probe and a copy, and no object is made until top().
//
// Policy, the one the JavaScript view had (src/correlate/lru.ts LruMap; the snapshots stay
// what they were, test/unit/bad-flows.test.ts compares them with that view kept as
// test/lib/bad-flows-reference.ts):
//  - at most `cap` flows; a flow seen again becomes the most recently seen; a new flow in a
//    full view evicts the least recently seen one, counted in evicted();
//  - a flow is the decoded record's interface, outer endpoint, tunnel, VNI and inner
//    endpoint (decodeRecords in src/native/records.ts: no endpoint without IP, ports only
//    when the transport was decoded, no tunnel or VNI without an inner layer, GRE with and
//    without a key both "gre" and told apart by the VNI);
//  - its first frame gives its time and peer; its latest `recent` frames are kept, the last
//    one being its sample; the sample keeps its bytes while it is among the newest
//    `sampled_bytes_flows` to 2 x that many samples given bytes (trimmed in one pass when it
//    doubles), so bytes are bounded by the latter, not by the cap;
//  - its DNS name is the first one found among the events of the batch of one of its frames
//    (the last DNS event with a name of that frame number; frame numbers never decrease
//    within a batch, flow/events.h).
//
// Memory: the index (flow/probe_index.h: the smallest power of two >= 2 x cap buckets of 8
// bytes), cap flows of
// sizeof(ViewFlow) (240) and cap x recent ViewFrames (80 each), allocated once: 896-912 bytes
// per flow of the cap at 8 recent frames, 3.6 MiB at the 4096 flows the snapshots use
// (table_bytes(); test/unit/bad-flows.test.ts). On top of it, on the heap: a flow's DNS name
// when longer than a short string holds (at most kMaxNameBytes), and the bytes of at most
// 2 x sampled_bytes_flows samples (each at most kRecordBytes: 2 MiB at 512).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "flow/analyzer.h"
#include "flow/events.h"
#include "flow/probe_index.h"

namespace csumtop {

// A flow's identity as the JavaScript key had it, normalized so that equal keys are equal
// bytes (zero where a field does not apply).
struct ViewKey {
  uint32_t iface;
  uint32_t vni;
  uint8_t tunnel;  // the tunnel's name: TUNNELS index with both GREs at kTunnelGre; 0 none
  uint8_t has_vni, has_outer, has_inner;
  FlowEndpoint outer, inner;
};

// One of a flow's latest frames: what a record of it holds besides the flow's key.
struct ViewFrame {
  uint64_t frame_number, ts_ns;
  uint32_t caplen, wirelen;
  uint8_t direction, n_bad, pad[6];
  BadChecksumSample bad[kMaxSampleChecksums];
};

// A bad checksum's name (layer / protocol) as a code: layer << 4 | kind.
constexpr int kMaxChecksumNames = 2 * 16;

struct ViewFlow {
  ViewKey key;
  uint32_t hash;
  int32_t older, newer;  // recency list, -1 at its ends
  uint64_t count, artefacts, first_ns;
  uint8_t n_recent, head;  // ring of the flow's latest frames: head is the oldest
  uint8_t peer;            // 0 none, 1 the outer source, 2 the outer destination
  uint8_t n_names;
  uint8_t names[kMaxChecksumNames];  // in the order first seen
  bool has_dns, has_bytes;
  int64_t bytes_stamp;  // the sample's entry in the newest samples with bytes; -1 none
  std::string dns, bytes;
};

// What top() hands JavaScript per flow (offsets exported by the addon, BadFlowView.layout()):
// the flow's values, then its recent frames as n_recent BadFrameRecords, oldest first, in
// the records buffer, the last one with the sample's bytes when it has them.
struct ViewRow {
  uint64_t count, artefacts, first_ns;
  uint32_t iface;
  uint32_t dns_off;  // in the names buffer
  uint16_t dns_len;
  uint8_t has_dns, peer, n_names, n_recent, pad[2];
  uint8_t names[kMaxChecksumNames];
};

struct ViewTop {
  std::vector<ViewRow> rows;
  std::vector<BadFrameRecord> records;
  std::string bytes, names;
};

class BadFlowView {
 public:
  // cap: flows kept; recent: latest frames kept per flow (1..255); sampled_bytes_flows: see
  // above; partial_is_offload: a frame whose every bad checksum looks like transmit
  // offload counts as an artefact (files and libpcap, src/correlate/rates.ts).
  // r: the frames and the index in use from the start (live capture) or as flows come (a
  // capture file; flow/table_memory.h).
  BadFlowView(uint32_t cap, uint32_t recent, uint32_t sampled_bytes_flows, bool partial_is_offload,
              Residency r = Residency::kAtOnce);
  BadFlowView(const BadFlowView&) = delete;
  BadFlowView& operator=(const BadFlowView&) = delete;

  // One batch: its records (bytes: the batch's record bytes) and its events, for the DNS
  // names of the records' frames.
  void add(const BadFrameRecord* records, size_t n, const uint8_t* bytes, size_t bytes_len,
           const FrameEvent* events, size_t n_events, const char* names, size_t names_len);
  // The `limit` flows with the most frames, ties least recently seen first.
  void top(size_t limit, ViewTop* out) const;
  uint32_t size() const { return size_; }
  uint32_t cap() const { return cap_; }
  uint64_t evicted() const { return evicted_; }
  // What the view allocated at construction (flows, frames, index).
  size_t table_bytes() const {
    return flows_.size() * sizeof(ViewFlow) + frames_.size() * sizeof(ViewFrame) + index_.bytes();
  }
  // The interfaces of the flows kept (each once): JavaScript keeps their labels.
  std::vector<uint32_t> interfaces() const;

 private:
  struct Stamped {
    int32_t slot;
    int64_t stamp;
  };
  int32_t new_flow(const ViewKey& k, uint32_t h);
  void keep_bytes(int32_t s);
  ViewFrame* frame_at(int32_t s, int k) { return &frames_[static_cast<size_t>(s) * recent_ + k]; }
  const ViewFrame* frame_at(int32_t s, int k) const {
    return &frames_[static_cast<size_t>(s) * recent_ + k];
  }

  uint32_t cap_, recent_, sampled_bytes_flows_;
  bool partial_is_offload_;
  std::vector<ViewFlow> flows_;
  // The frames (80 bytes x recent per flow) resident as the constructor's Residency says; the
  // flows (with their strings) are made at once either way (240 bytes each).
  TableArray<ViewFrame> frames_;
  ProbeIndex index_;  // flow/probe_index.h
  RecencyList recency_;
  std::vector<Stamped> with_bytes_;  // samples given bytes, oldest first
  uint32_t used_ = 0, size_ = 0;
  int64_t stamp_ = 0;
  uint64_t evicted_ = 0;
};

}  // namespace csumtop
