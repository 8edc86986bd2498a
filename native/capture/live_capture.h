// \summary: Live capture engine: AF_PACKET rings on a capture thread, decoded and counted
// there, handed to JavaScript as batches (counter snapshots, ring statistics, packed
// bad-frame records) every batch interval.
//
// Threads: the JavaScript thread adds and removes interfaces (commands under a mutex,
// the capture thread woken through an eventfd); the capture thread owns the rings, the
// analyzer and every per-frame step. Nothing per frame crosses threads.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "capture/bad_frame_file.h"
#include "capture/frame_budget.h"
#include "capture/frame_selector.h"
#include "capture/packet_ring.h"
#include "flow/analyzer.h"
#include "kdrops/frame_match.h"

namespace csumtop {

struct LiveOptions {
  AnalyzerOptions analyzer;
  RingOptions ring;
  uint32_t batch_ms = 100;
  uint32_t max_records_per_batch = 4096;
  // -f, compiled beforehand (bpf_filter.h compile_filter(), in a child process of its
  // own: libpcap's optimizer can run for minutes, issue 17) for each link type; both
  // empty: everything.
  BpfProgram filter_ether, filter_raw;
  bool filtered = false;
  // -w: the file every engine writes its bad frames (and --context frames) to; each
  // engine selects on its own thread and writes before handing a batch over, so a bad
  // frame JavaScript has heard of is already in the file.
  std::shared_ptr<BadFrameFile> writer;
  uint32_t context = 0;
  // -c COUNT: shared by every engine of the run; null: no limit.
  std::shared_ptr<FrameBudget> budget;
};

struct LiveBatch {
  uint64_t seq = 0;
  uint64_t mono_ns = 0;                 // CLOCK_MONOTONIC when the batch was cut
  std::vector<uint32_t> ids;            // interfaces in this batch
  std::vector<double> counters;         // ids.size() * InterfaceCounters::kStride, cumulative
  std::vector<double> ring;             // ids.size() * 3: packets, drops, freezes (cumulative)
  std::vector<BadFrameRecord> records;  // bad frames since the previous batch
  std::string record_bytes;             // their bytes (BadFrameRecord::bytes_off/len)
  uint64_t records_dropped = 0;         // cumulative: bad frames not sent (queue full)
  std::vector<FrameEvent> events;       // correlation events since the previous batch
  std::string event_names;              // DNS names (FrameEvent::name_off/len)
  uint64_t events_dropped = 0;          // cumulative: events not sent (queue full)
  // The engine's bad-flow table (flow/bad_flows.h): flows kept (at most max_flows) and
  // bad frames of flows not kept because it was full (cumulative).
  uint32_t bad_flows = 0;
  uint64_t bad_flows_evicted = 0;
  std::vector<uint32_t> gone;  // interfaces whose socket reported the device gone
  // Interfaces closed (removed, or gone) whose counters in this batch are their last: the
  // engine has forgotten them (Analyzer::release), JavaScript holds their totals from now
  // on and may fold them into the vanished-interfaces row (src/capture/vanished.ts).
  std::vector<uint32_t> released;
  std::vector<std::string> gone_reason;
  // The thread's last batch, cut after stop(): its counters are the run's totals.
  bool final = false;
};

// A batch that could not be delivered (JavaScript behind) loses its events and records,
// and the next batch carries the counters of interfaces still open; but the last counters
// of the interfaces it released, and its gone notices, are in no later batch. This moves
// them into `into` (the next batch), so a vanished interface's totals are never lost.
void carry_closed(const LiveBatch& from, LiveBatch* into);

using BatchSink = std::function<void(std::unique_ptr<LiveBatch>)>;

class LiveCapture {
 public:
  LiveCapture(const LiveOptions& opts, BatchSink sink);
  ~LiveCapture();
  LiveCapture(const LiveCapture&) = delete;
  LiveCapture& operator=(const LiveCapture&) = delete;

  struct AddRequest {
    uint32_t id = 0;
    int ifindex = 0;
    uint16_t arphrd = 0;
    std::string netns_path;
    int fanout_group = -1;
    bool plain = false;
  };
  struct AddResult {
    bool ok = false;
    int joined = -1;
    std::string err;
    // The ring could not be opened for want of CAP_NET_RAW (EPERM/EACCES); false for
    // every other failure, a namespace that cannot be entered included.
    bool not_permitted = false;
    // The errno of the failure where one was recorded (ENODEV: the device is gone), else 0.
    int sys_errno = 0;
  };
  // Opens the rings of `reqs`, each inside the network namespace at its `netns_path`
  // (empty: the caller's), and hands them to the capture thread; each entry gets its own
  // result (`err` set when it failed). `id` is the caller's interface id (small, unique
  // for the life of the capture). `arphrd` (ARPHRD_*, from the link listing) selects the
  // link type and filter program. `fanout_group`: -1 none, kFanoutNewGroup to start a
  // group (its id goes to `joined`), or a group another LiveCapture started on the same
  // interface. `plain`: an overlay device, whose packets without a tunnel become
  // correlation events. The rings are opened on several threads (each ring waits for an
  // RCU grace period, about 35 ms: af_packet.c packet_set_ring -> synchronize_net; one
  // after another, 400 interfaces took 14 s to attach), then handed to the capture
  // thread together.
  std::vector<AddResult> add_interfaces(const std::vector<AddRequest>& reqs);
  // Closes the ring; the interface's last counters go out in the next batch.
  void remove_interface(uint32_t id);
  bool start(std::string* err);
  void stop();  // joins the thread; the final batch is delivered before it returns

  // The analyzer (counters, bad-flow table). Only while the capture thread is not
  // running: before start() or after stop().
  Analyzer& analyzer() { return analyzer_; }

  // Link type selected for a ring from its ARPHRD type (0xffff: not decoded).
  static uint16_t linktype_for(uint16_t hatype);

 private:
  struct Iface;
  std::unique_ptr<Iface> open_iface(const AddRequest& r, AddResult* out) const;
  void hand_over(std::vector<std::unique_ptr<Iface>>* opened);
  void run();
  void apply_commands();
  void emit_batch(bool final);
  // One frame from f's ring: counted, decoded, -w, staged for kernel-drop matching; the
  // drain handed over early when the next frame might not fit (Analyzer::drain_full).
  void take_frame(const Iface& f, InterfaceCounters& c, const RingFrame& fr, bool matching);
  void select_frame(const Iface& f, const RingFrame& fr);  // -w: after analyzer_.process
  // Kernel drop matching (issue 18): a received frame's key and verdict, after
  // analyzer_.process, staged here and handed to the matcher once per wake-up (one lock
  // per wake-up, not per frame).
  void stage_frame(const Iface& f, const RingFrame& fr);
  void flush_staged();
  static constexpr size_t kStaged = 512;
  std::vector<kdrops::SeenFrame> staged_;

  LiveOptions opts_;
  BatchSink sink_;
  Analyzer analyzer_;
  std::unique_ptr<FrameSelector> selector_;  // -w only
  int epfd_ = -1;
  int wakefd_ = -1;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::unique_ptr<Iface>> pending_add_;  // under mu_
  std::vector<uint32_t> pending_remove_;             // under mu_
  std::vector<std::unique_ptr<Iface>> ifaces_;       // capture thread only
  // Interfaces closed since the last batch, with their final ring statistics: their
  // counters go out once more so JavaScript keeps exact totals.
  std::vector<std::pair<uint32_t, RingStats>> removed_;
  std::vector<uint32_t> gone_ids_;
  std::vector<std::string> gone_reasons_;
  uint64_t seq_ = 0;
  uint64_t records_dropped_ = 0;
  uint64_t frames_seen_ = 0;  // numbers frames across all interfaces, as a file would
};

}  // namespace csumtop
