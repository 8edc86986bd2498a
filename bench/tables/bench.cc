// \summary: Benchmark of the native carrier-flow table (native/flow/carrier_flows.h): ns per
// carrier event folded, on a million events at the default cap (65536), against the
// textbook LRU a C++ programmer would write first (std::unordered_map + std::list), built
// and run in the same process.
//
// Workloads (seeded, so every run folds the same events):
//   new-flows: every event a new flow (a busy node's DNS through the tunnel): the full
//              table evicts on every event; this is where cache misses decide.
//   mixed:     one event in three repeats a flow seen 50 events earlier.
//   few-flows: 64 flows (a quiet node's long connections): every event a hit.
//
// Usage: bench/tables/run.sh [--events N] [--rounds N]. Prints the median of the rounds.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <list>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "flow/carrier_flows.h"

using namespace csumtop;

namespace {

// The textbook LRU: a hash map from key to a list node, the list in recency order.
class TextbookLru {
 public:
  explicit TextbookLru(size_t cap) : cap_(cap) { map_.reserve(cap * 2); }
  void add(const FrameEvent* ev, size_t n) {
    for (size_t i = 0; i < n; i++) {
      const FrameEvent& e = ev[i];
      if (!(e.flags & kEvCarrier)) continue;
      auto it = map_.find(e.flow);
      if (it != map_.end()) {
        order_.splice(order_.end(), order_, it->second);
        it->second->packets += e.packets;
        it->second->bytes += e.wirelen;
        it->second->last_ns = e.last_ts_ns;
        continue;
      }
      if (map_.size() == cap_) {
        map_.erase(order_.front().key);
        order_.pop_front();
      }
      order_.push_back(
          Entry{e.flow, e.packets, e.wirelen, e.ts_ns, e.last_ts_ns, e.outer, e.inner});
      map_.emplace(e.flow, std::prev(order_.end()));
    }
  }
  size_t size() const { return map_.size(); }

 private:
  struct Entry {
    double key;
    uint64_t packets, bytes, first_ns, last_ns;
    FlowEndpoint outer, inner;
  };
  size_t cap_;
  std::list<Entry> order_;
  std::unordered_map<double, std::list<Entry>::iterator> map_;
};

std::vector<FrameEvent> workload(const std::string& kind, size_t n) {
  std::vector<FrameEvent> ev(n);
  std::mt19937_64 rng(14);
  for (size_t i = 0; i < n; i++) {
    FrameEvent& e = ev[i];
    std::memset(&e, 0, sizeof e);
    e.flags = kEvCarrier;
    e.packets = 1;
    e.wirelen = 100 + static_cast<uint32_t>(i % 1400);
    e.ts_ns = e.last_ts_ns = 1000 * i;
    const double fresh = static_cast<double>(rng() >> 11);  // 53-bit keys, as the native flow key
    if (kind == "few-flows")
      e.flow = static_cast<double>(1 + rng() % 64);
    else if (kind == "mixed" && i % 3 == 0 && i >= 50)
      e.flow = ev[i - 50].flow;
    else
      e.flow = fresh;
  }
  return ev;
}

template <typename Fold>
double median_ns(size_t rounds, size_t n, Fold fold) {
  std::vector<double> t;
  for (size_t r = 0; r < rounds; r++) {
    const auto t0 = std::chrono::steady_clock::now();
    fold();
    const auto t1 = std::chrono::steady_clock::now();
    t.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(n));
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  size_t n = 1000000, rounds = 5;
  for (int i = 1; i < argc; i++) {
    const std::string a = argv[i];
    if ((a == "--events" || a == "--rounds") && i + 1 < argc) {
      const long v = std::strtol(argv[++i], nullptr, 10);
      if (v <= 0) {
        std::fprintf(stderr, "%s: a positive number\n", a.c_str());
        return 2;
      }
      (a == "--events" ? n : rounds) = static_cast<size_t>(v);
    } else {
      std::fprintf(stderr, "usage: bench/tables/run.sh [--events N] [--rounds N]\n");
      return a == "--help" ? 0 : 2;
    }
  }
  constexpr uint32_t kCap = 65536;  // --max-flows default (src/correlate/limits.ts)
  constexpr size_t kBatch = 8192;   // events per call, as -r feeds them (src/capture/file-run.ts)
  PlaceMap places;
  const uint32_t one[kPlacePairWords] = {0, 0, 0};
  places.set(one, 1);
  std::printf("events: %zu per round, median of %zu rounds, cap %u, batches of %zu\n\n", n, rounds,
              kCap, kBatch);
  std::printf("%-10s %18s %18s %8s\n", "workload", "carrier table ns", "textbook LRU ns",
              "x faster");
  for (const char* kind : {"new-flows", "mixed", "few-flows"}) {
    const std::vector<FrameEvent> ev = workload(kind, n);
    const double ours = median_ns(rounds, n, [&] {
      CarrierFlowTable t(kCap);
      for (size_t i = 0; i < n; i += kBatch)
        t.add(ev.data() + i, std::min(kBatch, n - i), "", 0, places);
      if (t.size() == 0) std::abort();
    });
    const double textbook = median_ns(rounds, n, [&] {
      TextbookLru t(kCap);
      for (size_t i = 0; i < n; i += kBatch) t.add(ev.data() + i, std::min(kBatch, n - i));
      if (t.size() == 0) std::abort();
    });
    std::printf("%-10s %18.1f %18.1f %8.2f\n", kind, ours, textbook, textbook / ours);
  }
  return 0;
}
