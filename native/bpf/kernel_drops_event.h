// \summary: The record native/bpf/kernel_drops.bpf.c puts in its ring buffer for each
// packet the kernel freed for a checksum or IPv4 header reason, shared by the BPF program
// (clang -target bpf) and the addon (native/kdrops/). Plain C, fixed layout, no padding
// holes: both sides see the same bytes. Fields are host byte order unless named _be.
#ifndef CSUMTOP_KERNEL_DROPS_EVENT_H_
#define CSUMTOP_KERNEL_DROPS_EVENT_H_

// csumtop's own drop reasons. The kernel's enum skb_drop_reason renumbers between
// releases (include/net/dropreason-core.h grows in the middle), so the BPF program maps
// the kernel's values to these with CO-RE (bpf_core_enum_value) at load time and user
// space never sees a kernel number.
#define KDROP_REASON_NONE 0
#define KDROP_REASON_UDP_CSUM 1   // SKB_DROP_REASON_UDP_CSUM: net/ipv4/udp.c csum_error
#define KDROP_REASON_TCP_CSUM 2   // SKB_DROP_REASON_TCP_CSUM: net/ipv4/tcp_ipv4.c csum_error
#define KDROP_REASON_IP_CSUM 3    // SKB_DROP_REASON_IP_CSUM: net/ipv4/ip_input.c ip_rcv_core
#define KDROP_REASON_IP_INHDR 4   // SKB_DROP_REASON_IP_INHDR: ip_rcv_core, bad version/IHL/length
#define KDROP_REASON_SKB_CSUM 5   // SKB_DROP_REASON_SKB_CSUM: a checksum that failed in skb code
#define KDROP_REASON_ICMP_CSUM 6  // SKB_DROP_REASON_ICMP_CSUM: net/ipv4/icmp.c icmp_rcv
#define KDROP_REASON_COUNT 7

// Bytes copied from the network header: an IPv6 header (40) + UDP (8) + VXLAN (8) +
// inner Ethernet (14) + inner IPv4 (20) + inner ports (4) = 94; IPv4 with options may
// cut the inner part short, which the parser reports as "no inner tuple".
#define KDROP_DATA_BYTES 96

struct kdrop_event {
  unsigned int netns;          // inode of the skb's device's network namespace (0: no device)
  unsigned int ifindex;        // that device's ifindex (skb->skb_iif when there is no device)
  unsigned char reason;        // KDROP_REASON_*
  unsigned char len;           // valid bytes in data (the linear part only, <= KDROP_DATA_BYTES)
  unsigned short protocol_be;  // skb->protocol (ETH_P_IP / ETH_P_IPV6), network byte order
  unsigned char data[KDROP_DATA_BYTES];  // from skb->head + skb->network_header
};

#endif  // CSUMTOP_KERNEL_DROPS_EVENT_H_
