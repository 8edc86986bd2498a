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
//  - free slots on a stack, slot 0 first while the table fills.
//
// Index: open addressing with linear probing and deletion by backward shift (Knuth,
// TAOCP vol. 3, 6.4, algorithms L and R: no tombstones, a lookup scans at most its probe
// run), at least two buckets per slot (load <= 1/2), each holding slot + 1 (0: empty).
// Everything is allocated and written once, in the constructor.
//
// Bytes per entry: key 8, insertion links 2 x 4, free stack 4, buckets 2-4 x 4, so at
// most kTxnTableBytesPerEntry = 36 (test/unit/native-txns.test.ts checks it).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace csumtop {

class TxnTable {
 public:
  static constexpr size_t kBytesPerEntry = 8 + 2 * 4 + 4 + 4 * 4;

  explicit TxnTable(uint32_t cap) : cap_(cap), keys_(cap), prev_(cap), next_(cap), free_(cap) {
    for (uint32_t s = 0; s < cap; s++) free_[s] = static_cast<int32_t>(cap - 1 - s);
    free_top_ = cap;
    size_t n = 2;
    while (n < 2 * static_cast<size_t>(cap)) n *= 2;
    buckets_.assign(n, 0);
    mask_ = static_cast<uint32_t>(n - 1);
  }

  uint32_t cap() const { return cap_; }
  uint32_t size() const { return size_; }
  // What the table allocated: <= kBytesPerEntry x cap.
  size_t bytes() const {
    return keys_.size() * sizeof(double) + (prev_.size() + next_.size() + free_.size()) * 4 +
           buckets_.size() * 4;
  }

  // The slot of `key`, -1 when absent.
  int32_t get(double key) const {
    for (uint32_t i = hash(key);; i = (i + 1) & mask_) {
      const int32_t s = buckets_[i] - 1;
      if (s < 0) return -1;
      if (keys_[s] == key) return s;
    }
  }

  double key_of(int32_t slot) const { return keys_[slot]; }

  // A slot for `key` (absent) as the newest entry; -1 when the table is full.
  int32_t add(double key) {
    if (free_top_ == 0) return -1;
    const int32_t s = free_[--free_top_];
    keys_[s] = key;
    uint32_t i = hash(key);
    while (buckets_[i] != 0) i = (i + 1) & mask_;
    buckets_[i] = s + 1;
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

  // Frees `slot` (in use); its values in the tracker's arrays are the tracker's to reset.
  void remove(int32_t slot) {
    const double key = keys_[slot];
    uint32_t i = hash(key);
    while (buckets_[i] != slot + 1) i = (i + 1) & mask_;
    // Backward shift: move later members of the probe run into the hole when their home
    // bucket is not cyclically within (hole, j].
    for (uint32_t j = (i + 1) & mask_; buckets_[j] != 0; j = (j + 1) & mask_) {
      const uint32_t home = hash(keys_[buckets_[j] - 1]);
      if (((j - home) & mask_) >= ((j - i) & mask_)) {
        buckets_[i] = buckets_[j];
        i = j;
      }
    }
    buckets_[i] = 0;
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

 private:
  // Multiplicative hashing of both 32-bit halves of the 53-bit key.
  uint32_t hash(double key) const {
    const uint64_t k = static_cast<uint64_t>(key);
    const uint32_t lo = static_cast<uint32_t>(k), hi = static_cast<uint32_t>(k >> 32);
    uint32_t h = (lo ^ (hi * 0x9e3779b1u)) * 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h & mask_;
  }

  uint32_t cap_;
  std::vector<double> keys_;
  std::vector<int32_t> prev_, next_, free_;
  std::vector<int32_t> buckets_;
  uint32_t mask_ = 0;
  uint32_t free_top_ = 0;
  uint32_t size_ = 0;
  int32_t oldest_ = -1, newest_ = -1;
};

}  // namespace csumtop
