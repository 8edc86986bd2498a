// \summary: Per-frame observations for correlation (see events.h).
#include "flow/events.h"

#include <cstring>

namespace csumtop {

namespace {

constexpr uint8_t kUdp = 17;
constexpr uint8_t kTcp = 6;
constexpr uint16_t kDnsPort = 53;
constexpr uint8_t kTcpSyn = 0x02;
constexpr uint8_t kTcpRst = 0x04;
constexpr uint8_t kTcpAck = 0x10;

inline uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline uint32_t be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

// A word-at-a-time multiply-xorshift hash: the keys are computed for every carrier, so
// FNV's byte loop (bad_flows.cc, for the rare bad frames) would cost too much here.
struct Hasher {
  uint64_t h = 0x9e3779b97f4a7c15ull;
  void word(uint64_t w) {
    h ^= w + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
  }
  // Two addresses of one family, in fixed-size loads: a memcpy of a run-time length
  // was a call to libc's memmove for every carrier (perf on bench/live), and two IPv4
  // addresses fit one word.
  void addresses(const uint8_t* a, const uint8_t* b, bool v6) {
    if (!v6) {
      uint32_t x, y;
      std::memcpy(&x, a, 4);
      std::memcpy(&y, b, 4);
      word(uint64_t{x} | uint64_t{y} << 32);
      return;
    }
    uint64_t w[4];
    std::memcpy(&w[0], a, 8);
    std::memcpy(&w[1], a + 8, 8);
    std::memcpy(&w[2], b, 8);
    std::memcpy(&w[3], b + 8, 8);
    for (uint64_t x : w) word(x);
  }
  // 53 bits: exact as a JavaScript number; never 0 (0 means "no key").
  double key() const {
    uint64_t v = (h ^ (h >> 29)) & ((1ull << 53) - 1);
    return static_cast<double>(v ? v : 1);
  }
};

void hash_endpoint(Hasher* hs, const FlowEndpoint& e) {
  hs->word(uint64_t{e.family} | uint64_t{e.proto} << 8 | uint64_t{e.has_ports} << 16 |
           uint64_t{e.sport} << 24 | uint64_t{e.dport} << 40);
  hs->addresses(e.src, e.dst, e.family == 6);
}

// The same words as hash_endpoint() of endpoint_of(l), read from the layer itself: the
// folding path keys every carrier without building its endpoints first.
void hash_layer(Hasher* hs, const IpLayer& l) {
  const bool ports = l.l4_offset != 0;
  hs->word(uint64_t{l.family} | uint64_t{l.proto} << 8 | uint64_t{ports} << 16 |
           uint64_t{ports ? l.sport : uint16_t{0}} << 24 |
           uint64_t{ports ? l.dport : uint16_t{0}} << 40);
  hs->addresses(l.src, l.dst, l.family == 6);
}

// The carrier flow: interface, tunnel, VNI, outer and inner tuples.
double carrier_flow_key(uint32_t iface, uint8_t tunnel, uint32_t vni, const IpLayer& outer,
                        const IpLayer& inner) {
  Hasher h;
  h.word(uint64_t{iface} | uint64_t{tunnel} << 32 | uint64_t{vni} << 40);
  hash_layer(&h, outer);
  hash_layer(&h, inner);
  return h.key();
}

// Transaction key: the client's and the server's side in a fixed order, whichever of the
// two sent the packet, so a query and its answer (a SYN and its SYN-ACK) share it.
double txn_key(uint64_t kind, const IpLayer& in, bool from_client, uint32_t extra) {
  Hasher h;
  const uint16_t cport = from_client ? in.sport : in.dport;
  const uint16_t sport = from_client ? in.dport : in.sport;
  h.word(kind | uint64_t{in.family} << 8 | uint64_t{cport} << 16 | uint64_t{sport} << 32 |
         uint64_t{extra} << 48);
  h.word(extra);
  h.addresses(from_client ? in.src : in.dst, from_client ? in.dst : in.src, in.family == 6);
  return h.key();
}

}  // namespace

bool parse_dns(const uint8_t* p, uint32_t len, uint16_t* id, uint16_t* flags, uint16_t* qtype,
               std::string* name) {
  // RFC 1035 4.1.1: a 12-byte header; QDCOUNT is 1 in practice for queries and answers.
  if (len < 12) return false;
  *id = be16(p);
  *flags = be16(p + 2);
  const uint16_t qdcount = be16(p + 4);
  if (qdcount == 0 || ((*flags >> 11) & 0xf) > 5) return false;  // opcodes 0..5 are assigned
  uint32_t off = 12;
  name->clear();
  // RFC 1035 3.1: labels of at most 63 bytes, names of at most 255 bytes; a question
  // name is never compressed in practice, and a pointer ends parsing here.
  for (uint32_t total = 0;;) {
    if (off >= len) return false;
    const uint8_t l = p[off++];
    if (l == 0) break;
    if (l > 63 || off + l > len) return false;
    total += l + 1u;
    if (total > 255) return false;
    if (!name->empty()) name->push_back('.');
    for (uint32_t i = 0; i < l; i++) {
      const uint8_t c = p[off + i];
      if (c > 0x20 && c < 0x7f && c != '.' && c != '\\') {
        name->push_back(static_cast<char>(c));
      } else {  // dig's presentation format for other bytes (RFC 4343 2.1)
        char esc[5] = {'\\', static_cast<char>('0' + c / 100), static_cast<char>('0' + c / 10 % 10),
                       static_cast<char>('0' + c % 10), 0};
        name->append(esc, 4);
      }
    }
    off += l;
  }
  if (name->empty()) name->push_back('.');
  if (off + 4 > len) return false;
  *qtype = be16(p + off);
  return true;
}

void EventBuffer::set_plain(uint32_t iface, bool on) {
  if (on && iface >= plain_.size()) plain_.resize(iface + 1, 0);
  if (iface < plain_.size()) plain_[iface] = on ? 1 : 0;
  // Only as long as the highest overlay device's id: live ids are never reused, and a
  // vector as long as every id ever seen would grow with pod churn (issue 14).
  while (!plain_.empty() && plain_.back() == 0) plain_.pop_back();
  any_plain_ = !plain_.empty();
}

bool EventBuffer::coalescable_flags(uint16_t flags) const {
  return opts_.coalesce && !any_plain_ && !opts_.plain_everywhere &&
         (flags & ~kEvPending) == kEvCarrier;
}

bool EventBuffer::coalesce(double flow_key, uint16_t flags, uint32_t wirelen, uint64_t ts_ns,
                           CoalesceSlot** free_slot) {
  uint64_t bits;
  std::memcpy(&bits, &flow_key, sizeof bits);
  for (int probe = 0; probe < kCoalesceProbes; probe++) {
    CoalesceSlot& s = coalesce_[(bits + static_cast<uint64_t>(probe)) & (kCoalesceSlots - 1)];
    if (s.gen != coalesce_gen_) {
      *free_slot = &s;  // free: the event made next is registered here
      return false;
    }
    if (s.key == flow_key) {
      FrameEvent& e = events_[s.index];
      e.packets++;
      e.wirelen = e.wirelen > UINT32_MAX - wirelen ? UINT32_MAX : e.wirelen + wirelen;
      e.flags |= flags & kEvPending;
      // Frames of one flow arrive in order on one ring; min/max keeps the span right
      // should another ring of the same engine interleave (PACKET_FANOUT).
      if (ts_ns > e.last_ts_ns) e.last_ts_ns = ts_ns;
      if (ts_ns < e.ts_ns) e.ts_ns = ts_ns;
      coalesced_++;
      return true;
    }
  }
  return false;
}

void EventBuffer::register_slot(CoalesceSlot* slot, double flow_key) {
  if (slot == nullptr) return;
  slot->key = flow_key;
  slot->index = static_cast<uint32_t>(events_.size() - 1);
  slot->gen = coalesce_gen_;
}

void EventBuffer::append(const FrameEvent& in, const std::string& names) {
  // observe()'s decisions, in its order: the drop first, then folding.
  if (events_.size() >= opts_.max_per_drain) {
    dropped_++;
    return;
  }
  CoalesceSlot* slot = nullptr;
  // A carrier's `flow` is the key observe() folds it under (the same carrier_flow_key).
  const bool coalescable = coalescable_flags(in.flags);
  if (coalescable && coalesce(in.flow, in.flags, in.wirelen, in.ts_ns, &slot)) return;
  events_.push_back(in);
  FrameEvent& ev = events_.back();
  register_slot(slot, in.flow);
  ev.name_off = 0;
  ev.name_len = 0;
  // observe() stores a name for every DNS query and answer that fits.
  if ((in.flags & (kEvDnsQuery | kEvDnsAnswer)) && in.name_off + in.name_len <= names.size() &&
      names_.size() + in.name_len <= opts_.max_name_bytes) {
    ev.name_off = static_cast<uint32_t>(names_.size());
    ev.name_len = in.name_len;
    names_.append(names, in.name_off, in.name_len);
  }
}

void EventBuffer::observe(const Frame& f, const uint8_t* data, uint32_t caplen, uint32_t wirelen,
                          uint32_t iface, uint64_t ts_ns, uint64_t frame_number,
                          uint8_t direction) {
  if (!opts_.enabled || f.nlayers == 0) return;
  const IpLayer& in = f.layer[f.nlayers - 1];
  uint16_t flags = 0;
  if (f.nlayers > 1 && f.layer[1].tunnel != kTunnelNone) {
    flags |= kEvCarrier;
  } else if (opts_.plain_everywhere || (iface < plain_.size() && plain_[iface])) {
    flags |= kEvPlain;
  }
  // DNS and SYN only when the transport header was decoded (l4_offset set).
  uint16_t dns_id = 0, dns_flags = 0, dns_qtype = 0;
  bool dns = false;
  if (in.proto == kUdp && in.l4_offset != 0 && (in.dport == kDnsPort || in.sport == kDnsPort) &&
      in.is_fragment == 0) {
    const uint32_t pay = in.l4_offset + 8;
    if (pay < caplen) {
      dns = parse_dns(data + pay, caplen - pay, &dns_id, &dns_flags, &dns_qtype, &scratch_name_);
      if (dns) {
        const bool qr = (dns_flags & 0x8000) != 0;
        if (!qr && in.dport == kDnsPort)
          flags |= kEvDnsQuery;
        else if (qr && in.sport == kDnsPort)
          flags |= kEvDnsAnswer;
        else
          dns = false;
      }
    }
  }
  uint32_t seq = 0, ack = 0;
  if (in.proto == kTcp && in.l4_offset != 0 && (in.tcp_flags & kTcpSyn)) {
    flags |= (in.tcp_flags & kTcpAck) ? kEvSynAck : kEvSyn;
  } else if (in.proto == kTcp && in.l4_offset != 0 &&
             (in.tcp_flags & (kTcpRst | kTcpAck)) == (kTcpRst | kTcpAck)) {
    // A reset can name the SYN it refuses only by its ack (ISN + 1): a SYN carries no ACK,
    // so the reset sent for it has the ACK bit set (RFC 9293 3.5 "Reset Generation" and
    // 3.10.7.1; Linux tcp_v4_send_reset and netfilter's REJECT --reject-with tcp-reset do
    // the same). Checking ack == ISN + 1 needs the SYN, which only JavaScript keeps: it
    // looks the reset's `txn` up among open SYNs and ignores the rest. Resets of
    // established connections also pass this cheap test; they are rare and find no SYN.
    flags |= kEvRst;
  }
  if (flags & (kEvSyn | kEvSynAck | kEvRst)) {
    if (in.l4_offset + 12 <= caplen) {
      seq = be32(data + in.l4_offset + 4);
      ack = be32(data + in.l4_offset + 8);
    }
  }
  if (!(flags & (kEvCarrier | kEvPlain | kEvDnsQuery | kEvDnsAnswer | kEvSyn | kEvSynAck | kEvRst)))
    return;
  if (events_.size() >= opts_.max_per_drain) {
    dropped_++;
    return;
  }
  for (int i = 0; i < f.ncsum; i++) {
    const CsumEntry& e = f.csum[i];
    if (e.status == kStatusPending) flags |= kEvPending;
    if (e.status != kStatusBad) continue;
    if (e.looks_partial && opts_.partial_is_offload) {
      flags |= kEvPending;
      continue;
    }
    if (e.kind == kKindIPv4)
      flags |= kEvBadIpv4;
    else
      flags |= e.depth == 0 ? kEvBadOuter : kEvBadInner;
  }
  // A carrier nothing needs to look at alone: fold it into its flow's event of this drain.
  const bool coalescable = coalescable_flags(flags);
  double flow_key = 0;
  CoalesceSlot* slot = nullptr;
  if (coalescable) {
    flow_key = carrier_flow_key(iface, f.layer[1].tunnel, f.layer[1].vni, f.layer[0], in);
    if (coalesce(flow_key, flags, wirelen, ts_ns, &slot)) return;
  }
  events_.emplace_back();
  FrameEvent& ev = events_.back();
  std::memset(&ev, 0, sizeof ev);
  ev.packets = 1;
  register_slot(slot, flow_key);
  ev.ts_ns = ts_ns;
  ev.last_ts_ns = ts_ns;
  ev.frame_number = frame_number;
  ev.iface = iface;
  ev.wirelen = wirelen;
  ev.flags = flags;
  ev.direction = direction;
  ev.n_layers = f.nlayers;
  ev.tunnel = f.nlayers > 1 ? f.layer[1].tunnel : static_cast<uint8_t>(kTunnelNone);
  ev.vni = f.nlayers > 1 ? f.layer[1].vni : 0;
  endpoint_of(f.layer[0], &ev.outer);
  endpoint_of(in, &ev.inner);
  ev.ip_id = in.ip_id;
  ev.inner_len = in.ip_len;
  ev.tcp_seq = seq;
  ev.tcp_ack = ack;
  Hasher m;
  hash_endpoint(&m, ev.inner);
  m.word(uint64_t{in.ip_id} | uint64_t{in.ip_len} << 16);
  ev.match = m.key();
  if (flags & kEvCarrier) {
    // A foldable carrier's key was computed above for the lookup.
    ev.flow = coalescable ? flow_key : carrier_flow_key(iface, ev.tunnel, ev.vni, f.layer[0], in);
  }
  if (flags & kEvDnsQuery)
    ev.txn = txn_key(1, in, true, dns_id);
  else if (flags & kEvDnsAnswer)
    ev.txn = txn_key(1, in, false, dns_id);
  else if (flags & kEvSyn)
    ev.txn = txn_key(2, in, true, seq);
  else if (flags & (kEvSynAck | kEvRst))
    ev.txn = txn_key(2, in, false, ack - 1);
  if (dns) {
    ev.dns_id = dns_id;
    ev.dns_flags = dns_flags;
    ev.dns_qtype = dns_qtype;
    if (names_.size() + scratch_name_.size() <= opts_.max_name_bytes) {
      ev.name_off = static_cast<uint32_t>(names_.size());
      ev.name_len = static_cast<uint16_t>(scratch_name_.size());
      names_ += scratch_name_;
    }
  }
}

}  // namespace csumtop
