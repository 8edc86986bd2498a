// \summary: The carrier-flow table of the correlation (issue 14, step 1 of
// docs/line-rate.md): per VXLAN/Geneve carrier flow its packets, bytes, bad checksums,
// first DNS query name, first and last time, interface place, tunnel, VNI and both
// endpoints, folded from a batch of FrameEvents in one call instead of one JavaScript
// pass per event.
//
// Policy (the one LruMap, then SlotTable, had in JavaScript; the reports must stay byte for
// byte those of the JavaScript table): at most `cap` flows; a flow seen again becomes the
// most recently seen; a new flow in a full table evicts the least recently seen one, and
// evictions are counted ("Bounded everything", docs/design.md principle 4).
//
// Layout: an array of `cap` CarrierFlowSlots (the flow's values, its key and its links in
// the recency list) and an index of buckets (flow/probe_index.h), open addressing with linear
// probing and deletion by backward shift (Knuth, TAOCP vol. 3, 6.4, algorithms L and R: no
// tombstones, so a table that evicts on every frame never degrades), with the smallest
// power of two >= 2 x cap buckets (a load of at most 1/2). Live, both are made resident once
// at construction (flow/table_memory.h), so the bound is resident from the start instead of
// growing page by page as flows arrive; a capture file's come as flows do.
//
// Speed (a busy node's DNS makes every carrier a new flow, so every event is a miss that
// evicts): a bucket holds its key's hash next to the slot number, so probing and the
// backward shift never read a slot (each slot read was a cache miss: 7 or so per new flow,
// ~400 ns); add() prefetches the buckets of the events a few places ahead and the slots
// the next evictions will touch (measured on a million new flows at the default cap: 400 ns
// a new flow before, see docs/line-rate.md for after). Bytes per flow of the cap:
//
//   sizeof(CarrierFlowSlot) (216) + 8 x buckets / cap (16..32) <= kCarrierFlowBytesPerEntry (248)
//
// plus, for a flow whose first DNS query name is longer than kCarrierNameInline bytes (rare:
// cluster names are mostly under 64), that name as a std::string on the side (at most
// 1020 bytes: 255 bytes on the wire, RFC 1035 3.1, each byte at most 4 in dig's
// escaped form, native/flow/events.cc parse_dns).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "flow/events.h"
#include "flow/places.h"
#include "flow/probe_index.h"
#include "flow/table_memory.h"

namespace csumtop {

// Bytes of a query name kept in the slot itself; longer names go to the side map.
constexpr size_t kCarrierNameInline = 64;

// Trivial: the slot array starts as zero bytes.
struct CarrierFlowSlot {
  double key;  // FrameEvent::flow, the native 53-bit flow key
  uint64_t packets, bytes;
  uint64_t first_ns, last_ns;
  uint32_t bad_outer, bad_inner;
  uint32_t place;  // PlaceMap's place of the interface the flow was first seen on
  uint32_t vni;
  int32_t older, newer;  // recency list; -1 at its ends
  FlowEndpoint outer, inner;
  uint16_t name_len;  // full length (the side map holds a name over kCarrierNameInline)
  uint8_t tunnel;
  uint8_t has_name;  // a DNS query was seen (the name may be empty)
  char name[kCarrierNameInline];
};

// One row of top(): the buffer holds a CarrierFlowTopHeader, `count` rows, then the
// names the rows point at. Offsets are exported to JavaScript (carrier_flows_napi.cc).
struct CarrierFlowTopHeader {
  uint32_t count;
  uint32_t pad;
};
struct CarrierFlowRow {
  uint64_t packets, bytes;
  uint64_t first_ns, last_ns;
  uint32_t bad_outer, bad_inner;
  uint32_t place, vni;
  uint32_t name_off;  // from the start of the buffer
  uint16_t name_len;
  uint8_t tunnel;
  uint8_t has_name;
  FlowEndpoint outer, inner;
};

// The bound of the header's formula (checked by test/unit/slot-table.test.ts against
// what a table allocates).
constexpr size_t kCarrierFlowBytesPerEntry = 248;

class CarrierFlowTable {
 public:
  // cap >= 1 (the caller checks): the table's flows, allocated here once.
  // r: the table's memory in use from the start (live capture) or as flows come (a capture
  // file; flow/table_memory.h).
  explicit CarrierFlowTable(uint32_t cap, Residency r = Residency::kAtOnce);

  // Folds the carrier events of one batch (others are skipped) as the JavaScript table
  // did event by event. `names`: the batch's name buffer (FrameEvent::name_off/len point
  // into it; a range past its end is cut at the end, as Buffer.toString cuts it).
  // `places`: the batch's interfaces (the place of a new flow's interface).
  void add(const FrameEvent* ev, size_t n, const char* names, size_t names_len, PlaceMap& places);

  // The `limit` flows with the most bad carriers (outer + inner), then the most packets;
  // ties least recently seen first (the JavaScript table's stable sort of its recency
  // order). Packed as the header above says, into *out (replaced).
  void top(size_t limit, std::vector<uint8_t>* out) const;

  uint32_t size() const { return size_; }
  uint32_t cap() const { return cap_; }
  uint64_t evicted() const { return evicted_; }
  // Bytes allocated for the slots and the index (not the side names).
  size_t table_bytes() const { return slots_.size() * sizeof(CarrierFlowSlot) + index_.bytes(); }

 private:
  static uint32_t hash(double key);
  int32_t find(double key, uint32_t h) const;
  void prefetch_eviction() const;
  int32_t add_slot(double key, uint32_t h);

  uint32_t cap_ = 0;
  TableArray<CarrierFlowSlot> slots_;
  ProbeIndex index_;  // flow/probe_index.h
  RecencyList recency_;
  uint32_t used_ = 0;  // slots handed out so far; past cap_ a new flow evicts
  uint32_t size_ = 0;
  uint64_t evicted_ = 0;
  std::unordered_map<int32_t, std::string> long_names_;  // by slot
};

}  // namespace csumtop
