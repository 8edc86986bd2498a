// \summary: Decode + verify + count: the per-frame work every source (file, AF_PACKET
// ring, libpcap) feeds, with per-interface counters, the bad-flow table and packed
// records of bad frames for JavaScript.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "decode/frame.h"
#include "flow/bad_flows.h"
#include "flow/counters.h"
#include "flow/events.h"

namespace csumtop {

// One bad frame as it crosses to JavaScript: fixed-size little-endian records in a
// reused buffer (no object per frame). Offsets are exported by the addon (recordLayout).
struct BadFrameRecord {
  uint64_t frame_number;
  uint64_t ts_ns;
  uint32_t iface;
  uint32_t caplen;
  uint32_t wirelen;
  uint32_t vni;
  uint8_t tunnel;
  uint8_t has_inner;
  uint8_t n_bad;
  uint8_t n_layers;
  FlowEndpoint outer;
  FlowEndpoint inner;
  BadChecksumSample bad[kMaxSampleChecksums];
  // Packet type as AF_PACKET/SLL report it (linux/if_packet.h): 0 to this host,
  // 1 broadcast, 2 multicast, 3 to another host (promiscuous or forwarded through a
  // bridge), 4 sent by this host (locally generated or forwarded); 0xff unknown (files).
  uint8_t direction;
  uint8_t pad[3];
  // The captured bytes kept with the record (at most kRecordBytes) in the drain's byte
  // buffer: the dashboard's hex dump and its "write recent bad frames" key use them.
  uint32_t bytes_off;
  uint32_t bytes_len;
};

constexpr uint32_t kRecordBytes = 4096;
constexpr uint32_t kRecordBytesPerDrain = 4u << 20;

// Largest frame whose pending checksum can be completed: a 64 KiB GSO packet plus
// headers; BIG TCP packets beyond it are reported unverifiable.
constexpr uint32_t kScratchSize = 256 * 1024;

struct AnalyzerOptions {
  DecodeOptions decode;
  uint32_t max_flows = 65536;
  // The bad-flow table resident from the start (live capture, where memory must be flat
  // under a flood and the DaemonSet's limit is checked against the bound) or as its flows
  // land (a capture file: false).
  bool populate_flows = true;
  // Keep a record of every bad frame (file mode with --list) up to this many per drain;
  // beyond it they are counted in records_dropped().
  uint32_t max_records = 0;
  // Keep the bytes of recorded bad frames (live capture: hex dumps, "w" in the dashboard).
  bool record_bytes = false;
  // Correlation events (flow/events.h); off: none are produced.
  EventOptions events;
};

// The per-interface counting of one decoded frame (`c` is its interface's counters);
// returns how many of its checksums are bad. Counting is all sums, so frames may be
// counted in any order and the counters of several threads added up.
// `received`: not sent by this host (live PACKET_OUTGOING frames are not).
uint32_t count_frame(InterfaceCounters& c, const Frame& f, uint32_t caplen, uint32_t wirelen,
                     bool received = true);

// Counts a frame described by decode_frame_or_good() (no bad checksum).
void count_good(InterfaceCounters& c, const GoodFrame& g, uint32_t caplen, uint32_t wirelen);

// Decodes (decode_frame_or_good) and counts one frame of a capture file; returns how
// many of its checksums are bad. *frame holds the decoded frame when that is not 0,
// and is stale otherwise.
uint32_t decode_and_count(const uint8_t* data, uint32_t caplen, uint32_t wirelen, uint16_t linktype,
                          const DecodeOptions& opts, InterfaceCounters& c, Frame* frame);

class Analyzer {
 public:
  explicit Analyzer(const AnalyzerOptions& opts);

  // Decodes and accounts one frame. The returned view is valid until the next call.
  // With a hint (live capture) the kernel's checksum status is applied (decode_live).
  const Frame& process(uint32_t iface, const uint8_t* data, uint32_t caplen, uint32_t wirelen,
                       uint64_t ts_ns, uint16_t linktype, uint64_t frame_number,
                       const OffloadHint* hint);

  // process() for a capture file: returns the number of bad checksums; the frame
  // (frame()) is only valid when that is not 0.
  uint32_t process_file(uint32_t iface, const uint8_t* data, uint32_t caplen, uint32_t wirelen,
                        uint64_t ts_ns, uint16_t linktype, uint64_t frame_number);
  const Frame& frame() const { return frame_; }

  // The two halves of process() after decoding, for decoding done elsewhere (other
  // threads): add counters counted with count_frame(), and keep a bad frame (flow table,
  // record) -- bad frames in file order, as process() would.
  void add_counters(uint32_t iface, const InterfaceCounters& c);
  void keep_bad(const BadFrameSummary& s, uint32_t iface, uint64_t frame_number, uint64_t ts_ns,
                uint32_t caplen, uint32_t wirelen, const uint8_t* data);

  InterfaceCounters& counters(uint32_t iface);  // created (zero) on demand
  // One past the highest id counted so far (files: ids are dense, 0 .. count-1).
  uint32_t interface_count() const { return id_end_; }
  // Forgets an interface's counters and its overlay flag (live capture: a vanished
  // interface, once its last counters went out in a batch). Its bad flows stay in the
  // flow table under its id: JavaScript attributes them to the row it was folded into.
  void release(uint32_t iface);
  // Interfaces whose counters are held now (tests, memory bounds).
  size_t interfaces_held() const { return counters_.size(); }
  const BadFlowTable& flows() const { return flows_; }

  const std::vector<BadFrameRecord>& records() const { return records_; }
  // Bytes of the records (BadFrameRecord::bytes_off/bytes_len point here).
  const std::string& record_bytes() const { return record_bytes_; }
  void clear_records() {
    records_.clear();
    record_bytes_.clear();
  }
  // Swaps the records and their bytes into *records and *bytes and clears what the
  // analyzer gets back: no copy, and both sides keep their capacity when the caller
  // swaps the same containers every time (flow/file_step.cc).
  void take_records(std::vector<BadFrameRecord>* records, std::string* bytes) {
    records->swap(records_);
    bytes->swap(record_bytes_);
    clear_records();
  }
  EventBuffer& events() { return events_; }
  uint64_t records_dropped() const { return records_dropped_; }
  // One more frame might not fit in this drain: its record (max_records, or its bytes
  // past kRecordBytesPerDrain) or its event (EventBuffer::full). A live capture hands
  // the drain to JavaScript then, so that what fits a batch is a matter of how often
  // batches go, not of losing what did not fit (issue 14).
  bool drain_full() const {
    if (opts_.max_records &&
        (records_.size() >= opts_.max_records ||
         (opts_.record_bytes && record_bytes_.size() + kRecordBytes > kRecordBytesPerDrain)))
      return true;
    return events_.full();
  }

  const AnalyzerOptions& options() const { return opts_; }

  // The packet type of the frames process() is about to see (live capture sets it per
  // frame from sockaddr_ll.sll_pkttype); kept in bad-frame records.
  void set_direction(uint8_t pkttype) { direction_ = pkttype; }

 private:
  void account(uint32_t iface, const Frame& f, uint64_t frame_number, uint64_t ts_ns,
               uint32_t caplen, uint32_t wirelen, const uint8_t* data);

  AnalyzerOptions opts_;
  Frame frame_;
  std::vector<uint8_t> scratch_;  // completion of pending checksums (decode_live)
  uint8_t direction_ = 0xff;
  // By interface id. Not a vector indexed by id: live ids are never reused (a vanished
  // pod's veth keeps its own id, src/capture/live-source.ts), so a vector would grow by
  // one stride (864 bytes) for every interface ever seen on a node whose pods churn for
  // weeks (issue 14). Node-based: a reference stays valid until that id is released.
  std::unordered_map<uint32_t, InterfaceCounters> counters_;
  uint32_t id_end_ = 0;
  // The last interface looked up: frames come in runs of one interface (a ring is
  // drained at once; a file has one interface or few), so the hash is rarely computed.
  uint32_t cached_id_ = UINT32_MAX;
  InterfaceCounters* cached_ = nullptr;
  BadFlowTable flows_;
  std::vector<BadFrameRecord> records_;
  std::string record_bytes_;
  uint64_t records_dropped_ = 0;
  EventBuffer events_;
};

}  // namespace csumtop
