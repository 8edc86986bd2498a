// \summary: The links of a network namespace as rtnetlink and the ethtool ioctls report
// them: index, name, flags, MTU, type, MAC, lower/master links, link kind with the
// VXLAN and Geneve parameters, driver, and the state of every offload feature.
//
// Sources: include/uapi/linux/rtnetlink.h (RTM_GETLINK, struct ifinfomsg),
// include/uapi/linux/if_link.h (IFLA_*, IFLA_INFO_*, IFLA_VXLAN_*, IFLA_GENEVE_*),
// include/uapi/linux/ethtool.h (ETHTOOL_GDRVINFO, ETHTOOL_GSSET_INFO, ETHTOOL_GSTRINGS,
// ETHTOOL_GFEATURES); the kernel sides are net/core/rtnetlink.c (rtnl_fill_ifinfo),
// drivers/net/vxlan/vxlan_core.c (vxlan_fill_info), drivers/net/geneve.c
// (geneve_fill_info) and net/ethtool/ioctl.c.
//
// Plain C++17, no Node; errors are returned as strings, no exception leaves here.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "host/netns.h"

namespace csumtop {
namespace host {

// A boolean the kernel may not report: the attribute is absent on older kernels
// (IFLA_VXLAN_UDP_CSUM is only filled in by newer vxlan_fill_info), so absent means
// "unknown", never "off".
enum class Tristate : int8_t { kUnknown = -1, kOff = 0, kOn = 1 };

struct VxlanInfo {
  bool has_vni = false;
  uint32_t vni = 0;  // IFLA_VXLAN_ID, u32 host order
  bool has_port = false;
  uint16_t port = 0;  // IFLA_VXLAN_PORT, __be16 on the wire: converted to host order
  uint32_t link = 0;  // IFLA_VXLAN_LINK (ifindex of the underlay device), 0 = none
  std::string local;  // IFLA_VXLAN_LOCAL (__be32) or IFLA_VXLAN_LOCAL6 (in6_addr), text
  Tristate udp_csum = Tristate::kUnknown;           // IFLA_VXLAN_UDP_CSUM (u8)
  Tristate udp_zero_csum6_tx = Tristate::kUnknown;  // IFLA_VXLAN_UDP_ZERO_CSUM6_TX (u8)
  Tristate udp_zero_csum6_rx = Tristate::kUnknown;  // IFLA_VXLAN_UDP_ZERO_CSUM6_RX (u8)
};

struct GeneveInfo {
  bool has_vni = false;
  uint32_t vni = 0;  // IFLA_GENEVE_ID, u32 host order
  bool has_port = false;
  uint16_t port = 0;                                // IFLA_GENEVE_PORT, __be16 on the wire
  Tristate udp_csum = Tristate::kUnknown;           // IFLA_GENEVE_UDP_CSUM (u8)
  Tristate udp_zero_csum6_tx = Tristate::kUnknown;  // IFLA_GENEVE_UDP_ZERO_CSUM6_TX (u8)
  Tristate udp_zero_csum6_rx = Tristate::kUnknown;  // IFLA_GENEVE_UDP_ZERO_CSUM6_RX (u8)
};

struct Feature {
  std::string name;     // the kernel's string (net/ethtool/common.c netdev_features_strings)
  bool active = false;  // ethtool_get_features_block.active
  bool fixed = false;   // not in .available, or in .never_changed: `ethtool -k` "[fixed]"
};

struct LinkInfo {
  int32_t ifindex = 0;           // ifinfomsg.ifi_index
  std::string name;              // IFLA_IFNAME
  uint32_t flags = 0;            // ifinfomsg.ifi_flags (IFF_* from include/uapi/linux/if.h)
  uint16_t arphrd = 0;           // ifinfomsg.ifi_type (ARPHRD_* from include/uapi/linux/if_arp.h)
  uint32_t mtu = 0;              // IFLA_MTU
  std::vector<uint8_t> address;  // IFLA_ADDRESS (6 bytes for Ethernet, 4 for ipip, ...)
  bool has_link = false;
  int32_t link = 0;    // IFLA_LINK: lower device (veth: the peer), maybe in another ns
  int32_t master = 0;  // IFLA_MASTER: bridge/bond this link is enslaved to, 0 = none
  bool has_link_netnsid = false;
  int32_t link_netnsid = -1;  // IFLA_LINK_NETNSID: IFLA_LINK lives in this peer namespace
  std::string kind;           // IFLA_LINKINFO / IFLA_INFO_KIND; "" for physical NICs
  bool has_vxlan = false;
  VxlanInfo vxlan;
  bool has_geneve = false;
  GeneveInfo geneve;
  // Filled by the ethtool ioctls; empty when the device does not support them.
  std::string driver;    // ethtool_drvinfo.driver
  std::string bus_info;  // ethtool_drvinfo.bus_info
  std::vector<Feature> features;
};

// Parses one buffer of an RTM_GETLINK dump (a sequence of netlink messages), appending
// every RTM_NEWLINK to `out`. Every length is checked against the buffer. Sets *done on
// NLMSG_DONE, *interrupted when a message carries NLM_F_DUMP_INTR (the dump was not
// consistent and must be repeated). Returns "" or an error (NLMSG_ERROR, malformed data).
// Messages whose nlmsg_seq differs from a non-zero `expect_seq` are skipped (stale
// answers to an earlier request on the same socket).
// No system calls: the fuzz target and the unit tests call it on synthetic bytes.
std::string parse_link_dump(const uint8_t* data, size_t len, std::vector<LinkInfo>* out, bool* done,
                            bool* interrupted, uint32_t expect_seq = 0);

// One link notification of the RTNLGRP_LINK multicast group (include/uapi/linux/
// rtnetlink.h): RTM_NEWLINK (a link was added or changed: the message carries the whole
// link, as in a dump) or RTM_DELLINK (the link is gone; `link` has at least ifindex and
// name). Sent by net/core/rtnetlink.c rtmsg_ifinfo() for every change of a link.
struct LinkEvent {
  bool deleted = false;
  LinkInfo link;
};

// Parses one datagram received on a socket subscribed to RTNLGRP_LINK, appending each
// link notification to `out`. Only ifi_family AF_UNSPEC messages are links: the bridge
// sends RTM_NEWLINK/RTM_DELLINK with ifi_family AF_BRIDGE to the same group about its
// ports (net/bridge/br_netlink.c br_ifinfo_notify()), and an AF_BRIDGE RTM_DELLINK
// means "no longer a bridge port", not "link deleted"; those are skipped. Sets
// *overrun on NLMSG_OVERRUN. Returns "" or an error (malformed data); the events parsed
// before an error stay in `out`. No system calls: fuzzed (native/fuzz/fuzz_links.cc).
std::string parse_link_events(const uint8_t* data, size_t len, std::vector<LinkEvent>* out,
                              bool* overrun);

// Lists the links of the calling thread's network namespace: RTM_GETLINK dump, then
// the ethtool ioctls per link (when `with_ethtool`). Returns "" or an error message.
std::string list_links(std::vector<LinkInfo>* out, bool with_ethtool = true);

// The same on sockets opened earlier (the namespace is the one they were created in, so
// no setns is needed): `nl_fd` a blocking NETLINK_ROUTE socket with a receive timeout,
// `ethtool_fd` any socket for SIOCETHTOOL, or -1 for no ethtool data.
std::string list_links_on(int nl_fd, int ethtool_fd, std::vector<LinkInfo>* out);

// Fills driver, bus_info and features of `link` with ETHTOOL_GDRVINFO, ETHTOOL_GSSET_INFO,
// ETHTOOL_GSTRINGS and ETHTOOL_GFEATURES on socket `fd`. An ioctl that fails (EOPNOTSUPP,
// ENODEV if the link just went away) leaves its fields empty.
void read_ethtool(int fd, LinkInfo* link);

// list_links() run inside the network namespace at `netns_path` (see netns.h: errors
// entering it carry their errno); an empty path means the current namespace. `label`
// names the namespace in errors.
NetnsError list_links_in(const std::string& netns_path, const std::string& label,
                         std::vector<LinkInfo>* out);

}  // namespace host
}  // namespace csumtop
