// \summary: rtnetlink link notifications (RTNLGRP_LINK) per network namespace, with
// overflow detection and a dump for resynchronising.
#include "host/link_watch.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

#include "host/netns.h"

namespace csumtop {
namespace host {

namespace {

std::string errno_text(const char* what, int err) {
  return std::string(what) + ": " + std::strerror(err);
}

void close_fd(int* fd) {
  if (*fd >= 0) ::close(*fd);
  *fd = -1;
}

// The notification socket's buffer when the caller does not choose: a burst of link
// changes (a node starting 100 pods, `ip -batch` creating 1000 veths) sends about three
// notifications of 1-3 KiB per link faster than JavaScript reads them; 4 MiB holds a
// thousand or so before the kernel drops any (which is still handled: a resync).
constexpr int kDefaultRcvbuf = 4 << 20;

// Largest datagram read at once. One notification is one link (rtmsg_ifinfo() sizes the
// skb with if_nlmsg_size(), a few KiB even with VF data); a larger one is counted as an
// overflow, since its content is lost.
constexpr size_t kRecvBuf = 64 * 1024;

// Datagrams read per poll() at most, so a flood of notifications cannot keep the caller
// (the JavaScript thread) here forever; the rest wait for the next poll.
constexpr int kMaxPerPoll = 65536;

}  // namespace

LinkWatch::~LinkWatch() {
  close_fd(&notify_fd_);
  close_fd(&dump_fd_);
  close_fd(&ethtool_fd_);
}

NetnsError LinkWatch::open(const std::string& netns_path, const std::string& label, int rcvbuf,
                           std::unique_ptr<LinkWatch>* out) {
  std::unique_ptr<LinkWatch> w;
  try {
    w.reset(new LinkWatch());
    w->buf_.resize(kRecvBuf);
  } catch (const std::bad_alloc&) {
    return NetnsError("out of memory opening a link watch");
  }
  LinkWatch* p = w.get();
  NetnsError err = run_in_netns(netns_path, label, [p, rcvbuf]() -> std::string {
    p->notify_fd_ = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
    if (p->notify_fd_ < 0) return errno_text("rtnetlink socket", errno);
    // SO_RCVBUFFORCE needs CAP_NET_ADMIN and is not capped by net.core.rmem_max
    // (net/core/sock.c sk_setsockopt); SO_RCVBUF is, and is the fallback.
    const int want = rcvbuf > 0 ? rcvbuf : kDefaultRcvbuf;
    if (::setsockopt(p->notify_fd_, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) != 0)
      ::setsockopt(p->notify_fd_, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
    struct sockaddr_nl sa;
    std::memset(&sa, 0, sizeof sa);
    sa.nl_family = AF_NETLINK;
    sa.nl_groups = RTMGRP_LINK;  // the legacy bitmask of RTNLGRP_LINK (group 1)
    if (::bind(p->notify_fd_, reinterpret_cast<struct sockaddr*>(&sa), sizeof sa) != 0)
      return errno_text("rtnetlink bind to RTNLGRP_LINK", errno);

    p->dump_fd_ = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (p->dump_fd_ < 0) return errno_text("rtnetlink socket", errno);
    struct timeval tv = {5, 0};
    ::setsockopt(p->dump_fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

    // Any socket will do for SIOCETHTOOL (see list_links in links.cc); none: no ethtool data.
    p->ethtool_fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (p->ethtool_fd_ < 0)
      p->ethtool_fd_ = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
    return std::string();
  });
  if (!err.empty()) return err;  // ~LinkWatch closes what was opened
  *out = std::move(w);
  return NetnsError();
}

std::string LinkWatch::poll(std::vector<LinkEvent>* out, bool* overflow) {
  try {
    for (int n = 0; n < kMaxPerPoll; n++) {
      struct sockaddr_nl from;
      socklen_t fromlen = sizeof from;
      // MSG_TRUNC: the return value is the datagram's full length (netlink_recvmsg()).
      const ssize_t got = ::recvfrom(notify_fd_, buf_.data(), buf_.size(), MSG_DONTWAIT | MSG_TRUNC,
                                     reinterpret_cast<struct sockaddr*>(&from), &fromlen);
      if (got < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == ENOBUFS) {
          // Notifications were dropped; the socket goes on with the ones after the loss.
          *overflow = true;
          stats_.overflows++;
          continue;
        }
        return errno_text("rtnetlink receive", errno);
      }
      if (static_cast<size_t>(got) > buf_.size()) {
        *overflow = true;
        stats_.overflows++;
        continue;
      }
      if (fromlen >= sizeof from && from.nl_pid != 0) continue;  // not from the kernel
      const size_t first = out->size();
      bool overrun = false;
      std::string err = parse_link_events(buf_.data(), static_cast<size_t>(got), out, &overrun);
      if (overrun) {
        *overflow = true;
        stats_.overflows++;
      }
      if (!err.empty()) {
        // A message we cannot read may have been a change we need: dump again.
        *overflow = true;
        stats_.overflows++;
      }
      for (size_t i = first; i < out->size(); i++) {
        stats_.notifications++;
        LinkEvent& ev = (*out)[i];
        if (!ev.deleted && ethtool_fd_ >= 0) read_ethtool(ethtool_fd_, &ev.link);
      }
    }
  } catch (const std::bad_alloc&) {
    *overflow = true;
    stats_.overflows++;
  }
  return std::string();
}

std::string LinkWatch::dump(std::vector<LinkInfo>* out) {
  stats_.dumps++;
  return list_links_on(dump_fd_, ethtool_fd_, out);
}

}  // namespace host
}  // namespace csumtop
