// \summary: Run-time kernel choice: CPU features at start-up, CSUMTOP_CSUM_PATH override.
//
// The addon is built without -mavx2 and must run on any x86-64 (and on arm64), so the
// kernel is picked once, when the library is loaded, from __builtin_cpu_supports. Tests
// and benchmarks force a path with CSUMTOP_CSUM_PATH=scalar|adc64|sse2|avx2|neon; a
// forced path this CPU cannot run falls back to the best one and startup_selection()
// says so (fell_back), rather than crashing with SIGILL or silently pretending.
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "checksum/csum_internal.h"

namespace csumtop {
namespace csum {
namespace {

constexpr const char* kNames[] = {"scalar", "adc64", "sse2", "avx2", "neon"};
static_assert(sizeof kNames / sizeof kNames[0] == static_cast<size_t>(Path::kCount),
              "one name per path");

bool cpu_has(Path p) {
  switch (p) {
    case Path::kScalar:
    case Path::kAdc64:
      return true;
#if defined(__x86_64__) || defined(__i386__)
    case Path::kSse2:
      // Must precede __builtin_cpu_supports when called from a static constructor
      // (GCC manual, "x86 Built-in Functions"); it is idempotent.
      __builtin_cpu_init();
      return __builtin_cpu_supports("sse2");
    case Path::kAvx2:
      // libgcc also checks that the OS saves the YMM state (XGETBV) before reporting avx2.
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx2");
#endif
#if defined(CSUMTOP_HAVE_NEON)
    case Path::kNeon:
      return true;  // Advanced SIMD is mandatory on AArch64
#endif
    default:
      return false;
  }
}

Kernel compiled_kernel(Path p) {
  switch (p) {
    case Path::kScalar:
      return &scalar;
    case Path::kAdc64:
      return &adc64;
#if defined(__x86_64__) || defined(__i386__)
    case Path::kSse2:
      return &sse2;
    case Path::kAvx2:
      return &avx2;
#endif
#if defined(CSUMTOP_HAVE_NEON)
    case Path::kNeon:
      return &neon;
#endif
    default:
      return nullptr;
  }
}

PathSelection select_at_startup() {
  PathSelection sel{};
  sel.active = best_path();
  const char* env = std::getenv("CSUMTOP_CSUM_PATH");
  if (env == nullptr || env[0] == '\0') return sel;
  sel.forced = true;
  std::strncpy(sel.requested, env, sizeof sel.requested - 1);
  Path p;
  if (parse_path(env, &p) && path_available(p)) {
    sel.active = p;
  } else {
    sel.fell_back = true;
  }
  return sel;
}

// The active kernel and path. Constant-initialised, so partial() is safe even when called
// from another file's static constructor before ours ran: it then initialises lazily.
// set_active_path() stores the two separately; a concurrent reader may briefly see the
// new kernel with the old name, never an invalid one.
std::atomic<Kernel> g_kernel{nullptr};
std::atomic<uint8_t> g_active{static_cast<uint8_t>(Path::kAdc64)};

}  // namespace

namespace detail {
std::atomic<bool> g_short_inline{false};
}  // namespace detail

namespace {

void ensure_init() {
  // A function-local static: thread-safe, and runs exactly once (C++11 [stmt.dcl]/4).
  static const bool done = [] {
    const PathSelection& sel = startup_selection();
    g_active.store(static_cast<uint8_t>(sel.active), std::memory_order_release);
    g_kernel.store(kernel_for(sel.active), std::memory_order_release);
    detail::g_short_inline.store(sel.active != Path::kScalar, std::memory_order_release);
    return true;
  }();
  (void)done;
}

// Make the choice when the library is loaded, not on the first packet.
[[maybe_unused]] const bool kChosenAtStartup = (ensure_init(), true);

}  // namespace

const char* path_name(Path p) {
  const auto i = static_cast<size_t>(p);
  return i < static_cast<size_t>(Path::kCount) ? kNames[i] : "unknown";
}

bool parse_path(const char* name, Path* out) {
  if (name == nullptr) return false;
  for (size_t i = 0; i < static_cast<size_t>(Path::kCount); ++i) {
    if (std::strcmp(name, kNames[i]) == 0) {
      *out = static_cast<Path>(i);
      return true;
    }
  }
  return false;
}

bool path_available(Path p) { return compiled_kernel(p) != nullptr && cpu_has(p); }

Kernel kernel_for(Path p) { return path_available(p) ? compiled_kernel(p) : nullptr; }

Path best_path() {
  static constexpr Path kPreference[] = {Path::kAvx2, Path::kNeon, Path::kSse2};
  for (Path p : kPreference) {
    if (path_available(p)) return p;
  }
  return Path::kAdc64;
}

const PathSelection& startup_selection() {
  static const PathSelection sel = select_at_startup();  // thread-safe, computed once
  return sel;
}

Path active_path() {
  ensure_init();
  return static_cast<Path>(g_active.load(std::memory_order_acquire));
}

bool set_active_path(Path p) {
  const Kernel k = kernel_for(p);
  if (k == nullptr) return false;
  ensure_init();  // so a later lazy start-up choice cannot overwrite this one
  g_kernel.store(k, std::memory_order_release);
  g_active.store(static_cast<uint8_t>(p), std::memory_order_release);
  detail::g_short_inline.store(p != Path::kScalar, std::memory_order_release);
  return true;
}

uint32_t partial(const uint8_t* data, size_t len, uint32_t initial) {
  Kernel k = g_kernel.load(std::memory_order_acquire);
  if (k == nullptr) {
    ensure_init();
    k = g_kernel.load(std::memory_order_acquire);
  }
  return k(data, len, initial);
}

}  // namespace csum
}  // namespace csumtop
