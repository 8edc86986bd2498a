// \summary: The kernel's own verdict (issue 18): on every skb the kernel frees with a
// drop reason, keep the checksum and IPv4 header reasons only and put one kdrop_event
// (native/bpf/kernel_drops_event.h) per dropped packet into a ring buffer: the reason,
// the network namespace and device it was on, and the first bytes of its network header
// (outer addresses and ports; for a VXLAN carrier the VNI and inner tuple).
//
// Attach point: the skb:kfree_skb tracepoint as a BTF-typed raw tracepoint (tp_btf: no
// tracefs, no perf buffer). Its arguments (include/trace/events/skb.h) are
// (struct sk_buff *skb, void *location, enum skb_drop_reason reason[, struct sock
// *rx_sk]); net/core/skbuff.c kfree_skb_reason -> sk_skb_reason_drop fires it for every
// freed-as-dropped skb. Kernels before 5.17 have no reason argument: the verifier then
// rejects ctx[2] and user space falls back to the /proc/net/snmp counters.
//
// Compiled once at build time (scripts/build-bpf.js: clang -O2 -g -target bpf) and the
// object embedded in the addon; nothing is compiled on the machine that runs csumtop.
// CO-RE: the struct and enum definitions below are not the kernel's. They name only the
// fields read here, and preserve_access_index makes clang record each access by name;
// libbpf rewrites the offsets (and the enum values) against /sys/kernel/btf/vmlinux at
// load time. That is why no generated vmlinux.h is committed: it would pin one kernel's
// 100k-line header into the repository for five structs.
// The kernel's fixed-width types (include/uapi/asm-generic/int-ll64.h), defined here
// rather than taken from <linux/types.h>, whose <asm/types.h> lives in a per-architecture
// include directory: the BPF object is the same for every target the addon is built for.
typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef signed char __s8;
typedef short __s16;
typedef int __s32;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
enum bpf_map_type { BPF_MAP_TYPE_RINGBUF = 27 };  // include/uapi/linux/bpf.h
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "kernel_drops_event.h"

// include/net/dropreason-core.h (enum skb_drop_reason). The values here are
// placeholders: bpf_core_enum_value() reads the running kernel's.
enum skb_drop_reason {
  SKB_DROP_REASON_TCP_CSUM = 1,
  SKB_DROP_REASON_UDP_CSUM = 2,
  SKB_DROP_REASON_IP_CSUM = 3,
  SKB_DROP_REASON_IP_INHDR = 4,
  SKB_DROP_REASON_SKB_CSUM = 5,
  SKB_DROP_REASON_ICMP_CSUM = 6,
};

// include/linux/ns_common.h
struct ns_common {
  unsigned int inum;
} __attribute__((preserve_access_index));

// include/net/net_namespace.h
struct net {
  struct ns_common ns;
} __attribute__((preserve_access_index));

// include/net/net_namespace.h possible_net_t: an anonymous struct in the kernel too.
typedef struct {
  struct net* net;
} __attribute__((preserve_access_index)) possible_net_t;

// include/linux/netdevice.h
struct net_device {
  int ifindex;
  possible_net_t nd_net;
} __attribute__((preserve_access_index));

// include/linux/skbuff.h. On 64-bit kernels tail is an offset from head
// (NET_SKBUFF_DATA_USES_OFFSET, sk_buff_data_t = unsigned int), like network_header.
struct sk_buff {
  struct net_device* dev;
  int skb_iif;
  __be16 protocol;
  __u16 network_header;
  unsigned int tail;
  unsigned char* head;
} __attribute__((preserve_access_index));

// 4 MiB: about 37,000 records of 112 bytes (+8 of ring header). 256 KiB lost a third of a
// 200,000-carrier burst at 344k drops/s on a loaded 2-core VM; 4 MiB lost none of a
// million at 346k/s (bench/kernel-drops.ts). The memory is charged to csumtop's cgroup.
struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4 * 1024 * 1024);
} kdrop_events SEC(".maps");

// Drops the ring buffer had no room for (user space fell behind): counted, not lost
// silently. A global: libbpf puts it in the object's .bss map, which it maps into user
// space, so the addon reads it without a bpf() call (after --user has dropped the rights
// that kernels before 6.5 want for any bpf() command).
__u64 kdrop_ring_full = 0;

// The kernel's value of one reason, or -1 when this kernel has no such reason (older
// releases lack SKB_CSUM and ICMP_CSUM): -1 never equals a u32 reason below.
#define KERNEL_REASON(name)                                                      \
  (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_##name)      \
       ? (long)bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_##name) \
       : -1L)

static __always_inline unsigned char csumtop_reason(long r) {
  if (r == KERNEL_REASON(UDP_CSUM)) return KDROP_REASON_UDP_CSUM;
  if (r == KERNEL_REASON(TCP_CSUM)) return KDROP_REASON_TCP_CSUM;
  if (r == KERNEL_REASON(IP_CSUM)) return KDROP_REASON_IP_CSUM;
  if (r == KERNEL_REASON(IP_INHDR)) return KDROP_REASON_IP_INHDR;
  if (r == KERNEL_REASON(SKB_CSUM)) return KDROP_REASON_SKB_CSUM;
  if (r == KERNEL_REASON(ICMP_CSUM)) return KDROP_REASON_ICMP_CSUM;
  return KDROP_REASON_NONE;
}

SEC("tp_btf/kfree_skb")
int csumtop_kernel_drop(unsigned long long* ctx) {
  // The reason first: every other freed skb costs these compares and nothing more.
  unsigned char reason = csumtop_reason((long)(unsigned int)ctx[2]);
  if (reason == KDROP_REASON_NONE) return 0;
  struct sk_buff* skb = (struct sk_buff*)ctx[0];

  struct kdrop_event* e = bpf_ringbuf_reserve(&kdrop_events, sizeof(*e), 0);
  if (!e) {
    __sync_fetch_and_add(&kdrop_ring_full,
                         1);  // only when the ring is full: no contention otherwise
    return 0;
  }
  e->reason = reason;
  e->protocol_be = BPF_CORE_READ(skb, protocol);
  struct net_device* dev = BPF_CORE_READ(skb, dev);
  if (dev) {
    e->ifindex = BPF_CORE_READ(dev, ifindex);
    e->netns = BPF_CORE_READ(dev, nd_net.net, ns.inum);
  } else {
    e->ifindex = BPF_CORE_READ(skb, skb_iif);
    e->netns = 0;
  }

  // The linear bytes from the network header on (include/linux/skbuff.h
  // skb_network_header: head + network_header; 0xffff means never set). Bytes past tail
  // may be in a page fragment: not copied, len says how many are real.
  e->len = 0;
  __u16 nh = BPF_CORE_READ(skb, network_header);
  unsigned int tail = BPF_CORE_READ(skb, tail);
  unsigned char* head = BPF_CORE_READ(skb, head);
  if (nh != (__u16)~0U && tail > nh) {
    __u64 len = (__u64)tail - nh;
    if (len > KDROP_DATA_BYTES) len = KDROP_DATA_BYTES;
    // Keep the bound in the register the helper gets: clang may otherwise pass a copy
    // the verifier has no upper bound for ("R2 min value is negative").
    barrier_var(len);
    len &= 0x7f;
    if (len > 0 && bpf_probe_read_kernel(e->data, len, head + nh) == 0) e->len = (unsigned char)len;
  }
  bpf_ringbuf_submit(e, 0);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
