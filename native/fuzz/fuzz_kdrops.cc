// \summary: libFuzzer target: the kernel drop records (kdrops/event.cc) and their bounded
// table (kdrops/drop_table.cc). The records come from the kernel's skbs, whose headers
// were dropped for being wrong: every byte of data and len is arbitrary here. Input: one
// or more struct kdrop_event (native/bpf/kernel_drops_event.h) back to back; a short
// tail is parsed too (it must be refused).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "bpf/kernel_drops_event.h"
#include "kdrops/drop_table.h"
#include "kdrops/event.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
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
      table.add(d);
    }
    off += n;
  } while (off < size);
  std::vector<csumtop::kdrops::DropRow> rows;
  uint64_t overflow = 0;
  uint64_t overflow_outcomes[csumtop::kdrops::kNumOutcomes] = {};
  table.take(&rows, &overflow, &overflow_outcomes);
  if (rows.size() > 8) __builtin_trap();
  return 0;
}
