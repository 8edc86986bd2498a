// \summary: The few libbpf functions the kernel-drop loader calls, resolved at run time
// with dlopen("libbpf.so.1").
//
// Why not link libbpf: the prebuilt addons (scripts/prebuild.js) must load on machines
// that have no libbpf at all, where csumtop then works without kernel drop verdicts. A
// DT_NEEDED on libbpf.so.1 would make the whole addon fail to load there; a static
// libbpf.a would drag libelf and zlib into the link (and their versions into the glibc
// floor of the prebuilds). dlopen costs nothing when the feature is off, and a missing
// library becomes one sentence at run time. libbpf 1.0 and later (soname libbpf.so.1)
// return NULL and set errno on failure, which is all this code relies on; the 0.x
// library (libbpf.so.0, ERR_PTR returns) is not used.
//
// Signatures are libbpf's (src/libbpf.h, src/bpf.h of libbpf 1.x, stable ABI); the types
// are opaque here so that no libbpf header is needed to build the addon. Plain C++17.
#pragma once
#include <cstdarg>
#include <cstddef>
#include <string>

struct bpf_object;
struct bpf_program;
struct bpf_map;
struct bpf_link;
struct ring_buffer;

namespace csumtop {
namespace kdrops {

using ring_buffer_sample_fn = int (*)(void* ctx, void* data, size_t size);
// enum libbpf_print_level: 0 warn, 1 info, 2 debug.
using libbpf_print_fn = int (*)(int level, const char* fmt, va_list ap);

struct Libbpf {
  bpf_object* (*object_open_mem)(const void* buf, size_t size, const void* opts);
  int (*object_load)(bpf_object*);
  void (*object_close)(bpf_object*);
  bpf_program* (*find_program_by_name)(const bpf_object*, const char* name);
  bpf_map* (*find_map_by_name)(const bpf_object*, const char* name);
  int (*map_fd)(const bpf_map*);
  bpf_link* (*program_attach)(const bpf_program*);
  int (*link_destroy)(bpf_link*);
  ring_buffer* (*ring_buffer_new)(int map_fd, ring_buffer_sample_fn cb, void* ctx,
                                  const void* opts);
  int (*ring_buffer_poll)(ring_buffer*, int timeout_ms);
  void (*ring_buffer_free)(ring_buffer*);
  // The mapped memory of a global-data map (.bss) after load.
  void* (*map_initial_value)(bpf_map*, size_t* size);
  libbpf_print_fn (*set_print)(libbpf_print_fn);
};

// The library, loaded once (thread-safe). Returns nullptr and sets *why ("libbpf.so.1
// cannot be loaded: ...") when it cannot be loaded or lacks a symbol.
const Libbpf* libbpf(std::string* why);

}  // namespace kdrops
}  // namespace csumtop
