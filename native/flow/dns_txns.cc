// \summary: DnsTxns (dns_txns.h): the DNS rules of the JavaScript tracker it replaced,
// folded per batch.
#include "flow/dns_txns.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "flow/txn_round.h"

namespace csumtop {

namespace {

constexpr uint8_t kDnsClosed =
    1;  // counted unanswered after the timeout (kept for resends and a late answer)
constexpr uint8_t kDnsAnswered = 2;

// How long a query counted unanswered is kept for resends with the same id and a late
// answer: the stub resolver resends the same query after its timeout (glibc
// `timeout:5 attempts:2`: the resend comes exactly when the 5 s timeout closes the first
// send). Also the window in which a new id for the same name counts as a retry.
constexpr double kResendKeepNs = 30e9;

// Latencies kept for the median and the worst; names that just failed remembered.
constexpr size_t kLatencies = 4096;
constexpr size_t kLastUnanswered = 4096;

}  // namespace

DnsTxns::DnsTxns(uint32_t cap, double timeout_ns, double copy_window_ns, uint32_t max_listed,
                 Residency r)
    : table_(cap, r),
      entries_(cap, r),
      sends_(copy_window_ns),
      timeout_ns_(timeout_ns),
      max_listed_(max_listed) {}

void DnsTxns::add(const uint8_t* events, size_t n, const uint8_t* names, size_t names_len,
                  const uint32_t* places, size_t n_places) {
  places_.set(places, n_places);
  fold_txn_batch(table_, entries_.data(), events, n, kEvDnsQuery | kEvDnsAnswer,
                 [&](const FrameEvent& e, uint32_t h) {
                   if (e.flags & kEvDnsQuery)
                     query(e, h, names, names_len);
                   else
                     answer(e, h);
                 });
}

void DnsTxns::query(const FrameEvent& e, uint32_t h, const uint8_t* names, size_t names_len) {
  const double ts = static_cast<double>(e.ts_ns);
  const uint32_t place = send_place(e.iface, e.direction);
  int32_t t = table_.get(e.txn, h);
  if (t < 0) {
    t = table_.add(e.txn, h);
    if (t < 0) {
      evicted_++;
      return;
    }
    // A name outside the batch's name buffer (never made by events.cc) is taken as empty.
    const bool in = static_cast<size_t>(e.name_off) + e.name_len <= names_len;
    begin(t, e, in ? names + e.name_off : nullptr, in ? e.name_len : 0, ts);
    sends_.start(t, entries_[t].send, e.match, place, ts);
    s_.queries++;
    // A new id for a name this client just failed to resolve is a retry (the stub
    // resolver moved on to its next attempt).
    if (!last_unanswered_.empty()) {
      auto it = last_unanswered_.find(entries_[t].name_key);
      if (it != last_unanswered_.end() && ts - it->second < kResendKeepNs) s_.retries++;
    }
  } else if (sends_.see(t, entries_[t].send, e.match, place, ts)) {
    // The same id and question sent again: a retry of this query (RFC 1035 4.2.1), also
    // after it was counted unanswered.
    DnsEntry& x = entries_[t];
    x.queries++;
    s_.retries++;
    if (ts > x.last_ns) x.last_ns = ts;
    refresh(t);
  }
  if (event_is_bad(e.flags)) {
    const bool had = attributions_.count(t) != 0;
    attribute(t, e);
    // Counted unanswered already: the count of attributed ones follows.
    if (entries_[t].state == kDnsClosed && !had && attributions_.count(t)) s_.attributed++;
  }
}

void DnsTxns::begin(int32_t t, const FrameEvent& e, const uint8_t* name, uint32_t len, double ts) {
  DnsEntry& x = entries_[t];
  x.client = e.inner;
  x.first_ns = ts;
  x.last_ns = ts;
  x.latency_ms = std::numeric_limits<double>::quiet_NaN();
  x.queries = 1;
  x.id = e.dns_id;
  x.qtype = e.dns_qtype;
  x.state = 0;
  x.rcode = 0;
  const uint32_t inline_len = std::min(len, kDnsNameInline);
  if (inline_len > 0) std::memcpy(x.name, name, inline_len);
  if (len > kDnsNameInline)
    long_names_[t].assign(reinterpret_cast<const char*>(name), len);
  else if (!long_names_.empty())
    long_names_.erase(t);
  x.name_len = static_cast<uint8_t>(inline_len);
  x.name_key = name_key(t);
}

// The client's address, the query name and its qtype as one 53-bit number: FNV-1a (two
// 32-bit lanes with different offsets) over the bytes. A collision would count a new id
// for another name as a retry; at 53 bits and 4096 names kept it does not happen.
double DnsTxns::name_key(int32_t t) const {
  const DnsEntry& x = entries_[t];
  uint32_t a = 0x811c9dc5u;
  uint32_t b = 0x01000193u ^ 0x5bd1e995u;
  auto mix = [&](uint8_t byte) {
    a = (a ^ byte) * 0x01000193u;
    b = ((b ^ byte) * 0x01000193u) ^ (b >> 15);
  };
  mix(x.client.family);
  for (int k = 0, n = x.client.family == 6 ? 16 : 4; k < n; k++) mix(x.client.src[k]);
  auto it = long_names_.empty() ? long_names_.end() : long_names_.find(t);
  if (it != long_names_.end())
    for (char c : it->second) mix(static_cast<uint8_t>(c));
  else
    for (uint32_t k = 0; k < x.name_len; k++) mix(x.name[k]);
  mix(static_cast<uint8_t>(x.qtype & 0xff));
  mix(static_cast<uint8_t>(x.qtype >> 8));
  return static_cast<double>(a) * 2097152.0 + static_cast<double>(b >> 11);
}

void DnsTxns::attribute(int32_t t, const FrameEvent& e) {
  const uint32_t place = places_.find(e.iface).place;
  auto it = attributions_.find(t);
  if (it != attributions_.end()) {
    attribute_event(&it->second, false, e, place);
  } else {
    TxnAttribution at;
    if (attribute_event(&at, true, e, place)) attributions_.emplace(t, at);
  }
  refresh(t);
}

std::shared_ptr<DnsTxns::View> DnsTxns::view_of(int32_t t) {
  const DnsEntry& x = entries_[t];
  auto v = std::make_shared<View>();
  std::memset(&v->rec, 0, sizeof v->rec);
  v->rec.client = x.client;
  v->rec.first_ns = x.first_ns;
  v->rec.id = x.id;
  v->rec.qtype = x.qtype;
  auto it = long_names_.empty() ? long_names_.end() : long_names_.find(t);
  if (it != long_names_.end())
    v->name = it->second;
  else
    v->name.assign(reinterpret_cast<const char*>(x.name), x.name_len);
  fill(v.get(), t);
  return v;
}

// The fields of a view that change while its query is in the table.
void DnsTxns::fill(View* v, int32_t t) {
  const DnsEntry& x = entries_[t];
  v->rec.queries = x.queries;
  v->rec.answered = (x.state & kDnsAnswered) != 0;
  v->rec.rcode = x.rcode;
  v->rec.latency_ms = x.latency_ms;
  auto at = attributions_.find(t);
  v->rec.attributed = at != attributions_.end();
  if (v->rec.attributed) v->rec.attribution = at->second;
}

// A listed query's view follows its query.
void DnsTxns::refresh(int32_t t) {
  if (views_.empty()) return;
  auto it = views_.find(t);
  if (it != views_.end()) fill(it->second.get(), t);
}

void DnsTxns::answer(const FrameEvent& e, uint32_t h) {
  const int32_t t = table_.get(e.txn, h);
  if (t < 0) return;
  if (event_is_bad(e.flags)) {
    attribute(t, e);
    return;
  }
  DnsEntry& x = entries_[t];
  const uint8_t state = x.state;
  if (state & kDnsAnswered) return;
  if (state & kDnsClosed) {
    // The answer to a resend after the timeout: answered late, not unanswered.
    s_.unanswered--;
    if (attributions_.count(t)) s_.attributed--;
    auto v = views_.find(t);
    if (v != views_.end()) {
      auto k = std::find(unanswered_list_.begin(), unanswered_list_.end(), v->second);
      if (k != unanswered_list_.end()) unanswered_list_.erase(k);
    }
    // The name was resolved after all: a new id for it is no retry of a failure.
    auto l = last_unanswered_.find(x.name_key);
    if (l != last_unanswered_.end() && l->second == x.first_ns) last_unanswered_.erase(l);
  }
  x.state = state | kDnsAnswered;
  x.rcode = e.dns_flags & 0xf;  // RFC 1035 4.1.1 RCODE
  const double latency = js_round((static_cast<double>(e.ts_ns) - x.first_ns) / 1e4) / 100;
  x.latency_ms = latency;
  s_.answered++;
  latencies_.push_back(latency);
  if (latencies_.size() > kLatencies) latencies_.pop_front();
  refresh(t);
}

// A view that fell off the list no longer follows its query.
void DnsTxns::drop_listed(const std::shared_ptr<View>& v) {
  for (auto w = views_.begin(); w != views_.end(); ++w) {
    if (w->second == v) {
      views_.erase(w);
      return;
    }
  }
}

void DnsTxns::forget(int32_t t) {
  table_.remove(t);
  sends_.release(t);
  if (!attributions_.empty()) attributions_.erase(t);
  if (!views_.empty()) views_.erase(t);
  if (!long_names_.empty()) long_names_.erase(t);
}

// Queries older than the timeout are decided: answered ones are forgotten, unanswered
// ones counted and kept kResendKeepNs after their latest send.
void DnsTxns::advance(double now_ns) {
  // Closed now, in order: only the newest max_listed_ get a view (the list keeps those).
  std::vector<int32_t> closed;
  for (int32_t t = table_.first(); t >= 0;) {
    // The walk follows the insertion links from slot to slot: the next one's links and
    // the state of the one after are fetched while this one is decided.
    const int32_t next = table_.prefetch_next(t);
    if (next >= 0) __builtin_prefetch(&entries_[next]);
    DnsEntry& x = entries_[t];
    const uint8_t state = x.state;
    if (state & kDnsClosed) {
      if (state & kDnsAnswered || now_ns - x.last_ns >= kResendKeepNs) forget(t);
    } else if (now_ns - x.first_ns >= timeout_ns_) {
      if (state & kDnsAnswered) {
        forget(t);
      } else {
        x.state = kDnsClosed;
        kept_.push_back(table_.key_of(t));
        s_.unanswered++;
        if (attributions_.count(t)) s_.attributed++;
        // Past kLastUnanswered names the map is cleared below: the names after that
        // would be cleared with it, so they are not inserted (a tick that closes tens of
        // thousands of queries made as many nodes to free them at once).
        if (last_unanswered_.size() <= kLastUnanswered) last_unanswered_[x.name_key] = x.first_ns;
        closed.push_back(t);
      }
    }
    t = next;
  }
  const size_t from = closed.size() > max_listed_ ? closed.size() - max_listed_ : 0;
  for (size_t k = from; k < closed.size(); k++) {
    std::shared_ptr<View> v = view_of(closed[k]);
    views_[closed[k]] = v;
    unanswered_list_.push_front(v);
    if (unanswered_list_.size() > max_listed_) {
      std::shared_ptr<View> gone = unanswered_list_.back();
      unanswered_list_.pop_back();
      drop_listed(gone);
    }
  }
  forget_oldest_kept();
  if (last_unanswered_.size() > kLastUnanswered) last_unanswered_.clear();
}

void DnsTxns::flush() { advance(std::numeric_limits<double>::infinity()); }

// Keeps at most kMaxKeptUnanswered decided-unanswered queries, forgetting the oldest.
void DnsTxns::forget_oldest_kept() {
  auto kept_slot = [this](double k) {
    const int32_t t = table_.get(k);
    return t >= 0 && entries_[t].state == kDnsClosed ? t : -1;
  };
  // Each tick looks up every kept key (tens of thousands when a tick closes that many
  // queries, each at random in the index and the entries): the buckets of the key
  // kTxnAhead further and the key and state of the one kTxnNear further are fetched first.
  auto ahead = [this](const std::deque<double>& keys, size_t j) {
    if (j + kTxnAhead < keys.size()) table_.prefetch_bucket(TxnTable::hash(keys[j + kTxnAhead]));
    if (j + kTxnNear < keys.size()) {
      const int32_t t = table_.prefetch_candidate(TxnTable::hash(keys[j + kTxnNear]));
      if (t >= 0) __builtin_prefetch(&entries_[t]);
    }
  };
  // Drop keys whose query is gone already (answered late, or forgotten after the keep).
  if (kept_.size() > 2 * kMaxKeptUnanswered) {
    std::deque<double> live;
    for (size_t j = 0; j < kept_.size(); j++) {
      ahead(kept_, j);
      if (kept_slot(kept_[j]) >= 0) live.push_back(kept_[j]);
    }
    kept_.swap(live);
  }
  int64_t excess = -static_cast<int64_t>(kMaxKeptUnanswered);
  for (size_t j = 0; j < kept_.size(); j++) {
    ahead(kept_, j);
    if (kept_slot(kept_[j]) >= 0) excess++;
  }
  size_t i = 0;
  for (; i < kept_.size() && excess > 0; i++) {
    ahead(kept_, i);
    const int32_t t = kept_slot(kept_[i]);
    if (t >= 0) {
      forget(t);
      excess--;
    }
  }
  kept_.erase(kept_.begin(), kept_.begin() + static_cast<ptrdiff_t>(i));
}

bool DnsTxns::latency(double* p50, double* max) const {
  if (latencies_.empty()) return false;
  std::vector<double> sorted(latencies_.begin(), latencies_.end());
  std::sort(sorted.begin(), sorted.end());
  *p50 = sorted[(sorted.size() - 1) / 2];
  *max = sorted.back();
  return true;
}

std::vector<DnsListed> DnsTxns::listed(std::string* names) const {
  std::vector<DnsListed> out;
  out.reserve(unanswered_list_.size());
  for (const auto& v : unanswered_list_) {
    DnsListed r = v->rec;
    r.name_off = static_cast<uint32_t>(names->size());
    r.name_len = static_cast<uint32_t>(v->name.size());
    names->append(v->name);
    out.push_back(r);
  }
  return out;
}

}  // namespace csumtop
