// \summary: libFuzzer target: the kernel drop records (kdrops/event.cc), their bounded
// table (kdrops/drop_table.cc) and the frame matcher (kdrops/frame_match.cc): a drop
// whose frame (the same parsed bytes, on a captured device) was handed over just before
// is matched to it, never called unseen. The records come from the kernel's skbs, whose headers
// were dropped for being wrong: every byte of data and len is arbitrary here. Input: one
// or more struct kdrop_event (native/bpf/kernel_drops_event.h) back to back; a short
// tail is parsed too (it must be refused).
//
// The same bytes are then read as a program of frames, drops, resolutions, caught-up
// stamps and ring drops, run through a fresh matcher and through its reference
// (frame_match_reference.h: the probing before the matcher's probe tags): every drop
// must resolve alike in both (outcome, frame, count), and as many must wait. The frames'
// keys come from a pool whose home slots all lie in 48 slots across the end of the table,
// so that a burst of them fills their probe windows: matches, evictions of the oldest,
// free slots, the port-less look-up and its index's collisions all happen.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "bpf/kernel_drops_event.h"
#include "fuzz/frame_match_reference.h"
#include "kdrops/drop_table.h"
#include "kdrops/event.h"
#include "kdrops/frame_key.h"
#include "kdrops/frame_match.h"

namespace {

using csumtop::kdrops::FrameMatcher;
using csumtop::kdrops::KernelDrop;
using csumtop::kdrops::ReferenceMatcher;
using csumtop::kdrops::Resolved;
using csumtop::kdrops::SeenFrame;

// Frame keys homed within 24 slots either side of the table's end (the probe wraps there).
const std::vector<KernelDrop>& key_pool() {
  static const std::vector<KernelDrop> pool = [] {
    std::vector<KernelDrop> keys;
    const size_t mask = FrameMatcher::kFrameSlots - 1;
    for (uint32_t netns = 1; netns <= 2; netns++) {
      for (uint32_t id = 0; id < 65536; id++) {
        KernelDrop k;
        k.netns = netns;
        k.ifindex = 3;
        k.family = 4;
        k.proto = 17;
        const uint8_t src[4] = {10, 0, 0, 1}, dst[4] = {10, 0, 0, 2};
        std::copy(src, src + 4, k.src);
        std::copy(dst, dst + 4, k.dst);
        k.ip_id = static_cast<uint16_t>(id);
        k.has_ports = true;
        k.sport = static_cast<uint16_t>(40000 + id % 3);
        k.dport = 4789;
        k.vxlan = id % 2 == 0;
        k.vni = k.vxlan ? 1 + id % 2 : 0;
        k.has_inner = k.vxlan;
        if (k.has_inner) {
          k.inner_proto = 6;
          k.inner_src[0] = 192;
          k.inner_dst[0] = 172;
          k.inner_sport = static_cast<uint16_t>(id);
          k.inner_dport = 80;
        }
        const size_t home = csumtop::kdrops::outer_hash(k) & mask;
        if (home >= mask - 23 || home < 24) {
          keys.push_back(k);
          // The same packet's addresses and identification with other ports: homed
          // elsewhere, but it takes the port-less index entry of the first.
          k.sport = 1;
          keys.push_back(k);
        }
      }
    }
    return keys;
  }();
  return pool;
}

bool same_resolved(const Resolved& a, const Resolved& b) {
  return csumtop::kdrops::same_drop(a.drop, b.drop) && a.outcome == b.outcome &&
         a.frame_number == b.frame_number && a.count == b.count;
}

// The matcher against its reference on the program in data (see the top).
void differential(const uint8_t* data, size_t size) {
  const std::vector<KernelDrop>& pool = key_pool();
  // Made once (allocating their tables anew each run took most of the time), emptied
  // for every input: each input runs alone, so a finding replays.
  static FrameMatcher* const m = new FrameMatcher();
  static ReferenceMatcher* const r = new ReferenceMatcher();
  m->start();
  r->reset();
  const int owner_a = 0, owner_b = 0;
  for (uint32_t netns = 1; netns <= 2; netns++) {
    m->attach(&owner_a, netns, 3);
    r->attach(&owner_a, netns, 3);
  }
  bool b_attached = false;
  uint64_t clock_ns = 10'000'000'000ull;
  uint64_t frame_number = 0;
  std::vector<Resolved> got, want;
  size_t i = 0;
  auto next = [&]() -> uint8_t { return i < size ? data[i++] : 0; };
  // The pool keys of the last 64 frames: drops of frames the table holds, or held.
  size_t recent[64], nrecent = 0;
  auto pick = [&]() -> size_t { return (static_cast<size_t>(next()) << 8 | next()) % pool.size(); };
  auto recent_key = [&]() -> const KernelDrop& {
    return pool[nrecent == 0 ? pick() : recent[next() % std::min<size_t>(nrecent, 64)]];
  };
  auto compare = [&] {
    if (got.size() != want.size()) __builtin_trap();
    for (size_t j = 0; j < got.size(); j++)
      if (!same_resolved(got[j], want[j])) __builtin_trap();
    if (m->pending() != r->pending()) __builtin_trap();
    got.clear();
    want.clear();
  };
  while (i < size) {
    const uint8_t op = next();
    switch (op % 8) {
      case 0:
      case 1: {  // 1 to 4 frames, stamped up to 15 ms before the clock (capture lag)
        SeenFrame f[4];
        const size_t n = 1 + op / 8 % 4;
        for (size_t j = 0; j < n; j++) {
          const size_t k = pick();
          recent[nrecent++ % 64] = k;
          f[j].key = pool[k];
          const uint8_t v = next();
          f[j].verdict.l4 = v % 3;
          f[j].verdict.l4_kind = 1 + v / 3 % 2;
          f[j].verdict.ipv4 = v / 6 % 3;
          f[j].ts_ns = clock_ns - (v >> 4) * 1'000'000ull;
          f[j].frame_number = ++frame_number;
        }
        m->add_frames(f, n);
        r->add_frames(f, n);
        break;
      }
      case 2: {  // a burst of 16 to 79 frames of consecutive pool keys, one stamp: probe
                 // windows fill, and the oldest to evict tie
        SeenFrame f[80];
        const size_t first = pick();
        const size_t n = 16 + next() % 64;
        const uint8_t v = next();
        for (size_t j = 0; j < n; j++) {
          const size_t k = (first + j) % pool.size();
          recent[nrecent++ % 64] = k;
          f[j].key = pool[k];
          f[j].verdict.l4 = v % 3;
          f[j].verdict.l4_kind = 1 + v / 3 % 2;
          f[j].ts_ns = clock_ns - (v >> 4) * 1'000'000ull;
          f[j].frame_number = ++frame_number;
        }
        m->add_frames(f, n);
        r->add_frames(f, n);
        break;
      }
      case 3:
      case 4: {  // a drop of a pool key or a recent frame's, maybe cut short before its
                 // ports or inner header
        KernelDrop d = op % 8 == 3 ? pool[pick()] : recent_key();
        const uint8_t v = next();
        d.reason = static_cast<uint8_t>(1 + v % (KDROP_REASON_COUNT - 1));
        if (v & 0x08) {
          d.has_ports = false;
          d.sport = d.dport = 0;
        }
        if (v & 0x10) d.has_inner = false;
        if (v & 0x20) d.in_overflow = true;
        if (v & 0x40) d.ifindex = 4;  // a device not captured
        m->add_drop(d, clock_ns, &got);
        r->add_drop(d, clock_ns, &want);
        compare();
        break;
      }
      case 5:
        m->resolve(clock_ns, &got);
        r->resolve(clock_ns, &want);
        compare();
        break;
      case 6: {  // a capture thread caught up (or a second one attached or gone), a ring drop
        const uint8_t v = next();
        const uint32_t netns = 1 + v % 2;
        const void* owner = v & 0x04 ? &owner_b : &owner_a;
        if (v & 0x08) {
          if (b_attached) {
            m->detach(&owner_b, 1, 3);
            r->detach(&owner_b, 1, 3);
          } else {
            m->attach(&owner_b, 1, 3);
            r->attach(&owner_b, 1, 3);
          }
          b_attached = !b_attached;
        } else if (v & 0x10) {
          m->ring_drop(netns, 3, clock_ns);
          r->ring_drop(netns, 3, clock_ns);
        } else {
          m->caught_up(owner, netns, 3, clock_ns);
          r->caught_up(owner, netns, 3, clock_ns);
        }
        break;
      }
      default:  // time passes: up to 1.27 s (the window is 2 s, drops settle in 0.3 s)
        clock_ns += (next() & 0x7f) * 10'000'000ull;
        break;
    }
  }
  m->resolve(clock_ns + 10 * FrameMatcher::kWindowNs, &got);
  r->resolve(clock_ns + 10 * FrameMatcher::kWindowNs, &want);
  compare();
  // start() keeps the devices: the next input starts with none, as the reference does.
  for (uint32_t netns = 1; netns <= 2; netns++) m->detach(&owner_a, netns, 3);
  if (b_attached) m->detach(&owner_b, 1, 3);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using csumtop::kdrops::FrameMatcher;
  FrameMatcher& m = FrameMatcher::instance();
  static bool started = [&m] {
    m.start();
    return true;
  }();
  (void)started;
  static uint64_t clock_ns = 10'000'000'000ull;  // advances 1 ms per record: old frames age out
  std::vector<csumtop::kdrops::Resolved> resolved;
  csumtop::kdrops::DropTable table(8);  // small: reach the overflow path
  size_t off = 0;
  do {
    const size_t n = size - off < sizeof(kdrop_event) ? size - off : sizeof(kdrop_event);
    // A copy of exactly n bytes: ASan flags any read past the record.
    std::vector<uint8_t> rec(data + off, data + off + n);
    csumtop::kdrops::KernelDrop d;
    if (csumtop::kdrops::parse_event(rec.data(), rec.size(), &d)) {
      if (d.reason == 0 || d.reason >= KDROP_REASON_COUNT) __builtin_trap();
      if (d.family != 0 && d.family != 4 && d.family != 6) __builtin_trap();
      d.in_overflow = !table.add(d);
      // The frame of this drop, captured on a device the matcher knows.
      clock_ns += 1'000'000ull;
      m.attach(&table, d.netns, d.ifindex);
      csumtop::kdrops::SeenFrame f;
      f.key = d;
      f.key.reason = 0;
      f.key.in_overflow = false;
      f.verdict.l4 = rec.empty() ? 0 : rec[0] % 6;
      f.verdict.l4_kind = rec.size() > 1 ? rec[1] % 6 : 0;
      f.ts_ns = clock_ns;
      f.frame_number = clock_ns;
      m.add_frames(&f, 1);
      resolved.clear();
      m.add_drop(d, clock_ns, &resolved);
      if (resolved.size() != 1 || resolved[0].outcome > csumtop::kdrops::kSeenUnverified)
        __builtin_trap();
      if (resolved[0].frame_number != clock_ns) __builtin_trap();
      table.resolve(resolved[0]);
      m.detach(&table, d.netns, d.ifindex);
    }
    off += n;
  } while (off < size);
  std::vector<csumtop::kdrops::DropRow> rows;
  uint64_t overflow = 0;
  uint64_t overflow_outcomes[csumtop::kdrops::kNumOutcomes] = {};
  table.take(&rows, &overflow, &overflow_outcomes);
  if (rows.size() > 8) __builtin_trap();
  // Every drop counted has its outcome counted with it, under its key or in the overflow.
  uint64_t counted = overflow, outcomes = 0;
  for (const auto& r : rows) {
    counted += r.n.count;
    for (uint64_t o : r.n.outcomes) outcomes += o;
  }
  for (uint64_t o : overflow_outcomes) outcomes += o;
  if (counted != outcomes) __builtin_trap();
  differential(data, size);
  return 0;
}
