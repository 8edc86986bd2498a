// \summary: libFuzzer target: the rtnetlink RTM_GETLINK dump parser on arbitrary bytes.
//
// The bytes are one receive buffer of a link dump (a sequence of netlink messages with
// nested IFLA_LINKINFO / IFLA_INFO_DATA attributes). Seeds: raw dumps of a namespace with
// veth, vxlan and bridge links (native/fuzz/build.sh documents how to make them).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "host/links.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<csumtop::host::LinkInfo> links;
  bool done = false, interrupted = false;
  csumtop::host::parse_link_dump(data, size, &links, &done, &interrupted);
  // Touch what was parsed so the sanitizers see every string and vector.
  size_t n = 0;
  for (const auto& l : links) n += l.name.size() + l.kind.size() + l.address.size() + l.vxlan.local.size();
  return n == static_cast<size_t>(-1) ? 1 : 0;
}
