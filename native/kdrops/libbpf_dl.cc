// \summary: dlopen("libbpf.so.1") and resolve the functions of libbpf_dl.h.
#include "kdrops/libbpf_dl.h"

#include <dlfcn.h>

#include <mutex>

namespace csumtop {
namespace kdrops {

namespace {

template <typename F>
bool resolve(void* h, const char* name, F* out, std::string* missing) {
  *out = reinterpret_cast<F>(dlsym(h, name));
  if (*out == nullptr && missing->empty()) *missing = name;
  return *out != nullptr;
}

// csumtop reports why loading failed in its own words; libbpf's own lines (and the
// verifier log it prints on a failed load) would go to standard error, under the
// dashboard. They are dropped.
int quiet(int, const char*, va_list) { return 0; }

}  // namespace

const Libbpf* libbpf(std::string* why) {
  static std::once_flag once;
  static Libbpf api;
  static bool ok = false;
  static std::string error;
  std::call_once(once, [] {
    void* h = dlopen("libbpf.so.1", RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr) {
      const char* e = dlerror();
      error =
          std::string("libbpf.so.1 cannot be loaded (Debian/Ubuntu: apt-get install libbpf1): ") +
          (e ? e : "dlopen failed");
      return;
    }
    std::string missing;
    resolve(h, "bpf_object__open_mem", &api.object_open_mem, &missing);
    resolve(h, "bpf_object__load", &api.object_load, &missing);
    resolve(h, "bpf_object__close", &api.object_close, &missing);
    resolve(h, "bpf_object__find_program_by_name", &api.find_program_by_name, &missing);
    resolve(h, "bpf_object__find_map_by_name", &api.find_map_by_name, &missing);
    resolve(h, "bpf_map__fd", &api.map_fd, &missing);
    resolve(h, "bpf_program__attach", &api.program_attach, &missing);
    resolve(h, "bpf_link__destroy", &api.link_destroy, &missing);
    resolve(h, "ring_buffer__new", &api.ring_buffer_new, &missing);
    resolve(h, "ring_buffer__poll", &api.ring_buffer_poll, &missing);
    resolve(h, "ring_buffer__free", &api.ring_buffer_free, &missing);
    resolve(h, "bpf_map__initial_value", &api.map_initial_value, &missing);
    resolve(h, "libbpf_set_print", &api.set_print, &missing);
    if (!missing.empty()) {
      error = "libbpf.so.1 lacks " + missing + " (too old)";
      return;  // the handle stays open: dlclose of a half-used library buys nothing
    }
    api.set_print(quiet);
    ok = true;
  });
  if (!ok) {
    *why = error;
    return nullptr;
  }
  return &api;
}

}  // namespace kdrops
}  // namespace csumtop
