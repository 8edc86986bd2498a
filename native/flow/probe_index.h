// \summary: What the fixed-size tables whose least recently seen entry goes have in common
// (the carrier flows, carrier_flows.h; the live bad-flow view, bad_flow_view.h), and of the
// open transactions (txn_table.h, whose entries go only when decided): an index
// from a key's hash to a slot number, and the list of the slots from the least to the most
// recently seen.
//
// The index: open addressing with linear probing and deletion by backward shift (Knuth,
// TAOCP vol. 3, 6.4, algorithms L and R: no tombstones, so a table that evicts on every
// insertion never degrades), the smallest power of two >= 2 x cap buckets (a load of at
// most 1/2). A bucket holds its slot's number and its key's full 32-bit hash, so probing and
// the backward shift never read a slot: each slot read was a cache miss (measured on the
// carrier-flow table: ~7 misses and 400 ns per new flow before, docs/line-rate.md). The
// buckets are zero, resident from the start or as written (Residency, flow/table_memory.h).
#pragma once
#include <cstddef>
#include <cstdint>

#include "flow/table_memory.h"

namespace csumtop {

class ProbeIndex {
 public:
  struct Bucket {
    uint32_t slot1;  // slot + 1; 0 empty
    uint32_t hash;   // of the slot's key; hash & mask is its home bucket
  };

  explicit ProbeIndex(uint32_t cap, Residency r = Residency::kAtOnce) {
    uint32_t n = 2;
    while (n < 2 * static_cast<uint64_t>(cap)) n *= 2;
    buckets_.assign(n, r);
    mask_ = n - 1;
  }

  // The slot whose key has hash h and for which same(slot) holds; -1 when none. Only the
  // slots of buckets whose hash agrees are read.
  template <typename Same>
  int32_t find(uint32_t h, Same same) const {
    for (uint32_t i = h & mask_;; i = (i + 1) & mask_) {
      const Bucket b = buckets_[i];
      if (b.slot1 == 0) return -1;
      if (b.hash == h && same(static_cast<int32_t>(b.slot1 - 1)))
        return static_cast<int32_t>(b.slot1 - 1);
    }
  }

  void insert(int32_t s, uint32_t h) {
    uint32_t i = h & mask_;
    while (buckets_[i].slot1 != 0) i = (i + 1) & mask_;
    buckets_[i] = Bucket{static_cast<uint32_t>(s) + 1, h};
  }

  // Removes slot s, whose key has hash h.
  void remove(int32_t s, uint32_t h) {
    const uint32_t slot1 = static_cast<uint32_t>(s) + 1;
    uint32_t i = h & mask_;
    while (buckets_[i].slot1 != slot1) i = (i + 1) & mask_;
    // Backward shift: a later member of the probe run moves into the hole unless its home
    // bucket lies cyclically within (hole, j], where a lookup would no longer reach it.
    for (uint32_t j = (i + 1) & mask_; buckets_[j].slot1 != 0; j = (j + 1) & mask_) {
      const uint32_t home = buckets_[j].hash & mask_;
      if (((j - home) & mask_) >= ((j - i) & mask_)) {
        buckets_[i] = buckets_[j];
        i = j;
      }
    }
    buckets_[i] = Bucket{0, 0};
  }

  // The slot of the first bucket of h's probe run with hash h (for a prefetch: probably the
  // key's), -1 when none.
  int32_t first_with_hash(uint32_t h) const {
    for (uint32_t i = h & mask_;; i = (i + 1) & mask_) {
      const Bucket b = buckets_[i];
      if (b.slot1 == 0) return -1;
      if (b.hash == h) return static_cast<int32_t>(b.slot1 - 1);
    }
  }

  // The home bucket of hash h, for a prefetch.
  const Bucket* home(uint32_t h) const { return &buckets_[h & mask_]; }
  size_t bytes() const { return buckets_.size() * sizeof(Bucket); }

 private:
  TableArray<Bucket> buckets_;
  uint32_t mask_ = 0;
};

// The slots from the least (oldest) to the most recently seen (newest), linked through
// each slot's `older` and `newer` (-1 at the ends).
struct RecencyList {
  int32_t oldest = -1, newest = -1;

  template <typename Slots>
  void unlink(Slots& slots, int32_t s) {
    auto& f = slots[s];
    if (f.older >= 0)
      slots[f.older].newer = f.newer;
    else
      oldest = f.newer;
    if (f.newer >= 0)
      slots[f.newer].older = f.older;
    else
      newest = f.older;
  }

  template <typename Slots>
  void append(Slots& slots, int32_t s) {
    auto& f = slots[s];
    f.older = newest;
    f.newer = -1;
    if (newest >= 0)
      slots[newest].newer = s;
    else
      oldest = s;
    newest = s;
  }

  // Slot s seen again: the most recently seen.
  template <typename Slots>
  void touch(Slots& slots, int32_t s) {
    if (s == newest) return;
    unlink(slots, s);
    append(slots, s);
  }
};

}  // namespace csumtop
