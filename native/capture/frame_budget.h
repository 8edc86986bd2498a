// \summary: `-c COUNT` for live capture: how many frames every capture thread together
// may still count, so a run stops at exactly COUNT frames as tcpdump -c does.
//
// One budget is shared by all engines (--threads: PACKET_FANOUT spreads an interface's
// frames over several threads, so no one thread knows the total). A frame is counted
// only after take() said yes; past the limit frames are drained from the rings and not
// looked at (JavaScript stops the capture once the counters reach the limit, within a
// batch interval). The socket filter (-f) runs in the kernel before: COUNT counts
// frames that matched it, as tcpdump's does.
#pragma once
#include <atomic>
#include <cstdint>

namespace csumtop {

class FrameBudget {
 public:
  explicit FrameBudget(uint64_t limit) : limit_(limit) {}

  // Claims one frame: false once `limit` frames were claimed. The counter may run past
  // the limit (a relaxed fetch_add per refused frame); taken() never does.
  bool take() {
    if (taken_.load(std::memory_order_relaxed) >= limit_) return false;
    return taken_.fetch_add(1, std::memory_order_relaxed) < limit_;
  }
  uint64_t taken() const {
    const uint64_t t = taken_.load(std::memory_order_relaxed);
    return t < limit_ ? t : limit_;
  }
  uint64_t limit() const { return limit_; }

 private:
  const uint64_t limit_;
  std::atomic<uint64_t> taken_{0};
};

}  // namespace csumtop
