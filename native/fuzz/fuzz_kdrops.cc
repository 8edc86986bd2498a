// \summary: libFuzzer target: the kernel drop records (kdrops/event.cc), their bounded
// table (kdrops/drop_table.cc) and the frame matcher (kdrops/frame_match.cc): a drop
// whose frame (the same parsed bytes, on a captured device) was handed over just before
// is matched to it, never called unseen. The records come from the kernel's skbs, whose headers
// were dropped for being wrong: every byte of data and len is arbitrary here. Input: one
// or more struct kdrop_event (native/bpf/kernel_drops_event.h) back to back; a short
// tail is parsed too (it must be refused).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "bpf/kernel_drops_event.h"
#include "kdrops/drop_table.h"
#include "kdrops/event.h"
#include "kdrops/frame_match.h"

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
  return 0;
}
