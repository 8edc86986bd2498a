// \summary: Multi-threaded chunk decoding (see decode_pool.h).
#include "flow/decode_pool.h"

#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace csumtop {

namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

// Spins a while (the other side is microseconds away), then yields the CPU.
template <typename Pred>
void wait_until(Pred ready) {
  for (unsigned spins = 0; !ready(); spins++) {
    if (spins < 4096) {
      cpu_relax();
    } else {
      std::this_thread::yield();
    }
  }
}

// About 100 microseconds of pause instructions.
constexpr unsigned kSpinBetweenRounds = 20000;

}  // namespace

void decode_chunk(const DecodeOptions& opts, Chunk* chunk, Frame* frame) {
  // Allocates nothing: the walker sized counters and bad (an exception here would have
  // nowhere to go on a helper thread).
  for (InterfaceCounters& c : chunk->counters) c.clear();
  chunk->bad.clear();
  const size_t n = chunk->frames.size();
  for (size_t i = 0; i < n; i++) {
    const FrameRef& fr = chunk->frames[i];
    decode_frame(fr.data, fr.caplen, fr.wirelen, fr.linktype, opts, nullptr, frame);
    if (count_frame(chunk->counters[fr.iface], *frame, fr.caplen, fr.wirelen) == 0) continue;
    chunk->bad.emplace_back();
    BadEvent& e = chunk->bad.back();
    e.index = static_cast<uint32_t>(i);
    summarize_bad(*frame, fr.iface, &e.summary);
  }
}

unsigned decode_threads() {
  const char* env = std::getenv("CSUMTOP_THREADS");
  if (env != nullptr && env[0] != '\0') {
    const long n = std::strtol(env, nullptr, 10);
    if (n >= 1) return n > DecodePool::kMaxThreads ? DecodePool::kMaxThreads : static_cast<unsigned>(n);
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  unsigned n = 1;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    const int c = CPU_COUNT(&set);
    if (c > 1) n = static_cast<unsigned>(c);
  }
  return n > DecodePool::kMaxThreads ? DecodePool::kMaxThreads : n;
}

DecodePool::DecodePool(unsigned helpers, const DecodeOptions& opts) : opts_(opts) {
  threads_.reserve(helpers);
  for (unsigned i = 0; i < helpers; i++) threads_.emplace_back(&DecodePool::run, this);
}

DecodePool::~DecodePool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void DecodePool::begin(Chunk* chunks) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // A helper may still be on its way out of the previous round (its last claim found
    // nothing): let it leave before the counters it reads start over.
    wait_until([&] { return busy_.load(std::memory_order_acquire) == 0; });
    chunks_ = chunks;
    ready_.store(0, std::memory_order_relaxed);
    total_.store(SIZE_MAX, std::memory_order_relaxed);
    next_.store(0, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    generation_++;
    generation_seen_.store(generation_, std::memory_order_release);
  }
  cv_.notify_all();
}

void DecodePool::seal(size_t total) {
  ready_.store(total, std::memory_order_release);
  total_.store(total, std::memory_order_release);
}

bool DecodePool::populate_some() {
#ifdef MADV_POPULATE_READ
  if (!populate_works_.load(std::memory_order_relaxed)) return false;
  const uintptr_t end = pop_end_.load(std::memory_order_acquire);
  const uintptr_t begin = pop_begin_.load(std::memory_order_relaxed);
  const uintptr_t walk = walk_pos_.load(std::memory_order_acquire);
  if (end == 0 || walk < begin || walk >= end) return false;
  static const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t want = walk + kPopulateAhead < end ? walk + kPopulateAhead : end;
  uintptr_t cur = pop_next_.load(std::memory_order_relaxed);
  const uintptr_t from = (cur > walk ? cur : walk) & ~(page - 1);
  if (from >= want) return false;
  const uintptr_t to = from + kPopulateStep < want ? from + kPopulateStep : want;
  if (!pop_next_.compare_exchange_strong(cur, to, std::memory_order_relaxed)) return true;
  const size_t len = ((to - from) + page - 1) & ~(page - 1);
  if (::madvise(reinterpret_cast<void*>(from), len, MADV_POPULATE_READ) != 0 && errno == EINVAL) {
    populate_works_.store(false, std::memory_order_relaxed);
  }
  return true;
#else
  return false;
#endif
}

bool DecodePool::claim(Frame* frame) {
  const size_t i = next_.fetch_add(1, std::memory_order_relaxed);
  for (unsigned spins = 0;; spins++) {
    if (ready_.load(std::memory_order_acquire) > i) break;
    if (total_.load(std::memory_order_acquire) <= i) return false;
    if (populate_some()) continue;
    if (spins < 4096) {
      cpu_relax();
    } else {
      std::this_thread::yield();
    }
  }
  decode_chunk(opts_, &chunks_[i], frame);
  done_.fetch_add(1, std::memory_order_acq_rel);
  return true;
}

void DecodePool::work() {
  while (claim(&frame_)) {
  }
  const size_t total = total_.load(std::memory_order_acquire);
  wait_until([&] {
    return done_.load(std::memory_order_acquire) >= total &&
           busy_.load(std::memory_order_acquire) == 0;
  });
}

void DecodePool::run() {
  Frame frame;
  uint64_t seen = 0;
  for (;;) {
    // Between rounds the walking thread only applies the last one: spin briefly for the
    // next before going to sleep (a wake-up costs tens of microseconds).
    for (unsigned spins = 0; spins < kSpinBetweenRounds; spins++) {
      if (generation_seen_.load(std::memory_order_acquire) != seen) break;
      cpu_relax();
    }
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      busy_.fetch_add(1, std::memory_order_acq_rel);
    }
    while (claim(&frame)) {
    }
    busy_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

}  // namespace csumtop
