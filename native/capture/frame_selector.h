// \summary: Which frames of one capture thread go to the `-w` file: every frame with a
// bad checksum and, with --context N, up to N frames of the same flow before and after
// it; held in a bounded history and written in time order at least once per batch.
//
// Memory bound (per capture thread, independent of traffic): kSlots frame descriptors
// (about 64 bytes each) and one byte arena of kArenaBytes that frames are copied into
// in arrival order, the oldest overwritten first; a frame larger than kMaxStored keeps
// its first kMaxStored bytes (the pcap record says caplen < wirelen). With --context 0
// only bad frames are copied (the arena is the batch's staging area); with --context N
// every frame is, so "before" context reaches back at most kSlots frames or kArenaBytes
// of this thread's traffic, whichever is less (on a link at 100,000 frames/s: the last
// 80 ms). A flow's frames stay on one thread: PACKET_FANOUT_HASH spreads by flow hash.
//
// Flows: the flow key of the bad-flow table (interface, outer tuple, tunnel and VNI,
// inner tuple for carriers), compared by its 64-bit hash (flow_hash); a collision could
// only add a frame of another flow as context. Frames of a flow are chained through a
// small hash index, so finding the N before a bad frame costs N steps, not a scan.
//
// Order and duplicates: a frame is written once (a "written" mark in its slot). Selected
// frames are written at the end of each batch (or earlier, when the oldest selected
// frame is about to leave the history), sorted by timestamp: the rings of different
// interfaces hand their frames over in blocks (TPACKET_V3 retires a block when full or
// after retire_ms), so arrival order alone is not time order across interfaces. Between
// batches the order holds unless a ring hands over a frame older than one already
// written, which the block retire timeout (50 ms, below the 100 ms batch) makes rare. A
// "before" frame that arrived before the last frame already written cannot be added
// any more without breaking the order: it is skipped and counted (context_skipped),
// which happens only when two bad flows interleave within one batch interval.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "capture/bad_frame_file.h"

namespace csumtop {

// A frame as the capture thread has it (data valid only during the call).
struct SelectorFrame {
  const uint8_t* data;
  uint32_t caplen, wirelen;
  uint64_t ts_ns;
  uint16_t src_linktype;  // kLinkEthernet or kLinkRaw
  uint16_t hatype;
  int32_t ifindex;
  uint8_t pkttype;
};

class FrameSelector {
 public:
  static constexpr uint32_t kSlots = 8192;  // power of two
  static constexpr uint32_t kArenaBytes = 8u << 20;
  static constexpr uint32_t kMaxStored = 256u * 1024u;  // the file's snap length
  static constexpr uint32_t kMaxOpen = 256;             // flows waiting for "after" frames
  static constexpr uint32_t kIndexSize = 2 * kSlots;    // flow hash -> newest frame

  FrameSelector(std::shared_ptr<BadFrameFile> out, uint32_t context);
  ~FrameSelector();
  FrameSelector(const FrameSelector&) = delete;
  FrameSelector& operator=(const FrameSelector&) = delete;

  // Every frame the thread processed, in arrival order. `flow_hash` is only read when
  // context > 0.
  void frame(const SelectorFrame& f, bool bad, uint64_t flow_hash);
  // Writes every selected frame not yet written, in order (batch end, stop).
  void flush();

  uint32_t context() const { return context_; }
  uint64_t context_skipped() const { return skipped_; }

 private:
  struct Slot {
    uint64_t seq;
    uint64_t hash;
    uint64_t prev;  // seq of the previous frame of the same flow (0: none known)
    uint64_t ts_ns;
    uint32_t off, stored, caplen, wirelen;
    int32_t ifindex;
    uint16_t src_linktype, hatype;
    uint8_t pkttype, selected, written, context;
  };
  struct Open {
    uint64_t hash;
    uint32_t remaining;
  };
  Slot& slot(uint64_t seq) { return slots_[seq & (kSlots - 1)]; }
  uint64_t store(const SelectorFrame& f, uint64_t hash, bool selected, bool context);
  void evict_oldest();
  void write_slot(Slot& s);

  std::shared_ptr<BadFrameFile> out_;
  uint32_t context_;
  std::unique_ptr<Slot[]> slots_;
  std::unique_ptr<uint8_t[]> arena_;  // pages are touched only as frames land in them
  std::unique_ptr<uint64_t[]> index_hash_, index_seq_;
  Open open_[kMaxOpen];
  uint32_t n_open_ = 0;
  uint64_t next_seq_ = 1;      // sequence of the next frame stored
  uint64_t oldest_ = 1;        // oldest frame still in the history
  uint64_t last_written_ = 0;  // sequence of the newest frame written
  uint32_t tail_ = 0;          // next free arena byte
  uint64_t skipped_ = 0;
  std::vector<uint64_t> pending_;  // flush(): selected frames in write order
};

}  // namespace csumtop
