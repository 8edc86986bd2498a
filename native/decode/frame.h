// \summary: The decoded view of one frame: layers, tuples and one status per checksum.
//
// A frame decodes into this fixed-size struct with no heap allocation. Decoding never
// reads past the captured length; truncation is a normal outcome (status
// `unverifiable`), malformed content stops decoding with a reason.
#pragma once
#include <cstdint>

namespace csumtop {

// Link types we decode (https://www.tcpdump.org/linktypes.html).
enum LinkType : uint16_t {
  kLinkNull = 0,  // BSD loopback: 4-byte host-order address family
  kLinkEthernet = 1,
  kLinkRaw = 101,       // raw IPv4/IPv6 (DLT_RAW)
  kLinkLoop = 108,      // OpenBSD loopback: 4-byte network-order address family
  kLinkLinuxSll = 113,  // Linux cooked v1 (tcpdump -i any before libpcap 1.10)
  kLinkIPv4 = 228,
  kLinkIPv6 = 229,
  kLinkNflog = 239,      // Linux NFLOG (iptables -j NFLOG, nflog:N in tcpdump): TLVs, IP payload
  kLinkLinuxSll2 = 276,  // Linux cooked v2 (tcpdump -i any)
};

// Which checksum: the report's "protocol" column.
// GRE's optional checksum (RFC 2784 section 2.5) covers the GRE header and its payload,
// with no pseudo-header.
enum CsumKind : uint8_t {
  kKindIPv4 = 0,
  kKindUdp,
  kKindTcp,
  kKindIcmp,
  kKindIcmp6,
  kKindGre,
  kNumKinds
};

// One status per checksum (see docs/design.md, "One verdict model").
enum CsumStatus : uint8_t {
  kStatusOk = 0,
  kStatusBad,
  kStatusAbsent,        // UDP over IPv4 with checksum 0 (RFC 768), or a tunnel over IPv6 (RFC 6935)
  kStatusUnverifiable,  // truncated capture, fragment, oversize (GSO) packet
  kStatusPending,       // offload: the kernel has not computed it yet (live capture)
  kStatusValidated,     // the kernel/NIC already verified it (live capture)
  kNumStatus
};

// Report layers: depth 0 is "outer", every encapsulated depth is "inner".
enum Layer : uint8_t { kLayerOuter = 0, kLayerInner = 1, kNumLayers = 2 };

// Why a checksum is unverifiable.
enum UnverifiableWhy : uint8_t {
  kWhyNone = 0,
  kWhyTruncated,     // snap length cut the covered bytes
  kWhyFragment,      // L4 checksum of a fragmented datagram
  kWhyOversize,      // IP length field 0 / larger than the frame on a GSO/TSO capture
  kWhyOffloadOther,  // live: another checksum in the frame could not be completed
};

// Why a frame is malformed. Keep in sync with kMalformedNames in decode.cc and
// MALFORMED_REASONS in src/model/verdict.ts.
enum Malformed : uint8_t {
  kMalformedNone = 0,
  kMalformedLinkShort,      // link header longer than the frame
  kMalformedVlanDepth,      // more VLAN tags than kMaxVlanTags
  kMalformedIpVersion,      // IP version field does not match the ethertype
  kMalformedIpv4Ihl,        // IPv4 IHL < 5
  kMalformedIpv4Length,     // IPv4 total length < header length, or beyond the frame
  kMalformedIpv6Length,     // IPv6 payload length beyond the frame
  kMalformedIpv6ExtChain,   // extension header chain longer than kMaxIpv6ExtHeaders
  kMalformedIpv6ExtLength,  // extension header runs past the IPv6 payload
  kMalformedUdpLength,      // UDP length < 8 or beyond the IP payload
  kMalformedTcpOffset,      // TCP data offset < 5 or beyond the IP payload
  kMalformedIcmpLength,     // ICMP message shorter than its 8-byte header
  kMalformedVxlanHeader,    // VXLAN I flag clear or header beyond the UDP payload
  kMalformedGeneveHeader,   // Geneve version/option length beyond the UDP payload
  kMalformedTunnelDepth,    // encapsulation nested deeper than kMaxDepth
  kMalformedGreHeader,      // GRE routing/strict-route bits (RFC 1701) set, or header beyond the
                            // payload
  kMalformedMplsStack,      // MPLS label stack without bottom within kMaxMplsLabels or the frame
  kMalformedNflogTlv,       // NFLOG TLV length below 4 or beyond the record
  kNumMalformed
};

// Why (part of) a frame was not decoded, so its checksums were not verified: the report
// counts these frames per reason instead of letting them pass for clean (issue 13).
// Keep in sync with kUndecodedNames in decode.cc and UNDECODED_REASONS in
// src/model/verdict.ts.
enum Undecoded : uint8_t {
  kUndecodedNone = 0,
  kUndecodedLinkType,      // a link type we do not decode (PPP, 802.11, radiotap, USB, ...)
  kUndecodedMacsec,        // IEEE 802.1AE MACsec (ethertype 0x88e5): payload encrypted or opaque
  kUndecodedDsaTag,        // switch tag with an ethertype (EDSA 0xdada, 0xdadb, 0xe001)
  kUndecodedPppoe,         // PPPoE session (0x8864): PPP inside Ethernet
  kUndecodedMplsPayload,   // MPLS payload that is not IPv4/IPv6 (pseudowire, control word)
  kUndecodedGrePayload,    // GRE version 1 (PPTP) or a payload other than IPv4/IPv6/Ethernet/MPLS
  kUndecodedNflogPayload,  // NFLOG record without a payload, or of a family other than IPv4/IPv6
  kNumUndecoded
};

// Which encapsulation led to a layer.
// GRE is two values so that a key of 0 stays apart from no key: kTunnelGreKey keeps the
// key (RFC 2890 section 2.1) where VXLAN/Geneve keep the VNI.
enum Tunnel : uint8_t {
  kTunnelNone = 0,
  kTunnelVxlan,
  kTunnelGeneve,
  kTunnelIpip,
  kTunnelIp6ip,
  kTunnelGre,     // GRE without a key field
  kTunnelGreKey,  // GRE with a key, in IpLayer::vni
  kNumTunnels
};

constexpr int kMaxDepth = 4;  // outer + 3 nested encapsulations
constexpr int kMaxChecksums = 3 * kMaxDepth;
constexpr int kMaxVlanTags = 8;
constexpr int kMaxIpv6ExtHeaders = 16;  // RFC 8504 section 5.3 lets hosts bound the chain
constexpr int kMaxMplsLabels = 16;  // deeper stacks are not seen in practice (RFC 3032 sets none)

// One IP layer with its transport tuple.
struct IpLayer {
  uint8_t family = 0;             // 4 or 6
  uint8_t proto = 0;              // transport protocol number (after IPv6 extension headers)
  uint8_t tunnel = kTunnelNone;   // how this layer was reached
  uint8_t is_fragment = 0;        // 1 first fragment, 2 later fragment
  uint16_t sport = 0, dport = 0;  // UDP/TCP ports; ICMP: type and code
  uint16_t ip_id = 0;             // IPv4 identification (cross-interface matching)
  uint32_t ip_len = 0;            // IP datagram length from the header
  uint32_t vni = 0;               // VXLAN/Geneve VNI, GRE key (kTunnelGreKey)
  uint32_t l3_offset = 0;         // offset of the IP header in the frame
  uint32_t l4_offset = 0;         // offset of the transport header (0 when none)
  uint8_t tcp_flags = 0;
  uint8_t src[16] = {0}, dst[16] = {0};  // IPv4 in the first 4 bytes
};

struct CsumEntry {
  uint8_t depth = 0;          // layer index
  uint8_t kind = 0;           // CsumKind
  uint8_t status = 0;         // CsumStatus
  uint8_t why = 0;            // UnverifiableWhy
  uint16_t found = 0;         // value in the packet
  uint16_t expected = 0;      // value it should hold (valid when status is bad)
  uint32_t field_offset = 0;  // byte offset of the checksum field in the frame
  // Set when a bad L4 value equals the folded pseudo-header sum: what a transmit
  // checksum offload leaves in the field before the NIC fills it in (CHECKSUM_PARTIAL).
  uint8_t looks_partial = 0;
};

// Live capture tells us what the kernel knows (issue 3); files pass nullptr.
struct OffloadHint {
  uint8_t csum_not_ready = 0;  // TP_STATUS_CSUMNOTREADY: skb is CHECKSUM_PARTIAL
  uint8_t csum_valid = 0;      // TP_STATUS_CSUM_VALID: CHECKSUM_UNNECESSARY (or verified COMPLETE)
  uint8_t has_vnet = 0;        // csum_start/csum_offset come from a virtio_net_hdr
  uint8_t gso = 0;             // virtio_net_hdr gso_type != NONE: a GSO/TSO super-packet
  // No kernel status at all (libpcap throws it away): a bad transport checksum whose
  // field holds exactly the pseudo-header sum is taken for a pending one. A guess.
  uint8_t guess_partial = 0;
  uint16_t csum_start = 0, csum_offset = 0;  // relative to the start of the frame
};

struct DecodeOptions {
  static constexpr int kMaxPorts = 8;
  uint16_t vxlan_ports[kMaxPorts] = {4789, 8472};
  uint8_t n_vxlan = 2;
  uint16_t geneve_ports[kMaxPorts] = {6081};
  uint8_t n_geneve = 1;
};

struct Frame {
  uint8_t nlayers = 0;
  uint8_t ncsum = 0;
  uint8_t malformed = kMalformedNone;
  uint8_t undecoded = kUndecodedNone;  // why part of the frame was not decoded (first reason)
  uint8_t truncated = 0;               // caplen < wirelen and decoding hit the snap end
  uint8_t vlan_count = 0;
  uint16_t vlan_id = 0;           // outermost VLAN id
  uint8_t direction = 0xff;       // SLL/SLL2 packet type (4 = outgoing) when known
  uint32_t malformed_offset = 0;  // where the malformed field is
  IpLayer layer[kMaxDepth];
  CsumEntry csum[kMaxChecksums];

  // Resets the header fields only: layers and checksum entries are initialised on use,
  // so a frame costs no memset of its ~400 bytes per packet.
  void reset_header() {
    nlayers = 0;
    ncsum = 0;
    malformed = kMalformedNone;
    undecoded = kUndecodedNone;
    truncated = 0;
    vlan_count = 0;
    vlan_id = 0;
    direction = 0xff;
    malformed_offset = 0;
  }

  bool has_bad() const {
    for (int i = 0; i < ncsum; i++)
      if (csum[i].status == kStatusBad) return true;
    return false;
  }
};

// Decodes `data` (caplen bytes captured of wirelen on the wire) and verifies every
// checksum. Resets *out first. Never allocates, never reads past data + caplen.
// The offload hint is not consulted here: see decode_live().
void decode_frame(const uint8_t* data, uint32_t caplen, uint32_t wirelen, uint16_t linktype,
                  const DecodeOptions& opts, const OffloadHint* hint, Frame* out);

// A frame none of whose checksums is bad, as counting needs it: the kind and status of
// each checksum in order; the first two are of layer 0, the others of layer 1.
struct GoodFrame {
  uint8_t n = 0;
  uint8_t kind[4] = {0, 0, 0, 0};
  uint8_t status[4] = {0, 0, 0, 0};
};

// decode_frame() for counting (offline analysis): when the fast path takes the frame and
// none of its checksums is bad, it fills only *good (nothing malformed, truncated or
// unsupported) and returns false, leaving *out as it was. Otherwise *out holds the
// decoded frame, as decode_frame() leaves it, and it returns true.
bool decode_frame_or_good(const uint8_t* data, uint32_t caplen, uint32_t wirelen, uint16_t linktype,
                          const DecodeOptions& opts, Frame* out, GoodFrame* good);

// decode_frame() without its fast path (decode/fast.cc): the general decoder alone, which
// the fast path must agree with on every frame it accepts (fuzz_decode checks it).
void decode_frame_general(const uint8_t* data, uint32_t caplen, uint32_t wirelen, uint16_t linktype,
                          const DecodeOptions& opts, const OffloadHint* hint, Frame* out);

// Decodes a frame with what the kernel said about its checksums (live capture):
// a CHECKSUM_PARTIAL frame has its pending checksum completed in `scratch` as the device
// would, then every other checksum is verified against the completed frame and the
// completed one is reported `pending`; CSUM_VALID makes the outermost transport
// checksum `validated`; GSO super-packets leave transport checksums `unverifiable`.
// `scratch` must hold `scratch_size` bytes; larger frames are decoded without
// completion and their dependent checksums reported unverifiable.
void decode_live(const uint8_t* data, uint32_t caplen, uint32_t wirelen, uint16_t linktype,
                 const DecodeOptions& opts, const OffloadHint& hint, uint8_t* scratch,
                 uint32_t scratch_size, Frame* out);

const char* malformed_name(uint8_t reason);
const char* undecoded_name(uint8_t reason);
const char* kind_name(uint8_t kind);
const char* status_name(uint8_t status);

}  // namespace csumtop
