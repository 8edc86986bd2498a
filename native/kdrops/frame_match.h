// \summary: Ties each packet the kernel dropped (kernel_drops.bpf.c) to the frame csumtop
// captured of it (issue 18): same network namespace, device and packet key (outer
// addresses, protocol, IPv4 identification, ports; the VNI and inner tuple when the
// kernel's record holds them), captured within a short window before the drop. Each drop
// then resolves to one outcome: seen with the checksum the kernel names bad, seen with
// it good (csumtop disagrees), seen but that checksum not verifiable, or not seen and why
// (device not captured, capture ring dropped frames, the frame table could not say).
//
// Bounded: a fixed table of recently captured frames and a fixed queue of drops waiting
// for their frame, allocated once when the kernel drop source starts; nothing per packet
// is allocated, and whatever does not fit is resolved as "table full", never as seen or
// unseen. The frame table: 3.63 MiB (kFrameSlots x 116 bytes: the slot's 104, its probe
// tag and stamp 12), within src/correlate/limits.ts's base. Plain C++17, no Node. Thread-safe:
// capture threads add frames, the loader's thread adds drops and resolves them.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "kdrops/event.h"

namespace csumtop {

struct Frame;

namespace kdrops {

// What became of one kernel drop. Keep in sync with kOutcomeNames
// (native/napi/kernel_drops_napi.cc) and KERNEL_DROP_OUTCOMES (src/model/correlation.ts).
enum Outcome : uint8_t {
  kSeenBad = 0,     // captured, and csumtop found the checksum the kernel names bad (agrees)
  kSeenGood,        // captured, and csumtop verified that checksum good (disagrees)
  kSeenUnverified,  // captured, but csumtop could not verify that checksum (offload, truncation)
  kNotCaptured,     // the device is not captured (or the packet had no device)
  kRingDrop,        // not seen, and the capture ring of that device dropped frames meanwhile
  kNotSeen,         // not seen on a captured device whose ring dropped nothing (filter, -c, NAT)
  kTableFull,       // not matched and the frame table or drop queue overflowed: cannot say
  kNumOutcomes
};

// What csumtop verified in one captured frame, as a kernel reason needs it.
struct SeenVerdict {
  uint8_t ipv4 = 0xff;     // CsumStatus of the outermost IPv4 header checksum; 0xff none
  uint8_t l4 = 0xff;       // CsumStatus of the outermost transport checksum; 0xff none
  uint8_t l4_kind = 0xff;  // its CsumKind
  uint8_t malformed = 0;   // Frame::malformed
  uint8_t inner_bad = 0;   // some checksum of an inner layer is bad
};

// One captured frame, as the matcher keeps it.
struct SeenFrame {
  KernelDrop key;  // reason 0; netns, ifindex and the header fields
  SeenVerdict verdict;
  uint64_t ts_ns = 0;  // the ring's timestamp (CLOCK_REALTIME)
  uint64_t frame_number = 0;
};

// Builds the SeenFrame of a decoded frame captured on (netns, ifindex); false when it has
// no network header to key (not IP, undecoded link type).
bool seen_frame(const Frame& f, const uint8_t* data, uint32_t caplen, uint16_t linktype,
                uint32_t netns, uint32_t ifindex, uint64_t ts_ns, uint64_t frame_number,
                SeenFrame* out);

// The outcome of a drop for `reason` on a captured frame with verdict `v`.
Outcome judge(uint8_t reason, const SeenVerdict& v);

struct Resolved {
  KernelDrop drop;
  Outcome outcome;
  uint64_t frame_number;  // the matched frame (seen outcomes), else 0
  uint32_t count = 1;     // drops of this key resolved so (identical drops wait together)
};

class FrameMatcher {
 public:
  // Frames are kept, and drops matched against frames captured, this long before the drop.
  // The kernel drops a packet microseconds after AF_PACKET saw it (net/core/dev.c
  // __netif_receive_skb_core delivers to taps before ip_rcv); the slack covers the time
  // the drop record takes to reach the loader's thread and the capture thread's lag.
  static constexpr uint64_t kWindowNs = 2'000'000'000ull;
  // A drop is declared not seen only once every capture thread of its device has drained
  // its ring past the drop (and the ring statistics of that time have been read).
  static constexpr uint64_t kSettleNs = 300'000'000ull;
  // Timestamps are read on different threads (the ring's stamp, the loader's clock): a
  // frame stamped this much after the drop's arrival still counts as before it.
  static constexpr uint64_t kClockSlackNs = 50'000'000ull;
  static constexpr size_t kFrameSlots = 1u << 15;  // 32768 frames within the window
  static constexpr size_t kProbe = 32;             // slots looked at per key
  // Drops waiting for their frame (the capture hands a ring block over up to retire_ms
  // after its first frame, later when it is behind; drop records come at once). Drops
  // with the same key (the same packet sent again and again: a flood of one carrier) wait
  // as one entry with a count, so the queue holds distinct packets only: before that,
  // 232,830 of a 300,000-carrier flood (342k/s, no capture ring drop) found the queue
  // full and were "table full" (bench/kernel-drops.ts). Past the queue's size a drop is
  // still "table full".
  static constexpr size_t kMaxPending = 8192;
  // Identical drops join a waiting entry only this long after its first drop: a drop
  // then waits at most this much longer than it would alone before it can be called
  // unseen (try_unseen waits for the entry's newest drop).
  static constexpr uint64_t kCoalesceNs = 100'000'000ull;

  // The one matcher of the process: the eBPF program is global too (one per csumtop).
  static FrameMatcher& instance();

  // The loader turns matching on when its program is attached (the tables are allocated
  // then) and off when it stops; capture threads stage frames only while it is on.
  void start();
  void stop();
  bool active() const { return active_.load(std::memory_order_relaxed); }

  // Capture threads. `owner` tells capture threads apart (several may capture one device
  // through a fanout group: a drop waits for all of them).
  void attach(const void* owner, uint32_t netns, uint32_t ifindex);
  void detach(const void* owner, uint32_t netns, uint32_t ifindex);
  void add_frames(const SeenFrame* frames, size_t n);
  // Every frame of (netns, ifindex) stamped before `ts_ns` has been handed to add_frames.
  void caught_up(const void* owner, uint32_t netns, uint32_t ifindex, uint64_t ts_ns);
  // The capture ring of (netns, ifindex) reported dropped frames, read at `ts_ns`.
  void ring_drop(uint32_t netns, uint32_t ifindex, uint64_t ts_ns);

  // The loader: a drop that arrived at `now_ns` (CLOCK_REALTIME), and the resolution of
  // the drops waiting (appended to *out).
  void add_drop(const KernelDrop& d, uint64_t now_ns, std::vector<Resolved>* out);
  void resolve(uint64_t now_ns, std::vector<Resolved>* out);
  size_t pending() const;

 private:
  struct Slot {
    SeenFrame f;
    uint32_t frames = 0;  // frames with this key and verdict within the window
    uint32_t used = 0;    // of them, matched to a drop already
  };
  struct Pending {
    KernelDrop d;
    uint64_t ts_ns;      // the first drop's arrival
    uint64_t last_ns;    // the newest drop's arrival
    uint32_t count = 1;  // identical drops waiting (kCoalesceNs)
  };
  struct Capture {
    std::vector<std::pair<const void*, uint64_t>> owners;  // capture thread, caught up to
    uint64_t ring_drop_ns = 0;
  };
  // Matches as many of p's drops as frames fit (appended to *out); false while some wait.
  bool match(Pending* p, std::vector<Resolved>* out);
  bool try_unseen(const Pending& p, uint64_t now_ns, Resolved* r);
  // `h`: outer_hash(f.key) (frame_key.h), computed ahead by add_frames.
  void insert(const SeenFrame& f, size_t h);
  void index_address(const SeenFrame& f, size_t slot, uint64_t horizon);
  // The waiting entry p may join (same key, reason and overflow, young enough), or null.
  Pending* joinable(const KernelDrop& d, uint64_t now_ns);
  void reindex();

  std::atomic<bool> active_{false};
  mutable std::mutex mu_;
  std::vector<Slot> slots_;
  // What probing needs of slots_[i], beside it so that a probe reads 32 tags (128 bytes)
  // and 32 stamps (256) instead of 32 whole slots (3.3 KB; the table, 3.25 MiB, is bigger
  // than the L2 cache): at a new flow per frame every insert probes all 32 and matches
  // none, which took 37% of the capture thread at trafgen's top rate (issue 14). A slot
  // is read only when its tag says it may be the one looked for, and where a frame is
  // written. tags_[i]: kUnmatched while slots_[i].used < frames, and two prints of its
  // frame (frame_tag() in frame_match.cc); 0 while it is empty. stamps_[i]:
  // slots_[i].f.ts_ns. Both change only with the slot: insert() and match().
  std::vector<uint32_t> tags_;
  std::vector<uint64_t> stamps_;
  static constexpr uint32_t kUnmatched = 0x80000000u;
  static constexpr uint32_t kOuterPrint = 0x7fff0000u;  // for match(): the outer key's
  static constexpr uint32_t kKeyPrint = 0x0000ffffu;    // for insert(): key and verdict

  std::vector<Pending> pending_;  // at most kMaxPending
  // Where in pending_ (+1) the entry of a key hash waits; 0 none. Direct-mapped: a
  // collision only means the drops wait as two entries. Rebuilt when pending_ shrinks.
  std::vector<uint32_t> index_;
  static constexpr size_t kIndexSlots = 2 * kMaxPending;
  // The newest timestamp of a frame pushed out of the table while still in the window:
  // a drop older than that plus the window cannot be called unseen.
  uint64_t evicted_ns_ = 0;
  // The slot (+1) of the newest frame per hash of its addresses and IPv4 identification
  // (no ports): drops whose record ends before the transport header find their frame
  // there. Direct-mapped; unindexed_ns_ is the newest frame, not all matched, that lost
  // its entry to another packet's (those drops of its window cannot be called unseen).
  std::vector<uint32_t> by_address_;
  uint64_t unindexed_ns_ = 0;
  uint64_t newest_ns_ = 0;
  std::unordered_map<uint64_t, Capture> captures_;  // by netns << 32 | ifindex
};

}  // namespace kdrops
}  // namespace csumtop
