// \summary: DropTable (drop_table.h).
#include "kdrops/drop_table.h"

namespace csumtop {
namespace kdrops {

void DropTable::add(const KernelDrop& d) {
  DropKey k;
  k.netns = d.netns;
  k.ifindex = d.ifindex;
  k.reason = d.reason;
  k.family = d.family;
  std::memcpy(k.peer, d.src, sizeof k.peer);
  auto it = counts_.find(k);
  if (it != counts_.end()) {
    it->second++;
  } else if (counts_.size() < cap_) {
    counts_.emplace(k, 1);
  } else {
    overflow_++;
  }
}

void DropTable::take(std::vector<DropRow>* rows, uint64_t* overflow) {
  rows->clear();
  rows->reserve(counts_.size());
  for (const auto& [k, n] : counts_) rows->push_back(DropRow{k, n});
  counts_.clear();
  *overflow = overflow_;
  overflow_ = 0;
}

}  // namespace kdrops
}  // namespace csumtop
