// \summary: A bounded table of flows that carried bad checksums (interface, outer tuple,
// tunnel and VNI, inner tuple), with counts, first/last time and an example frame.
//
// Open addressing with linear probing in a fixed array: no allocation after
// construction. When the table is full a new flow is not kept and `evicted()` counts it;
// its frames are still counted per interface (architecture.md, "Bounded everything").
#pragma once
#include <cstdint>
#include <vector>

#include "decode/frame.h"

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
};

constexpr int kMaxSampleChecksums = 4;

struct FlowKey {
  uint32_t iface;
  uint8_t tunnel, has_inner, pad[2];
  uint32_t vni;
  FlowEndpoint outer, inner;
};

struct BadFlow {
  FlowKey key{};
  uint64_t count = 0;
  uint64_t first_ns = 0, last_ns = 0;
  uint64_t example_frame = 0;
  uint32_t bad_mask = 0;  // bit (layer * kNumKinds + kind) for every bad checksum seen
  uint8_t n_example = 0;
  BadChecksumSample example[kMaxSampleChecksums];
  uint8_t used = 0;
};

// Fills the endpoint of layer `l` (ports only when the transport header was decoded).
void endpoint_of(const IpLayer& l, FlowEndpoint* ep);
// Builds the flow key of a decoded frame: layer 0 outside, the innermost layer inside.
void flow_key_of(const Frame& f, uint32_t iface, FlowKey* key);
// Up to kMaxSampleChecksums bad checksums of the frame; returns how many.
int bad_samples_of(const Frame& f, BadChecksumSample* out);

class BadFlowTable {
 public:
  explicit BadFlowTable(uint32_t max_flows);
  // Records one bad frame of this flow.
  void add(const Frame& f, uint32_t iface, uint64_t frame_number, uint64_t ts_ns);
  uint64_t evicted() const { return evicted_; }
  uint32_t size() const { return size_; }
  // Calls fn(const BadFlow&) for every flow, in no particular order.
  template <typename Fn>
  void for_each(Fn fn) const {
    for (const BadFlow& b : slots_)
      if (b.used) fn(b);
  }
  void clear();

 private:
  std::vector<BadFlow> slots_;
  uint32_t mask_ = 0;
  uint32_t size_ = 0;
  uint32_t max_ = 0;
  uint64_t evicted_ = 0;
};

}  // namespace csumtop
