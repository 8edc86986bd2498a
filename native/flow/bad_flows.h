// \summary: A bounded table of flows that carried bad checksums (interface, outer tuple,
// tunnel and VNI, inner tuple), with counts, first/last time and an example frame.
//
// Open addressing with linear probing over an index of 4-byte entry numbers; the flows
// themselves are in a dense array, in the order they were kept. When the table is full a
// new flow is not kept (the first max_flows flows stay: they are the start of the
// incident) and `evicted()` counts every frame of a flow not kept, so it is at least the
// number of flows not kept, and equal to it when each of them sent one bad frame; the
// frames are still counted per interface (docs/design.md, "Bounded everything").
//
// Memory, per capture thread: the index has the smallest power of two >= 2 * max_flows
// slots of 4 bytes (8 to 16 bytes per flow of the cap), the flow array max_flows x
// sizeof(BadFlow) = 192 bytes, plus 4 bytes per kept flow in used_ (8 once the vector
// has doubled): at most 216 bytes per flow of the cap (src/correlate/limits.ts; 13.5 MiB
// for the default 65536; it was 768 with the flows in the slots themselves, issue 14). Both arrays
// are TableArrays (flow/table_memory.h), mapped once, so nothing is allocated or moved while flows
// are added. With
// `populate` (live capture) they are resident from the start and flat after (bad_flows.cc says
// why); without it (a capture file) a page of the flow array becomes resident when the first flow
// lands on it, so the table costs what the file's bad flows need (10,010 flows: 2.4 MB, not 24).
// The used slots are listed on the side so that for_each() never walks the empty rest.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "decode/frame.h"
#include "flow/table_memory.h"

namespace csumtop {

// Trivial types (no initialisers): they are cleared with memset and hashed as bytes.
struct FlowEndpoint {
  uint8_t family, proto, has_ports, pad;
  uint16_t sport, dport;
  uint8_t src[16], dst[16];
};

struct BadChecksumSample {
  uint8_t depth, kind, looks_partial, pad;
  uint16_t found, expected;
  uint32_t offset;  // of the checksum field in the frame (hex dumps mark it)
};

constexpr int kMaxSampleChecksums = 4;

struct FlowKey {
  uint32_t iface;
  uint8_t tunnel, has_inner, pad[2];
  uint32_t vni;
  FlowEndpoint outer, inner;
};

// Trivial as well: the flow array starts out as zero bytes.
struct BadFlow {
  FlowKey key;
  uint64_t count;
  uint64_t first_ns, last_ns;
  uint64_t example_frame;
  uint32_t bad_mask;  // bit (layer * kNumKinds + kind) for every bad checksum seen
  uint8_t n_example;
  BadChecksumSample example[kMaxSampleChecksums];
  uint8_t used;
};

// What the flow table and the bad-frame records need of one bad frame, computed where
// the frame is decoded (possibly another thread) and applied later, in file order.
struct BadFrameSummary {
  FlowKey key;
  uint64_t hash;      // flow_hash(key)
  uint32_t bad_mask;  // bit (layer * kNumKinds + kind) for every bad checksum
  uint8_t n_samples;
  uint8_t n_layers;
  BadChecksumSample samples[kMaxSampleChecksums];
};

// Fills the endpoint of layer `l` (ports only when the transport header was decoded).
void endpoint_of(const IpLayer& l, FlowEndpoint* ep);
// Builds the flow key of a decoded frame: layer 0 outside, the innermost layer inside.
void flow_key_of(const Frame& f, uint32_t iface, FlowKey* key);
// Up to kMaxSampleChecksums bad checksums of the frame; returns how many.
int bad_samples_of(const Frame& f, BadChecksumSample* out);
// FNV-1a over n bytes (the keys of the bad-flow tables: trivial structs, zero where unused).
uint64_t fnv1a(const void* data, size_t n);
uint64_t flow_hash(const FlowKey& k);
// The summary of a frame with at least one bad checksum.
void summarize_bad(const Frame& f, uint32_t iface, BadFrameSummary* out);

class BadFlowTable {
 public:
  // populate: make both arrays resident now (live capture) rather than as flows land.
  explicit BadFlowTable(uint32_t max_flows, bool populate = true);
  BadFlowTable(const BadFlowTable&) = delete;
  BadFlowTable& operator=(const BadFlowTable&) = delete;
  // Records one bad frame of this flow.
  void add(const BadFrameSummary& s, uint64_t frame_number, uint64_t ts_ns);
  uint64_t evicted() const { return evicted_; }  // bad frames of flows not kept
  uint32_t capacity() const { return max_; }
  uint32_t size() const { return size_; }
  // Calls fn(const BadFlow&) for every flow, in slot order (no meaningful order, but
  // the same for the same input, and the order of the table before its flows moved out
  // of the slots: reports list flows of equal count and first time in this order).
  template <typename Fn>
  void for_each(Fn fn) const {
    sort_used();
    for (uint32_t i : used_) fn(flows_[index_[i] - 1]);
  }
  void clear();
  // Bytes mapped for the index and the flow array (the bound), and how many of them are
  // resident now (mincore(2)): tests and the memory figures of docs/line-rate.md.
  size_t mapped_bytes() const { return index_.bytes() + flows_.bytes(); }
  size_t resident_bytes() const;

 private:
  void sort_used() const;

  TableArray<uint32_t> index_;          // mask_ + 1 slots: 0 empty, else 1 + the flow's number
  TableArray<BadFlow> flows_;           // max_ flows, the first size_ in use
  mutable std::vector<uint32_t> used_;  // indices of used slots
  mutable bool used_sorted_ = true;
  uint32_t mask_ = 0;
  uint32_t size_ = 0;
  uint32_t max_ = 0;
  uint64_t evicted_ = 0;
};

}  // namespace csumtop
