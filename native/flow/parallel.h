// \summary: Decoding later parts of a mapped pcap or pcapng file on other threads while the
// reader's thread decodes the part before them (driven by file_analysis.cc).
//
// A part starts where sync_record() guesses a record starts; it is only used if the
// reader (or the part before it) then arrives exactly there, in the state the scan was
// made for (pcapng: no Section Header or Interface Description Block read in between,
// CaptureFileReader::scan_holds), which proves the guess. A part ends before any block
// that would change that state (record_scan.h scan_record): the reader reads it.
// Each part is decoded and counted on its own; its bad frames are kept as summaries and
// applied by the reader's thread in file order, so that frame numbers, flows, records
// and the -w file come out as with one thread.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "capture/record_scan.h"
#include "flow/analyzer.h"

namespace csumtop {

struct SegmentEvent {
  uint32_t index;  // of the frame within the segment, from 0
  uint32_t iface;  // index into the reader's interfaces()
  const uint8_t* data;
  uint32_t caplen, wirelen;
  uint64_t ts_ns;
  BadFrameSummary summary;
};

struct Segment {
  // Set before decoding:
  const uint8_t* begin = nullptr;  // the guessed start of a record
  const uint8_t* stop = nullptr;   // decode up to the first record boundary at or after it
  const uint8_t* limit = nullptr;  // the end of the mapping: nothing at or past it is read
  uint32_t max_frames = 0;         // and at most this many frames
  // Results:
  const uint8_t* end = nullptr;  // where decoding stopped (a record boundary, if `begin` was)
  uint64_t frames = 0;
  uint64_t skipped = 0;                // pcapng blocks of other types (blocks_skipped)
  uint64_t first_ns = 0, last_ns = 0;  // smallest and largest timestamp
  // By interface: [k] counts interface scan.first_iface() + k; sized for the scan by
  // SegmentPool::start (or the caller of decode_segment).
  std::vector<InterfaceCounters> counters;
  std::vector<SegmentEvent> bad;  // in frame order; reserved for max_frames
  // With correlation (`-r` without --no-correlate): an event buffer enabled by the caller,
  // coalesce off, so that every frame's event is kept as observed; each event's
  // frame_number is the frame's index in the segment. Applied through
  // EventBuffer::append(), which folds them as the one-thread path would have.
  EventBuffer events{EventOptions{}};
  bool failed = false;  // an exception (out of memory) stopped it: nothing of it is used
};

// Decodes the records of `seg` from `begin`: up to `stop`, `max_frames`, or a record
// that the reader would not return as a plain frame or skip (left for the reader).
// seg->counters must hold scan.interfaces() entries. Without events it allocates nothing;
// with them the events and names may grow (an exception is caught by the helper thread,
// which marks the segment failed).
void decode_segment(const PcapScan& scan, const DecodeOptions& opts, Segment* seg, Frame* frame);

// Threads for this process: its CPU affinity, or CSUMTOP_THREADS when set (1: none
// besides the caller), at most kMaxThreads.
unsigned decode_threads();

class SegmentPool {
 public:
  static constexpr unsigned kMaxThreads = 8;

  SegmentPool(unsigned helpers, const DecodeOptions& opts);
  ~SegmentPool();
  SegmentPool(const SegmentPool&) = delete;
  SegmentPool& operator=(const SegmentPool&) = delete;

  unsigned helpers() const { return static_cast<unsigned>(threads_.size()); }
  // Decodes segs[0, n) on the helper threads (n <= helpers()), one each; sizes their
  // counters for the scan first.
  void start(const PcapScan& scan, Segment* segs, unsigned n);
  // Returns once every started segment is decoded; the segments are the caller's again.
  void wait();
  bool busy() const { return running_; }

 private:
  void run(unsigned index);

  DecodeOptions opts_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable start_cv_, done_cv_;
  uint64_t generation_ = 0;  // under mu_
  unsigned count_ = 0;       // segments of this generation, under mu_
  unsigned done_ = 0;        // under mu_
  bool stop_ = false;        // under mu_
  PcapScan scan_;            // under mu_ until the generation moves
  Segment* segs_ = nullptr;
  bool running_ = false;  // the caller's: started and not yet waited for
};

}  // namespace csumtop
