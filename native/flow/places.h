// \summary: Interface id -> place (the interface's label and namespace as JavaScript
// interned them, src/correlate/places.ts) for the native correlation tables: rows keep a
// 32-bit place instead of strings, and JavaScript formats only the rows it shows.
#pragma once
#include <cstddef>
#include <cstdint>
#include <unordered_map>

namespace csumtop {

// An id JavaScript did not list (an interface folded away while its events were in
// flight): the place is this bit | the id, shown as `#id` (src/correlate/places.ts).
constexpr uint32_t kUnlistedPlace = 0x80000000u;
// Flags word of a pair: the interface is an overlay device (its plain packets are the
// decapsulated side of carriers).
constexpr uint32_t kPlaceOverlay = 1u;
// Words per interface in the array JavaScript passes: id, place, flags.
constexpr size_t kPlacePairWords = 3;

class PlaceMap {
 public:
  struct Entry {
    uint32_t place;
    uint32_t flags;
  };

  // Replaces the map with `n` interfaces of (id, place, flags) triples. Called once per
  // batch with the listed interfaces (tens to hundreds), not per packet.
  void set(const uint32_t* words, size_t n) {
    map_.clear();
    for (size_t i = 0; i < n; i++) {
      const uint32_t* w = words + i * kPlacePairWords;
      map_[w[0]] = Entry{w[1], w[2]};
    }
    last_id_ = UINT32_MAX;
  }

  // The entry of `iface`; an unlisted id gets kUnlistedPlace | id and no flags. Frames come
  // in runs of one interface, so the last answer is kept.
  Entry find(uint32_t iface) {
    if (iface == last_id_) return last_;
    auto it = map_.find(iface);
    last_ = it == map_.end() ? Entry{kUnlistedPlace | iface, 0} : it->second;
    last_id_ = iface;
    return last_;
  }

 private:
  std::unordered_map<uint32_t, Entry> map_;
  uint32_t last_id_ = UINT32_MAX;
  Entry last_{0, 0};
};

}  // namespace csumtop
