// \summary: The frame matcher (native/kdrops/frame_match.h) as it was before its probe tags
// (issue 14: insert read 32 whole slots, ~3.8 KB, for every new frame): every probe reads
// and compares the slot itself. Kept, single-threaded and unoptimised, as the oracle that
// fuzz_kdrops runs every input through beside the matcher (they must resolve every drop
// alike) and as the "before" of bench/kdrops. Same constants and key rules
// (kdrops/frame_key.h); not part of the addon.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

#include "kdrops/frame_key.h"
#include "kdrops/frame_match.h"

namespace csumtop {
namespace kdrops {

class ReferenceMatcher {
 public:
  using M = FrameMatcher;

  ReferenceMatcher() { reset(); }

  // As made: empty, no device captured.
  void reset() {
    slots_.assign(M::kFrameSlots, Slot{});
    pending_.clear();
    index_.assign(2 * M::kMaxPending, 0u);
    by_address_.assign(M::kFrameSlots, 0u);
    evicted_ns_ = unindexed_ns_ = newest_ns_ = 0;
    captures_.clear();
  }

  void attach(const void* owner, uint32_t netns, uint32_t ifindex) {
    captures_[capture_key(netns, ifindex)].owners.emplace_back(owner, 0);
  }

  void detach(const void* owner, uint32_t netns, uint32_t ifindex) {
    auto it = captures_.find(capture_key(netns, ifindex));
    if (it == captures_.end()) return;
    auto& o = it->second.owners;
    for (size_t i = 0; i < o.size(); i++) {
      if (o[i].first == owner) {
        o.erase(o.begin() + static_cast<long>(i));
        break;
      }
    }
    if (o.empty()) captures_.erase(it);
  }

  void caught_up(const void* owner, uint32_t netns, uint32_t ifindex, uint64_t ts_ns) {
    auto it = captures_.find(capture_key(netns, ifindex));
    if (it == captures_.end()) return;
    for (auto& o : it->second.owners)
      if (o.first == owner && ts_ns > o.second) o.second = ts_ns;
  }

  void ring_drop(uint32_t netns, uint32_t ifindex, uint64_t ts_ns) {
    auto it = captures_.find(capture_key(netns, ifindex));
    if (it != captures_.end() && ts_ns > it->second.ring_drop_ns) it->second.ring_drop_ns = ts_ns;
  }

  void add_frames(const SeenFrame* frames, size_t n) {
    for (size_t i = 0; i < n; i++) insert(frames[i], frames[i].ts_ns);
  }

  void add_drop(const KernelDrop& d, uint64_t now_ns, std::vector<Resolved>* out) {
    if (Pending* same = joinable(d, now_ns)) {
      same->count++;
      same->last_ns = now_ns;
      return;
    }
    Pending p{d, now_ns, now_ns, 1};
    Resolved r;
    if (match(&p, out)) return;
    if (try_unseen(p, now_ns, &r)) {
      out->push_back(r);
      return;
    }
    if (pending_.size() >= M::kMaxPending) {
      out->push_back(Resolved{d, kTableFull, 0, 1});
      return;
    }
    pending_.push_back(p);
    index_[pending_slot(d, index_.size())] = static_cast<uint32_t>(pending_.size());
  }

  void resolve(uint64_t now_ns, std::vector<Resolved>* out) {
    size_t keep = 0;
    for (size_t i = 0; i < pending_.size(); i++) {
      Resolved r;
      if (match(&pending_[i], out)) continue;
      if (try_unseen(pending_[i], now_ns, &r)) {
        out->push_back(r);
      } else {
        pending_[keep++] = pending_[i];
      }
    }
    if (keep != pending_.size()) {
      pending_.resize(keep);
      std::fill(index_.begin(), index_.end(), 0u);
      for (size_t i = 0; i < pending_.size(); i++)
        index_[pending_slot(pending_[i].d, index_.size())] = static_cast<uint32_t>(i + 1);
    }
  }

  size_t pending() const {
    size_t n = 0;
    for (const Pending& p : pending_) n += p.count;
    return n;
  }

 private:
  struct Slot {
    SeenFrame f;
    uint32_t frames = 0;
    uint32_t used = 0;
  };
  struct Pending {
    KernelDrop d;
    uint64_t ts_ns;
    uint64_t last_ns;
    uint32_t count = 1;
  };
  struct Capture {
    std::vector<std::pair<const void*, uint64_t>> owners;
    uint64_t ring_drop_ns = 0;
  };

  void insert(const SeenFrame& f, uint64_t ts) {
    if (ts > newest_ns_) newest_ns_ = ts;
    const uint64_t horizon = newest_ns_ > M::kWindowNs ? newest_ns_ - M::kWindowNs : 0;
    const size_t mask = slots_.size() - 1;
    const size_t h = outer_hash(f.key);
    Slot* free_slot = nullptr;
    Slot* oldest = nullptr;
    for (size_t i = 0; i < M::kProbe; i++) {
      Slot& s = slots_[(h + i) & mask];
      if (s.frames > 0 && same_outer(s.f.key, f.key) && same_inner(s.f.key, f.key) &&
          same_verdict(s.f.verdict, f.verdict)) {
        s.frames++;
        s.f.ts_ns = std::max(s.f.ts_ns, f.ts_ns);
        s.f.frame_number = f.frame_number;
        index_address(f, &s - slots_.data(), horizon);
        return;
      }
      const bool gone = s.frames == s.used || s.f.ts_ns < horizon;
      if (gone && free_slot == nullptr) free_slot = &s;
      if (oldest == nullptr || s.f.ts_ns < oldest->f.ts_ns) oldest = &s;
    }
    Slot* to = free_slot != nullptr ? free_slot : oldest;
    if (to->used < to->frames && to->f.ts_ns > evicted_ns_) evicted_ns_ = to->f.ts_ns;
    to->f = f;
    to->frames = 1;
    to->used = 0;
    index_address(f, to - slots_.data(), horizon);
  }

  void index_address(const SeenFrame& f, ptrdiff_t slot, uint64_t horizon) {
    uint32_t& at = by_address_[address_hash(f.key) & (by_address_.size() - 1)];
    if (at != 0 && at - 1 != static_cast<uint32_t>(slot)) {
      const Slot& o = slots_[at - 1];
      if (o.used < o.frames && o.f.ts_ns >= horizon && o.f.ts_ns > unindexed_ns_)
        unindexed_ns_ = o.f.ts_ns;
    }
    at = static_cast<uint32_t>(slot) + 1;
  }

  bool match(Pending* p, std::vector<Resolved>* out) {
    const size_t mask = slots_.size() - 1;
    const size_t h = outer_hash(p->d);
    const uint64_t from = p->ts_ns > M::kWindowNs ? p->ts_ns - M::kWindowNs : 0;
    const uint32_t by_address =
        p->d.has_ports ? 0 : by_address_[address_hash(p->d) & (by_address_.size() - 1)];
    while (p->count > 0) {
      Slot* pick = nullptr;
      Outcome pick_outcome = kNumOutcomes;
      auto consider = [&](Slot& s) {
        if (s.used >= s.frames || s.f.ts_ns < from || !fits(s.f.key, p->d)) return;
        const Outcome o = judge(p->d.reason, s.f.verdict);
        if (pick == nullptr || (o == kSeenBad && pick_outcome != kSeenBad)) {
          pick = &s;
          pick_outcome = o;
        }
      };
      for (size_t i = 0; i < M::kProbe; i++) consider(slots_[(h + i) & mask]);
      if (by_address != 0) consider(slots_[by_address - 1]);
      if (pick == nullptr) return false;
      const uint32_t n = std::min(p->count, pick->frames - pick->used);
      pick->used += n;
      p->count -= n;
      out->push_back(Resolved{p->d, pick_outcome, pick->f.frame_number, n});
    }
    return true;
  }

  Pending* joinable(const KernelDrop& d, uint64_t now_ns) {
    const uint32_t at = index_[pending_slot(d, index_.size())];
    if (at == 0) return nullptr;
    Pending& p = pending_[at - 1];
    if (p.count == 0 || now_ns > p.ts_ns + M::kCoalesceNs || !same_drop(p.d, d)) return nullptr;
    return &p;
  }

  bool try_unseen(const Pending& p, uint64_t now_ns, Resolved* r) {
    auto it = captures_.find(capture_key(p.d.netns, p.d.ifindex));
    if (p.d.netns == 0 || it == captures_.end() || it->second.owners.empty()) {
      *r = Resolved{p.d, kNotCaptured, 0, p.count};
      return true;
    }
    if (now_ns < p.last_ns + M::kSettleNs) return false;
    for (const auto& o : it->second.owners)
      if (o.second < p.last_ns + M::kClockSlackNs) return false;
    const uint64_t from = p.ts_ns > M::kWindowNs ? p.ts_ns - M::kWindowNs : 0;
    Outcome o = kNotSeen;
    if (evicted_ns_ >= from || (!p.d.has_ports && unindexed_ns_ >= from)) {
      o = kTableFull;
    } else if (it->second.ring_drop_ns >= from) {
      o = kRingDrop;
    }
    *r = Resolved{p.d, o, 0, p.count};
    return true;
  }

  std::vector<Slot> slots_;
  std::vector<Pending> pending_;
  std::vector<uint32_t> index_;
  uint64_t evicted_ns_ = 0;
  std::vector<uint32_t> by_address_;
  uint64_t unindexed_ns_ = 0;
  uint64_t newest_ns_ = 0;
  std::unordered_map<uint64_t, Capture> captures_;
};

}  // namespace kdrops
}  // namespace csumtop
