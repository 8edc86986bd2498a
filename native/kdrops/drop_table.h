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
#include "kdrops/frame_match.h"

namespace csumtop {
namespace kdrops {

struct DropKey {
  uint32_t netns = 0;
  uint32_t ifindex = 0;
  uint8_t reason = 0;
  uint8_t family = 0;     // 0: the packet's addresses were not readable (peer all zero)
  uint8_t peer[16] = {};  // outer source address
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

struct DropCounts {
  uint64_t count = 0;                    // drops
  uint64_t outcomes[kNumOutcomes] = {};  // drops resolved (frame_match.h), maybe counted earlier
  uint64_t frame = 0;                    // the last frame matched (seen outcomes), 0 none
};

struct DropRow {
  DropKey key;
  DropCounts n;
};

class DropTable {
 public:
  explicit DropTable(size_t cap) : cap_(cap) {}
  // Counts one drop; a new key when the table holds `cap` keys goes to the overflow
  // (returns false).
  bool add(const KernelDrop& d);
  // Counts what became of a drop (counted by add() now or before) under its key, even
  // past `cap` (the drops waiting for their frame bound that: FrameMatcher::kMaxPending),
  // so a key's drops and their outcomes stay together; a drop add() put in the overflow
  // (in_overflow) has its outcome counted there too.
  void resolve(const Resolved& r);
  // Moves the counts out (rows in no particular order) and starts empty.
  void take(std::vector<DropRow>* rows, uint64_t* overflow,
            uint64_t (*overflow_outcomes)[kNumOutcomes]);
  size_t size() const { return counts_.size(); }

 private:
  size_t cap_;
  DropCounts* find_or_add(const KernelDrop& d, bool past_cap);
  std::unordered_map<DropKey, DropCounts, DropKeyHash> counts_;
  uint64_t overflow_ = 0;
  uint64_t overflow_outcomes_[kNumOutcomes] = {};
};

}  // namespace kdrops
}  // namespace csumtop
