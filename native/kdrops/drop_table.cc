// \summary: DropTable (drop_table.h).
#include "kdrops/drop_table.h"

namespace csumtop {
namespace kdrops {

DropCounts* DropTable::find_or_add(const KernelDrop& d, bool past_cap) {
  DropKey k;
  k.netns = d.netns;
  k.ifindex = d.ifindex;
  k.reason = d.reason;
  k.family = d.family;
  std::memcpy(k.peer, d.src, sizeof k.peer);
  auto it = counts_.find(k);
  if (it != counts_.end()) return &it->second;
  if (counts_.size() >= cap_ && !past_cap) return nullptr;
  return &counts_.emplace(k, DropCounts{}).first->second;
}

bool DropTable::add(const KernelDrop& d) {
  DropCounts* c = find_or_add(d, false);
  if (c == nullptr) {
    overflow_++;
    return false;
  }
  c->count++;
  return true;
}

void DropTable::resolve(const Resolved& r) {
  if (r.drop.in_overflow) {
    overflow_outcomes_[r.outcome] += r.count;
    return;
  }
  DropCounts* c = find_or_add(r.drop, true);
  c->outcomes[r.outcome] += r.count;
  if (r.frame_number != 0) c->frame = r.frame_number;
}

void DropTable::take(std::vector<DropRow>* rows, uint64_t* overflow,
                     uint64_t (*overflow_outcomes)[kNumOutcomes]) {
  rows->clear();
  rows->reserve(counts_.size());
  for (const auto& [k, n] : counts_) rows->push_back(DropRow{k, n});
  counts_.clear();
  *overflow = overflow_;
  overflow_ = 0;
  std::memcpy(*overflow_outcomes, overflow_outcomes_, sizeof overflow_outcomes_);
  std::memset(overflow_outcomes_, 0, sizeof overflow_outcomes_);
}

}  // namespace kdrops
}  // namespace csumtop
