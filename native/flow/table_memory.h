// \summary: The memory of a fixed-size table: an array of trivial entries, zero, made
// resident once when the table is made, on huge pages where the kernel gives them.
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
#pragma once
#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>

namespace csumtop {

template <typename T>
class TableArray {
  static_assert(std::is_trivially_copyable<T>::value &&
                    std::is_trivially_default_constructible<T>::value,
                "a TableArray entry starts as zero bytes");

 public:
  TableArray() = default;
  explicit TableArray(size_t n) { assign(n); }
  ~TableArray() { release(); }
  TableArray(const TableArray&) = delete;
  TableArray& operator=(const TableArray&) = delete;

  // n entries of zero bytes (what was there before is gone).
  void assign(size_t n) {
    release();
    if (n == 0) return;
    const size_t want = n * sizeof(T);
    // Huge pages need 2 MiB alignment: map that much more and start at the first boundary.
    const size_t align = want >= kHuge ? kHuge : 0;
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
    volatile uint8_t* bytes = reinterpret_cast<volatile uint8_t*>(data_);
    for (size_t off = 0; off < want; off += kPage) bytes[off] = 0;
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
