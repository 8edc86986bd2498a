// \summary: libFuzzer target: the rtnetlink RTM_GETLINK dump parser and the RTNLGRP_LINK
// notification parser on arbitrary bytes.
//
// The bytes are one receive buffer of a link dump (a sequence of netlink messages with
// nested IFLA_LINKINFO / IFLA_INFO_DATA attributes), or one notification datagram
// (RTM_NEWLINK / RTM_DELLINK, the same payload): both parsers see every input. Seeds: raw dumps of
// a namespace with veth, vxlan and bridge links (native/fuzz/build.sh documents how to make them).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "host/links.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<csumtop::host::LinkInfo> links;
  bool done = false, interrupted = false;
  csumtop::host::parse_link_dump(data, size, &links, &done, &interrupted);
  std::vector<csumtop::host::LinkEvent> events;
  bool overrun = false;
  csumtop::host::parse_link_events(data, size, &events, &overrun);
  for (auto& e : events) links.push_back(std::move(e.link));
  // Touch what was parsed so the sanitizers see every string and vector.
  size_t n = 0;
  for (const auto& l : links)
    n += l.name.size() + l.kind.size() + l.address.size() + l.vxlan.local.size();
  return n == static_cast<size_t>(-1) ? 1 : 0;
}
