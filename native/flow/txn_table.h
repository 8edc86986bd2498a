// \summary: A fixed-size table of open transactions (DNS queries, TCP SYNs) keyed by the
// 53-bit transaction key of their events (events.h `txn`), handing out slot numbers
// 0..cap-1 for the trackers' own per-slot arrays (syn_txns.h, dns_txns.h).
//
// The policy is the one the JavaScript trackers had (issue 14), so reports stay byte for
// byte the same:
//  - a full table refuses a new key; the tracker counts it as not tracked (a bounded Map's
//    behaviour: the oldest transactions are the ones an incident report is about, so they
//    are not pushed out by a flood of new ones);
//  - entries are deleted explicitly (decided, forgotten) and iterated in insertion order,
//    so timeouts are decided in the order the transactions began (what a Map gave);
//  - freed slots on a stack, taken again first; then the slots never used, 0 first.
//
// Index (flow/probe_index.h): open addressing with linear probing and deletion by backward shift
// (Knuth, TAOCP vol. 3, 6.4, algorithms L and R: no tombstones, a lookup scans at most its probe
// run), at least two buckets per slot (load <= 1/2), each holding slot + 1 (0: empty) and
// the key's full 32-bit hash, so probing and the backward shift never read a slot's key
// (each such read was a cache miss: the carrier-flow table measured the same,
// carrier_flows.h). The slot numbers do not depend on the hash, so neither does anything a
// report shows.
//
// Speed: the trackers fold a batch with fold_txn_batch() below, which prefetches the
// buckets of the events kTxnAhead further and then the key and entry of a bucket whose
// hash matches, and the slot the next new transaction takes, instead of missing on each
// in turn (docs/line-rate.md, bench/tables).
//
// Everything is allocated once, in the constructor, and written as it is used (for a
// capture file the pages come as entries are written: flow/table_memory.h). Bytes per entry: key
// and insertion links 8 + 2 x 4, free stack 4, buckets 2-4 x 8, so at most kBytesPerEntry = 52
// (test/unit/native-txns.test.ts checks it).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "flow/events.h"
#include "flow/probe_index.h"
#include "flow/table_memory.h"

namespace csumtop {

class TxnTable {
 public:
  static constexpr size_t kBytesPerEntry = 16 + 4 + 4 * 8;

  // Every array zero, resident from the start or as entries are written (Residency,
  // flow/table_memory.h). The free stack holds only slots freed so far: the slots never
  // used are counted (fresh_), not listed, so nothing is written here. Listing all of
  // them made a capture file's two tables write 256 KiB each before its first frame at
  // the default --max-flows.
  explicit TxnTable(uint32_t cap, Residency r = Residency::kAtOnce)
      : cap_(cap), keys_(cap, r), prev_(cap, r), next_(cap, r), free_(cap, r), index_(cap, r) {}

  uint32_t cap() const { return cap_; }
  uint32_t size() const { return size_; }
  // What the table allocated: <= kBytesPerEntry x cap.
  size_t bytes() const {
    return keys_.size() * sizeof(double) + (prev_.size() + next_.size() + free_.size()) * 4 +
           index_.bytes();
  }

  // Multiplicative hashing of both 32-bit halves of the 53-bit key; the low bits pick the
  // home bucket. Anything else (negative, NaN: never made by events.cc) hashes as 0 rather
  // than meet an undefined conversion.
  static uint32_t hash(double key) {
    const uint64_t k = key >= 0 && key < 18446744073709551616.0 ? static_cast<uint64_t>(key) : 0;
    const uint32_t lo = static_cast<uint32_t>(k), hi = static_cast<uint32_t>(k >> 32);
    uint32_t h = (lo ^ (hi * 0x9e3779b1u)) * 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
  }

  // The slot of `key` (whose hash is h), -1 when absent. The slot's key is read only when
  // the hashes agree.
  int32_t get(double key, uint32_t h) const {
    return index_.find(h, [&](int32_t s) { return keys_[s] == key; });
  }
  int32_t get(double key) const { return get(key, hash(key)); }

  double key_of(int32_t slot) const { return keys_[slot]; }

  // A slot for `key` (absent, hash h) as the newest entry; -1 when the table is full.
  int32_t add(double key, uint32_t h) {
    int32_t s;
    if (free_top_ > 0)
      s = free_[--free_top_];
    else if (fresh_ < cap_)
      s = static_cast<int32_t>(fresh_++);
    else
      return -1;
    index_.insert(s, h);
    keys_[s] = key;
    prev_[s] = newest_;
    next_[s] = -1;
    if (newest_ >= 0)
      next_[newest_] = s;
    else
      oldest_ = s;
    newest_ = s;
    size_++;
    return s;
  }
  int32_t add(double key) { return add(key, hash(key)); }

  // Frees `slot` (in use); its values in the tracker's arrays are the tracker's to reset.
  void remove(int32_t slot) {
    index_.remove(slot, hash(keys_[slot]));
    const int32_t p = prev_[slot], n = next_[slot];
    if (p >= 0)
      next_[p] = n;
    else
      oldest_ = n;
    if (n >= 0)
      prev_[n] = p;
    else
      newest_ = p;
    free_[free_top_++] = slot;
    size_--;
  }

  // The oldest slot in use, -1 when empty; then next_of() towards the newest (read it
  // before removing the slot).
  int32_t first() const { return oldest_; }
  int32_t next_of(int32_t slot) const { return next_[slot]; }

  // Prefetching (no effect on what the table holds):
  // the home bucket of a key hashing to h;
  void prefetch_bucket(uint32_t h) const { __builtin_prefetch(index_.home(h)); }
  // the slot of the first bucket of h's probe run with that hash (probably the key's,
  // read from buckets prefetched before), -1 when none: its key is prefetched too;
  int32_t prefetch_candidate(uint32_t h) const {
    const int32_t s = index_.first_with_hash(h);
    if (s >= 0) __builtin_prefetch(&keys_[s]);
    return s;
  }
  // the slot the k-th next add() takes (k = 0: the next), -1 when there are not that
  // many free: its key and links are prefetched for writing;
  int32_t prefetch_free(uint32_t k) const {
    int32_t s;
    if (k < free_top_)
      s = free_[free_top_ - 1 - k];
    else if (k - free_top_ < cap_ - fresh_)
      s = static_cast<int32_t>(fresh_ + (k - free_top_));
    else
      return -1;
    __builtin_prefetch(&keys_[s], 1);
    __builtin_prefetch(&prev_[s], 1);
    __builtin_prefetch(&next_[s], 1);
    return s;
  }
  // the link of the slot after `slot` in insertion order, for a walk; its number, -1 at
  // the end.
  int32_t prefetch_next(int32_t slot) const {
    const int32_t n = next_[slot];
    if (n >= 0) __builtin_prefetch(&next_[n]);
    return n;
  }

 private:
  uint32_t cap_;
  // Apart, so that a walk in insertion order reads 16 links a cache line (slots taken
  // from the free stack in turn are often neighbours).
  TableArray<double> keys_;
  TableArray<int32_t> prev_, next_;  // insertion order; -1 at its ends
  TableArray<int32_t> free_;
  ProbeIndex index_;  // flow/probe_index.h
  uint32_t free_top_ = 0;
  uint32_t fresh_ = 0;  // slots [fresh_, cap_) never used yet (add takes them in order)
  uint32_t size_ = 0;
  int32_t oldest_ = -1, newest_ = -1;
};

// How many events ahead a batch's buckets are prefetched (enough to cover a miss with the
// work of the events between, few enough that the lines are still cached when used), and
// how many ahead the key and entry of a bucket found then.
constexpr size_t kTxnAhead = 8;
constexpr size_t kTxnNear = 4;

// Calls fold(event, hash) for the events of a packed batch (n FrameEvents, byte layout of
// events.h, any alignment) whose flags meet `kinds`, in order, with the table's lines and
// the tracker's entry (`entries`, one per slot, of `entry_bytes`) fetched ahead: the
// buckets kTxnAhead events further, the key and entry of the bucket that hash points to
// kTxnNear further, and the slots the next new transactions take.
template <typename Entry, typename Fold>
void fold_txn_batch(const TxnTable& table, const Entry* entries, const uint8_t* events, size_t n,
                    uint16_t kinds, Fold fold) {
  constexpr size_t kRing = 16;  // > kTxnAhead, a power of two
  static_assert(kRing > kTxnAhead && kTxnAhead > kTxnNear, "prefetch distances");
  uint32_t hashes[kRing];
  bool wanted[kRing];
  auto prefetch_entry = [entries](int32_t s, int rw) {
    const char* p = reinterpret_cast<const char*>(&entries[s]);
    for (size_t at = 0; at < sizeof(Entry); at += 64) {
      if (rw)
        __builtin_prefetch(p + at, 1);
      else
        __builtin_prefetch(p + at, 0);
    }
  };
  // Stage 1: the event's kind, its key's hash, its home bucket.
  auto stage1 = [&](size_t j) {
    const uint8_t* p = events + j * sizeof(FrameEvent);
    uint16_t flags;
    std::memcpy(&flags, p + offsetof(FrameEvent, flags), sizeof flags);
    wanted[j % kRing] = (flags & kinds) != 0;
    if (!wanted[j % kRing]) return;
    double key;
    std::memcpy(&key, p + offsetof(FrameEvent, txn), sizeof key);
    hashes[j % kRing] = TxnTable::hash(key);
    table.prefetch_bucket(hashes[j % kRing]);
  };
  // Stage 2: the slot its bucket points to, and that slot's entry.
  auto stage2 = [&](size_t j) {
    if (!wanted[j % kRing]) return;
    const int32_t s = table.prefetch_candidate(hashes[j % kRing]);
    if (s >= 0) prefetch_entry(s, 0);
  };
  for (size_t j = 0; j < n && j < kTxnAhead; j++) stage1(j);
  for (size_t j = 0; j < n && j < kTxnNear; j++) stage2(j);
  // The next new transactions write their slot's entry whole.
  for (uint32_t k = 0; k < kTxnNear; k++) {
    const int32_t s = table.prefetch_free(k);
    if (s >= 0) prefetch_entry(s, 1);
  }
  uint32_t size = table.size();
  for (size_t i = 0; i < n; i++) {
    if (i + kTxnAhead < n) stage1(i + kTxnAhead);
    if (i + kTxnNear < n) stage2(i + kTxnNear);
    if (!wanted[i % kRing]) continue;
    FrameEvent e;
    std::memcpy(&e, events + i * sizeof(FrameEvent), sizeof e);
    fold(e, hashes[i % kRing]);
    if (table.size() > size) {  // a new transaction took a free slot: fetch a later one
      const int32_t s = table.prefetch_free(kTxnNear - 1);
      if (s >= 0) prefetch_entry(s, 1);
    }
    size = table.size();
  }
}

}  // namespace csumtop
