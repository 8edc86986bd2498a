// \summary: Loads the embedded eBPF program (native/bpf/kernel_drops.bpf.c), attaches it
// to skb:kfree_skb and counts its ring buffer's drop records on a thread of its own into
// a DropTable, until destroyed. Plain C++17, no Node; no exception leaves here.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kdrops/drop_table.h"

struct bpf_object;
struct bpf_link;
struct ring_buffer;

namespace csumtop {
namespace kdrops {

// Why the source could not start, for the one line csumtop prints.
enum class Unavailable {
  kNone,
  kNotBuiltIn,   // the addon was built without clang or libbpf-dev
  kNoLibbpf,     // libbpf.so.1 is not installed
  kNotAllowed,   // no CAP_BPF + CAP_PERFMON (or CAP_SYS_ADMIN)
  kUnsupported,  // no BTF, or the kernel rejected the program (kfree_skb without a reason: < 5.17)
};
const char* unavailable_name(Unavailable u);

// True when the eBPF object is compiled into this addon.
bool built_in();

class KernelDropLoader {
 public:
  // Cap on the (namespace, device, reason, peer) keys kept between two take()s.
  static constexpr size_t kMaxKeys = 4096;

  // What can be known at once, without loading anything: built in, libbpf.so.1 there,
  // the rights, BTF. false with *kind and *why set when the source cannot run.
  static bool precheck(Unavailable* kind, std::string* why);
  // Loads and attaches (precheck included): slow, libbpf reads the kernel's whole BTF and
  // the verifier runs (0.7-0.9 s measured on a busy 2-core VM), so callers run it off the main
  // thread. nullptr with *kind and *why set when it cannot.
  static std::unique_ptr<KernelDropLoader> start(Unavailable* kind, std::string* why);
  ~KernelDropLoader();
  KernelDropLoader(const KernelDropLoader&) = delete;
  KernelDropLoader& operator=(const KernelDropLoader&) = delete;

  // The drops counted and resolved (frame_match.h) since the previous take(), the drops
  // and outcomes that found the table full, and the drops still waiting for their frame.
  void take(std::vector<DropRow>* rows, uint64_t* overflow,
            uint64_t (*overflow_outcomes)[kNumOutcomes], uint64_t* pending);
  // Cumulative: drops the ring buffer had no room for (the eBPF side's kdrop_ring_full), and
  // records that did not parse (never expected; counted so a mismatch shows).
  uint64_t ring_full() const;
  uint64_t unparsed() const { return unparsed_.load(std::memory_order_relaxed); }

 private:
  KernelDropLoader() : table_(kMaxKeys) {}
  static int on_sample(void* ctx, void* data, size_t size);
  void poll_loop();
  void resolve(std::vector<Resolved>* scratch);
  std::vector<Resolved> resolved_;  // on_sample's, on the polling thread

  bpf_object* obj_ = nullptr;
  bpf_link* link_ = nullptr;
  ring_buffer* rb_ = nullptr;
  // kdrop_ring_full in the object's .bss, mapped by libbpf (written by the kernel).
  const volatile uint64_t* ring_full_ = nullptr;
  size_t bss_len_ = 0;
  void unmap();
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> unparsed_{0};
  std::mutex mu_;
  DropTable table_;
};

}  // namespace kdrops
}  // namespace csumtop
