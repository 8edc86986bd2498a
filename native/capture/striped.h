// \summary: Runs fn(0..n-1) on several threads, striding, for work that mostly waits.
#pragma once

#include <algorithm>
#include <cstddef>
#include <thread>
#include <vector>

namespace csumtop {

// Calls fn(k) for every k < n. Up to `per_thread` calls run on the calling thread alone;
// more are spread over at most `max_threads` threads, thread s taking s, s+T, s+2T...
// Meant for calls that wait in the kernel rather than compute: opening and closing
// AF_PACKET rings, each of which waits for an RCU grace period (net/packet/af_packet.c:
// packet_set_ring and packet_release call synchronize_net()). Concurrent waiters share
// grace periods, so T threads take about 1/T of the time. If a thread cannot be
// started, the strides it would have run are run here instead.
template <typename Fn>
void run_striped(size_t n, size_t per_thread, size_t max_threads, Fn&& fn) {
  if (n <= per_thread || max_threads < 2) {
    for (size_t k = 0; k < n; k++) fn(k);
    return;
  }
  const size_t t = std::min(max_threads, (n + per_thread - 1) / per_thread);
  std::vector<std::thread> threads;
  threads.reserve(t);
  size_t started = 0;
  try {
    for (; started < t; started++) {
      threads.emplace_back([&fn, started, t, n] {
        for (size_t k = started; k < n; k += t) fn(k);
      });
    }
  } catch (...) {
    for (size_t s = started; s < t; s++)
      for (size_t k = s; k < n; k += t) fn(k);
  }
  for (std::thread& th : threads) th.join();
}

}  // namespace csumtop
