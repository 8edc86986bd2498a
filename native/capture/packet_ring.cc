// \summary: AF_PACKET TPACKET_V3 ring (see packet_ring.h). Socket set-up follows
// Documentation/networking/packet_mmap.rst and the order af_packet.c requires:
// PACKET_VNET_HDR and PACKET_VERSION before PACKET_RX_RING, bind after the ring.
#include "capture/packet_ring.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <thread>

#include "capture/striped.h"

namespace csumtop {

namespace {
// `what` and errno as a message; *not_permitted says whether errno was EPERM or EACCES,
// the failures a right would cure (the message then names it), and *saved keeps errno, so
// callers test a flag or a number instead of the text.
std::string sys_error(const char* what, bool* not_permitted, int* saved) {
  const int e = errno;
  *saved = e;
  std::string msg = std::string(what) + ": " + std::strerror(e);
  *not_permitted = e == EPERM || e == EACCES;
  if (*not_permitted) msg += " (capturing needs CAP_NET_RAW: run as root or grant it)";
  return msg;
}

// struct virtio_net_hdr (include/uapi/linux/virtio_net.h), declared here because that
// header does not compile as C++ with some kernel-header versions.
struct VnetHdr {
  uint8_t flags;
  uint8_t gso_type;
  uint16_t hdr_len;
  uint16_t gso_size;
  uint16_t csum_start;
  uint16_t csum_offset;
};
static_assert(sizeof(VnetHdr) == 10, "virtio_net_hdr is 10 bytes");
constexpr uint8_t kVnetNeedsCsum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
constexpr uint8_t kVnetGsoNone = 0;    // VIRTIO_NET_HDR_GSO_NONE
constexpr uint8_t kVnetGsoEcn = 0x80;  // VIRTIO_NET_HDR_GSO_ECN

// The kernel reports the virtio-net header fields in the guest's byte order; AF_PACKET
// uses little-endian on little-endian hosts (virtio_net_hdr_from_skb(..., little_endian =
// vio_le())), which is host order on every platform we build for.
uint16_t vnet16(uint16_t v) { return v; }
}  // namespace

PacketRing::~PacketRing() { close(); }

void PacketRing::close() {
  if (map_) munmap(map_, map_len_);
  map_ = nullptr;
  map_len_ = 0;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool PacketRing::open(int ifindex, const RingOptions& opts, std::string* err) {
  close();
  opts_ = opts;
  not_permitted_ = false;
  last_errno_ = 0;
  next_block_ = 0;
  total_ = RingStats();
  // Protocol 0: the socket receives nothing until bind() names the interface and
  // ETH_P_ALL (net/packet/af_packet.c, packet_create registers its hook only for a
  // non-zero protocol). Opened with ETH_P_ALL it took every interface's frames while the
  // ring was set up: the soak test (test/lab/soak.test.ts) found each newly attached
  // device counting hundreds of the underlay's carriers as its own.
  fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) {
    *err = sys_error("socket(AF_PACKET)", &not_permitted_, &last_errno_);
    return false;
  }
  vnet_ = false;
  if (opts.want_vnet) {
    int one = 1;
    vnet_ = setsockopt(fd_, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) == 0;
  }
  int version = TPACKET_V3;
  if (setsockopt(fd_, SOL_PACKET, PACKET_VERSION, &version, sizeof version) != 0) {
    *err = sys_error("PACKET_VERSION TPACKET_V3", &not_permitted_, &last_errno_);
    close();
    return false;
  }
  tpacket_req3 req;
  std::memset(&req, 0, sizeof req);
  req.tp_block_size = opts.block_size;
  req.tp_block_nr = opts.block_count;
  req.tp_frame_size = 2048;  // only a V1/V2 notion; V3 packs frames, but the kernel checks it
  req.tp_frame_nr = (opts.block_size / req.tp_frame_size) * opts.block_count;
  req.tp_retire_blk_tov = opts.retire_ms;
  req.tp_feature_req_word = 0;
  if (setsockopt(fd_, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) != 0) {
    if (vnet_) {
      // Older kernels refuse a ring on a vnet socket: start again without the header.
      RingOptions o = opts;
      o.want_vnet = false;
      return open(ifindex, o, err);
    }
    *err = sys_error("PACKET_RX_RING", &not_permitted_, &last_errno_);
    close();
    return false;
  }
  map_len_ = static_cast<size_t>(opts.block_size) * opts.block_count;
  void* m = mmap(nullptr, map_len_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, fd_, 0);
  if (m == MAP_FAILED) {
    // MAP_LOCKED fails beyond RLIMIT_MEMLOCK without CAP_IPC_LOCK; unlocked still works.
    m = mmap(nullptr, map_len_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  }
  if (m == MAP_FAILED) {
    map_len_ = 0;
    *err = sys_error("mmap of the capture ring", &not_permitted_, &last_errno_);
    close();
    return false;
  }
  map_ = static_cast<uint8_t*>(m);
  if (opts.filter && !attach_filter(fd_, *opts.filter, err)) {
    close();
    return false;
  }
  sockaddr_ll sll;
  std::memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = ifindex;
  if (bind(fd_, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0) {
    *err = sys_error("bind to the interface", &not_permitted_, &last_errno_);
    close();
    return false;
  }
  socklen_t len = sizeof sll;
  if (getsockname(fd_, reinterpret_cast<sockaddr*>(&sll), &len) == 0) hatype_ = sll.sll_hatype;
  if (opts.promisc) {
    packet_mreq mr;
    std::memset(&mr, 0, sizeof mr);
    mr.mr_ifindex = ifindex;
    mr.mr_type = PACKET_MR_PROMISC;  // dropped by the kernel when the socket closes
    if (setsockopt(fd_, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) != 0) {
      *err = sys_error("promiscuous mode", &not_permitted_, &last_errno_);
      close();
      return false;
    }
  }
  fanout_group_ = -1;
  if (opts.fanout_group != -1) {
    // Spreads the interface's frames over several sockets (one per capture thread) by
    // flow hash, so a flow stays on one thread (Documentation/networking/packet_mmap.rst,
    // "AF_PACKET fanout mode"). Needs a bound socket (fanout_add: po->running).
    int arg = PACKET_FANOUT_HASH << 16;
    if (opts.fanout_group == kFanoutNewGroup) {
      arg |= PACKET_FANOUT_FLAG_UNIQUEID << 16;
    } else {
      arg |= opts.fanout_group & 0xffff;
    }
    if (setsockopt(fd_, SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) != 0) {
      *err = sys_error("PACKET_FANOUT", &not_permitted_, &last_errno_);
      close();
      return false;
    }
    int got = 0;
    socklen_t gl = sizeof got;
    if (getsockopt(fd_, SOL_PACKET, PACKET_FANOUT, &got, &gl) != 0) {
      *err = sys_error("reading the PACKET_FANOUT group", &not_permitted_, &last_errno_);
      close();
      return false;
    }
    fanout_group_ = got & 0xffff;
  }
  // Start counting from here: discard what the kernel counted before the ring existed.
  tpacket_stats_v3 st;
  socklen_t sl = sizeof st;
  getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &st, &sl);
  return true;
}

bool PacketRing::block_ready(uint32_t i) const {
  const auto* bd = reinterpret_cast<const tpacket_block_desc*>(block(i));
  return (__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER) != 0;
}

uint32_t PacketRing::block_frames(uint32_t i) const {
  return reinterpret_cast<const tpacket_block_desc*>(block(i))->hdr.bh1.num_pkts;
}

const uint8_t* PacketRing::first_frame(uint32_t i) const {
  const auto* bd = reinterpret_cast<const tpacket_block_desc*>(block(i));
  return block(i) + bd->hdr.bh1.offset_to_first_pkt;
}

const uint8_t* PacketRing::next_frame(const uint8_t* hdr) {
  return hdr + reinterpret_cast<const tpacket3_hdr*>(hdr)->tp_next_offset;
}

void PacketRing::release_block(uint32_t i) {
  auto* bd =
      reinterpret_cast<tpacket_block_desc*>(map_ + static_cast<size_t>(i) * opts_.block_size);
  __atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
}

bool PacketRing::frame_of(const uint8_t* hdr, RingFrame* out) const {
  const auto* h = reinterpret_cast<const tpacket3_hdr*>(hdr);
  const auto* sll = reinterpret_cast<const sockaddr_ll*>(hdr + TPACKET_ALIGN(sizeof(tpacket3_hdr)));
  // Never trust an offset to point outside the block.
  if (h->tp_mac + static_cast<uint64_t>(h->tp_snaplen) > opts_.block_size) return false;
  out->data = hdr + h->tp_mac;
  out->caplen = h->tp_snaplen;
  out->wirelen = h->tp_len;
  out->ts_ns = static_cast<uint64_t>(h->tp_sec) * 1000000000ull + h->tp_nsec;
  out->pkttype = sll->sll_pkttype;
  OffloadHint& hint = out->hint;
  hint = OffloadHint();
  hint.csum_not_ready = (h->tp_status & TP_STATUS_CSUMNOTREADY) != 0;
  hint.csum_valid = (h->tp_status & TP_STATUS_CSUM_VALID) != 0;
  if (vnet_ && h->tp_mac >= sizeof(VnetHdr)) {
    VnetHdr vh;
    std::memcpy(&vh, hdr + h->tp_mac - sizeof vh, sizeof vh);
    hint.has_vnet = 1;
    hint.gso = (vh.gso_type & ~kVnetGsoEcn) != kVnetGsoNone;
    if (vh.flags & kVnetNeedsCsum) {
      hint.csum_start = vnet16(vh.csum_start);
      hint.csum_offset = vnet16(vh.csum_offset);
    } else {
      hint.has_vnet = 0;  // nothing pending according to the header
    }
  }
  return true;
}

bool PacketRing::stats(RingStats* out, std::string* err) {
  tpacket_stats_v3 st;
  socklen_t len = sizeof st;
  if (getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &st, &len) != 0) {
    *err = sys_error("PACKET_STATISTICS", &not_permitted_, &last_errno_);
    return false;
  }
  // tp_packets counts every frame including the dropped ones (af_packet.c, packet_getsockopt).
  total_.packets += st.tp_packets;
  total_.drops += st.tp_drops;
  total_.freezes += st.tp_freeze_q_cnt;
  *out = total_;
  return true;
}

bool PacketRing::device_gone() {
  int so_err = 0;
  socklen_t len = sizeof so_err;
  if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &so_err, &len) == 0 && so_err != 0)
    last_error_ = so_err;
  sockaddr_ll sll{};
  socklen_t sl = sizeof sll;
  if (getsockname(fd_, reinterpret_cast<sockaddr*>(&sll), &sl) != 0) return true;
  return sll.sll_ifindex <= 0;
}

void close_rings(const std::vector<PacketRing*>& rings) {
  run_striped(rings.size(), 16, 64, [&rings](size_t k) { rings[k]->close(); });
}

}  // namespace csumtop
