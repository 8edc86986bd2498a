// \summary: One AF_PACKET socket with a TPACKET_V3 memory-mapped receive ring.
//
// Why TPACKET_V3: blocks of variable-size frames retired on a timer cost one poll()
// wake-up per block instead of per frame, and pack small frames densely (V2 wastes a
// fixed frame slot per packet); the per-frame checksum status flags and, on kernels that
// allow it, the virtio-net header (PACKET_VNET_HDR) are delivered with V3 as with V2
// (measured on 6.18: csum_start/csum_offset present in V3 blocks). When the kernel
// refuses PACKET_VNET_HDR with a ring the socket falls back to status flags alone.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "capture/bpf_filter.h"
#include "decode/frame.h"

namespace csumtop {

struct RingOptions {
  uint32_t block_size = 1u << 20;  // bytes per block (power of two, multiple of the page)
  uint32_t block_count = 8;        // ring = block_size * block_count
  uint32_t retire_ms = 50;         // the kernel hands over a partly filled block after this
  bool promisc = false;
  bool want_vnet = true;
  // PACKET_FANOUT group: -1 none; kFanoutNewGroup asks the kernel for a new unique id
  // (PACKET_FANOUT_FLAG_UNIQUEID), read back with fanout_group(); >= 0 joins that group.
  int fanout_group = -1;
  const BpfProgram* filter = nullptr;  // attached before bind, so no frame escapes it
};

constexpr int kFanoutNewGroup = -2;

struct RingFrame {
  const uint8_t* data;
  uint32_t caplen, wirelen;
  uint64_t ts_ns;
  uint8_t pkttype;  // PACKET_HOST, PACKET_OUTGOING, ... (linux/if_packet.h)
  OffloadHint hint;
};

struct RingStats {
  uint64_t packets = 0;  // seen by the socket (including dropped), cumulative
  uint64_t drops = 0;    // ring full, cumulative
  uint64_t freezes = 0;  // queue freezes (TPACKET_V3)
};

class PacketRing {
 public:
  PacketRing() = default;
  ~PacketRing();
  PacketRing(const PacketRing&) = delete;
  PacketRing& operator=(const PacketRing&) = delete;

  // Opens a socket in the calling thread's network namespace, bound to ifindex.
  bool open(int ifindex, const RingOptions& opts, std::string* err);
  // The last failure of open() or stats() was EPERM/EACCES (a missing CAP_NET_RAW).
  bool not_permitted() const { return not_permitted_; }
  // The errno of the last failure of open() or stats() that had one (0: none): the
  // caller tells a device that vanished (ENODEV) from other failures by it, not by text.
  int last_errno() const { return last_errno_; }
  void close();
  int fd() const { return fd_; }
  bool has_vnet() const { return vnet_; }
  // ARPHRD_* of the interface (from the bound address): selects the link type.
  uint16_t hatype() const { return hatype_; }
  // The PACKET_FANOUT group this socket joined, -1 when none.
  int fanout_group() const { return fanout_group_; }

  // Hands every frame of every block the kernel has released to fn(const RingFrame&),
  // returning blocks to the kernel as it goes. Returns the number of frames.
  template <typename Fn>
  uint32_t drain(Fn&& fn);

  // PACKET_STATISTICS, accumulated (the kernel resets its counters on every read).
  bool stats(RingStats* out, std::string* err);

  // After EPOLLERR: takes the socket's pending error (SO_ERROR clears it) and says
  // whether the device is gone (unregistered) rather than down. A device that went down
  // keeps its binding and is registered again on NETDEV_UP (af_packet.c packet_notifier);
  // one that went away leaves the socket with ifindex -1 (packet_getname()).
  bool device_gone();
  // The last error device_gone() took (errno value), 0 if none.
  int last_error() const { return last_error_; }

 private:
  bool frame_of(const uint8_t* hdr, RingFrame* out) const;
  bool block_ready(uint32_t i) const;
  const uint8_t* block(uint32_t i) const {
    return map_ + static_cast<size_t>(i) * opts_.block_size;
  }
  void release_block(uint32_t i);
  uint32_t block_frames(uint32_t i) const;
  const uint8_t* first_frame(uint32_t i) const;
  static const uint8_t* next_frame(const uint8_t* hdr);

  int fd_ = -1;
  uint8_t* map_ = nullptr;
  size_t map_len_ = 0;
  RingOptions opts_;
  uint32_t next_block_ = 0;
  bool vnet_ = false;
  uint16_t hatype_ = 0;
  int fanout_group_ = -1;
  int last_error_ = 0;
  bool not_permitted_ = false;
  int last_errno_ = 0;
  RingStats total_;
};

template <typename Fn>
uint32_t PacketRing::drain(Fn&& fn) {
  uint32_t n = 0;
  // Blocks are released in ring order; stop at the first one still owned by the kernel.
  for (uint32_t guard = 0; guard < opts_.block_count && block_ready(next_block_); guard++) {
    const uint32_t count = block_frames(next_block_);
    const uint8_t* h = first_frame(next_block_);
    RingFrame fr;
    for (uint32_t k = 0; k < count; k++) {
      if (frame_of(h, &fr)) {
        fn(fr);
        n++;
      }
      h = next_frame(h);
    }
    release_block(next_block_);
    next_block_ = (next_block_ + 1) % opts_.block_count;
  }
  return n;
}

// Closes every ring in `rings`. Each AF_PACKET close waits for an RCU grace period
// (net/packet/af_packet.c packet_release -> synchronize_net()), some 10-30 ms: closed one
// after another, 1000 rings kept csumtop from exiting for 25 s. Closed from several
// threads at once, the waits overlap (concurrent synchronize_rcu() callers share grace
// periods). Falls back to closing here if a thread cannot be started.
void close_rings(const std::vector<PacketRing*>& rings);

}  // namespace csumtop
