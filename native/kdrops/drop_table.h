// \summary: Kernel drops counted per (namespace, device, reason, peer) between two reads,
// in a table of bounded size: a flood of drops from ever new source addresses costs a
// fixed amount of memory, and what did not fit is counted, not lost. Plain C++17; not
// thread-safe (the loader guards it).
#pragma once
#include <cstdint>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "kdrops/event.h"

namespace csumtop {
namespace kdrops {

struct DropKey {
  uint32_t netns = 0;
  uint32_t ifindex = 0;
  uint8_t reason = 0;
  uint8_t family = 0;      // 0: the packet's addresses were not readable (peer all zero)
  uint8_t peer[16] = {};   // outer source address
  bool operator==(const DropKey& o) const {
    return netns == o.netns && ifindex == o.ifindex && reason == o.reason && family == o.family &&
           std::memcmp(peer, o.peer, sizeof peer) == 0;
  }
};

struct DropKeyHash {
  size_t operator()(const DropKey& k) const {
    uint64_t h = 1469598103934665603ull;  // FNV-1a over the fields
    auto mix = [&h](const void* p, size_t n) {
      const uint8_t* b = static_cast<const uint8_t*>(p);
      for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
    };
    mix(&k.netns, 4);
    mix(&k.ifindex, 4);
    mix(&k.reason, 1);
    mix(&k.family, 1);
    mix(k.peer, 16);
    return static_cast<size_t>(h);
  }
};

struct DropRow {
  DropKey key;
  uint64_t count = 0;
};

class DropTable {
 public:
  explicit DropTable(size_t cap) : cap_(cap) {}
  // Counts one drop; a new key when the table holds `cap` keys goes to overflow().
  void add(const KernelDrop& d);
  // Moves the counts out (rows in no particular order) and starts empty.
  void take(std::vector<DropRow>* rows, uint64_t* overflow);
  size_t size() const { return counts_.size(); }

 private:
  size_t cap_;
  std::unordered_map<DropKey, uint64_t, DropKeyHash> counts_;
  uint64_t overflow_ = 0;
};

}  // namespace kdrops
}  // namespace csumtop
