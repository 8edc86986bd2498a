// \summary: TCP SYN -> SYN-ACK or RST (RFC 9293 3.5) in the addon (issue 14): connections
// that needed retransmitted SYNs and the delay they cost, connections refused and SYNs
// never answered, folded from the correlation events of each batch with no object per
// event. JavaScript gets the counts and the few attempts its report lists
// (src/correlate/syn.ts wraps this; its rules are the ones below).
//
// Linux retransmits a SYN after 1 s and doubles the wait (TCP_TIMEOUT_INIT,
// net/ipv4/tcp_timer.c; net.ipv4.tcp_syn_retries times, 6 by default), so a connection
// answered after one, two or six retransmissions took 1 s, 3 s or 63 s: the "TCP to a
// Service takes 1/3/63 s" symptom of VXLAN checksum incidents.
//
// Every outcome is matched by the transaction key (events.h `txn`: client and server
// addresses and ports and the ISN, which the SYN carries as its seq and the answer as its
// ack - 1, from the reversed tuple):
//  - answered: a SYN-ACK <SEQ=y><ACK=ISN+1><CTL=SYN,ACK> (RFC 9293 3.5, figure 6);
//  - refused: a RST <SEQ=0><ACK=ISN+1><CTL=RST,ACK>, what a host with no listener sends
//    (RFC 9293 3.5 "Reset Generation" group 1, 3.10.7.1), and netfilter's REJECT
//    --reject-with tcp-reset: the SYN reached a TCP that said no, neither unanswered nor a
//    symptom of bad carriers;
//  - unanswered: neither within the timeout.
// A SYN-ACK or RST in a carrier with a bad checksum does not count: the client's kernel
// drops it, so for the client the SYN is still unanswered (txn_attribution.h).
// One SYN seen on several interfaces is one SYN; seen again on an interface that already
// saw it, a retransmission, whatever its IPv4 id (sends.h).
//
// Memory: a TxnTable (txn_table.h) and one SynEntry per slot, allocated once:
// kSynBytesPerEntry = TxnTable::kBytesPerEntry + sizeof(SynEntry) bytes per attempt of the
// cap (test/unit/native-txns.test.ts checks it against what is allocated and <= 256). On
// the side, bounded by the cap and only for the rare attempts that have them: the sends
// of retried ones (sends.h), retransmission times (at most kMaxCopies - 1 each) and
// attributions.
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "flow/events.h"
#include "flow/places.h"
#include "flow/sends.h"
#include "flow/table_memory.h"
#include "flow/txn_attribution.h"
#include "flow/txn_table.h"

namespace csumtop {

// What advance() reads of every entry (times, state) comes first, in one cache line.
struct SynEntry {
  double first_ns;
  double decided_ns;  // when the SYN-ACK or RST was seen; NaN while undecided
  double delay_s;     // NaN while undecided
  uint32_t syns;
  uint8_t state;  // kSynClosed | kSynAnswered | kSynRefused
  SendSlot send;
  FlowEndpoint client;  // the SYN's innermost endpoint
};

static_assert(sizeof(SynEntry) == 112, "docs/line-rate.md states the bytes per attempt");
static_assert(offsetof(SynEntry, state) < 64, "advance() reads one line of an entry");
constexpr size_t kSynBytesPerEntry = TxnTable::kBytesPerEntry + sizeof(SynEntry);
static_assert(kSynBytesPerEntry <= 256, "issue 14: <= 256 bytes per SYN attempt");

// One listed attempt as summary() packs it (trivial; layout exported by the addon).
struct SynListed {
  FlowEndpoint client;
  double first_ns;
  double delay_s;  // NaN: null
  TxnAttribution attribution;
  uint32_t syns;
  uint32_t retransmit_off;  // into summary()'s retransmission times
  uint32_t retransmit_n;
  uint8_t answered, refused, attributed;
};

struct SynCounts {
  double connections, answered, refused, unanswered, retransmitted, attributed;
};

class SynTxns {
 public:
  // r: as TxnTable's (txn_table.h).
  SynTxns(uint32_t cap, double timeout_ns, double copy_window_ns, uint32_t max_listed,
          Residency r = Residency::kAtOnce);

  // The events of one batch (n FrameEvents, byte layout of events.h, any alignment);
  // places: the interfaces JavaScript lists, as (id, place, flags) words (places.h).
  void add(const uint8_t* events, size_t n, const uint32_t* places, size_t n_places);
  // Decides what timed out by `now_ns` (capture time for files), in insertion order.
  void advance(double now_ns);
  // The capture ended: every attempt still open is unanswered.
  void flush();

  const SynCounts& counts() const { return s_; }
  // Answered after n retransmissions: (n, count) in the order the buckets first filled
  // (the order of the JSON object JavaScript makes).
  const std::vector<std::pair<uint32_t, double>>& delayed_by() const { return delayed_by_; }
  // The listed attempts, most recent first; their retransmission times appended to `times`.
  std::vector<SynListed> listed(std::vector<double>* times) const;
  uint32_t size() const { return table_.size(); }
  uint32_t cap() const { return table_.cap(); }
  double evicted() const { return evicted_; }
  size_t bytes() const { return table_.bytes() + entries_.size() * sizeof(SynEntry); }

 private:
  struct View {
    SynListed rec;
    std::vector<double> retransmit_at;
  };

  void syn(const FrameEvent& e, uint32_t h);
  void answer(const FrameEvent& e, uint32_t h, uint8_t outcome);
  void attribute(int32_t a, const FrameEvent& e);
  std::shared_ptr<View> view_of(int32_t a);
  void fill(View* v, int32_t a);
  void refresh(int32_t a);
  void list(int32_t a);
  void forget(int32_t a);
  void close(int32_t a, std::vector<int32_t>* closed);
  void list_closed(const std::vector<int32_t>& closed);

  TxnTable table_;
  TableArray<SynEntry> entries_;
  SendSlots sends_;
  PlaceMap places_;
  double timeout_ns_, copy_window_ns_;
  uint32_t max_listed_;
  std::unordered_map<uint32_t, std::vector<double>> retransmit_at_;
  std::unordered_map<uint32_t, TxnAttribution> attributions_;
  // The view of each listed attempt, kept up to date while it is in the table; the list,
  // most recent first, bounded by max_listed_.
  std::unordered_map<uint32_t, std::shared_ptr<View>> views_;
  std::deque<std::shared_ptr<View>> slow_;
  SynCounts s_{};
  std::vector<std::pair<uint32_t, double>> delayed_by_;
  double evicted_ = 0;
};

}  // namespace csumtop
