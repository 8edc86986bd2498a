// \summary: Benchmark of the native correlation tables: ns per event folded, on a million
// events at the default cap (65536), each against the textbook structure a C++ programmer
// would write first, built and run in the same process:
//  - the carrier-flow table (native/flow/carrier_flows.h) against an LRU of
//    std::unordered_map + std::list;
//  - the DNS and SYN transaction tables (native/flow/dns_txns.h, syn_txns.h over
//    txn_table.h) against a std::unordered_map + insertion-order std::list that folds the
//    same events with the same core rules (new, refused when full, copy or retry, answer,
//    timeouts decided in insertion order at each tick).
//
// Carrier workloads (seeded, so every run folds the same events):
//   new-flows: every event a new flow (a busy node's DNS through the tunnel): the full
//              table evicts on every event; this is where cache misses decide.
//   mixed:     one event in three repeats a flow seen 50 events earlier.
//   few-flows: 64 flows (a quiet node's long connections): every event a hit.
// Transaction workloads (every event a DNS query/answer, or a SYN/SYN-ACK/RST):
//   new-full:  every event a new transaction into a table already full (cap queries open,
//              no tick): refused and counted, the high-cardinality file's steady state.
//   churn:     every event a new transaction, one per 28 us (the high-cardinality file's
//              DNS rate), a tick per second of capture time: the table fills, refuses,
//              and the ticks time out and forget tens of thousands at a time.
//   mixed:     one per 50 us: half new, the rest answers (SYN-ACKs, one RST in four) to
//              the transaction begun 30 events earlier, copies on a second interface of
//              the one 10 earlier, and resends after the copy window; ticks as above.
//
// Usage: bench/tables/run.sh [--events N] [--rounds N] [--tables carrier,dns,syn]. Prints the
// median of the rounds (for the transaction tables, rounds of the two alternate and the
// ratio is the median of the rounds' ratios).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <list>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "flow/carrier_flows.h"
#include "flow/dns_txns.h"
#include "flow/syn_txns.h"

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

// The textbook transaction table: a hash map from key to a node of a list kept in
// insertion order, with the core rules of the DNS and SYN trackers (a full table refuses;
// a sighting of a known key on a new interface within the copy window is a copy, else a
// resend; the first good answer decides; a tick decides timeouts oldest first and forgets
// what is decided and older than the keep).
class TextbookTxns {
 public:
  TextbookTxns(size_t cap, double timeout_ns, double keep_ns, uint16_t begin_flags,
               uint16_t answer_flags)
      : cap_(cap),
        timeout_ns_(timeout_ns),
        keep_ns_(keep_ns),
        begin_(begin_flags),
        answer_(answer_flags) {
    map_.reserve(cap * 2);
  }
  void add(const uint8_t* events, size_t n, const uint8_t* names, size_t names_len) {
    for (size_t i = 0; i < n; i++) {
      FrameEvent e;
      std::memcpy(&e, events + i * sizeof e, sizeof e);
      if (!(e.flags & (begin_ | answer_))) continue;
      const double ts = static_cast<double>(e.ts_ns);
      auto it = map_.find(e.txn);
      if (e.flags & begin_) {
        if (it == map_.end()) {
          if (map_.size() == cap_) {
            refused_++;
            continue;
          }
          Entry x{};
          x.first_ns = x.last_ns = x.send_ts = ts;
          x.match = e.match;
          x.key = e.txn;
          x.client = e.inner;
          x.places[0] = e.iface;
          x.n_places = 1;
          x.name_len = static_cast<uint8_t>(std::min<size_t>(e.name_len, sizeof x.name));
          if (e.name_off + x.name_len <= names_len)
            std::memcpy(x.name, names + e.name_off, x.name_len);
          order_.push_back(x);
          map_.emplace(e.txn, std::prev(order_.end()));
          opened_++;
          continue;
        }
        Entry& x = *it->second;
        bool seen = false;
        for (uint32_t k = 0; k < x.n_places; k++) seen |= x.places[k] == e.iface;
        if (!seen && ts - x.send_ts < 1e9 && x.n_places < 4) {
          x.places[x.n_places++] = e.iface;  // a copy
        } else {
          x.sends++;  // a resend
          x.send_ts = x.last_ns = ts;
        }
      } else if (it != map_.end() && !decided(*it->second)) {
        it->second->decided_ns = ts;
        answered_++;
      }
    }
  }
  void advance(double now_ns) {
    for (auto it = order_.begin(); it != order_.end();) {
      Entry& x = *it;
      const bool done = decided(x);
      if ((done && now_ns - x.decided_ns >= 1e9) || (x.closed && now_ns - x.last_ns >= keep_ns_)) {
        map_.erase(x.key);
        it = order_.erase(it);
        continue;
      }
      if (!done && !x.closed && now_ns - x.first_ns >= timeout_ns_) {
        x.closed = true;
        unanswered_++;
      }
      ++it;
    }
  }
  double opened() const { return opened_; }

 private:
  struct Entry {
    double first_ns, last_ns, send_ts, match, decided_ns = -1;
    FlowEndpoint client;
    uint32_t places[4];
    uint32_t n_places, sends;
    bool closed;
    uint8_t name_len;
    uint8_t name[64];
    double key;
  };
  static bool decided(const Entry& x) { return x.decided_ns >= 0; }
  size_t cap_;
  double timeout_ns_, keep_ns_;
  uint16_t begin_, answer_;
  std::list<Entry> order_;
  std::unordered_map<double, std::list<Entry>::iterator> map_;
  double opened_ = 0, refused_ = 0, answered_ = 0, unanswered_ = 0;
};

struct TxnWorkload {
  std::vector<uint8_t> events;  // packed FrameEvents, as the addon hands them over
  std::vector<uint8_t> names;
  size_t n = 0;
  size_t prefill = 0;  // events of the table's first batches, folded before the timing
};

// Transactions of one kind (dns: queries/answers; else SYN/SYN-ACK/RST).
TxnWorkload txn_workload(const std::string& kind, bool dns, size_t n, size_t cap) {
  std::mt19937_64 rng(14);
  TxnWorkload w;
  const char* name = "api.payments.svc.cluster.local";
  w.names.assign(name, name + std::strlen(name));
  const bool full = kind == "new-full";
  w.prefill = full ? cap : 0;
  w.n = n + w.prefill;
  std::vector<FrameEvent> ev(w.n);
  const uint16_t begin = dns ? kEvDnsQuery : kEvSyn;
  const uint64_t step = kind == "mixed" ? 50000 : 28000;
  for (size_t i = 0; i < w.n; i++) {
    FrameEvent& e = ev[i];
    std::memset(&e, 0, sizeof e);
    e.packets = 1;
    e.iface = 1;
    e.direction = 0;
    e.ts_ns = e.last_ts_ns = full ? 0 : step * i;
    e.inner.family = 4;
    e.inner.proto = dns ? 17 : 6;
    e.inner.has_ports = 1;
    const uint64_t r = rng();
    std::memcpy(e.inner.src, &r, 4);
    e.name_off = 0;
    e.name_len = dns ? static_cast<uint16_t>(w.names.size()) : 0;
    e.dns_id = static_cast<uint16_t>(r >> 32);
    e.dns_qtype = 1;
    const int what = kind == "mixed" ? static_cast<int>(i % 6) : 0;
    auto repeat = [&](size_t back) {
      if (i < back) return false;
      const FrameEvent& b = ev[i - back];
      if (!(b.flags & begin) || b.iface != 1) return false;
      e.txn = b.txn;
      e.match = b.match;
      e.inner = b.inner;
      return true;
    };
    if (what == 3 && repeat(30)) {
      e.flags = dns ? kEvDnsAnswer : (i % 4 == 3 ? kEvRst : kEvSynAck);
      e.dns_flags = 0x8180;
    } else if (what == 4 && repeat(10)) {
      e.flags = begin;
      e.iface = 2;  // the same packet seen on a second interface
    } else if (what == 5 && repeat(60)) {
      e.flags = begin;  // seen again on the interface that saw it: a resend
    } else {
      e.flags = begin;
      e.txn = static_cast<double>(rng() >> 11);
      e.match = static_cast<double>(rng() >> 11);
    }
  }
  w.events.resize(w.n * sizeof(FrameEvent));
  std::memcpy(w.events.data(), ev.data(), w.events.size());
  return w;
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

// Folds a transaction workload batch by batch, ticking once a second of capture time as
// -r does (src/capture/file-run.ts); the prefill is folded before the clock starts.
// Returns ns per timed event.
template <typename Table>
double fold_txns(Table& t, const TxnWorkload& w, size_t batch) {
  const size_t ev = sizeof(FrameEvent);
  double second = -1;
  auto run = [&](size_t from, size_t to) {
    for (size_t i = from; i < to; i += batch) {
      const size_t m = std::min(batch, to - i);
      t.add(w.events.data() + i * ev, m, w.names.data(), w.names.size());
      FrameEvent last;
      std::memcpy(&last, w.events.data() + (i + m - 1) * ev, ev);
      const double now = static_cast<double>(last.ts_ns);
      if (std::floor(now / 1e9) != second) {
        second = std::floor(now / 1e9);
        if (w.prefill == 0) t.advance(now);
      }
    }
  };
  run(0, w.prefill);
  const auto t0 = std::chrono::steady_clock::now();
  run(w.prefill, w.n);
  const auto t1 = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::nano>(t1 - t0).count() /
         static_cast<double>(w.n - w.prefill);
}

// The medians of ns per event of two tables and of their ratio (b / a), the rounds of the
// two interleaved so that a shared machine's load falls on both alike.
struct Paired {
  double a, b, ratio;
};
template <typename MakeA, typename MakeB>
Paired median_txns(size_t rounds, const TxnWorkload& w, size_t batch, MakeA make_a, MakeB make_b) {
  std::vector<double> a, b, ratio;
  for (size_t r = 0; r < rounds; r++) {
    auto ta = make_a();
    a.push_back(fold_txns(*ta, w, batch));
    ta.reset();
    auto tb = make_b();
    b.push_back(fold_txns(*tb, w, batch));
    ratio.push_back(b.back() / a.back());
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  return Paired{median(a), median(b), median(ratio)};
}

// The addon's tables behind the interface fold_txns() calls (one interface place).
struct DnsUnderTest {
  explicit DnsUnderTest(uint32_t cap) : t(cap, 5e9, 1e9, 100) {}
  void add(const uint8_t* ev, size_t n, const uint8_t* names, size_t names_len) {
    t.add(ev, n, names, names_len, kOnePlace, 1);
  }
  void advance(double now) { t.advance(now); }
  static constexpr uint32_t kOnePlace[kPlacePairWords] = {1, 0, 0};
  DnsTxns t;
};
struct SynUnderTest {
  explicit SynUnderTest(uint32_t cap) : t(cap, 3.5e9, 1e9, 100) {}
  void add(const uint8_t* ev, size_t n, const uint8_t*, size_t) {
    t.add(ev, n, DnsUnderTest::kOnePlace, 1);
  }
  void advance(double now) { t.advance(now); }
  SynTxns t;
};

}  // namespace

int main(int argc, char** argv) {
  size_t n = 1000000, rounds = 5;
  std::string tables = "carrier,dns,syn";
  for (int i = 1; i < argc; i++) {
    const std::string a = argv[i];
    if (a == "--tables" && i + 1 < argc) {
      tables = argv[++i];
    } else if ((a == "--events" || a == "--rounds") && i + 1 < argc) {
      const long v = std::strtol(argv[++i], nullptr, 10);
      if (v <= 0) {
        std::fprintf(stderr, "%s: a positive number\n", a.c_str());
        return 2;
      }
      (a == "--events" ? n : rounds) = static_cast<size_t>(v);
    } else {
      std::fprintf(
          stderr,
          "usage: bench/tables/run.sh [--events N] [--rounds N] [--tables carrier,dns,syn]\n");
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
  auto wanted = [&](const char* table) {
    return ("," + tables + ",").find(std::string(",") + table + ",") != std::string::npos;
  };
  if (wanted("carrier"))
    std::printf("%-10s %18s %18s %8s\n", "workload", "carrier table ns", "textbook LRU ns",
                "x faster");
  for (const char* kind : {"new-flows", "mixed", "few-flows"}) {
    if (!wanted("carrier")) break;
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
  for (const bool dns : {true, false}) {
    if (!wanted(dns ? "dns" : "syn")) continue;
    std::printf("\n%-10s %18s %18s %8s\n", "workload", dns ? "DNS table ns" : "SYN table ns",
                "textbook map+list", "x faster");
    for (const char* kind : {"new-full", "churn", "mixed"}) {
      const TxnWorkload w = txn_workload(kind, dns, n, kCap);
      auto textbook = [&] {
        return dns ? std::make_unique<TextbookTxns>(kCap, 5e9, 30e9, kEvDnsQuery, kEvDnsAnswer)
                   : std::make_unique<TextbookTxns>(kCap, 3.5e9, 130e9, kEvSyn, kEvSynAck | kEvRst);
      };
      const Paired p = dns ? median_txns(
                                 rounds, w, kBatch,
                                 [&] { return std::make_unique<DnsUnderTest>(kCap); }, textbook)
                           : median_txns(
                                 rounds, w, kBatch,
                                 [&] { return std::make_unique<SynUnderTest>(kCap); }, textbook);
      std::printf("%-10s %18.1f %18.1f %8.2f\n", kind, p.a, p.b, p.ratio);
    }
  }
  return 0;
}
