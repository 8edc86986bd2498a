// \summary: Capture filters through a run-time loaded libpcap (see bpf_filter.h).
#include "capture/bpf_filter.h"

#include <dlfcn.h>
#include <errno.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cstring>
#include <mutex>

namespace csumtop {

namespace {
// The few libpcap entry points we need (pcap/pcap.h), declared here so that no libpcap
// header is needed to build.
struct pcap_t;
struct bpf_insn_compat {
  uint16_t code;
  uint8_t jt, jf;
  uint32_t k;
};
struct bpf_program_compat {
  unsigned int bf_len;
  bpf_insn_compat* bf_insns;
};
using open_dead_fn = pcap_t* (*)(int, int);
using compile_fn = int (*)(pcap_t*, bpf_program_compat*, const char*, int, uint32_t);
using freecode_fn = void (*)(bpf_program_compat*);
using geterr_fn = char* (*)(pcap_t*);
using close_fn = void (*)(pcap_t*);
struct pcap_pkthdr_compat {
  timeval ts;
  uint32_t caplen;
  uint32_t len;
};
using lib_version_fn = const char* (*)();
using offline_filter_fn = int (*)(const bpf_program_compat*, const pcap_pkthdr_compat*,
                                  const uint8_t*);

struct Libpcap {
  void* handle = nullptr;
  open_dead_fn open_dead = nullptr;
  compile_fn compile = nullptr;
  freecode_fn freecode = nullptr;
  geterr_fn geterr = nullptr;
  close_fn close = nullptr;
  offline_filter_fn offline_filter = nullptr;  // libpcap >= 1.0
  lib_version_fn lib_version = nullptr;
  std::string error;
};

const Libpcap& libpcap() {
  static Libpcap lib;
  static std::once_flag once;
  std::call_once(once, [] {
    // Debian/Ubuntu ship libpcap.so.0.8, Fedora/Alpine libpcap.so.1; the unversioned
    // name exists only with the -dev package.
    for (const char* name : {"libpcap.so.0.8", "libpcap.so.1", "libpcap.so"}) {
      lib.handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
      if (lib.handle) break;
    }
    if (!lib.handle) {
      lib.error =
          "capture filters (-f) need libpcap at run time, and it is not installed "
          "(Debian/Ubuntu: apt-get install libpcap0.8; Fedora: dnf install libpcap)";
      return;
    }
    lib.open_dead = reinterpret_cast<open_dead_fn>(dlsym(lib.handle, "pcap_open_dead"));
    lib.compile = reinterpret_cast<compile_fn>(dlsym(lib.handle, "pcap_compile"));
    lib.freecode = reinterpret_cast<freecode_fn>(dlsym(lib.handle, "pcap_freecode"));
    lib.geterr = reinterpret_cast<geterr_fn>(dlsym(lib.handle, "pcap_geterr"));
    lib.close = reinterpret_cast<close_fn>(dlsym(lib.handle, "pcap_close"));
    lib.offline_filter =
        reinterpret_cast<offline_filter_fn>(dlsym(lib.handle, "pcap_offline_filter"));
    lib.lib_version = reinterpret_cast<lib_version_fn>(dlsym(lib.handle, "pcap_lib_version"));
    if (!lib.open_dead || !lib.compile || !lib.freecode || !lib.geterr || !lib.close) {
      lib.error = "the installed libpcap lacks pcap_compile and friends";
      lib.handle = nullptr;
    }
  });
  return lib;
}

// pcap_compile() is not thread-safe before libpcap 1.8; one caller at a time.
std::mutex compile_mu;
constexpr uint32_t kNetmaskUnknown = 0xffffffff;  // PCAP_NETMASK_UNKNOWN
}  // namespace

bool compile_filter(const std::string& expr, uint16_t linktype, BpfProgram* out, std::string* err) {
  const Libpcap& lib = libpcap();
  if (!lib.handle) {
    *err = lib.error;
    return false;
  }
  std::lock_guard<std::mutex> lock(compile_mu);
  // DLT_RAW is 12 in pcap_open_dead()'s numbering on Linux (LINKTYPE_RAW 101 maps to it).
  const int dlt = linktype == 101 ? 12 : linktype;
  pcap_t* p = lib.open_dead(dlt, 262144);
  if (!p) {
    *err = "pcap_open_dead failed";
    return false;
  }
  bpf_program_compat prog{0, nullptr};
  if (lib.compile(p, &prog, expr.c_str(), 1, kNetmaskUnknown) != 0) {
    *err = std::string("invalid filter '") + expr + "': " + lib.geterr(p);
    lib.close(p);
    return false;
  }
  if (prog.bf_len > kMaxFilterInsns) {
    *err = "filter '" + expr + "' compiles to " + std::to_string(prog.bf_len) +
           " BPF instructions, more than the " + std::to_string(kMaxFilterInsns) +
           " the kernel accepts on a socket";
    lib.freecode(&prog);
    lib.close(p);
    return false;
  }
  out->insns.resize(prog.bf_len);
  for (unsigned i = 0; i < prog.bf_len; i++) {
    out->insns[i].code = prog.bf_insns[i].code;
    out->insns[i].jt = prog.bf_insns[i].jt;
    out->insns[i].jf = prog.bf_insns[i].jf;
    out->insns[i].k = prog.bf_insns[i].k;
  }
  lib.freecode(&prog);
  lib.close(p);
  return true;
}

bool libpcap_version(std::string* version, std::string* err) {
  const Libpcap& lib = libpcap();
  if (!lib.handle) {
    *err = lib.error;
    return false;
  }
  *version = lib.lib_version ? lib.lib_version() : "libpcap (version unknown: no pcap_lib_version)";
  return true;
}

bool offline_filter_ready(std::string* err) {
  const Libpcap& lib = libpcap();
  if (!lib.handle) {
    *err = lib.error;
    return false;
  }
  if (!lib.offline_filter) {
    *err = "the installed libpcap lacks pcap_offline_filter (libpcap 1.0 or later has it)";
    return false;
  }
  return true;
}

bool offline_filter(const BpfProgram& prog, const uint8_t* data, uint32_t caplen,
                    uint32_t wirelen) {
  // sock_filter and libpcap's bpf_insn have the same layout (linux/filter.h, pcap/bpf.h).
  static_assert(sizeof(sock_filter) == sizeof(bpf_insn_compat), "sock_filter is a bpf_insn");
  bpf_program_compat p{
      static_cast<unsigned int>(prog.insns.size()),
      reinterpret_cast<bpf_insn_compat*>(const_cast<sock_filter*>(prog.insns.data()))};
  pcap_pkthdr_compat h{};
  h.caplen = caplen;
  h.len = wirelen;
  return libpcap().offline_filter(&p, &h, data) != 0;
}

bool attach_filter(int fd, const BpfProgram& prog, std::string* err) {
  if (prog.empty()) return true;
  sock_fprog fp;
  fp.len = static_cast<unsigned short>(prog.insns.size());
  fp.filter = const_cast<sock_filter*>(prog.insns.data());
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof fp) != 0) {
    *err = std::string("SO_ATTACH_FILTER: ") + std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace csumtop
