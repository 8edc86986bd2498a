// \summary: Follows the links of one network namespace through rtnetlink notifications
// (the RTNLGRP_LINK multicast group) instead of dumping every link again and again;
// a full RTM_GETLINK dump is there for the first listing and for resynchronising.
//
// All sockets are opened inside the namespace (on a short-lived thread, see netns.h)
// and stay bound to it (include/net/sock.h sk_net), so later reads need no setns(2) and
// no privilege. Notifications are lossy: when the socket's receive buffer is full the
// kernel drops them and the next recvmsg(2) fails with ENOBUFS (netlink(7): "the
// application must resynchronize"; net/netlink/af_netlink.c netlink_overrun()). poll()
// reports that as `overflow`, and the caller then dumps again.
//
// Plain C++17, no Node; no exception leaves here.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "host/links.h"
#include "host/netns.h"

namespace csumtop {
namespace host {

struct LinkWatchStats {
  uint64_t notifications = 0;  // link notifications received (RTM_NEWLINK + RTM_DELLINK)
  uint64_t overflows = 0;      // ENOBUFS (or a truncated datagram): notifications lost
  uint64_t dumps = 0;          // full RTM_GETLINK dumps made (first listing + resyncs)
};

class LinkWatch {
 public:
  ~LinkWatch();
  LinkWatch(const LinkWatch&) = delete;
  LinkWatch& operator=(const LinkWatch&) = delete;

  // Opens the sockets inside the namespace at `netns_path` ("" = the current one):
  // a non-blocking NETLINK_ROUTE socket joined to RTNLGRP_LINK, a blocking one for dumps
  // and a socket for the ethtool ioctls. `rcvbuf` (bytes, 0 = the default of 4 MiB) sizes
  // the notification socket's buffer: SO_RCVBUFFORCE as root, else SO_RCVBUF (capped by
  // net.core.rmem_max). Errors name `label` and carry errno as netns.h describes.
  static NetnsError open(const std::string& netns_path, const std::string& label, int rcvbuf,
                         std::unique_ptr<LinkWatch>* out);

  // Receives every pending notification without blocking, appending them in the order
  // the kernel sent them; RTM_NEWLINK events get their ethtool data (driver, features)
  // read at once. *overflow is set when notifications were lost (the caller must dump).
  std::string poll(std::vector<LinkEvent>* out, bool* overflow);

  // A full listing (RTM_GETLINK dump + ethtool), on the dump socket.
  std::string dump(std::vector<LinkInfo>* out);

  LinkWatchStats stats() const { return stats_; }

 private:
  LinkWatch() = default;
  int notify_fd_ = -1;
  int dump_fd_ = -1;
  int ethtool_fd_ = -1;
  std::vector<uint8_t> buf_;
  LinkWatchStats stats_;
};

}  // namespace host
}  // namespace csumtop
