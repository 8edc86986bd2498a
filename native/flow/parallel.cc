// \summary: Decoding parts of a mapped pcap or pcapng file on helper threads (see parallel.h).
#include "flow/parallel.h"

#include <sched.h>

#include <cstdlib>
#include <exception>

namespace csumtop {

void decode_segment(const PcapScan& scan, const DecodeOptions& opts, Segment* seg, Frame* frame) {
  for (InterfaceCounters& c : seg->counters) c.clear();
  seg->bad.clear();
  seg->events.clear();
  seg->failed = false;
  seg->frames = 0;
  seg->skipped = 0;
  seg->first_ns = UINT64_MAX;
  seg->last_ns = 0;
  const uint32_t first = scan.first_iface();
  const bool events = seg->events.enabled();
  const uint8_t* p = seg->begin;
  const uint8_t* next = nullptr;
  CapturedFrame fr;
  uint32_t n = 0;
  while (p < seg->stop && n < seg->max_frames) {
    const ScanResult r = scan_record(scan, p, seg->limit, &fr, &next);
    if (r == ScanResult::kStop) break;
    p = next;
    if (r == ScanResult::kSkip) {
      seg->skipped++;
      continue;
    }
    if (fr.ts_ns < seg->first_ns) seg->first_ns = fr.ts_ns;
    if (fr.ts_ns > seg->last_ns) seg->last_ns = fr.ts_ns;
    const uint16_t linktype = scan.linktype_of(fr.iface);
    InterfaceCounters& c = seg->counters[fr.iface - first];
    uint32_t bad;
    if (events) {
      // As Analyzer::process_file with events: every frame's layers, no counting shortcut.
      decode_frame(fr.data, fr.caplen, fr.wirelen, linktype, opts, nullptr, frame);
      bad = count_frame(c, *frame, fr.caplen, fr.wirelen);
    } else {
      bad = decode_and_count(fr.data, fr.caplen, fr.wirelen, linktype, opts, c, frame);
    }
    if (bad != 0) {
      seg->bad.emplace_back();  // reserved: no allocation
      SegmentEvent& e = seg->bad.back();
      e.index = n;
      e.iface = fr.iface;
      e.data = fr.data;
      e.caplen = fr.caplen;
      e.wirelen = fr.wirelen;
      e.ts_ns = fr.ts_ns;
      summarize_bad(*frame, fr.iface, &e.summary);
    }
    if (events)
      seg->events.observe(*frame, fr.data, fr.caplen, fr.wirelen, fr.iface, fr.ts_ns, n, 0xff);
    n++;
  }
  seg->end = p;
  seg->frames = n;
  if (n == 0) seg->first_ns = 0;
}

unsigned decode_threads() {
  const char* env = std::getenv("CSUMTOP_THREADS");
  if (env != nullptr && env[0] != '\0') {
    const long n = std::strtol(env, nullptr, 10);
    if (n >= 1)
      return n > SegmentPool::kMaxThreads ? SegmentPool::kMaxThreads : static_cast<unsigned>(n);
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  unsigned n = 1;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    const int c = CPU_COUNT(&set);
    if (c > 1) n = static_cast<unsigned>(c);
  }
  return n > SegmentPool::kMaxThreads ? SegmentPool::kMaxThreads : n;
}

SegmentPool::SegmentPool(unsigned helpers, const DecodeOptions& opts) : opts_(opts) {
  threads_.reserve(helpers);
  for (unsigned i = 0; i < helpers; i++) threads_.emplace_back(&SegmentPool::run, this, i);
}

SegmentPool::~SegmentPool() {
  if (running_) wait();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  start_cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void SegmentPool::start(const PcapScan& scan, Segment* segs, unsigned n) {
  for (unsigned i = 0; i < n; i++) segs[i].counters.resize(scan.interfaces());
  {
    std::lock_guard<std::mutex> lock(mu_);
    scan_ = scan;
    segs_ = segs;
    count_ = n;
    done_ = 0;
    generation_++;
  }
  running_ = true;
  start_cv_.notify_all();
}

void SegmentPool::wait() {
  if (!running_) return;
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, [&] { return done_ >= threads_.size(); });
  running_ = false;
}

void SegmentPool::run(unsigned index) {
  Frame frame;
  uint64_t seen = 0;
  for (;;) {
    PcapScan scan;
    Segment* seg = nullptr;
    {
      std::unique_lock<std::mutex> lock(mu_);
      start_cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      scan = scan_;
      if (index < count_) seg = &segs_[index];
    }
    if (seg) {
      try {
        decode_segment(scan, opts_, seg, &frame);
      } catch (const std::exception&) {
        // Out of memory growing the events: the reader reads this part itself.
        seg->failed = true;
        seg->frames = 0;
        seg->end = seg->begin;
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_++;
    }
    done_cv_.notify_all();
  }
}

}  // namespace csumtop
