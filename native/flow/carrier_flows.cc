// \summary: The carrier-flow table (see carrier_flows.h).
#include "flow/carrier_flows.h"

#include <algorithm>
#include <cstring>

namespace csumtop {

static_assert(sizeof(CarrierFlowSlot) == 216,
              "carrier_flows.h states the bytes per flow: update it with the size");
static_assert(sizeof(CarrierFlowSlot) + 4 * 8 <= kCarrierFlowBytesPerEntry,
              "a slot and at most 4 buckets of 8 bytes (a load of 1/4..1/2) per flow");
static_assert(kCarrierFlowBytesPerEntry <= 256, "issue 14: <= 256 bytes per flow entry");

// How many events ahead add() prefetches a bucket: enough to cover a miss (~100 ns) with
// the work of the events between, few enough that the lines are still cached when used.
constexpr size_t kPrefetchAhead = 8;

CarrierFlowTable::CarrierFlowTable(uint32_t cap, Residency r)
    : cap_(cap ? cap : 1), index_(cap_, r) {
  // Zero (an empty slot is zero bytes), resident from the start or as slots are taken
  // (flow/table_memory.h).
  slots_.assign(cap_, r);
}

uint32_t CarrierFlowTable::hash(double key) {
  // The keys are 53-bit integers, often alike in their low bits: mixed in full (the
  // finaliser of MurmurHash3) before the mask takes the low bits. Anything else a caller
  // could pass (negative, NaN) hashes as 0 rather than meet an undefined conversion.
  uint64_t h = key >= 0 && key < 18446744073709551616.0 ? static_cast<uint64_t>(key) : 0;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return static_cast<uint32_t>(h);
}

int32_t CarrierFlowTable::find(double key, uint32_t h) const {
  return index_.find(h, [&](int32_t s) { return slots_[s].key == key; });
}

// In a full table every new flow evicts the oldest. The next victims are fetched ahead
// while the current events are folded, instead of missing when they go: the bucket of the
// one after next and every line of the slot after that (its values are rewritten whole by
// the new flow that takes it), two evictions ahead, since one new flow alone takes less
// than a miss.
void CarrierFlowTable::prefetch_eviction() const {
  if (used_ < cap_ || recency_.oldest < 0) return;
  const int32_t v2 = slots_[recency_.oldest].newer;
  if (v2 < 0) return;
  const CarrierFlowSlot& o = slots_[v2];
  __builtin_prefetch(index_.home(hash(o.key)));
  if (o.newer >= 0) {
    const char* next = reinterpret_cast<const char*>(&slots_[o.newer]);
    for (size_t at = 0; at < sizeof(CarrierFlowSlot); at += 64) __builtin_prefetch(next + at, 1);
  }
}

// A slot for an absent key, the most recently seen; in a full table the least recently
// seen flow is evicted (counted) and its slot reused.
int32_t CarrierFlowTable::add_slot(double key, uint32_t h) {
  int32_t s;
  if (used_ < cap_) {
    s = static_cast<int32_t>(used_++);
  } else {
    s = recency_.oldest;
    recency_.unlink(slots_, s);
    index_.remove(s, hash(slots_[s].key));
    if (slots_[s].name_len > kCarrierNameInline) long_names_.erase(s);
    size_--;
    evicted_++;
  }
  slots_[s].key = key;
  index_.insert(s, h);
  recency_.append(slots_, s);
  size_++;
  return s;
}

void CarrierFlowTable::add(const FrameEvent* ev, size_t n, const char* names, size_t names_len,
                           PlaceMap& places) {
  for (size_t i = 0; i < n; i++) {
    if (i + kPrefetchAhead < n && (ev[i + kPrefetchAhead].flags & kEvCarrier))
      __builtin_prefetch(index_.home(hash(ev[i + kPrefetchAhead].flow)));
    const FrameEvent& e = ev[i];
    if (!(e.flags & kEvCarrier)) continue;
    const uint32_t h = hash(e.flow);
    int32_t s = find(e.flow, h);
    if (s >= 0) {
      recency_.touch(slots_, s);  // seen again: the most recently seen
    } else {
      s = add_slot(e.flow, h);
      prefetch_eviction();
      CarrierFlowSlot& f = slots_[s];
      f.place = places.find(e.iface).place;
      f.outer = e.outer;
      f.inner = e.inner;
      f.tunnel = e.tunnel;
      f.vni = e.vni;
      f.packets = 0;
      f.bytes = 0;
      f.bad_outer = 0;
      f.bad_inner = 0;
      f.has_name = 0;
      f.name_len = 0;
      f.first_ns = e.ts_ns;
      f.last_ns = e.last_ts_ns;
    }
    CarrierFlowSlot& f = slots_[s];
    f.packets += e.packets;
    f.bytes += e.wirelen;
    if (e.flags & kEvBadOuter) f.bad_outer++;
    if (e.flags & kEvBadInner) f.bad_inner++;
    if (!f.has_name && (e.flags & kEvDnsQuery)) {
      // The name of the first query only (a flow's name does not change with its packets).
      const size_t off = std::min<size_t>(e.name_off, names_len);
      const size_t len = std::min<size_t>(e.name_len, names_len - off);
      f.has_name = 1;
      f.name_len = static_cast<uint16_t>(len);
      if (len <= kCarrierNameInline) {
        if (len) std::memcpy(f.name, names + off, len);
      } else {
        long_names_[s].assign(names + off, len);
      }
    }
    if (e.last_ts_ns > f.last_ns) f.last_ns = e.last_ts_ns;
  }
}

void CarrierFlowTable::top(size_t limit, std::vector<uint8_t>* out) const {
  // (bad, packets, recency rank): the rank makes the order total, so a partial sort gives
  // what the JavaScript table's stable sort of its oldest-first list gave.
  struct Item {
    uint64_t bad, packets;
    uint32_t rank;
    int32_t slot;
  };
  std::vector<Item> all;
  all.reserve(size_);
  uint32_t rank = 0;
  for (int32_t s = recency_.oldest; s >= 0; s = slots_[s].newer) {
    const CarrierFlowSlot& f = slots_[s];
    all.push_back(Item{uint64_t{f.bad_outer} + f.bad_inner, f.packets, rank++, s});
  }
  const size_t k = std::min(limit, all.size());
  std::partial_sort(all.begin(), all.begin() + k, all.end(), [](const Item& a, const Item& b) {
    if (a.bad != b.bad) return a.bad > b.bad;
    if (a.packets != b.packets) return a.packets > b.packets;
    return a.rank < b.rank;
  });
  size_t name_bytes = 0;
  for (size_t r = 0; r < k; r++) name_bytes += slots_[all[r].slot].name_len;
  const size_t rows_at = sizeof(CarrierFlowTopHeader);
  size_t names_at = rows_at + k * sizeof(CarrierFlowRow);
  out->assign(names_at + name_bytes, 0);
  uint8_t* p = out->data();
  const CarrierFlowTopHeader h{static_cast<uint32_t>(k), 0};
  std::memcpy(p, &h, sizeof h);
  for (size_t r = 0; r < k; r++) {
    const int32_t s = all[r].slot;
    const CarrierFlowSlot& f = slots_[s];
    CarrierFlowRow row;
    std::memset(&row, 0, sizeof row);
    row.packets = f.packets;
    row.bytes = f.bytes;
    row.first_ns = f.first_ns;
    row.last_ns = f.last_ns;
    row.bad_outer = f.bad_outer;
    row.bad_inner = f.bad_inner;
    row.place = f.place;
    row.vni = f.vni;
    row.name_off = static_cast<uint32_t>(names_at);
    row.name_len = f.name_len;
    row.tunnel = f.tunnel;
    row.has_name = f.has_name;
    row.outer = f.outer;
    row.inner = f.inner;
    std::memcpy(p + rows_at + r * sizeof row, &row, sizeof row);
    const char* name = f.name_len > kCarrierNameInline ? long_names_.at(s).data() : f.name;
    if (f.name_len) std::memcpy(p + names_at, name, f.name_len);
    names_at += f.name_len;
  }
}

}  // namespace csumtop
