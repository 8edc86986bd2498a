// \summary: Which sightings of one DNS query or TCP SYN are new sends (retries) and which
// are the same packet seen again on another interface, for the DNS and SYN transaction
// tables (dns_txns.h, syn_txns.h).
//
// A query or SYN is captured several times on its way: on the pod's veth, on the overlay
// device (flannel.1), inside its carrier on the underlay (eth0), on the other node. All
// those copies carry the same `match` key (events.h). A retry carries it too whenever its
// IPv4 id repeats: Linux gives DF packets of an unconnected socket id 0 (include/net/ip.h
// ip_select_ident_segs), a retransmitted SYN repeats its ISN (RFC 9293 3.8.1; Linux resends
// it net.ipv4.tcp_syn_retries times, after 1 s and doubling) and a retried query its id
// and question (RFC 1035 4.2.1, 7.2; glibc's res_send resends the same buffer). So the key
// alone cannot tell a copy from a retry. The rule:
//  - a sighting on an interface (and direction) where this send was not seen yet, within
//    the copy window of the send's first sighting, is the same packet (one send): the
//    carrier/overlay matcher uses the same window for the same pair
//    (src/correlate/matcher.ts);
//  - a sighting on an interface (and direction) where the send was already seen is a new
//    send: one interface sees one packet once per direction. The direction counts because
//    loopback shows every packet twice, as sent and as received (net/core/dev.c
//    dev_queue_xmit_nit, then netif_rx).
// A sighting's "where" is the interface id and direction (send_place()), not the
// interned place of its label: two interfaces that share a label (a pod's veth deleted and
// made again) are still two interfaces.
//
// Only sends younger than the window can still gain copies, so only those are kept (at
// most kMaxCopies): memory per transaction follows the retry rate, not how long it stays
// open. The common case, a transaction sent once and seen on up to kInlinePlaces
// interfaces, lives inline in the table entry (SendSlot); a retry or a fifth interface
// moves that one transaction to a Sends list on the side (retries are rare, and what the
// report is about).
#pragma once
#include <cmath>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace csumtop {

// Sends of one transaction remembered while they can still gain copies
// (src/correlate/limits.ts MAX_COPIES).
constexpr size_t kMaxCopies = 64;
// Interfaces one send is remembered on (veth, bridge, overlay, underlay, both nodes ...).
constexpr size_t kMaxSendPlaces = 16;
constexpr uint32_t kInlinePlaces = 4;

// sll_pkttype (linux/if_packet.h): sent by this host.
constexpr uint8_t kPacketOutgoing = 4;

// Interface and direction of a sighting as one number.
inline uint32_t send_place(uint32_t iface, uint8_t direction) {
  return iface * 2 + (direction == kPacketOutgoing ? 1 : 0);
}

class Sends {
 public:
  Sends(double window_ns, double match, double ts, const uint32_t* places, uint32_t n)
      : window_ns_(window_ns) {
    Send s{match, ts, {}, 0};
    for (uint32_t k = 0; k < n; k++) s.places[s.n++] = places[k];
    recent_.push_back(s);
  }

  // One sighting: true when it is a new send, false for a copy of a send already counted.
  bool see(double match, uint32_t place, double ts) {
    // Newest first: a retry sent 1 s later must not take a copy meant for the next one.
    for (size_t k = recent_.size(); k-- > 0;) {
      Send& s = recent_[k];
      // Abs: batches of different capture threads arrive in any order.
      if (s.match != match || std::fabs(ts - s.ts) >= window_ns_ || s.has(place)) continue;
      if (s.n < kMaxSendPlaces) s.places[s.n++] = place;
      return false;
    }
    // Sends older than the window can take no more copies: forget them.
    size_t drop = 0;
    while (drop < recent_.size() &&
           (ts - recent_[drop].ts >= window_ns_ || recent_.size() - drop >= kMaxCopies))
      drop++;
    recent_.erase(recent_.begin(), recent_.begin() + static_cast<ptrdiff_t>(drop));
    Send s{match, ts, {}, 0};
    s.places[s.n++] = place;
    recent_.push_back(s);
    return true;
  }

 private:
  struct Send {
    double match;
    double ts;
    uint32_t places[kMaxSendPlaces];
    uint32_t n;
    bool has(uint32_t p) const {
      for (uint32_t k = 0; k < n; k++)
        if (places[k] == p) return true;
      return false;
    }
  };
  double window_ns_;
  std::vector<Send> recent_;
};

// The first send of a transaction, inline in its table entry.
struct SendSlot {
  double match;
  double ts;
  uint32_t places[kInlinePlaces];
  uint8_t count;
};

// The sends of every slot of a transaction table: SendSlot inline, Sends for the few
// transactions retried or seen on more than kInlinePlaces interfaces.
class SendSlots {
 public:
  explicit SendSlots(double window_ns) : window_ns_(window_ns) {}

  // The first sighting of a new transaction: its first send.
  void start(uint32_t slot, SendSlot& s, double match, uint32_t place, double ts) {
    if (!moved_.empty()) moved_.erase(slot);
    s.match = match;
    s.ts = ts;
    s.places[0] = place;
    s.count = 1;
  }

  // Sends::see for the transaction at `slot`: true for a new send, false for a copy.
  bool see(uint32_t slot, SendSlot& s, double match, uint32_t place, double ts) {
    if (!moved_.empty()) {
      auto it = moved_.find(slot);
      if (it != moved_.end()) return it->second.see(match, place, ts);
    }
    const uint32_t n = s.count;
    if (match == s.match && std::fabs(ts - s.ts) < window_ns_) {
      bool seen = false;
      for (uint32_t k = 0; k < n; k++)
        if (s.places[k] == place) seen = true;
      if (!seen && n < kInlinePlaces) {
        s.places[n] = place;
        s.count = static_cast<uint8_t>(n + 1);
        return false;
      }
    } else if (ts - s.ts >= window_ns_) {
      // A new send after the first can take no more copies: Sends would forget it.
      start(slot, s, match, place, ts);
      return true;
    }
    auto it = moved_.emplace(slot, Sends(window_ns_, s.match, s.ts, s.places, n)).first;
    return it->second.see(match, place, ts);
  }

  // The transaction at `slot` is gone.
  void release(uint32_t slot) {
    if (!moved_.empty()) moved_.erase(slot);
  }

 private:
  double window_ns_;
  std::unordered_map<uint32_t, Sends> moved_;
};

}  // namespace csumtop
