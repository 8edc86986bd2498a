// \summary: tcpdump-syntax capture filters (`-f 'udp port 8472'`), compiled by libpcap
// when the host has it, loaded at run time so that libpcap is never a build or install
// requirement of the addon.
#pragma once
#include <linux/filter.h>

#include <cstdint>
#include <string>
#include <vector>

namespace csumtop {

struct BpfProgram {
  std::vector<sock_filter> insns;
  bool empty() const { return insns.empty(); }
};

// Compiles `expr` for frames of `linktype` (a LINKTYPE_*: live capture asks for
// LINKTYPE_ETHERNET and LINKTYPE_RAW, -r for each link type its file has) with
// pcap_compile() from a dlopen()ed libpcap. Returns false with *err naming the problem:
// libpcap missing, or its syntax message.
bool compile_filter(const std::string& expr, uint16_t linktype, BpfProgram* out, std::string* err);

// The most instructions a socket filter may have (BPF_MAXINSNS, linux/bpf_common.h):
// SO_ATTACH_FILTER refuses a longer program with EINVAL.
constexpr size_t kMaxFilterInsns = 4096;

// pcap_lib_version() of the libpcap filters are compiled with (`csumtop --version`);
// false with *err saying why it cannot be loaded.
bool libpcap_version(std::string* version, std::string* err);

// -r with a filter: libpcap's pcap_offline_filter(), the interpreter `tcpdump -r FILE
// EXPR` uses, so a file is filtered exactly as tcpdump filters it. offline_filter_ready()
// loads libpcap (false with *err when it or the function is missing); offline_filter()
// may only be called after it said true. `prog` is compile_filter()'s for the frame's
// link type.
bool offline_filter_ready(std::string* err);
bool offline_filter(const BpfProgram& prog, const uint8_t* data, uint32_t caplen, uint32_t wirelen);

// Attaches the program to a socket (SO_ATTACH_FILTER); the kernel runs it before a frame
// is copied to the ring, so filtered-out traffic costs no ring space.
bool attach_filter(int fd, const BpfProgram& prog, std::string* err);

}  // namespace csumtop
