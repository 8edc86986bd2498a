// \summary: RTM_GETLINK dump over rtnetlink with a bounds-checked parser, and the
// ethtool ioctls (driver, offload features) per link.
#include "host/links.h"

#include <arpa/inet.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <ctime>
#include <new>

#include "host/netns.h"

namespace csumtop {
namespace host {

namespace {

// ---------------------------------------------------------------- attribute walking

// One netlink attribute (include/uapi/linux/netlink.h struct nlattr, the same layout as
// struct rtattr): a 4-byte header {u16 len, u16 type}, payload, padding to 4 bytes.
struct Attr {
  uint16_t type;  // with NLA_F_NESTED / NLA_F_NET_BYTEORDER masked off
  const uint8_t* data;
  size_t len;
};

constexpr size_t kAttrHdr = 4;
constexpr size_t align4(size_t n) { return (n + 3u) & ~size_t{3}; }

// Walks the attributes in [p, p+len). Calls f(Attr) for each; returns false when an
// attribute header is malformed (nla_len < 4 or past the end: the kernel's nla_ok()).
template <typename F>
bool for_each_attr(const uint8_t* p, size_t len, F&& f) {
  size_t off = 0;
  while (len - off >= kAttrHdr) {
    uint16_t alen, atype;
    std::memcpy(&alen, p + off, 2);
    std::memcpy(&atype, p + off + 2, 2);
    if (alen < kAttrHdr || alen > len - off) return false;
    Attr a{static_cast<uint16_t>(atype & NLA_TYPE_MASK), p + off + kAttrHdr, alen - kAttrHdr};
    f(a);
    const size_t step = align4(alen);
    if (step >= len - off) return true;  // last attribute (its padding may be missing)
    off += step;
  }
  // Fewer than 4 bytes left over: not an attribute. The kernel always pads, so treat any
  // non-zero remainder as malformed.
  return off == len;
}

bool get_u8(const Attr& a, uint8_t* v) {
  if (a.len < 1) return false;
  *v = a.data[0];
  return true;
}

bool get_u16(const Attr& a, uint16_t* v) {
  if (a.len < 2) return false;
  std::memcpy(v, a.data, 2);
  return true;
}

bool get_u32(const Attr& a, uint32_t* v) {
  if (a.len < 4) return false;
  std::memcpy(v, a.data, 4);
  return true;
}

// NLA_STRING / NLA_NUL_STRING: up to the first NUL, never past the attribute.
std::string get_string(const Attr& a) {
  const void* nul = std::memchr(a.data, 0, a.len);
  const size_t n = nul ? static_cast<size_t>(static_cast<const uint8_t*>(nul) - a.data) : a.len;
  return std::string(reinterpret_cast<const char*>(a.data), n);
}

Tristate get_flag(const Attr& a) {
  uint8_t v;
  if (!get_u8(a, &v)) return Tristate::kUnknown;
  return v ? Tristate::kOn : Tristate::kOff;
}

std::string addr_text(int family, const uint8_t* p) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (!inet_ntop(family, p, buf, sizeof buf)) return std::string();
  return buf;
}

// ---------------------------------------------------------------- IFLA_INFO_DATA

// drivers/net/vxlan/vxlan_core.c vxlan_fill_info(); types from include/uapi/linux/if_link.h
// ("IFLA_VXLAN_ID ... IFLA_VXLAN_PORT /* destination port */", the port is nla_put_be16).
bool parse_vxlan(const uint8_t* p, size_t len, VxlanInfo* v) {
  return for_each_attr(p, len, [&](const Attr& a) {
    switch (a.type) {
      case IFLA_VXLAN_ID:
        v->has_vni = get_u32(a, &v->vni);
        break;
      case IFLA_VXLAN_PORT: {
        uint16_t be;
        if (get_u16(a, &be)) {
          v->port = ntohs(be);
          v->has_port = true;
        }
        break;
      }
      case IFLA_VXLAN_LINK:
        get_u32(a, &v->link);
        break;
      case IFLA_VXLAN_LOCAL:  // nla_put_in_addr: __be32, network order as in struct in_addr
        if (a.len >= 4 && v->local.empty()) v->local = addr_text(AF_INET, a.data);
        break;
      case IFLA_VXLAN_LOCAL6:  // nla_put_in6_addr: struct in6_addr
        if (a.len >= 16 && v->local.empty()) v->local = addr_text(AF_INET6, a.data);
        break;
      case IFLA_VXLAN_UDP_CSUM:
        v->udp_csum = get_flag(a);
        break;
      case IFLA_VXLAN_UDP_ZERO_CSUM6_TX:
        v->udp_zero_csum6_tx = get_flag(a);
        break;
      case IFLA_VXLAN_UDP_ZERO_CSUM6_RX:
        v->udp_zero_csum6_rx = get_flag(a);
        break;
      default:
        break;
    }
  });
}

// drivers/net/geneve.c geneve_fill_info(): IFLA_GENEVE_ID u32, IFLA_GENEVE_PORT be16,
// IFLA_GENEVE_UDP_CSUM u8 (!(flags & UDP_ZERO_CSUM_TX) over IPv4).
bool parse_geneve(const uint8_t* p, size_t len, GeneveInfo* g) {
  return for_each_attr(p, len, [&](const Attr& a) {
    switch (a.type) {
      case IFLA_GENEVE_ID:
        g->has_vni = get_u32(a, &g->vni);
        break;
      case IFLA_GENEVE_PORT: {
        uint16_t be;
        if (get_u16(a, &be)) {
          g->port = ntohs(be);
          g->has_port = true;
        }
        break;
      }
      case IFLA_GENEVE_UDP_CSUM:
        g->udp_csum = get_flag(a);
        break;
      case IFLA_GENEVE_UDP_ZERO_CSUM6_TX:
        g->udp_zero_csum6_tx = get_flag(a);
        break;
      case IFLA_GENEVE_UDP_ZERO_CSUM6_RX:
        g->udp_zero_csum6_rx = get_flag(a);
        break;
      default:
        break;
    }
  });
}

// IFLA_LINKINFO (nested): IFLA_INFO_KIND (string), IFLA_INFO_DATA (nested, per kind).
// net/core/rtnetlink.c rtnl_link_info_fill() puts KIND before DATA, but DATA is parsed
// after the walk so the order does not matter.
bool parse_linkinfo(const uint8_t* p, size_t len, LinkInfo* l) {
  const uint8_t* data = nullptr;
  size_t data_len = 0;
  const bool ok = for_each_attr(p, len, [&](const Attr& a) {
    if (a.type == IFLA_INFO_KIND) {
      l->kind = get_string(a);
    } else if (a.type == IFLA_INFO_DATA) {
      data = a.data;
      data_len = a.len;
    }
  });
  if (!ok) return false;
  if (!data) return true;
  if (l->kind == "vxlan") {
    l->has_vxlan = true;
    return parse_vxlan(data, data_len, &l->vxlan);
  }
  if (l->kind == "geneve") {
    l->has_geneve = true;
    return parse_geneve(data, data_len, &l->geneve);
  }
  return true;
}

// One RTM_NEWLINK payload: struct ifinfomsg then IFLA_* attributes
// (include/uapi/linux/rtnetlink.h, net/core/rtnetlink.c rtnl_fill_ifinfo()).
std::string parse_newlink(const uint8_t* p, size_t len, LinkInfo* l) {
  if (len < sizeof(struct ifinfomsg)) return "RTM_NEWLINK shorter than struct ifinfomsg";
  struct ifinfomsg ifi;
  std::memcpy(&ifi, p, sizeof ifi);
  l->ifindex = ifi.ifi_index;
  l->flags = ifi.ifi_flags;
  l->arphrd = ifi.ifi_type;
  const size_t hdr = NLMSG_ALIGN(sizeof(struct ifinfomsg));
  if (len < hdr) return "RTM_NEWLINK shorter than struct ifinfomsg";
  bool nested_ok = true;
  const bool ok = for_each_attr(p + hdr, len - hdr, [&](const Attr& a) {
    switch (a.type) {
      case IFLA_IFNAME:
        l->name = get_string(a);
        break;
      case IFLA_MTU:
        get_u32(a, &l->mtu);
        break;
      case IFLA_ADDRESS:
        l->address.assign(a.data, a.data + a.len);
        break;
      case IFLA_LINK: {
        uint32_t v;
        if (get_u32(a, &v)) {
          l->link = static_cast<int32_t>(v);
          l->has_link = true;
        }
        break;
      }
      case IFLA_MASTER: {
        uint32_t v;
        if (get_u32(a, &v)) l->master = static_cast<int32_t>(v);
        break;
      }
      case IFLA_LINK_NETNSID: {  // s32
        uint32_t v;
        if (get_u32(a, &v)) {
          l->link_netnsid = static_cast<int32_t>(v);
          l->has_link_netnsid = true;
        }
        break;
      }
      case IFLA_LINKINFO:
        if (!parse_linkinfo(a.data, a.len, l)) nested_ok = false;
        break;
      default:
        break;
    }
  });
  if (!ok || !nested_ok)
    return "malformed attribute in RTM_NEWLINK for ifindex " + std::to_string(l->ifindex);
  // No "link == ifindex means none" rule here: rtnl_fill_ifinfo already omits IFLA_LINK
  // when it equals ifindex, and a veth's peer in another namespace may share the number.
  return std::string();
}

// ---------------------------------------------------------------- sockets

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string errno_text(const char* what, int err) {
  return std::string(what) + ": " + std::strerror(err);
}

// The errno of a negative netlink error field; INT_MIN (only in corrupt data) cannot be
// negated as an int.
int errno_of(int e) {
  const long long v = e < 0 ? -static_cast<long long>(e) : static_cast<long long>(e);
  return v > INT_MAX ? INT_MAX : static_cast<int>(v);
}

// One RTM_GETLINK dump. Sets *interrupted if the kernel flagged it inconsistent.
std::string dump_once(int fd, uint32_t seq, std::vector<LinkInfo>* out, bool* interrupted) {
  struct {
    struct nlmsghdr nh;
    struct ifinfomsg ifm;
    struct rtattr ext;
    uint32_t ext_mask;
  } req;
  std::memset(&req, 0, sizeof req);
  req.nh.nlmsg_len = sizeof req;
  req.nh.nlmsg_type = RTM_GETLINK;
  req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.nh.nlmsg_seq = seq;
  req.ifm.ifi_family = AF_UNSPEC;
  // IFLA_EXT_MASK with RTEXT_FILTER_SKIP_STATS (include/uapi/linux/rtnetlink.h): no
  // per-link statistics, smaller messages. Older kernels ignore unknown bits.
  req.ext.rta_type = IFLA_EXT_MASK;
  req.ext.rta_len = RTA_LENGTH(sizeof(uint32_t));
  req.ext_mask = RTEXT_FILTER_SKIP_STATS;

  struct sockaddr_nl kernel;
  std::memset(&kernel, 0, sizeof kernel);
  kernel.nl_family = AF_NETLINK;
  for (;;) {
    const ssize_t n = ::sendto(fd, &req, sizeof req, 0, reinterpret_cast<struct sockaddr*>(&kernel),
                               sizeof kernel);
    if (n >= 0) break;
    if (errno != EINTR) return errno_text("rtnetlink send RTM_GETLINK", errno);
  }

  // Dump datagrams are at most 32 KiB unless one link needs more (net/netlink/af_netlink.c
  // netlink_dump(): min_dump_alloc); the peek below grows the buffer for those.
  std::vector<uint8_t> buf(64 * 1024);
  bool done = false;
  while (!done) {
    struct sockaddr_nl from;
    struct iovec iov = {buf.data(), buf.size()};
    struct msghdr msg;
    std::memset(&msg, 0, sizeof msg);
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    const ssize_t peek = ::recvmsg(fd, &msg, MSG_PEEK | MSG_TRUNC);
    if (peek < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        return "rtnetlink: no answer to RTM_GETLINK within 5 s";
      return errno_text("rtnetlink receive", errno);
    }
    if (static_cast<size_t>(peek) > buf.size()) {
      buf.resize(static_cast<size_t>(peek));
      continue;
    }
    iov.iov_base = buf.data();
    iov.iov_len = buf.size();
    msg.msg_namelen = sizeof from;
    msg.msg_flags = 0;
    const ssize_t n = ::recvmsg(fd, &msg, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_text("rtnetlink receive", errno);
    }
    if (n == 0) return "rtnetlink: socket closed during RTM_GETLINK dump";
    if (msg.msg_flags & MSG_TRUNC) return "rtnetlink: message truncated";
    if (msg.msg_namelen >= sizeof(from.nl_pid) && from.nl_pid != 0) continue;  // not the kernel
    std::string err =
        parse_link_dump(buf.data(), static_cast<size_t>(n), out, &done, interrupted, seq);
    if (!err.empty()) return err;
  }
  return std::string();
}

}  // namespace

// ---------------------------------------------------------------- public

// The message of a netlink datagram at *off (netlink(7): nlmsghdr, payload, padding to
// NLMSG_ALIGN); *off moves past it. An error text when the header does not fit.
static std::string next_message(const uint8_t* data, size_t len, size_t* off, struct nlmsghdr* h,
                                const uint8_t** payload, size_t* plen) {
  if (len - *off < sizeof(struct nlmsghdr)) return "netlink: truncated message header";
  std::memcpy(h, data + *off, sizeof *h);
  if (h->nlmsg_len < NLMSG_HDRLEN || h->nlmsg_len > len - *off)
    return "netlink: message length " + std::to_string(h->nlmsg_len) + " out of bounds";
  *payload = data + *off + NLMSG_HDRLEN;
  *plen = h->nlmsg_len - NLMSG_HDRLEN;
  const size_t step = NLMSG_ALIGN(h->nlmsg_len);
  *off = step > len - *off ? len : *off + step;
  return std::string();
}

// The public functions below only add a catch for std::bad_alloc (the one exception
// std::string and std::vector may throw here), so no exception leaves this file.
static std::string parse_link_dump_impl(const uint8_t* data, size_t len, std::vector<LinkInfo>* out,
                                        bool* done, bool* interrupted, uint32_t expect_seq) {
  size_t off = 0;
  while (off < len) {
    struct nlmsghdr h;
    const uint8_t* payload;
    size_t plen;
    const std::string bad = next_message(data, len, &off, &h, &payload, &plen);
    if (!bad.empty()) return bad;
    if (expect_seq != 0 && h.nlmsg_seq != expect_seq) continue;  // a stale answer
    if (h.nlmsg_flags & NLM_F_DUMP_INTR) *interrupted = true;
    switch (h.nlmsg_type) {
      case NLMSG_DONE: {
        // The payload is an int: a negative errno if the dump itself failed.
        *done = true;
        if (plen >= sizeof(int)) {
          int e;
          std::memcpy(&e, payload, sizeof e);
          if (e < 0) return errno_text("rtnetlink RTM_GETLINK dump failed", errno_of(e));
        }
        return std::string();
      }
      case NLMSG_ERROR: {
        // struct nlmsgerr: int error, then the offending request header. 0 is an ACK.
        if (plen < sizeof(int)) return "netlink: truncated NLMSG_ERROR";
        int e;
        std::memcpy(&e, payload, sizeof e);
        if (e == 0) continue;
        *done = true;
        return errno_text("rtnetlink RTM_GETLINK failed", errno_of(e));
      }
      case NLMSG_NOOP:
        continue;
      case NLMSG_OVERRUN:
        return "netlink: overrun, messages lost";
      case RTM_NEWLINK: {
        LinkInfo l;
        std::string err = parse_newlink(payload, plen, &l);
        if (!err.empty()) return err;
        out->push_back(std::move(l));
        continue;
      }
      default:
        continue;
    }
  }
  return std::string();
}

static void read_ethtool_impl(int fd, LinkInfo* link) {
  if (link->name.empty() || link->name.size() >= IFNAMSIZ) return;
  struct ifreq ifr;
  auto reset = [&](void* data) {
    std::memset(&ifr, 0, sizeof ifr);
    std::memcpy(ifr.ifr_name, link->name.data(), link->name.size());
    ifr.ifr_data = static_cast<char*>(data);
  };
  auto ioctl_ok = [&]() {
    for (;;) {
      if (::ioctl(fd, SIOCETHTOOL, &ifr) == 0) return true;
      if (errno != EINTR) return false;
    }
  };

  // ETHTOOL_GDRVINFO (include/uapi/linux/ethtool.h struct ethtool_drvinfo). Devices
  // without get_drvinfo report their parent's driver or their rtnl kind ("veth",
  // "vxlan", "bridge"), or fail with EOPNOTSUPP (net/ethtool/ioctl.c).
  struct ethtool_drvinfo di;
  std::memset(&di, 0, sizeof di);
  di.cmd = ETHTOOL_GDRVINFO;
  reset(&di);
  if (ioctl_ok()) {
    link->driver.assign(di.driver, strnlen(di.driver, sizeof di.driver));
    link->bus_info.assign(di.bus_info, strnlen(di.bus_info, sizeof di.bus_info));
  }

  // ETHTOOL_GSSET_INFO for ETH_SS_FEATURES: how many feature names there are.
  std::vector<uint64_t> sset_buf((sizeof(struct ethtool_sset_info) + sizeof(uint32_t) + 7) / 8);
  auto* sset = reinterpret_cast<struct ethtool_sset_info*>(sset_buf.data());
  sset->cmd = ETHTOOL_GSSET_INFO;
  sset->sset_mask = 1ULL << ETH_SS_FEATURES;
  reset(sset);
  if (!ioctl_ok() || !(sset->sset_mask & (1ULL << ETH_SS_FEATURES))) return;
  uint32_t count;
  std::memcpy(&count, reinterpret_cast<uint8_t*>(sset) + sizeof(struct ethtool_sset_info),
              sizeof count);
  if (count == 0 || count > 4096) return;  // NETDEV_FEATURE_COUNT is ~70

  // ETHTOOL_GSTRINGS: count names of ETH_GSTRING_LEN bytes each, NUL-padded.
  const size_t strings_size = sizeof(struct ethtool_gstrings) + size_t{count} * ETH_GSTRING_LEN;
  std::vector<uint64_t> str_buf((strings_size + 7) / 8);
  auto* gs = reinterpret_cast<struct ethtool_gstrings*>(str_buf.data());
  gs->cmd = ETHTOOL_GSTRINGS;
  gs->string_set = ETH_SS_FEATURES;
  gs->len = count;
  reset(gs);
  if (!ioctl_ok()) return;
  const uint32_t nstrings = gs->len < count ? gs->len : count;

  // ETHTOOL_GFEATURES: one ethtool_get_features_block per 32 features; bit i of block
  // i/32 is feature i, in the order of the ETH_SS_FEATURES strings.
  const uint32_t blocks = (count + 31) / 32;
  const size_t feat_size =
      sizeof(struct ethtool_gfeatures) + blocks * sizeof(struct ethtool_get_features_block);
  std::vector<uint64_t> feat_buf((feat_size + 7) / 8);
  auto* gf = reinterpret_cast<struct ethtool_gfeatures*>(feat_buf.data());
  gf->cmd = ETHTOOL_GFEATURES;
  gf->size = blocks;
  reset(gf);
  if (!ioctl_ok()) return;
  // The kernel writes back its own word count and copies min(ours, its) blocks.
  const uint32_t have_blocks = gf->size < blocks ? gf->size : blocks;

  const auto* names = reinterpret_cast<const char*>(gs->data);
  for (uint32_t i = 0; i < nstrings; i++) {
    const char* s = names + size_t{i} * ETH_GSTRING_LEN;
    const size_t n = strnlen(s, ETH_GSTRING_LEN);
    if (n == 0 || i / 32 >= have_blocks) continue;
    const struct ethtool_get_features_block& b = gf->features[i / 32];
    const uint32_t bit = 1u << (i % 32);
    Feature f;
    f.name.assign(s, n);
    f.active = (b.active & bit) != 0;
    // ethtool(8) prints "[fixed]" for a feature not in .available or in .never_changed.
    f.fixed = !(b.available & bit) || (b.never_changed & bit);
    link->features.push_back(std::move(f));
  }
}

static std::string parse_link_events_impl(const uint8_t* data, size_t len,
                                          std::vector<LinkEvent>* out, bool* overrun) {
  size_t off = 0;
  while (off < len) {
    struct nlmsghdr h;
    const uint8_t* payload;
    size_t plen;
    const std::string bad = next_message(data, len, &off, &h, &payload, &plen);
    if (!bad.empty()) return bad;
    if (h.nlmsg_type == NLMSG_OVERRUN) {
      *overrun = true;
      continue;
    }
    if (h.nlmsg_type != RTM_NEWLINK && h.nlmsg_type != RTM_DELLINK) continue;
    if (plen < sizeof(struct ifinfomsg)) return "link notification shorter than struct ifinfomsg";
    struct ifinfomsg ifi;
    std::memcpy(&ifi, payload, sizeof ifi);
    if (ifi.ifi_family != AF_UNSPEC) continue;  // AF_BRIDGE port notifications
    LinkEvent ev;
    ev.deleted = h.nlmsg_type == RTM_DELLINK;
    std::string err = parse_newlink(payload, plen, &ev.link);
    if (!err.empty()) return err;
    out->push_back(std::move(ev));
  }
  return std::string();
}

static std::string list_links_on_impl(int nl_fd, int ethtool_fd, std::vector<LinkInfo>* out) {
  static std::atomic<uint32_t> counter{0};
  bool interrupted = true;
  for (int attempt = 0; interrupted; attempt++) {
    // NLM_F_DUMP_INTR: links changed while the kernel walked them; repeat the dump.
    if (attempt == 5) return "rtnetlink: link dump kept changing under us (NLM_F_DUMP_INTR)";
    interrupted = false;
    out->clear();
    const uint32_t seq =
        static_cast<uint32_t>(::time(nullptr)) ^ (++counter << 20) ^ static_cast<uint32_t>(attempt);
    std::string err = dump_once(nl_fd, seq == 0 ? 1 : seq, out, &interrupted);
    if (!err.empty()) return err;
  }
  if (ethtool_fd >= 0)
    for (LinkInfo& l : *out) read_ethtool_impl(ethtool_fd, &l);
  return std::string();
}

static std::string list_links_impl(std::vector<LinkInfo>* out, bool with_ethtool) {
  out->clear();
  Fd nl(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (nl.get() < 0) return errno_text("rtnetlink socket", errno);
  struct timeval tv = {5, 0};
  ::setsockopt(nl.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (!with_ethtool) return list_links_on_impl(nl.get(), -1, out);

  // Any socket will do for SIOCETHTOOL (net/socket.c sock_ioctl() -> dev_ioctl()); the
  // device is looked up in the socket's namespace. ethtool(8) uses AF_INET and falls
  // back to generic netlink when IPv4 is not built.
  int efd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (efd < 0) efd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
  Fd ethtool_fd(efd);  // -1: links without driver and features
  return list_links_on_impl(nl.get(), ethtool_fd.get(), out);
}

std::string parse_link_dump(const uint8_t* data, size_t len, std::vector<LinkInfo>* out, bool* done,
                            bool* interrupted, uint32_t expect_seq) {
  try {
    return parse_link_dump_impl(data, len, out, done, interrupted, expect_seq);
  } catch (const std::bad_alloc&) {
    return "out of memory parsing the rtnetlink link dump";
  }
}

std::string parse_link_events(const uint8_t* data, size_t len, std::vector<LinkEvent>* out,
                              bool* overrun) {
  try {
    return parse_link_events_impl(data, len, out, overrun);
  } catch (const std::bad_alloc&) {
    return "out of memory parsing rtnetlink link notifications";
  }
}

std::string list_links_on(int nl_fd, int ethtool_fd, std::vector<LinkInfo>* out) {
  try {
    out->clear();
    return list_links_on_impl(nl_fd, ethtool_fd, out);
  } catch (const std::bad_alloc&) {
    out->clear();
    return "out of memory listing links";
  }
}

void read_ethtool(int fd, LinkInfo* link) {
  try {
    read_ethtool_impl(fd, link);
  } catch (const std::bad_alloc&) {
    link->features.clear();  // partial feature list: report none rather than some
  }
}

std::string list_links(std::vector<LinkInfo>* out, bool with_ethtool) {
  try {
    return list_links_impl(out, with_ethtool);
  } catch (const std::bad_alloc&) {
    out->clear();
    return "out of memory listing links";
  }
}

NetnsError list_links_in(const std::string& netns_path, const std::string& label,
                         std::vector<LinkInfo>* out) {
  return run_in_netns(netns_path, label, [out]() { return list_links(out, true); });
}

}  // namespace host
}  // namespace csumtop
