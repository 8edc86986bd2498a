// \summary: Live capture engine (see live_capture.h).
#include "capture/live_capture.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_arp.h>
#include <linux/if_packet.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstring>

#include "capture/striped.h"
#include "kdrops/frame_match.h"

namespace csumtop {

struct LiveCapture::Iface {
  uint32_t id = 0;
  uint16_t linktype = 0;
  int ifindex = 0;
  bool plain = false;
  PacketRing ring;
  RingStats stats;
  // The nsfs inode of the namespace the ring is in: the number the kernel drop records
  // carry (kdrops/frame_match.h matches them to this interface's frames).
  uint32_t netns = 0;
  const void* owner = nullptr;  // the engine, once it told the matcher it captures here
  uint64_t ring_drops = 0;      // ring drops already told to the matcher
  ~Iface() {
    if (owner != nullptr)
      kdrops::FrameMatcher::instance().detach(owner, netns, static_cast<uint32_t>(ifindex));
  }
};

namespace {
uint64_t mono_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// The clock of the ring's frame timestamps (tp_sec/tp_nsec).
uint64_t realtime_ns() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// fs/nsfs.c: the inode of a namespace file is the namespace's ns.inum.
uint32_t netns_inode(const std::string& netns_path) {
  struct stat st;
  if (::stat(netns_path.empty() ? "/proc/self/ns/net" : netns_path.c_str(), &st) != 0) return 0;
  return static_cast<uint32_t>(st.st_ino);
}

// Opens the ring inside another network namespace: setns() on a short-lived thread, so
// the JavaScript thread never changes namespace; the socket stays bound to the
// namespace it was created in (net/packet/af_packet.c, packet_create uses current netns).
// *sys_errno: the errno of a failure, where there was one.
bool open_in_netns(PacketRing* ring, int ifindex, const RingOptions& opts,
                   const std::string& netns_path, std::string* err, int* sys_errno) {
  if (netns_path.empty()) {
    const bool ok = ring->open(ifindex, opts, err);
    *sys_errno = ring->last_errno();
    return ok;
  }
  bool ok = false;
  std::thread t([&] {
    const int nsfd = ::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (nsfd < 0) {
      *sys_errno = errno;
      *err = "cannot open network namespace " + netns_path + ": " + std::strerror(errno);
      return;
    }
    if (setns(nsfd, CLONE_NEWNET) != 0) {
      *sys_errno = errno;
      *err = "cannot enter network namespace " + netns_path + ": " + std::strerror(errno);
      ::close(nsfd);
      return;
    }
    ::close(nsfd);
    ok = ring->open(ifindex, opts, err);
    *sys_errno = ring->last_errno();
  });
  t.join();
  return ok;
}
}  // namespace

uint16_t LiveCapture::linktype_for(uint16_t hatype) {
  switch (hatype) {
    case ARPHRD_ETHER:
    case ARPHRD_LOOPBACK:  // loopback frames carry a zeroed Ethernet header
      return kLinkEthernet;
    case ARPHRD_NONE:    // tun, wireguard: the frame starts with the IP header
    case ARPHRD_TUNNEL:  // ipip (tunl0): the decapsulated IPv4 packet
    case ARPHRD_TUNNEL6:
    case ARPHRD_SIT:
    case ARPHRD_RAWIP:
      return kLinkRaw;
    default:
      return 0xffff;
  }
}

LiveCapture::LiveCapture(const LiveOptions& opts, BatchSink sink)
    : opts_(opts), sink_(std::move(sink)), analyzer_([&] {
        AnalyzerOptions a = opts.analyzer;
        a.max_records = opts.max_records_per_batch;
        return a;
      }()) {
  if (opts_.writer) selector_ = std::make_unique<FrameSelector>(opts_.writer, opts_.context);
}

void LiveCapture::select_frame(const Iface& f, const RingFrame& fr) {
  const Frame& d = analyzer_.frame();
  uint64_t hash = 0;
  if (selector_->context() > 0) {
    FlowKey key;
    flow_key_of(d, f.id, &key);
    hash = flow_hash(key);
  }
  const SelectorFrame sf{fr.data,    fr.caplen,       fr.wirelen, fr.ts_ns,
                         f.linktype, f.ring.hatype(), f.ifindex,  fr.pkttype};
  selector_->frame(sf, d.has_bad(), hash);
}

LiveCapture::~LiveCapture() {
  stop();
  if (epfd_ >= 0) ::close(epfd_);
  if (wakefd_ >= 0) ::close(wakefd_);
}

bool LiveCapture::start(std::string* err) {
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  wakefd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epfd_ < 0 || wakefd_ < 0) {
    *err = std::string("epoll/eventfd: ") + std::strerror(errno);
    return false;
  }
  epoll_event ev;
  std::memset(&ev, 0, sizeof ev);
  ev.events = EPOLLIN;
  ev.data.u64 = UINT64_MAX;  // the wake-up descriptor
  epoll_ctl(epfd_, EPOLL_CTL_ADD, wakefd_, &ev);
  thread_ = std::thread([this] { run(); });
  return true;
}

void LiveCapture::stop() {
  if (!thread_.joinable()) return;
  stop_.store(true);
  const uint64_t one = 1;
  if (write(wakefd_, &one, sizeof one) < 0) {
    // The eventfd counter cannot overflow here; the thread also polls with a timeout.
  }
  thread_.join();
}

std::unique_ptr<LiveCapture::Iface> LiveCapture::open_iface(const AddRequest& r,
                                                            AddResult* out) const {
  auto iface = std::make_unique<Iface>();
  iface->id = r.id;
  iface->plain = r.plain;
  RingOptions ro = opts_.ring;
  ro.fanout_group = r.fanout_group;
  const uint16_t lt = linktype_for(r.arphrd);
  if (opts_.filtered) {
    // A link type we do not decode gets no filter: its frames are counted as such.
    ro.filter = lt == kLinkEthernet ? &opts_.filter_ether
                : lt == kLinkRaw    ? &opts_.filter_raw
                                    : nullptr;
  }
  if (!open_in_netns(&iface->ring, r.ifindex, ro, r.netns_path, &out->err, &out->sys_errno)) {
    out->not_permitted = iface->ring.not_permitted();
    return nullptr;
  }
  out->ok = true;
  out->joined = iface->ring.fanout_group();
  iface->linktype = linktype_for(iface->ring.hatype());
  iface->ifindex = r.ifindex;
  iface->netns = netns_inode(r.netns_path);
  return iface;
}

void LiveCapture::hand_over(std::vector<std::unique_ptr<Iface>>* opened) {
  if (opened->empty()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& i : *opened) pending_add_.push_back(std::move(i));
  }
  const uint64_t one = 1;
  if (wakefd_ >= 0 && write(wakefd_, &one, sizeof one) < 0) {
    // See stop().
  }
}

std::vector<LiveCapture::AddResult> LiveCapture::add_interfaces(
    const std::vector<AddRequest>& reqs) {
  std::vector<AddResult> results(reqs.size());
  std::vector<std::unique_ptr<Iface>> opened(reqs.size());
  // 4 per thread: each open waits ~35 ms, a thread costs far less.
  run_striped(reqs.size(), 4, 64, [&](size_t k) { opened[k] = open_iface(reqs[k], &results[k]); });
  std::vector<std::unique_ptr<Iface>> ok;
  for (auto& i : opened)
    if (i) ok.push_back(std::move(i));
  hand_over(&ok);
  return results;
}

void LiveCapture::remove_interface(uint32_t id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_remove_.push_back(id);
  }
  const uint64_t one = 1;
  if (wakefd_ >= 0 && write(wakefd_, &one, sizeof one) < 0) {
    // See stop().
  }
}

void LiveCapture::apply_commands() {
  std::vector<std::unique_ptr<Iface>> add;
  std::vector<uint32_t> remove;
  {
    std::lock_guard<std::mutex> lock(mu_);
    add.swap(pending_add_);
    remove.swap(pending_remove_);
  }
  for (auto& a : add) {
    epoll_event ev;
    std::memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN | EPOLLERR;
    ev.data.u64 = a->id;
    epoll_ctl(epfd_, EPOLL_CTL_ADD, a->ring.fd(), &ev);
    analyzer_.counters(a->id);  // make the slot exist: an idle interface reports zeros
    analyzer_.events().set_plain(a->id, a->plain);
    a->owner = this;
    kdrops::FrameMatcher::instance().attach(this, a->netns, static_cast<uint32_t>(a->ifindex));
    ifaces_.push_back(std::move(a));
  }
  for (uint32_t id : remove) {
    for (size_t i = 0; i < ifaces_.size(); i++) {
      if (ifaces_[i]->id != id) continue;
      std::string e;
      ifaces_[i]->ring.drain([&](const RingFrame&) {});  // what is left is not counted twice
      ifaces_[i]->ring.stats(&ifaces_[i]->stats, &e);
      epoll_ctl(epfd_, EPOLL_CTL_DEL, ifaces_[i]->ring.fd(), nullptr);
      removed_.emplace_back(id, ifaces_[i]->stats);
      ifaces_.erase(ifaces_.begin() + static_cast<long>(i));
      break;
    }
  }
}

void LiveCapture::run() {
  uint64_t next_batch = mono_ns() + opts_.batch_ms * 1000000ull;
  epoll_event events[64];
  for (;;) {
    apply_commands();
    const uint64_t now = mono_ns();
    int timeout_ms = now >= next_batch ? 0 : static_cast<int>((next_batch - now) / 1000000ull) + 1;
    const int n = epoll_wait(epfd_, events, 64, timeout_ms);
    // Kernel drop matching (kdrops/frame_match.h): read once per wake-up.
    const bool matching = kdrops::FrameMatcher::instance().active();
    const uint64_t woke_rt = matching ? realtime_ns() : 0;
    for (int k = 0; k < n; k++) {
      const uint64_t tag = events[k].data.u64;
      if (tag == UINT64_MAX) {
        uint64_t v;
        while (read(wakefd_, &v, sizeof v) > 0) {
        }
        continue;
      }
      for (size_t i = 0; i < ifaces_.size(); i++) {
        Iface& f = *ifaces_[i];
        if (f.id != tag) continue;
        if ((events[k].events & EPOLLERR) && f.ring.device_gone()) {
          // The device went away (packet_notifier, NETDEV_UNREGISTER: sk_err = ENETDOWN
          // and the socket's ifindex -1). Report it and stop polling; the totals stay
          // with JavaScript.
          const int so_err = f.ring.last_error();
          std::string e;
          f.ring.stats(&f.stats, &e);
          gone_ids_.push_back(f.id);
          gone_reasons_.push_back(so_err ? std::strerror(so_err) : "socket error");
          epoll_ctl(epfd_, EPOLL_CTL_DEL, f.ring.fd(), nullptr);
          removed_.emplace_back(f.id, f.stats);
          ifaces_.erase(ifaces_.begin() + static_cast<long>(i));
          break;
        }
        // Otherwise an EPOLLERR is the device going down, or the ring bound while it was
        // down: packet_notifier (NETDEV_DOWN) and packet_do_bind set sk_err = ENETDOWN,
        // which device_gone() took (SO_ERROR clears it: EPOLLERR does not fire again). The
        // socket stays bound and packet_notifier registers it again on NETDEV_UP.
        if ((events[k].events & EPOLLERR) && !(events[k].events & EPOLLIN)) break;
        InterfaceCounters& c = analyzer_.counters(f.id);
        f.ring.drain([&](const RingFrame& fr) { take_frame(f, c, fr, matching); });
        break;
      }
    }
    if (matching) {
      flush_staged();
      // Every ring that had a retired block was reported ready and drained above: the
      // frames stamped before the last retire period are all handed over (a partly
      // filled block is retired retire_ms after it opened; twice that, for a late timer).
      // More than 64 ready rings: some were not reported this time. n < 0 (EINTR: a
      // signal, or SIGCONT after a stop, man 7 signal) reported none: nothing was drained.
      if (n >= 0 && n < 64) {
        const uint64_t before = woke_rt - 2ull * opts_.ring.retire_ms * 1000000ull - 10'000'000ull;
        for (auto& f : ifaces_)
          kdrops::FrameMatcher::instance().caught_up(this, f->netns,
                                                     static_cast<uint32_t>(f->ifindex), before);
      }
    }
    const bool stopping = stop_.load();
    if (stopping || mono_ns() >= next_batch) {
      if (stopping) {
        // A removal asked after this turn's apply_commands (the wake-up that carried it
        // may be the one that sees stop_) is applied now, so the final batch releases it.
        apply_commands();
        for (auto& f : ifaces_) {  // last frames the kernel already handed over
          InterfaceCounters& c = analyzer_.counters(f->id);
          f->ring.drain([&](const RingFrame& fr) { take_frame(*f, c, fr, matching); });
        }
      }
      if (matching) flush_staged();
      emit_batch(stopping);
      next_batch = mono_ns() + opts_.batch_ms * 1000000ull;
    }
    if (stopping) break;
  }
  std::vector<PacketRing*> rings;
  rings.reserve(ifaces_.size());
  for (auto& f : ifaces_) rings.push_back(&f->ring);
  close_rings(rings);
  ifaces_.clear();
}

void carry_closed(const LiveBatch& from, LiveBatch* into) {
  const uint32_t stride = InterfaceCounters::kStride;
  for (uint32_t id : from.released) {
    size_t k = 0;
    while (k < from.ids.size() && from.ids[k] != id) k++;
    if (k == from.ids.size()) continue;
    into->ids.push_back(id);
    into->counters.insert(into->counters.end(), from.counters.begin() + k * stride,
                          from.counters.begin() + (k + 1) * stride);
    into->ring.insert(into->ring.end(), from.ring.begin() + k * 3, from.ring.begin() + (k + 1) * 3);
    into->released.push_back(id);
  }
  into->gone.insert(into->gone.end(), from.gone.begin(), from.gone.end());
  into->gone_reason.insert(into->gone_reason.end(), from.gone_reason.begin(),
                           from.gone_reason.end());
}

void LiveCapture::stage_frame(const Iface& f, const RingFrame& fr) {
  if (staged_.size() >= kStaged) flush_staged();
  kdrops::SeenFrame& s = staged_.emplace_back();
  if (!kdrops::seen_frame(analyzer_.frame(), fr.data, fr.caplen, f.linktype, f.netns,
                          static_cast<uint32_t>(f.ifindex), fr.ts_ns, frames_seen_, &s))
    staged_.pop_back();
}

void LiveCapture::take_frame(const Iface& f, InterfaceCounters& c, const RingFrame& fr,
                             bool matching) {
  if (opts_.budget && !opts_.budget->take()) return;  // -c reached: not counted
  if (fr.pkttype == PACKET_OUTGOING) c.v[InterfaceCounters::kOutgoing]++;
  analyzer_.set_direction(fr.pkttype);
  analyzer_.process(f.id, fr.data, fr.caplen, fr.wirelen, fr.ts_ns, f.linktype, ++frames_seen_,
                    &fr.hint);
  if (selector_) select_frame(f, fr);
  if (matching && fr.pkttype != PACKET_OUTGOING) stage_frame(f, fr);
  // A drain holds at most maxRecords records and maxEvents events (the batch JavaScript
  // takes at once); past that they were dropped, and at a high rate of new flows most
  // were (bench/RESULTS-live.md). Handing the drain over as soon as it is full makes
  // batches come more often instead: nothing is dropped until JavaScript cannot take
  // the batches (the queue of LiveCaptureWrap), which is counted as before. The ring
  // iteration is not disturbed: emit_batch reads ring statistics, not ring frames.
  if (analyzer_.drain_full()) emit_batch(false);
}

void LiveCapture::flush_staged() {
  if (staged_.empty()) return;
  kdrops::FrameMatcher::instance().add_frames(staged_.data(), staged_.size());
  staged_.clear();
}

void LiveCapture::emit_batch(bool final) {
  if (selector_) selector_->flush();  // the file first: then JavaScript hears of them
  auto b = std::make_unique<LiveBatch>();
  b->final = final;
  b->seq = ++seq_;
  b->mono_ns = mono_ns();
  const uint32_t stride = InterfaceCounters::kStride;
  auto push = [&](uint32_t id, const RingStats& st) {
    b->ids.push_back(id);
    const InterfaceCounters& c = analyzer_.counters(id);
    for (uint32_t j = 0; j < stride; j++) b->counters.push_back(static_cast<double>(c.v[j]));
    b->ring.push_back(static_cast<double>(st.packets));
    b->ring.push_back(static_cast<double>(st.drops));
    b->ring.push_back(static_cast<double>(st.freezes));
  };
  for (auto& f : ifaces_) {
    std::string e;
    f->ring.stats(&f->stats, &e);
    push(f->id, f->stats);
    if (f->stats.drops > f->ring_drops) {
      // A kernel drop on this device not matched to a frame may be one of these.
      kdrops::FrameMatcher::instance().ring_drop(f->netns, static_cast<uint32_t>(f->ifindex),
                                                 realtime_ns());
      f->ring_drops = f->stats.drops;
    }
  }
  for (const auto& r : removed_) {
    push(r.first, r.second);
    analyzer_.release(r.first);
    b->released.push_back(r.first);
  }
  removed_.clear();
  b->records = analyzer_.records();
  b->record_bytes = analyzer_.record_bytes();
  analyzer_.clear_records();
  b->records_dropped = analyzer_.records_dropped();
  EventBuffer& ev = analyzer_.events();
  b->events = ev.events();
  b->event_names = ev.names();
  b->events_dropped = ev.dropped();
  ev.clear();
  b->bad_flows = analyzer_.flows().size();
  b->bad_flows_evicted = analyzer_.flows().evicted();
  b->gone.swap(gone_ids_);
  b->gone_reason.swap(gone_reasons_);
  sink_(std::move(b));
}

}  // namespace csumtop
