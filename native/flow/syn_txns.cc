// \summary: SynTxns (syn_txns.h): the SYN rules of src/correlate/syn.ts, folded per batch.
#include "flow/syn_txns.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "flow/txn_round.h"

namespace csumtop {

namespace {

constexpr uint8_t kSynClosed = 1;  // counted unanswered after the timeout (kept for a late SYN-ACK)
constexpr uint8_t kSynAnswered = 2;
constexpr uint8_t kSynRefused = 4;

// Kept after being counted unanswered for a late SYN-ACK, until Linux's last retry
// (tcp_syn_retries 6: 1 + 2 + ... + 64 = 127 s after the first SYN).
constexpr double kSynKeepNs = 130e9;

}  // namespace

SynTxns::SynTxns(uint32_t cap, double timeout_ns, double copy_window_ns, uint32_t max_listed,
                 Residency r)
    : table_(cap, r),
      entries_(cap, r),
      sends_(copy_window_ns),
      timeout_ns_(timeout_ns),
      copy_window_ns_(copy_window_ns),
      max_listed_(max_listed) {}

void SynTxns::add(const uint8_t* events, size_t n, const uint32_t* places, size_t n_places) {
  places_.set(places, n_places);
  fold_txn_batch(table_, entries_.data(), events, n, kEvSyn | kEvSynAck | kEvRst,
                 [&](const FrameEvent& e, uint32_t h) {
                   if (e.flags & kEvSyn)
                     syn(e, h);
                   else if (e.flags & kEvSynAck)
                     answer(e, h, kSynAnswered);
                   else
                     answer(e, h, kSynRefused);
                 });
}

void SynTxns::syn(const FrameEvent& e, uint32_t h) {
  const double ts = static_cast<double>(e.ts_ns);
  const uint32_t place = send_place(e.iface, e.direction);
  int32_t a = table_.get(e.txn, h);
  if (a < 0) {
    a = table_.add(e.txn, h);
    if (a < 0) {
      evicted_++;
      return;
    }
    SynEntry& x = entries_[a];
    x.client = e.inner;
    x.first_ns = ts;
    x.decided_ns = std::numeric_limits<double>::quiet_NaN();
    x.delay_s = std::numeric_limits<double>::quiet_NaN();
    x.syns = 1;
    x.state = 0;
    sends_.start(a, x.send, e.match, place, ts);
    s_.connections++;
  } else if (sends_.see(a, entries_[a].send, e.match, place, ts)) {
    // A retransmission. Bounded: Linux retransmits a SYN 6 times (tcp_syn_retries); a
    // flood of them must not grow one entry.
    SynEntry& x = entries_[a];
    std::vector<double>& at = retransmit_at_[a];
    if (at.size() < kMaxCopies - 1) at.push_back(js_round((ts - x.first_ns) / 1e7) / 100);
    x.syns++;
    if (x.syns == 2) s_.retransmitted++;
    refresh(a);
  }
  if (event_is_bad(e.flags) && std::isnan(entries_[a].decided_ns)) attribute(a, e);
}

void SynTxns::attribute(int32_t a, const FrameEvent& e) {
  const uint32_t place = places_.find(e.iface).place;
  auto it = attributions_.find(a);
  if (it != attributions_.end()) {
    attribute_event(&it->second, false, e, place);
  } else {
    TxnAttribution at;
    if (attribute_event(&at, true, e, place)) attributions_.emplace(a, at);
  }
  refresh(a);
}

// A SYN-ACK (answered) or a RST+ACK (refused) for an open SYN: the first good one decides.
void SynTxns::answer(const FrameEvent& e, uint32_t h, uint8_t outcome) {
  const int32_t a = table_.get(e.txn, h);
  // A RST that answers no SYN seen (of an established connection): not ours. A copy of
  // the answer on another interface once decided: nothing new.
  if (a < 0 || !std::isnan(entries_[a].decided_ns)) return;
  if (event_is_bad(e.flags)) {
    attribute(a, e);
    return;
  }
  SynEntry& x = entries_[a];
  const double ts = static_cast<double>(e.ts_ns);
  const bool closed = (x.state & kSynClosed) != 0;
  if (closed) {
    // Answered after it was counted unanswered (a 7 s or later retransmission).
    s_.unanswered--;
    if (attributions_.count(a)) s_.attributed--;
  }
  x.delay_s = js_round((ts - x.first_ns) / 1e7) / 100;
  // Kept for the copy window: the SYN and its answer seen on another interface may come
  // in a later batch (another capture thread), and must find this attempt decided rather
  // than open a second one (advance() forgets it).
  x.decided_ns = ts;
  x.state |= outcome;
  refresh(a);
  if (outcome == kSynRefused) {
    // Listed whatever its delay: a refused connection is what the operator asks about.
    s_.refused++;
    if (!closed) list(a);
    return;
  }
  s_.answered++;
  if (x.syns > 1) {
    const uint32_t n = x.syns - 1;
    auto it = std::find_if(delayed_by_.begin(), delayed_by_.end(),
                           [n](const std::pair<uint32_t, double>& b) { return b.first == n; });
    if (it == delayed_by_.end())
      delayed_by_.emplace_back(n, 1);
    else
      it->second++;
    if (!closed) list(a);
  }
}

std::shared_ptr<SynTxns::View> SynTxns::view_of(int32_t a) {
  auto v = std::make_shared<View>();
  std::memset(&v->rec, 0, sizeof v->rec);
  v->rec.client = entries_[a].client;
  v->rec.first_ns = entries_[a].first_ns;
  fill(v.get(), a);
  return v;
}

// The fields of a view that change while its attempt is in the table.
void SynTxns::fill(View* v, int32_t a) {
  const SynEntry& x = entries_[a];
  v->rec.syns = x.syns;
  v->rec.answered = (x.state & kSynAnswered) != 0;
  v->rec.refused = (x.state & kSynRefused) != 0;
  v->rec.delay_s = x.delay_s;
  auto r = retransmit_at_.find(a);
  if (r != retransmit_at_.end()) v->retransmit_at = r->second;
  auto at = attributions_.find(a);
  v->rec.attributed = at != attributions_.end();
  if (v->rec.attributed) v->rec.attribution = at->second;
}

// A listed attempt's view follows its attempt.
void SynTxns::refresh(int32_t a) {
  if (views_.empty()) return;
  auto it = views_.find(a);
  if (it != views_.end()) fill(it->second.get(), a);
}

void SynTxns::list(int32_t a) {
  auto it = views_.find(a);
  std::shared_ptr<View> v = it != views_.end() ? it->second : (views_[a] = view_of(a));
  slow_.push_front(v);
  if (slow_.size() > max_listed_) {
    std::shared_ptr<View> gone = slow_.back();
    slow_.pop_back();
    // A view that fell off the list no longer follows its attempt (unless listed twice).
    if (std::find(slow_.begin(), slow_.end(), gone) == slow_.end()) {
      for (auto w = views_.begin(); w != views_.end(); ++w) {
        if (w->second == gone) {
          views_.erase(w);
          break;
        }
      }
    }
  }
}

void SynTxns::forget(int32_t a) {
  table_.remove(a);
  sends_.release(a);
  if (!retransmit_at_.empty()) retransmit_at_.erase(a);
  if (!attributions_.empty()) attributions_.erase(a);
  if (!views_.empty()) views_.erase(a);
}

// Closes attempt a: counted unanswered; listed by list_closed().
void SynTxns::close(int32_t a, std::vector<int32_t>* closed) {
  entries_[a].state |= kSynClosed;
  s_.unanswered++;
  if (attributions_.count(a)) s_.attributed++;
  closed->push_back(a);
}

// Lists the attempts closed now, in order: only the newest max_listed_ stay listed.
void SynTxns::list_closed(const std::vector<int32_t>& closed) {
  const size_t from = closed.size() > max_listed_ ? closed.size() - max_listed_ : 0;
  for (size_t k = from; k < closed.size(); k++) list(closed[k]);
}

void SynTxns::advance(double now_ns) {
  std::vector<int32_t> closed;
  for (int32_t a = table_.first(); a >= 0;) {
    // The next slot's links and state fetched while this one is decided (txn_table.h).
    const int32_t next = table_.prefetch_next(a);
    if (next >= 0) __builtin_prefetch(&entries_[next]);
    const SynEntry& x = entries_[a];
    if (!std::isnan(x.decided_ns)) {
      if (now_ns - x.decided_ns >= copy_window_ns_) forget(a);
    } else if (now_ns - x.first_ns >= timeout_ns_) {
      if (x.state & kSynClosed) {
        // Kept a while for a late SYN-ACK; forgotten after Linux's last retry.
        if (now_ns - x.first_ns > kSynKeepNs) forget(a);
      } else {
        close(a, &closed);
      }
    }
    a = next;
  }
  list_closed(closed);
}

void SynTxns::flush() {
  std::vector<int32_t> closed;
  for (int32_t a = table_.first(); a >= 0; a = table_.next_of(a)) {
    const SynEntry& x = entries_[a];
    if (x.state & kSynClosed || !std::isnan(x.decided_ns)) continue;
    close(a, &closed);
  }
  list_closed(closed);
}

std::vector<SynListed> SynTxns::listed(std::vector<double>* times) const {
  std::vector<SynListed> out;
  out.reserve(slow_.size());
  for (const auto& v : slow_) {
    SynListed r = v->rec;
    r.retransmit_off = static_cast<uint32_t>(times->size());
    r.retransmit_n = static_cast<uint32_t>(v->retransmit_at.size());
    times->insert(times->end(), v->retransmit_at.begin(), v->retransmit_at.end());
    out.push_back(r);
  }
  return out;
}

}  // namespace csumtop
