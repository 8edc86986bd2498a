// \summary: Private state of CaptureFileReader shared by pcap_reader.cc and pcapng_reader.cc.
//
// Not part of the public API: only the reader's own .cc files include this header.
// Memory stays flat whatever the file size. Two ways in, one view of the bytes ([pos, end)
// of `base`):
//  - a regular file is mapped (mmap) as a whole and frames are pointers into the mapping:
//    no copy, no system call per megabyte. Pages behind the reader are unmapped every
//    kReleaseStep bytes (file pages that stay mapped count as resident memory); the rest
//    is unmapped at the end, unless pinned (pin()/unpin(): other threads read ahead);
//  - anything else (a pipe, standard input from a pipe, a file that grew past the
//    mapping, a failed mmap) goes through one read buffer (kInitialBuffer, grown only
//    when one record needs more, never beyond the largest record we accept) refilled
//    with read(2) and compacted in place; frames are pointers into it.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "capture/capture_file.h"
#include "capture/record_scan.h"

namespace csumtop {
namespace capfile {

inline uint16_t bswap16(uint16_t v) { return static_cast<uint16_t>((v >> 8) | (v << 8)); }
inline uint32_t bswap32(uint32_t v) { return __builtin_bswap32(v); }
inline uint64_t bswap64(uint64_t v) { return __builtin_bswap64(v); }

// Loads in the file's byte order: `swap` is true when it differs from the host's.
inline uint16_t load16(const uint8_t* p, bool swap) {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return swap ? bswap16(v) : v;
}
inline uint32_t load32(const uint8_t* p, bool swap) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return swap ? bswap32(v) : v;
}
inline uint64_t load64(const uint8_t* p, bool swap) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return swap ? bswap64(v) : v;
}
// The first four bytes as they appear in the file, for messages ("magic 0x0a0d0d0a").
inline uint32_t load32_be(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// libpcap's MAXIMUM_SNAPLEN: a pcap record claiming more is corrupt (pcap.c, sf-pcap.c).
constexpr uint32_t kPcapMaxCaplen = 256u * 1024u;
constexpr size_t kInitialBuffer = 1u << 20;
// Mapped files: how far the reader moves before the pages behind it are unmapped.
constexpr size_t kReleaseStep = 4u << 20;
constexpr uint32_t kPcapFileHeaderLen = 24;    // pcap draft section 4
constexpr uint32_t kPcapRecordHeaderLen = 16;  // pcap draft section 5

// pcapng block types and the minimum block length: capture/record_scan.h.
constexpr uint32_t kByteOrderMagic = 0x1A2B3C4D;
constexpr uint32_t kMinSHBLen = 28;  // + byte-order magic, versions, section length

// snprintf into a std::string (pcap_reader.cc).
std::string strfmt(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

enum class Fill : uint8_t { kOk, kShort, kIoError };

}  // namespace capfile

struct CaptureFileReader::Impl {
  explicit Impl(CaptureFileReader* o) : owner(o) {}

  CaptureFileReader* owner;
  int fd = -1;
  std::string name;

  // Valid bytes are [pos, end) of base; base[pos] is owner->consumed_ bytes into the
  // capture. base is buf.data() (read(2) path) or map (mapped file).
  const uint8_t* base = nullptr;
  std::vector<uint8_t> buf;
  size_t pos = 0;
  size_t end = 0;
  bool eof = false;

  // Mapped file: map covers the file from byte map_offset (page aligned) to its size at
  // open; base == map while the mapping is read. [0, released) is already unmapped.
  uint8_t* map = nullptr;
  size_t map_len = 0;  // bytes of the file in the mapping (the last page may be partial)
  uint64_t map_offset = 0;
  size_t released = 0;  // page multiple
  bool pinned = false;  // the mapping stays until unpin() (only the part behind is released)
  int guard = -1;       // capture/map_guard.h slot of the mapping
  const std::atomic<bool>* guard_hit = nullptr;
  // True once the file was found shorter than the mapping (another process truncated it).
  bool shrank() const { return guard_hit != nullptr && guard_hit->load(std::memory_order_relaxed); }
  bool mapped() const { return map != nullptr && base == map; }
  bool done = false;  // a final status was returned; next() repeats it
  ReadStatus final_status = ReadStatus::kEof;

  // pcap
  bool swap = false;
  bool nsec = false;

  // pcapng
  uint32_t sections = 0;  // section header blocks seen
  std::vector<capfile::SectionInterface> section_ifaces;
  uint32_t section_ignored = 0;  // IDBs of this section past kMaxInterfaces
  // Sections and interfaces read so far (PcapScan::state), and the copy of
  // section_ifaces that pcap_scan() handed out for that count: helper threads read it
  // while the reader is pinned, so it changes only when the reader is not.
  uint64_t state = 0;
  std::vector<capfile::SectionInterface> scan_ifaces;
  uint64_t scan_state = UINT64_MAX;

  size_t avail() const { return end - pos; }
  const uint8_t* cur() const { return base + pos; }
  void consume(size_t n) {
    pos += n;
    owner->consumed_ += n;
  }
  // Makes avail() >= need unless the file ends first.
  capfile::Fill fill(size_t need) {
    if (avail() >= need) return capfile::Fill::kOk;
    return fill_slow(need);
  }
  capfile::Fill fill_slow(size_t need);
  capfile::Fill fill_read(size_t need);
  bool try_map(int fd);  // maps a regular file from its current offset; false: read(2)
  void leave_map();      // the file grew past the mapping: on with read(2)
  // Unmaps the pages before position `upto`, in kReleaseStep units.
  void release_behind(size_t upto);
  void unmap();  // the whole mapping
  void reset();  // closes the descriptor, frees the buffer, forgets the file
  void release_buffer();
  void finish(ReadStatus st);  // final status reached: remember it, free fd and buffer

  // Format-specific parts. open_*() read the file header; next_*() one record.
  bool open_pcap();
  bool open_pcapng();
  ReadStatus next_pcap(CapturedFrame* out);
  ReadStatus next_pcapng(CapturedFrame* out);
  // pcapng helpers: kFrame means "fine, go on"; anything else is the final status.
  ReadStatus read_shb(uint64_t offset, bool at_open);
  ReadStatus read_idb(uint64_t offset, const uint8_t* body, uint32_t body_len);
  ReadStatus check_block_length(uint64_t offset, uint32_t len);
  ReadStatus load_block(uint64_t offset, uint32_t len, bool at_open);  // fill + trailer

  // Helpers that set owner->error_ and return the final status.
  ReadStatus fail(std::string message);
  // "file ends in the middle of a record at byte offset N (<detail>); the K frames ..."
  ReadStatus truncated(uint64_t offset, const std::string& detail);
  ReadStatus io_error();
  // The mapped file was truncated by someone else while we read it (map_guard.h).
  ReadStatus truncated_under();
};

}  // namespace csumtop
