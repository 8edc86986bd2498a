// \summary: SIGBUS guard for mapped capture files (see map_guard.h).
#include "capture/map_guard.h"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <mutex>

namespace csumtop {
namespace mapguard {

namespace {

constexpr int kSlots = 16;

struct Slot {
  std::atomic<uintptr_t> begin{0};  // 0: free
  std::atomic<uintptr_t> end{0};
  std::atomic<bool> hit{false};
};

Slot g_slots[kSlots];
std::mutex g_mu;  // add/remove (never taken by the handler)
struct sigaction g_previous;
bool g_installed = false;  // under g_mu
uintptr_t g_page = 4096;

// Only async-signal-safe work: atomics and mmap(2).
void on_sigbus(int sig, siginfo_t* info, void* context) {
  const uintptr_t at = reinterpret_cast<uintptr_t>(info->si_addr);
  for (Slot& s : g_slots) {
    const uintptr_t b = s.begin.load(std::memory_order_acquire);
    const uintptr_t e = s.end.load(std::memory_order_acquire);
    if (b == 0 || at < b || at >= e) continue;
    const uintptr_t from = at & ~(g_page - 1);
    void* m = ::mmap(reinterpret_cast<void*>(from), e - from, PROT_READ,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (m != MAP_FAILED) {
      s.hit.store(true, std::memory_order_release);
      return;  // the read is retried and sees zeros
    }
    break;
  }
  // Not ours (or the zero pages could not be mapped): what would have happened without us.
  if ((g_previous.sa_flags & SA_SIGINFO) != 0 && g_previous.sa_sigaction != nullptr) {
    g_previous.sa_sigaction(sig, info, context);
    return;
  }
  if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN &&
      g_previous.sa_handler != nullptr) {
    g_previous.sa_handler(sig);
    return;
  }
  // Default action: restore it; returning retries the access, which raises SIGBUS again.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  ::sigaction(SIGBUS, &dfl, nullptr);
}

bool install() {
  if (g_installed) return true;
  g_page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  struct sigaction sa {};
  sa.sa_sigaction = on_sigbus;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  if (::sigaction(SIGBUS, &sa, &g_previous) != 0) return false;
  g_installed = true;
  return true;
}

}  // namespace

int add(void* begin, size_t len) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (!install()) return -1;
  for (int i = 0; i < kSlots; i++) {
    Slot& s = g_slots[i];
    if (s.begin.load(std::memory_order_relaxed) != 0) continue;
    const uintptr_t b = reinterpret_cast<uintptr_t>(begin);
    s.hit.store(false, std::memory_order_relaxed);
    s.end.store(b + ((len + g_page - 1) & ~(g_page - 1)), std::memory_order_relaxed);
    s.begin.store(b, std::memory_order_release);
    return i;
  }
  return -1;
}

void remove(int slot) {
  if (slot < 0 || slot >= kSlots) return;
  std::lock_guard<std::mutex> lock(g_mu);
  g_slots[slot].begin.store(0, std::memory_order_release);
  g_slots[slot].end.store(0, std::memory_order_release);
}

const std::atomic<bool>* hit_flag(int slot) {
  return slot >= 0 && slot < kSlots ? &g_slots[slot].hit : nullptr;
}

bool hit(int slot) {
  return slot >= 0 && slot < kSlots && g_slots[slot].hit.load(std::memory_order_acquire);
}

}  // namespace mapguard
}  // namespace csumtop
