// \summary: FrameMatcher (frame_match.h).
#include "kdrops/frame_match.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "bpf/kernel_drops_event.h"
#include "decode/frame.h"
#include "kdrops/frame_key.h"

namespace csumtop {
namespace kdrops {

namespace {

// FrameMatcher::kOuterPrint of a key hashing to h (outer_hash()).
uint32_t outer_print(size_t h) { return static_cast<uint32_t>(h >> 33) & 0x7fff0000u; }

bool ip_malformed(uint8_t m) {
  return m == kMalformedIpVersion || m == kMalformedIpv4Ihl || m == kMalformedIpv4Length;
}

// The status of one checksum as the outcome of a drop that names it bad.
Outcome by_status(uint8_t status) {
  if (status == kStatusBad) return kSeenBad;
  if (status == kStatusOk) return kSeenGood;
  return kSeenUnverified;  // absent, unverifiable, pending, validated by the NIC, or not there
}

// The probe tag of frame f, whose key hashes to h (outer_hash()). kKeyPrint: a print of
// everything insert() compares (a frame joins a slot only with the same outer key, inner
// key and verdict), never 0 (an empty slot's); an outer print would not do, bench/live.ts's
// carriers differing in their inner ports only, four at a time. kOuterPrint: bits of h
// the home slot (its low 15) does not use, which a drop with ports shares with every
// frame it fits. Another key of the window has the same key print 1 in 65535 times.
uint32_t frame_tag(const SeenFrame& f, size_t h) {
  const KernelDrop& k = f.key;
  const SeenVerdict& v = f.verdict;
  uint64_t x = h;
  auto mix = [&x](uint64_t w) {
    x = (x ^ w) * 0x9e3779b97f4a7c15ull;
    x ^= x >> 32;
  };
  uint32_t src, dst;
  std::memcpy(&src, k.inner_src, 4);
  std::memcpy(&dst, k.inner_dst, 4);
  mix(static_cast<uint64_t>(src) << 32 | dst);
  mix(static_cast<uint64_t>(k.vni) << 32 | static_cast<uint32_t>(k.inner_sport) << 16 |
      k.inner_dport);
  mix(static_cast<uint64_t>(k.inner_proto) | static_cast<uint64_t>(k.vxlan) << 8 |
      static_cast<uint64_t>(k.has_inner) << 9 | static_cast<uint64_t>(k.has_ports) << 10 |
      static_cast<uint64_t>(k.family) << 16 | static_cast<uint64_t>(v.ipv4) << 24 |
      static_cast<uint64_t>(v.l4) << 32 | static_cast<uint64_t>(v.l4_kind) << 40 |
      static_cast<uint64_t>(v.malformed) << 48 | static_cast<uint64_t>(v.inner_bad) << 56);
  const uint32_t key_print = static_cast<uint32_t>(x >> 48);
  return outer_print(h) | (key_print != 0 ? key_print : 1);
}

}  // namespace

bool seen_frame(const Frame& f, const uint8_t* data, uint32_t caplen, uint16_t linktype,
                uint32_t netns, uint32_t ifindex, uint64_t ts_ns, uint64_t frame_number,
                SeenFrame* out) {
  // Where the network header is: the decoder's when it reached IP; for a frame it found
  // malformed at the IP header (IP_INHDR drops), right after the Ethernet header and tags.
  uint32_t l3 = 0;
  if (f.nlayers > 0) {
    l3 = f.layer[0].l3_offset;
  } else if (ip_malformed(f.malformed) && linktype == kLinkEthernet) {
    l3 = 14 + 4u * f.vlan_count;
  } else if (ip_malformed(f.malformed) && linktype == kLinkRaw) {
    l3 = 0;
  } else {
    return false;
  }
  if (l3 >= caplen) return false;
  *out = SeenFrame{};
  out->key.netns = netns;
  out->key.ifindex = ifindex;
  // The same bytes the kernel's record holds at most (KDROP_DATA_BYTES from the network
  // header), read by the same parser: one packet, one key.
  const uint32_t len = std::min<uint32_t>(caplen - l3, KDROP_DATA_BYTES);
  parse_network(data + l3, len, 0, &out->key);
  for (int i = 0; i < f.ncsum; i++) {
    const CsumEntry& c = f.csum[i];
    if (c.depth > 0) {
      if (c.status == kStatusBad) out->verdict.inner_bad = 1;
      continue;
    }
    if (c.kind == kKindIPv4) {
      out->verdict.ipv4 = c.status;
    } else if (c.kind == kKindUdp || c.kind == kKindTcp || c.kind == kKindIcmp ||
               c.kind == kKindIcmp6) {
      out->verdict.l4 = c.status;
      out->verdict.l4_kind = c.kind;
    }
  }
  out->verdict.malformed = f.malformed;
  out->ts_ns = ts_ns;
  out->frame_number = frame_number;
  return true;
}

Outcome judge(uint8_t reason, const SeenVerdict& v) {
  switch (reason) {
    case KDROP_REASON_IP_CSUM:  // net/ipv4/ip_input.c ip_rcv_core: ip_fast_csum() != 0
      return by_status(v.ipv4);
    case KDROP_REASON_IP_INHDR:  // ip_rcv_core: version, IHL or total length wrong
      if (ip_malformed(v.malformed)) return kSeenBad;
      return v.ipv4 == 0xff ? kSeenUnverified : kSeenGood;
    case KDROP_REASON_UDP_CSUM:
      return v.l4_kind == kKindUdp ? by_status(v.l4) : kSeenUnverified;
    case KDROP_REASON_TCP_CSUM:
      return v.l4_kind == kKindTcp ? by_status(v.l4) : kSeenUnverified;
    case KDROP_REASON_ICMP_CSUM:
      return v.l4_kind == kKindIcmp || v.l4_kind == kKindIcmp6 ? by_status(v.l4) : kSeenUnverified;
    default: {  // SKB_CSUM: some checksum of the packet, the kernel does not say which
      if (v.ipv4 == kStatusBad || v.l4 == kStatusBad) return kSeenBad;
      if ((v.ipv4 == kStatusOk || v.ipv4 == 0xff) && v.l4 == kStatusOk) return kSeenGood;
      return kSeenUnverified;
    }
  }
}

FrameMatcher& FrameMatcher::instance() {
  // Never destroyed: capture engines may detach while the process exits.
  static FrameMatcher* m = new FrameMatcher();
  return *m;
}

void FrameMatcher::start() {
  std::lock_guard<std::mutex> g(mu_);
  slots_.assign(kFrameSlots, Slot{});
  tags_.assign(kFrameSlots, 0);
  stamps_.assign(kFrameSlots, 0);
  pending_.clear();
  pending_.reserve(kMaxPending);
  index_.assign(kIndexSlots, 0u);
  by_address_.assign(kFrameSlots, 0u);
  evicted_ns_ = 0;
  unindexed_ns_ = 0;
  newest_ns_ = 0;
  active_.store(true);
}

void FrameMatcher::stop() {
  std::lock_guard<std::mutex> g(mu_);
  active_.store(false);
  std::vector<Slot>().swap(slots_);
  std::vector<uint32_t>().swap(tags_);
  std::vector<uint64_t>().swap(stamps_);
  std::vector<Pending>().swap(pending_);
  std::vector<uint32_t>().swap(index_);
  std::vector<uint32_t>().swap(by_address_);
}

void FrameMatcher::attach(const void* owner, uint32_t netns, uint32_t ifindex) {
  std::lock_guard<std::mutex> g(mu_);
  captures_[capture_key(netns, ifindex)].owners.emplace_back(owner, 0);
}

void FrameMatcher::detach(const void* owner, uint32_t netns, uint32_t ifindex) {
  std::lock_guard<std::mutex> g(mu_);
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

void FrameMatcher::caught_up(const void* owner, uint32_t netns, uint32_t ifindex, uint64_t ts_ns) {
  std::lock_guard<std::mutex> g(mu_);
  auto it = captures_.find(capture_key(netns, ifindex));
  if (it == captures_.end()) return;
  for (auto& o : it->second.owners)
    if (o.first == owner && ts_ns > o.second) o.second = ts_ns;
}

void FrameMatcher::ring_drop(uint32_t netns, uint32_t ifindex, uint64_t ts_ns) {
  std::lock_guard<std::mutex> g(mu_);
  auto it = captures_.find(capture_key(netns, ifindex));
  if (it != captures_.end() && ts_ns > it->second.ring_drop_ns) it->second.ring_drop_ns = ts_ns;
}

void FrameMatcher::add_frames(const SeenFrame* frames, size_t n) {
  std::lock_guard<std::mutex> g(mu_);
  if (slots_.empty()) return;
  // Not prefetched ahead (hashes of the batch first, each frame's tags and stamps 8
  // frames before its insert, as fold_txn_batch does): bench/kdrops's ring workload
  // measured that no faster (2026-12-07, best of 28 rounds: 129-132 ns a frame against
  // 106-111 at 06:42, 98.5 against 92.5 at 07:19); the tags and stamps (384 KiB) mostly
  // stay in the L2 cache.
  for (size_t i = 0; i < n; i++) insert(frames[i], outer_hash(frames[i].key));
}

void FrameMatcher::insert(const SeenFrame& f, size_t h) {
  if (f.ts_ns > newest_ns_) newest_ns_ = f.ts_ns;
  const uint64_t horizon = newest_ns_ > kWindowNs ? newest_ns_ - kWindowNs : 0;
  const size_t mask = slots_.size() - 1;
  const uint32_t tag = frame_tag(f, h);
  // The first slot whose frames are all matched or out of the window, else the oldest
  // (the first of the oldest on a tie).
  size_t free_at = SIZE_MAX;
  size_t oldest_at = h & mask;
  for (size_t i = 0; i < kProbe; i++) {
    const size_t at = (h + i) & mask;
    const uint32_t t = tags_[at];
    if ((t & kKeyPrint) == (tag & kKeyPrint)) {
      // Most likely this key's slot (another key's 1 in 65535).
      Slot& s = slots_[at];
      if (same_outer(s.f.key, f.key) && same_inner(s.f.key, f.key) &&
          same_verdict(s.f.verdict, f.verdict)) {
        s.frames++;
        stamps_[at] = s.f.ts_ns = std::max(s.f.ts_ns, f.ts_ns);
        tags_[at] = tag | kUnmatched;
        s.f.frame_number = f.frame_number;
        index_address(f, at, horizon);
        return;
      }
    }
    const bool gone = (t & kUnmatched) == 0 || stamps_[at] < horizon;
    if (gone && free_at == SIZE_MAX) free_at = at;
    if (stamps_[at] < stamps_[oldest_at]) oldest_at = at;
  }
  const size_t to = free_at != SIZE_MAX ? free_at : oldest_at;
  // Frames not matched yet pushed out: a drop they might have matched can no longer be
  // called unseen (kTableFull), whether or not it was in the window.
  if ((tags_[to] & kUnmatched) != 0 && stamps_[to] > evicted_ns_) evicted_ns_ = stamps_[to];
  slots_[to] = Slot{f, 1, 0};
  tags_[to] = tag | kUnmatched;
  stamps_[to] = f.ts_ns;
  index_address(f, to, horizon);
}

void FrameMatcher::index_address(const SeenFrame& f, size_t slot, uint64_t horizon) {
  uint32_t& at = by_address_[address_hash(f.key) & (by_address_.size() - 1)];
  if (at != 0 && at - 1 != slot) {
    // Another frame, not all matched yet, loses its entry (another packet's, or one with
    // the same addresses and identification but other ports): a drop without ports can
    // no longer find it, so such a drop of its window cannot be called unseen.
    const size_t o = at - 1;
    if ((tags_[o] & kUnmatched) != 0 && stamps_[o] >= horizon && stamps_[o] > unindexed_ns_)
      unindexed_ns_ = stamps_[o];
  }
  at = static_cast<uint32_t>(slot) + 1;
}

bool FrameMatcher::match(Pending* p, std::vector<Resolved>* out) {
  const size_t mask = slots_.size() - 1;
  const size_t h = outer_hash(p->d);
  const uint64_t from = p->ts_ns > kWindowNs ? p->ts_ns - kWindowNs : 0;
  // A drop without ports (its record ends before them) also looks at the newest frame of
  // its addresses and identification (by_address_), wherever its ports put it.
  const uint32_t by_address =
      p->d.has_ports ? 0 : by_address_[address_hash(p->d) & (by_address_.size() - 1)];
  // A frame that fits a drop with ports hashes alike (frame_key.h), so has its outer
  // print; a drop without ports may fit frames of any ports, whatever their tag.
  const uint32_t print = p->d.has_ports ? outer_print(h) : 0;
  while (p->count > 0) {
    size_t pick = SIZE_MAX;
    Outcome pick_outcome = kNumOutcomes;
    auto consider = [&](size_t at) {
      const uint32_t tag = tags_[at];
      if ((tag & kUnmatched) == 0 || stamps_[at] < from) return;
      if (p->d.has_ports && (tag & kOuterPrint) != print) return;
      const Slot& s = slots_[at];
      if (!fits(s.f.key, p->d)) return;
      const Outcome o = judge(p->d.reason, s.f.verdict);
      // Several frames may fit (the same packet sent twice): the one whose verdict agrees
      // with the kernel's first, so a good retransmission does not take a bad one's drop.
      if (pick == SIZE_MAX || (o == kSeenBad && pick_outcome != kSeenBad)) {
        pick = at;
        pick_outcome = o;
      }
    };
    for (size_t i = 0; i < kProbe; i++) consider((h + i) & mask);
    if (by_address != 0) consider(by_address - 1);
    if (pick == SIZE_MAX) return false;
    // Each frame answers for one drop at most.
    Slot& s = slots_[pick];
    const uint32_t n = std::min(p->count, s.frames - s.used);
    s.used += n;
    if (s.used == s.frames) tags_[pick] &= ~kUnmatched;
    p->count -= n;
    out->push_back(Resolved{p->d, pick_outcome, s.f.frame_number, n});
  }
  return true;
}

FrameMatcher::Pending* FrameMatcher::joinable(const KernelDrop& d, uint64_t now_ns) {
  const uint32_t at = index_[pending_slot(d, index_.size())];
  if (at == 0) return nullptr;
  Pending& p = pending_[at - 1];
  if (p.count == 0 || now_ns > p.ts_ns + kCoalesceNs || !same_drop(p.d, d)) return nullptr;
  return &p;
}

void FrameMatcher::reindex() {
  std::fill(index_.begin(), index_.end(), 0u);
  for (size_t i = 0; i < pending_.size(); i++)
    index_[pending_slot(pending_[i].d, index_.size())] = static_cast<uint32_t>(i + 1);
}

bool FrameMatcher::try_unseen(const Pending& p, uint64_t now_ns, Resolved* r) {
  auto it = captures_.find(capture_key(p.d.netns, p.d.ifindex));
  if (p.d.netns == 0 || it == captures_.end() || it->second.owners.empty()) {
    *r = Resolved{p.d, kNotCaptured, 0, p.count};
    return true;
  }
  // Not before every capture thread of the device has handed over its frames up to the
  // (newest) drop, and the ring statistics read since (each batch reads them).
  if (now_ns < p.last_ns + kSettleNs) return false;
  for (const auto& o : it->second.owners)
    if (o.second < p.last_ns + kClockSlackNs) return false;
  const uint64_t from = p.ts_ns > kWindowNs ? p.ts_ns - kWindowNs : 0;
  Outcome o = kNotSeen;
  if (evicted_ns_ >= from || (!p.d.has_ports && unindexed_ns_ >= from)) {
    o = kTableFull;
  } else if (it->second.ring_drop_ns >= from) {
    o = kRingDrop;
  }
  *r = Resolved{p.d, o, 0, p.count};
  return true;
}

void FrameMatcher::add_drop(const KernelDrop& d, uint64_t now_ns, std::vector<Resolved>* out) {
  std::lock_guard<std::mutex> g(mu_);
  if (slots_.empty()) return;
  // An identical drop already waits (so no frame for it was there): this one waits with it.
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
  if (pending_.size() >= kMaxPending) {
    // The queue is full (a flood of distinct packets the capture is behind on): this drop
    // cannot wait for its frame, so whether it was seen cannot be said.
    out->push_back(Resolved{d, kTableFull, 0, 1});
    return;
  }
  pending_.push_back(p);
  index_[pending_slot(d, index_.size())] = static_cast<uint32_t>(pending_.size());
}

void FrameMatcher::resolve(uint64_t now_ns, std::vector<Resolved>* out) {
  std::lock_guard<std::mutex> g(mu_);
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
    reindex();
  }
}

size_t FrameMatcher::pending() const {
  std::lock_guard<std::mutex> g(mu_);
  size_t n = 0;
  for (const Pending& p : pending_) n += p.count;
  return n;
}

}  // namespace kdrops
}  // namespace csumtop
