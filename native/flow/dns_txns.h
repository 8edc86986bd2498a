// \summary: DNS query -> answer (RFC 1035 4.1.1: the answer repeats the query's id and
// question, from the server's port 53 to the client's port) in the addon (issue 14):
// unanswered queries, retries, latency and the query name, folded from the correlation
// events of each batch with no object per event. JavaScript gets the counts, the latency
// figures and the few queries its report lists (src/correlate/dns.ts wraps this).
//
// The rules (those of the JavaScript tracker this replaced, so reports stay the same):
//  - one query seen on several interfaces (pod veth, flannel.1, inside a carrier on eth0)
//    is one query; seen again on an interface that already saw it, a retry (a new send),
//    whatever its IPv4 id (sends.h), also after it was counted unanswered: the stub
//    resolver resends the same query after its timeout (glibc resolv.conf `timeout:5
//    attempts:2`), and a resend is the same transaction (RFC 1035 4.2.1);
//  - a new id for a name this client just failed to resolve (counted unanswered within
//    kResendKeepNs) is a retry too: the stub resolver moved on to its next attempt. Keyed
//    by a 53-bit hash of client address, name and qtype (name_key());
//  - an answer inside a carrier with a bad checksum does not count as answered: the
//    client's kernel drops that carrier (txn_attribution.h);
//  - a query unanswered after the timeout (5 s, glibc's default) is unanswered: counted,
//    listed, and kept kResendKeepNs after its latest send for resends and a late answer
//    (which moves it to answered); at most kMaxKeptUnanswered are kept (the oldest go
//    first). Timeouts are decided in insertion order (txn_table.h).
//
// Memory: a TxnTable and one DnsEntry per slot, allocated once: kDnsBytesPerEntry =
// TxnTable::kBytesPerEntry + sizeof(DnsEntry) per query of the cap (<= 256, checked here
// and by test/unit/native-txns.test.ts against what is allocated). The query name is
// inline up to kDnsNameInline bytes (most are shorter); on the side, bounded by the cap
// and only for the few that have them: longer names, the sends of retried queries,
// attributions; and the kept keys (<= 2 x kMaxKeptUnanswered), the names that just failed
// (<= 4096) and the latest 4096 latencies.
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "flow/events.h"
#include "flow/places.h"
#include "flow/sends.h"
#include "flow/table_memory.h"
#include "flow/txn_attribution.h"
#include "flow/txn_table.h"

namespace csumtop {

constexpr uint32_t kDnsNameInline = 64;
constexpr uint32_t kMaxKeptUnanswered = 4096;

// What advance() reads of every entry (times, state) comes first, in one cache line.
struct DnsEntry {
  double first_ns;
  double last_ns;     // the latest send (kept unanswered queries are forgotten after it)
  double latency_ms;  // NaN while unanswered
  double name_key;    // client address, name and qtype hashed
  uint32_t queries;
  uint16_t id, qtype;
  uint8_t state, rcode, name_len;
  uint8_t name[kDnsNameInline];
  FlowEndpoint client;  // the query's innermost endpoint
  SendSlot send;
};

static_assert(sizeof(DnsEntry) == 192, "docs/line-rate.md states the bytes per query");
static_assert(offsetof(DnsEntry, state) < 64, "advance() reads one line of an entry");
constexpr size_t kDnsBytesPerEntry = TxnTable::kBytesPerEntry + sizeof(DnsEntry);
static_assert(kDnsBytesPerEntry <= 256, "issue 14: <= 256 bytes per DNS query");

// One listed query as summary() packs it (trivial; layout exported by the addon).
struct DnsListed {
  FlowEndpoint client;
  double first_ns;
  double latency_ms;  // NaN: null
  TxnAttribution attribution;
  uint32_t queries;
  uint32_t name_off, name_len;  // into summary()'s name bytes
  uint16_t id, qtype;
  uint8_t answered, rcode, attributed;
};

struct DnsCounts {
  double queries, answered, unanswered, retries, attributed;
};

class DnsTxns {
 public:
  // r: as TxnTable's (txn_table.h).
  DnsTxns(uint32_t cap, double timeout_ns, double copy_window_ns, uint32_t max_listed,
          Residency r = Residency::kAtOnce);

  // The events of one batch (n FrameEvents, any alignment) and the names they point into;
  // places: (id, place, flags) words of the listed interfaces (places.h).
  void add(const uint8_t* events, size_t n, const uint8_t* names, size_t names_len,
           const uint32_t* places, size_t n_places);
  // Decides what timed out by `now_ns`, in insertion order.
  void advance(double now_ns);
  void flush();

  const DnsCounts& counts() const { return s_; }
  // Median and worst of the latest 4096 answer latencies; false when none.
  bool latency(double* p50, double* max) const;
  // The listed unanswered queries, most recent first; their names appended to `names`.
  std::vector<DnsListed> listed(std::string* names) const;
  uint32_t size() const { return table_.size(); }
  uint32_t cap() const { return table_.cap(); }
  double evicted() const { return evicted_; }
  size_t bytes() const { return table_.bytes() + entries_.size() * sizeof(DnsEntry); }

 private:
  struct View {
    DnsListed rec;
    std::string name;
  };

  void query(const FrameEvent& e, uint32_t h, const uint8_t* names, size_t names_len);
  void begin(int32_t t, const FrameEvent& e, const uint8_t* name, uint32_t len, double ts);
  double name_key(int32_t t) const;
  void attribute(int32_t t, const FrameEvent& e);
  void answer(const FrameEvent& e, uint32_t h);
  std::shared_ptr<View> view_of(int32_t t);
  void fill(View* v, int32_t t);
  void refresh(int32_t t);
  void drop_listed(const std::shared_ptr<View>& v);
  void forget(int32_t t);
  void forget_oldest_kept();

  TxnTable table_;
  TableArray<DnsEntry> entries_;
  SendSlots sends_;
  PlaceMap places_;
  double timeout_ns_;
  uint32_t max_listed_;
  std::unordered_map<uint32_t, std::string> long_names_;
  std::unordered_map<uint32_t, TxnAttribution> attributions_;
  // The view of each listed query, kept up to date while its query is in the table.
  std::unordered_map<uint32_t, std::shared_ptr<View>> views_;
  std::deque<std::shared_ptr<View>> unanswered_list_;
  // Keys of the queries counted unanswered and kept, oldest first (some may be gone).
  std::deque<double> kept_;
  // name_key -> first send of the latest query for it counted unanswered.
  std::unordered_map<double, double> last_unanswered_;
  std::deque<double> latencies_;
  DnsCounts s_{};
  double evicted_ = 0;
};

}  // namespace csumtop
