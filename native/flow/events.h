// \summary: Per-frame observations for correlation (issue 4): VXLAN/Geneve carriers,
// plain packets on overlay devices (to match against the carriers), DNS queries and
// answers, TCP SYN, SYN-ACK and the RST that refuses a SYN. Fixed-size records in a reused buffer
// cross to JavaScript once per batch (docs/design.md, principle 1), never one call per frame.
//
// Every record carries two 53-bit keys computed here, so JavaScript can key its maps
// with plain numbers instead of building strings per packet:
//  - `match`: the innermost packet's identity as both sides of a decapsulation see it
//    (addresses, protocol, IPv4 id, IP length, ports): the carrier on the underlay and
//    the decapsulated packet on flannel.1 share it. This is the comparison engineers do
//    by hand with two tcpdumps (docs/domain.md, "The incident").
//  - `flow`: the carrier flow (outer tuple, tunnel, VNI, inner tuple, interface).
//  - `txn`: the transaction a DNS message or TCP SYN belongs to, the same for both
//    sides: (client, client port, server, server port, DNS id) for a query and its
//    answer (RFC 1035 4.1.1), (client, ports, server, initial sequence number) for a
//    SYN and its SYN-ACK or RST, whose ack is ISN + 1 (RFC 9293 3.5).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "decode/frame.h"
#include "flow/bad_flows.h"

namespace csumtop {

enum EventFlag : uint16_t {
  kEvCarrier = 1u << 0,    // layer 0 carries a VXLAN/Geneve packet
  kEvPlain = 1u << 1,      // a packet with no tunnel, on an interface that wants them
  kEvDnsQuery = 1u << 2,   // innermost UDP to port 53 with QR clear (RFC 1035 4.1.1)
  kEvDnsAnswer = 1u << 3,  // innermost UDP from port 53 with QR set
  kEvSyn = 1u << 4,        // innermost TCP with SYN and no ACK
  kEvSynAck = 1u << 5,     // innermost TCP with SYN and ACK
  kEvBadOuter = 1u << 6,   // a bad transport checksum at layer 0
  kEvBadInner = 1u << 7,   // a bad transport checksum below layer 0
  kEvBadIpv4 = 1u << 8,    // a bad IPv4 header checksum at any layer
  kEvPending = 1u << 9,    // a pending (offload) checksum in the frame
  // innermost TCP with RST and ACK and no SYN: possibly the answer to a SYN nobody listens
  // for, <SEQ=0><ACK=ISN+1><CTL=RST,ACK> (RFC 9293 3.5, 3.10.7.1). Which SYN it answers
  // (ack = ISN + 1) is decided in JavaScript through `txn`: this side keeps no SYN state.
  kEvRst = 1u << 10,
};

// Trivial (cleared with memset). Offsets are exported by the addon (layout().event).
struct FrameEvent {
  double match;    // 53-bit key (see above); 0 when the innermost layer has no IP
  double flow;     // 53-bit key of the carrier flow; 0 for non-carriers
  double txn;      // 53-bit key of the DNS or SYN transaction; 0 for other events
  uint64_t ts_ns;  // the (first) frame's time
  // The newest frame's time: ts_ns except for a coalesced event, which stands for several
  // frames of one carrier flow (EventOptions::coalesce): its flow was first seen at ts_ns
  // and last at last_ts_ns. One time for both put a flow's first sighting up to a batch
  // later than its first carrier (the report's firstSeen 85 ms late on a 20k-frame file).
  uint64_t last_ts_ns;
  uint64_t frame_number;
  uint32_t iface;
  uint32_t wirelen;  // bytes on the wire (the sum, for a coalesced event)
  uint32_t packets;  // frames this event stands for: 1, or more when coalesced (below)
  uint32_t vni;
  uint32_t inner_len;  // innermost IP length
  uint32_t tcp_seq, tcp_ack;
  uint32_t name_off;  // DNS question name in the batch's name buffer
  uint16_t name_len;
  uint16_t flags;  // EventFlag
  uint16_t ip_id;  // innermost IPv4 identification
  uint16_t dns_id;
  uint16_t dns_flags;  // the DNS header's second 16 bits (QR, opcode, RCODE ...)
  uint16_t dns_qtype;
  uint8_t direction;  // sll_pkttype, 0xff unknown
  uint8_t tunnel;     // the carrier's tunnel (how layer 1 was reached)
  uint8_t n_layers;
  uint8_t pad;
  FlowEndpoint outer;  // layer 0
  FlowEndpoint inner;  // innermost layer (same as outer without a tunnel)
};

// An upper bound of the query names parse_dns() gives: at most 255 bytes on the wire
// (RFC 1035 3.1), so for L labels at most 255 - L label bytes, each at most 4 characters
// in dig's escaped form ("\\DDD"), and L - 1 dots: 1019 - 3L < 1020.
constexpr uint32_t kMaxNameBytes = 1020;

struct EventOptions {
  bool enabled = false;
  // Emit kEvPlain for every frame without a tunnel on every interface (files with
  // several interfaces, where roles are not known natively).
  bool plain_everywhere = false;
  // No kernel checksum status (files): a bad transport checksum whose field holds the
  // pseudo-header sum is taken for transmit offload, not for a bad one (the report
  // counts it as "looks like offload"), so symptoms are not attributed to it.
  bool partial_is_offload = false;
  uint32_t max_per_drain = 65536;  // beyond it events are counted in dropped()
  // Carriers that need no per-packet look (no DNS, SYN, bad checksum, and no overlay
  // device captured to match them against) become one event per carrier flow per drain,
  // with `packets` and the summed `wirelen`: on a busy underlay that is most of them, and
  // JavaScript then pays per flow instead of per packet (docs/design.md, principle 1).
  bool coalesce = true;
  uint32_t max_name_bytes = 1u << 20;
};

class EventBuffer {
 public:
  explicit EventBuffer(const EventOptions& opts) : opts_(opts) {}

  // Marks an interface as an overlay device: its plain packets become kEvPlain events.
  void set_plain(uint32_t iface, bool on);
  void set_plain_everywhere(bool on) { opts_.plain_everywhere = on; }
  // Looks at one decoded frame; appends an event when it is one of the kinds above.
  void observe(const Frame& f, const uint8_t* data, uint32_t caplen, uint32_t wirelen,
               uint32_t iface, uint64_t ts_ns, uint64_t frame_number, uint8_t direction);

  // Appends an event another buffer made from one frame (a helper thread's, with coalesce
  // off: native/flow/parallel.cc), as observe() would have appended it here: the same drop
  // and coalescing decisions, its DNS name (from `names`, the other buffer's) copied in.
  // So a step decoded in parts comes out as if one thread had observed every frame.
  void append(const FrameEvent& ev, const std::string& names);
  const EventOptions& options() const { return opts_; }

  const std::vector<FrameEvent>& events() const { return events_; }
  const std::string& names() const { return names_; }
  void clear() {
    events_.clear();
    names_.clear();
    coalesce_gen_++;
  }
  // Swaps the events and names into *events and *names and clears what the buffer gets
  // back, as clear() (Analyzer::take_records says why).
  void take(std::vector<FrameEvent>* events, std::string* names) {
    events->swap(events_);
    names->swap(names_);
    clear();
  }
  uint64_t dropped() const { return dropped_; }
  // The next frame's event might not fit: the drain holds max_per_drain events, or its
  // names might pass max_name_bytes with one more (a name is at most kMaxNameBytes, the
  // escaped form of a 255-byte wire name). Live capture hands the drain over then
  // instead of dropping (LiveCapture::take_frame). A drain of 0 events (maxEvents 0) is
  // never "full": handing it over would not make room.
  bool full() const {
    return opts_.enabled && opts_.max_per_drain > 0 &&
           (events_.size() >= opts_.max_per_drain ||
            names_.size() + kMaxNameBytes > opts_.max_name_bytes);
  }
  // Frames folded into an earlier event of the same drain (see EventOptions::coalesce).
  uint64_t coalesced() const { return coalesced_; }
  bool enabled() const { return opts_.enabled; }

 private:
  EventOptions opts_;
  std::vector<FrameEvent> events_;
  std::string names_;
  std::string scratch_name_;    // the name being parsed (no allocation once grown)
  std::vector<uint8_t> plain_;  // per interface id
  bool any_plain_ = false;      // an overlay device is captured: carriers are matched
  uint64_t dropped_ = 0;
  uint64_t coalesced_ = 0;
  // Open-addressed flow key -> event index for this drain; a slot is live only when its
  // generation is the current one, so clear() empties it in O(1).
  struct CoalesceSlot {
    double key = 0;
    uint32_t index = 0;
    uint32_t gen = 0;
  };
  static constexpr uint32_t kCoalesceSlots = 4096;  // power of two
  bool coalescable_flags(uint16_t flags) const;
  // Folds a frame into the drain's event of flow `flow_key` (true), or says where the new
  // event is to be registered (*free_slot, possibly null when every probe is taken).
  bool coalesce(double flow_key, uint16_t flags, uint32_t wirelen, uint64_t ts_ns,
                CoalesceSlot** free_slot);
  void register_slot(CoalesceSlot* slot, double flow_key);
  static constexpr int kCoalesceProbes = 8;
  std::vector<CoalesceSlot> coalesce_ = std::vector<CoalesceSlot>(kCoalesceSlots);
  uint32_t coalesce_gen_ = 1;
};

// The DNS header and first question of a UDP payload (RFC 1035 4.1.1, 4.1.2). Returns
// false when the payload is not a plausible DNS message. The name is written in dotted
// form (labels as printable ASCII, other bytes as \DDD like dig) into *name.
bool parse_dns(const uint8_t* p, uint32_t len, uint16_t* id, uint16_t* flags, uint16_t* qtype,
               std::string* name);

}  // namespace csumtop
