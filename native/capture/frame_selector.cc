// \summary: FrameSelector: bad frames and their flow context for the `-w` file (see
// frame_selector.h for the memory bound and the ordering rules).
#include "capture/frame_selector.h"

#include <algorithm>
#include <cstring>

namespace csumtop {

FrameSelector::FrameSelector(std::shared_ptr<BadFrameFile> out, uint32_t context)
    : out_(std::move(out)), context_(context) {
  slots_.reset(new Slot[kSlots]);
  std::memset(slots_.get(), 0, sizeof(Slot) * kSlots);
  arena_.reset(new uint8_t[kArenaBytes]);  // not cleared: untouched pages cost nothing
  pending_.reserve(kSlots);
  if (context_ > 0) {
    index_hash_.reset(new uint64_t[kIndexSize]());
    index_seq_.reset(new uint64_t[kIndexSize]());
  }
}

FrameSelector::~FrameSelector() = default;

void FrameSelector::write_slot(Slot& s) {
  OutFrame o;
  o.data = arena_.get() + s.off;
  o.caplen = s.stored;
  o.wirelen = s.wirelen;
  o.ts_ns = s.ts_ns;
  o.src_linktype = s.src_linktype;
  o.hatype = s.hatype;
  o.ifindex = s.ifindex;
  o.pkttype = s.pkttype;
  o.context = s.context;
  out_->write(o);
  s.written = 1;
}

void FrameSelector::flush() {
  const uint64_t from = last_written_ + 1 > oldest_ ? last_written_ + 1 : oldest_;
  pending_.clear();  // capacity kSlots, reserved at construction: no allocation here
  for (uint64_t q = from; q < next_seq_; q++) {
    const Slot& s = slot(q);
    if (s.seq == q && s.selected && !s.written) pending_.push_back(q);
  }
  // Arrival order is per ring: the rings of two interfaces hand their blocks over at
  // different times (a block is retired when full or after retire_ms), so frames are
  // put in timestamp order here, ties in arrival order.
  std::stable_sort(pending_.begin(), pending_.end(),
                   [this](uint64_t a, uint64_t b) { return slot(a).ts_ns < slot(b).ts_ns; });
  uint64_t newest = last_written_;
  for (uint64_t q : pending_) {
    write_slot(slot(q));
    if (q > newest) newest = q;
  }
  last_written_ = newest;
  if (context_ == 0) {
    // Nothing is kept for context: the staging area starts empty again.
    oldest_ = next_seq_;
    tail_ = 0;
  }
}

void FrameSelector::evict_oldest() {
  Slot& s = slot(oldest_);
  // A selected frame must reach the file before its bytes are reused; flush() writes it
  // and every selected frame after it, keeping the order.
  if (s.seq == oldest_ && s.selected && !s.written) {
    flush();
    // With --context 0, flush() empties the history (oldest_ = next_seq_): stepping on
    // would put oldest_ past the frame about to be stored, which the next flush() would
    // then skip (found by fuzz_selector: a bad frame lost, counted nowhere, whenever 8192
    // bad frames or 8 MiB of them arrived within one batch).
    if (oldest_ >= next_seq_) return;
  }
  oldest_++;
}

uint64_t FrameSelector::store(const SelectorFrame& f, uint64_t hash, bool selected, bool context) {
  const uint32_t n = f.caplen < kMaxStored ? f.caplen : kMaxStored;
  if (next_seq_ - oldest_ >= kSlots) evict_oldest();
  // Circular arena, frames in arrival order. Invariant: every stored frame of the
  // previous lap lies at or after tail_, in arrival order, so the frames a new one would
  // overwrite are always the oldest ones.
  if (tail_ + n > kArenaBytes) {
    while (oldest_ < next_seq_ && slot(oldest_).off >= tail_) evict_oldest();
    tail_ = 0;
  }
  while (oldest_ < next_seq_ && slot(oldest_).off >= tail_ && slot(oldest_).off < tail_ + n) {
    evict_oldest();
  }
  const uint64_t seq = next_seq_++;
  Slot& s = slot(seq);
  s.seq = seq;
  s.hash = hash;
  s.prev = 0;
  s.ts_ns = f.ts_ns;
  s.off = tail_;
  s.stored = n;
  s.caplen = f.caplen;
  s.wirelen = f.wirelen;
  s.ifindex = f.ifindex;
  s.src_linktype = f.src_linktype;
  s.hatype = f.hatype;
  s.pkttype = f.pkttype;
  s.selected = selected;
  s.written = 0;
  s.context = context;
  if (n) std::memcpy(arena_.get() + tail_, f.data, n);
  tail_ += n;
  if (context_ > 0) {
    // Chain to the previous frame of this flow; a collision in the index only breaks a
    // chain (fewer context frames), the hash in the slot is checked when walking it.
    const uint64_t i = (hash ^ (hash >> 29)) & (kIndexSize - 1);
    if (index_hash_[i] == hash) s.prev = index_seq_[i];
    index_hash_[i] = hash;
    index_seq_[i] = seq;
  }
  return seq;
}

void FrameSelector::frame(const SelectorFrame& f, bool bad, uint64_t hash) {
  if (!out_) return;
  bool want = bad, ctx = false;
  if (context_ > 0 && !bad) {
    for (uint32_t k = 0; k < n_open_; k++) {
      if (open_[k].hash != hash) continue;
      want = true;
      ctx = true;
      if (--open_[k].remaining == 0) open_[k] = open_[--n_open_];
      break;
    }
  }
  if (!want && context_ == 0) return;
  const uint64_t seq = store(f, hash, want, ctx);
  if (!bad || context_ == 0) return;

  // "Before": the N previous frames of this flow still in the history. Frames already
  // selected (earlier bad frames, earlier context) count and are not written twice.
  uint32_t taken = 0;
  for (uint64_t q = slot(seq).prev; q != 0 && q >= oldest_ && taken < context_;) {
    Slot& p = slot(q);
    if (p.seq != q || p.hash != hash) break;
    if (!p.selected) {
      if (q <= last_written_) {
        skipped_++;  // older than what is already in the file (see the header)
        out_->add_context_skipped(1);
      } else {
        p.selected = 1;
        p.context = 1;
      }
    }
    taken++;
    q = p.prev;
  }
  // "After": the next N frames of this flow (a later bad frame starts its own N).
  for (uint32_t k = 0; k < n_open_; k++) {
    if (open_[k].hash == hash) {
      open_[k].remaining = context_;
      return;
    }
  }
  if (n_open_ < kMaxOpen) {
    open_[n_open_++] = Open{hash, context_};
  } else {
    // Table full: replace the flow closest to done.
    uint32_t m = 0;
    for (uint32_t k = 1; k < kMaxOpen; k++)
      if (open_[k].remaining < open_[m].remaining) m = k;
    open_[m] = Open{hash, context_};
  }
}

}  // namespace csumtop
