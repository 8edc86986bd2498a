// \summary: Decoding a capture file's frames on several threads. The file is walked by
// one thread (record boundaries, timestamps, frame numbers: file_analysis.cc) into
// chunks of frame references; the chunks are decoded and counted by whichever thread
// claims them, and their bad frames summarized. Counters are sums, so their order does
// not matter; the bad frames are applied afterwards, in file order, by the walking
// thread (flow table, records, -w), so the result is the one a single thread gives.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "flow/analyzer.h"

namespace csumtop {

// One frame of a mapped capture file, as the walker found it.
struct FrameRef {
  const uint8_t* data;
  uint64_t ts_ns;
  uint64_t number;
  uint32_t caplen, wirelen;
  uint32_t iface;
  uint32_t n_ifaces;  // interfaces defined when the frame was read (for -w)
  uint16_t linktype;
};

struct BadEvent {
  uint32_t index;  // into Chunk::frames
  BadFrameSummary summary;
};

struct Chunk {
  std::vector<FrameRef> frames;
  std::vector<InterfaceCounters> counters;  // by interface, up to the largest one seen
  std::vector<BadEvent> bad;                // in frame order
};

// Decodes and counts every frame of `chunk` (resetting its counters and bad list first);
// `frame` is scratch space. The chunk must have counters for every interface of its
// frames and room in `bad` for all of them (reserve), so that nothing is allocated.
void decode_chunk(const DecodeOptions& opts, Chunk* chunk, Frame* frame);

// Usable threads for this process: its CPU affinity, or CSUMTOP_THREADS when set (1
// turns the helpers off), at most kMaxThreads.
unsigned decode_threads();

class DecodePool {
 public:
  static constexpr unsigned kMaxThreads = 8;
  static constexpr size_t kPopulateAhead = 2u << 20;
  static constexpr size_t kPopulateStep = 256u << 10;

  // Starts `helpers` threads (>= 1) that decode with `opts`.
  DecodePool(unsigned helpers, const DecodeOptions& opts);
  ~DecodePool();
  DecodePool(const DecodePool&) = delete;
  DecodePool& operator=(const DecodePool&) = delete;

  // One round: begin(chunks); fill chunks in order, publish(k) once chunks [0, k) are
  // complete; seal(n) when there are n; then work() decodes alongside the helpers and
  // returns when all n are decoded, after which the chunks are the caller's again.
  void begin(Chunk* chunks);
  void publish(size_t ready) { ready_.store(ready, std::memory_order_release); }

  // Page faults are the walk's largest cost: idle threads map the pages of a mapped file
  // a little ahead of it (MADV_POPULATE_READ) instead. populate_window() says where
  // the mapping is (nullptr: none); walked_to(p) where the walk is, within a round;
  // nothing is populated outside [p, p + kPopulateAhead) or [begin, end), so nothing the
  // reader has unmapped or may unmap during the round.
  void populate_window(const uint8_t* begin, const uint8_t* end) {
    pop_begin_.store(reinterpret_cast<uintptr_t>(begin), std::memory_order_relaxed);
    pop_end_.store(reinterpret_cast<uintptr_t>(end), std::memory_order_release);
  }
  void walked_to(const uint8_t* p) { walk_pos_.store(reinterpret_cast<uintptr_t>(p), std::memory_order_release); }
  void seal(size_t total);
  void work();

 private:
  void run();
  // Claims the next chunk and decodes it; false when the round has no more.
  bool claim(Frame* frame);
  // Populates one step ahead of the walk; false when there is nothing to do.
  bool populate_some();

  DecodeOptions opts_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t generation_ = 0;  // under mu_
  // generation_, readable without the lock: helpers spin on it a while between rounds
  // (the next round usually starts within microseconds) before they sleep.
  std::atomic<uint64_t> generation_seen_{0};
  bool stop_ = false;        // under mu_
  Chunk* chunks_ = nullptr;  // set under mu_, before generation_ moves
  std::atomic<size_t> ready_{0};
  std::atomic<size_t> total_{SIZE_MAX};
  std::atomic<size_t> next_{0};
  std::atomic<size_t> done_{0};
  std::atomic<int> busy_{0};  // helpers inside a round
  std::atomic<uintptr_t> pop_begin_{0};
  std::atomic<uintptr_t> pop_end_{0};
  std::atomic<uintptr_t> walk_pos_{0};
  std::atomic<uintptr_t> pop_next_{0};
  std::atomic<bool> populate_works_{true};  // MADV_POPULATE_READ is Linux 5.14+
  Frame frame_;               // the calling thread's scratch
};

}  // namespace csumtop
