// \summary: The memory of a fixed-size table: an array of trivial entries, zero, made
// resident once when the table is made, or provided as it is used (Residency).
//
// The correlation tables are tens of MB at the default --max-flows, written once so that
// the bound is resident from the start (a table filling page by page under new flows read
// as memory growing for minutes: the hostile lab's flat-memory test). Written through
// std::vector that cost a memset plus a page fault per 4 KiB, 8% of `csumtop -r`'s
// JavaScript thread on the 1M-frame high-cardinality file (issue 14), and every new flow
// then lands at a random place in it, a TLB miss per lookup. Here the memory comes from
// mmap (already zero), is asked for as transparent huge pages (MADV_HUGEPAGE: most
// distributions give them only on request, /sys/kernel/mm/transparent_hugepage/enabled
// "madvise"), and is made resident by touching each page once: one fault per 2 MiB where
// huge pages are given, and no memset either way.
//
// A table of a capture file need not be resident before it is used (a file has an end,
// and most files have few flows): its pages come as entries are first written. For the
// correlation tables still as huge pages where given (kAsUsed), 2 MiB at a time: with 4 KiB
// pages the 1M-frame high-cardinality file, whose tables fill, took 8% longer (1.52 against
// 1.41 s, medians of 6 alternated runs, 2026-12-07) for the faults and the TLB misses, and
// a 400-frame file touches only a few 2 MiB pieces of them (67 MB resident in all against
// 99 MB with the tables made resident at once, 59 MB with 4 KiB pages). The file's bad-flow
// table follows the flows it keeps closely, 4 KiB at a time (kPageByPage; bad_flows.h).
#pragma once
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <vector>

namespace csumtop {

enum class Residency : uint8_t {
  kAtOnce,      // resident when made, on huge pages where given (live capture)
  kAsUsed,      // as first written, on huge pages where given (a file's correlation tables)
  kPageByPage,  // as first written, 4 KiB at a time (a file's bad-flow table)
};

template <typename T>
class TableArray {
  static_assert(std::is_trivially_copyable<T>::value &&
                    std::is_trivially_default_constructible<T>::value,
                "a TableArray entry starts as zero bytes");

 public:
  TableArray() = default;
  explicit TableArray(size_t n, Residency r = Residency::kAtOnce) { assign(n, r); }
  ~TableArray() { release(); }
  TableArray(const TableArray&) = delete;
  TableArray& operator=(const TableArray&) = delete;

  // n entries of zero bytes (what was there before is gone), resident as `r` says.
  void assign(size_t n, Residency r = Residency::kAtOnce) {
    release();
    if (n == 0) return;
    const size_t want = n * sizeof(T);
    // Huge pages need 2 MiB alignment: map that much more and start at the first boundary.
    const size_t align = r != Residency::kPageByPage && want >= kHuge ? kHuge : 0;
    map_len_ = want + align;
    void* m = ::mmap(nullptr, map_len_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
      map_len_ = 0;
      throw std::bad_alloc();
    }
    map_ = m;
    uintptr_t p = reinterpret_cast<uintptr_t>(m);
    if (align) {
      p = (p + kHuge - 1) & ~(uintptr_t{kHuge} - 1);
#ifdef MADV_HUGEPAGE
      ::madvise(reinterpret_cast<void*>(p), want, MADV_HUGEPAGE);  // a hint: no huge pages is fine
#endif
    }
    data_ = reinterpret_cast<T*>(p);
    n_ = n;
    if (r != Residency::kAtOnce) return;
    volatile uint8_t* bytes = reinterpret_cast<volatile uint8_t*>(data_);
    for (size_t off = 0; off < want; off += kPage) bytes[off] = 0;
  }

  // The entries' bytes (n x sizeof(T)), and how many of them are resident now (mincore).
  size_t bytes() const { return n_ * sizeof(T); }
  size_t resident_bytes() const {
    if (!data_) return 0;
    const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    const uintptr_t start = reinterpret_cast<uintptr_t>(data_) & ~(uintptr_t{page} - 1);
    const size_t len = reinterpret_cast<uintptr_t>(data_) + bytes() - start;
    std::vector<unsigned char> in((len + page - 1) / page);
    if (::mincore(reinterpret_cast<void*>(start), len, in.data()) != 0) return 0;
    size_t n = 0;
    for (unsigned char c : in) n += c & 1;
    return n * page;
  }

  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return n_; }

 private:
  static constexpr size_t kHuge = size_t{2} << 20;
  static constexpr size_t kPage = 4096;

  void release() {
    if (map_) ::munmap(map_, map_len_);
    map_ = nullptr;
    map_len_ = 0;
    data_ = nullptr;
    n_ = 0;
  }

  void* map_ = nullptr;
  size_t map_len_ = 0;
  T* data_ = nullptr;
  size_t n_ = 0;
};

}  // namespace csumtop
