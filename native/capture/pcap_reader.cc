// \summary: CaptureFileReader: file handling, the flat read buffer, format detection and pcap
// records.
//
// pcap: draft-ietf-opsawg-pcap-04 (File Header, section 4; Packet Record, section 5).
// pcapng blocks are in pcapng_reader.cc. Errors are return values: nothing here throws
// to the caller (allocation failures are caught at the public entry points).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <exception>
#include <string>

#include "capture/capture_file.h"
#include "capture/map_guard.h"
#include "capture/reader_impl.h"
#include "capture/record_scan.h"

namespace csumtop {
namespace capfile {

std::string strfmt(const char* fmt, ...) {
  char small[512];
  va_list ap;
  va_start(ap, fmt);
  int n = std::vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) return std::string(fmt);
  if (static_cast<size_t>(n) < sizeof small) return std::string(small, static_cast<size_t>(n));
  std::string out(static_cast<size_t>(n) + 1, '\0');
  va_start(ap, fmt);
  std::vsnprintf(&out[0], out.size(), fmt, ap);
  va_end(ap);
  out.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace capfile

using capfile::Fill;
using capfile::strfmt;

// ---------------------------------------------------------------------------------------
// Buffer

Fill CaptureFileReader::Impl::fill_slow(size_t need) {
  if (!mapped()) return fill_read(need);
  // The mapping ends at the file's size when it was opened. A file still being written
  // may have grown since: the rest is read with read(2).
  if (eof) return Fill::kShort;
  struct stat st;
  if (::fstat(fd, &st) != 0) return Fill::kIoError;
  if (static_cast<uint64_t>(st.st_size) <= map_offset + end) {
    eof = true;
    return Fill::kShort;
  }
  leave_map();
  return fill_read(need);
}

Fill CaptureFileReader::Impl::fill_read(size_t need) {
  if (avail() >= need) return Fill::kOk;
  if (pos + need > buf.size()) {
    // Compact: move the partial record to the front. At most one record is moved per
    // refill, so this costs nothing next to the read(2) that follows.
    size_t have = avail();
    if (have != 0 && pos != 0) std::memmove(buf.data(), buf.data() + pos, have);
    pos = 0;
    end = have;
    if (need > buf.size()) {
      // One record larger than the buffer: grow to fit it (bounded by the callers to
      // kMaxRecord), in 64 KiB steps so a run of slightly larger records grows once.
      size_t grown = std::min<size_t>((need + 0xFFFF) & ~size_t{0xFFFF}, kMaxRecord);
      buf.resize(std::max(grown, need));
    }
    base = buf.data();
  }
  while (avail() < need) {
    if (eof) return Fill::kShort;
    ssize_t r = ::read(fd, buf.data() + end, buf.size() - end);
    if (r < 0) {
      if (errno == EINTR) continue;
      return Fill::kIoError;
    }
    if (r == 0) {
      eof = true;
      return Fill::kShort;
    }
    end += static_cast<size_t>(r);
  }
  return Fill::kOk;
}

bool CaptureFileReader::Impl::try_map(int file) {
  struct stat st;
  if (::fstat(file, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) return false;
  const off_t at = ::lseek(file, 0, SEEK_CUR);
  if (at < 0 || at >= st.st_size) return false;
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const uint64_t start = static_cast<uint64_t>(at) & ~(page - 1);
  const uint64_t len = static_cast<uint64_t>(st.st_size) - start;
  if (len > SIZE_MAX / 2) return false;
  void* m = ::mmap(nullptr, static_cast<size_t>(len), PROT_READ, MAP_PRIVATE, file,
                   static_cast<off_t>(start));
  if (m == MAP_FAILED) return false;  // e.g. a file system without mmap: read(2) it is
  // A file truncated under the mapping must not end the process (SIGBUS): without the
  // guard, read(2) it is.
  guard = mapguard::add(m, static_cast<size_t>(len));
  if (guard < 0) {
    ::munmap(m, static_cast<size_t>(len));
    return false;
  }
  guard_hit = mapguard::hit_flag(guard);
  // Read ahead generously and drop pages once read; we never come back to them.
  (void)::madvise(m, static_cast<size_t>(len), MADV_SEQUENTIAL);
  map = static_cast<uint8_t*>(m);
  map_len = static_cast<size_t>(len);
  map_offset = start;
  released = 0;
  base = map;
  pos = static_cast<size_t>(static_cast<uint64_t>(at) - start);
  end = map_len;
  return true;
}

void CaptureFileReader::Impl::leave_map() {
  // The partial record at the end of the mapping moves to the read buffer; read(2)
  // continues where the mapping ends. A pinned mapping stays until unpin().
  const size_t have = avail();
  if (buf.size() < std::max(capfile::kInitialBuffer, have))
    buf.resize(std::max(capfile::kInitialBuffer, have));
  std::memcpy(buf.data(), map + pos, have);
  (void)::lseek(fd, static_cast<off_t>(map_offset + end), SEEK_SET);
  base = buf.data();
  pos = 0;
  end = have;
  if (!pinned) unmap();
}

void CaptureFileReader::Impl::release_behind(size_t upto) {
  if (map == nullptr) return;
  if (upto > map_len) upto = map_len;
  const size_t to = upto & ~(capfile::kReleaseStep - 1);
  if (to <= released) return;
  (void)::munmap(map + released, to - released);
  released = to;
}

void CaptureFileReader::Impl::unmap() {
  if (map == nullptr) return;
  mapguard::remove(guard);
  guard = -1;
  guard_hit = nullptr;
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t total = (map_len + page - 1) & ~(page - 1);
  if (total > released) (void)::munmap(map + released, total - released);
  if (base == map) {
    base = nullptr;
    pos = end = 0;
  }
  map = nullptr;
  map_len = 0;
  released = 0;
}

void CaptureFileReader::Impl::release_buffer() {
  std::vector<uint8_t>().swap(buf);
  if (!pinned) unmap();  // pinned: until unpin()
  base = nullptr;
  pos = end = 0;
}

void CaptureFileReader::Impl::finish(ReadStatus st) {
  // The last frame's data died with this call (see CapturedFrame::data), so a reader
  // that has reached its end keeps no buffer, even if nobody calls close().
  done = true;
  final_status = st;
  release_buffer();
  if (fd >= 0) ::close(fd);
  fd = -1;
}

void CaptureFileReader::Impl::reset() {
  if (fd >= 0) ::close(fd);
  fd = -1;
  pinned = false;
  release_buffer();
  name.clear();
  eof = false;
  done = false;
  final_status = ReadStatus::kEof;
  swap = nsec = false;
  sections = 0;
  section_ifaces.clear();
  section_ignored = 0;
  state = 0;
  scan_ifaces.clear();
  scan_state = UINT64_MAX;
}

ReadStatus CaptureFileReader::Impl::fail(std::string message) {
  owner->error_ = std::move(message);
  finish(ReadStatus::kError);
  return ReadStatus::kError;
}

ReadStatus CaptureFileReader::Impl::io_error() {
  int e = errno;
  return fail(strfmt("read error at byte offset %llu: %s",
                     static_cast<unsigned long long>(owner->consumed_ + avail()),
                     std::strerror(e)));
}

ReadStatus CaptureFileReader::Impl::truncated_under() {
  struct stat st;
  const long long now = fd >= 0 && ::fstat(fd, &st) == 0 ? static_cast<long long>(st.st_size) : -1;
  return fail(
      strfmt("read error at byte offset %llu: the file was truncated to %lld bytes "
             "while it was being read",
             static_cast<unsigned long long>(owner->consumed_), now));
}

ReadStatus CaptureFileReader::Impl::truncated(uint64_t offset, const std::string& detail) {
  uint64_t n = owner->frames_;
  std::string before;
  if (n == 0) {
    before = "no frame before it";
  } else if (n == 1) {
    before = "the 1 frame before it was read";
  } else {
    before = strfmt("the %llu frames before it were read", static_cast<unsigned long long>(n));
  }
  owner->error_ = strfmt("file ends in the middle of a record at byte offset %llu (%s); %s",
                         static_cast<unsigned long long>(offset), detail.c_str(), before.c_str());
  finish(ReadStatus::kTruncated);
  return ReadStatus::kTruncated;
}

// ---------------------------------------------------------------------------------------
// pcap (draft-ietf-opsawg-pcap-04)

bool CaptureFileReader::Impl::open_pcap() {
  // Section 4: the 24-byte File Header.
  Fill f = fill(capfile::kPcapFileHeaderLen);
  if (f == Fill::kIoError) {
    io_error();
    return false;
  }
  if (f == Fill::kShort) {
    fail(strfmt("truncated pcap file header at byte offset 0: %u bytes needed, %zu present",
                capfile::kPcapFileHeaderLen, avail()));
    return false;
  }
  const uint8_t* p = cur();
  uint32_t magic;
  std::memcpy(&magic, p, 4);
  // Section 4, Magic Number: 0xA1B2C3D4 (microseconds) or 0xA1B23C4D (nanoseconds),
  // written in the writer's byte order.
  switch (magic) {
    case 0xA1B2C3D4:
      swap = false;
      nsec = false;
      break;
    case 0xD4C3B2A1:
      swap = true;
      nsec = false;
      break;
    case 0xA1B23C4D:
      swap = false;
      nsec = true;
      break;
    case 0x4D3CB2A1:
      swap = true;
      nsec = true;
      break;
    default:
      break;  // not reached: the caller checked the magic
  }
  uint16_t major = capfile::load16(p + 4, swap);
  uint16_t minor = capfile::load16(p + 6, swap);
  if (major != 2) {
    fail(strfmt("unsupported pcap version %u.%u at byte offset 4 (only 2.x is supported)", major,
                minor));
    return false;
  }
  CaptureInterface iface;
  iface.snaplen = capfile::load32(p + 16, swap);
  // Section 4, Figure 2: the LinkType field carries FCS len (4 bits), R, P and Reserved3
  // above the 16-bit link-layer type; only the low 16 bits are the link type.
  iface.linktype = static_cast<uint16_t>(capfile::load32(p + 20, swap) & 0xFFFFu);
  owner->interfaces_.push_back(iface);
  consume(capfile::kPcapFileHeaderLen);
  return true;
}

ReadStatus CaptureFileReader::Impl::next_pcap(CapturedFrame* out) {
  const uint64_t offset = owner->consumed_;
  // Section 5: a 16-byte record header followed by Captured Packet Length bytes.
  Fill f = fill(capfile::kPcapRecordHeaderLen);
  if (f == Fill::kIoError) return io_error();
  if (f == Fill::kShort) {
    if (avail() == 0) {
      finish(ReadStatus::kEof);
      return ReadStatus::kEof;
    }
    return truncated(offset, strfmt("16-byte record header, %zu present", avail()));
  }
  const uint8_t* p = cur();
  uint32_t sec = capfile::load32(p, swap);
  uint32_t frac = capfile::load32(p + 4, swap);
  uint32_t caplen = capfile::load32(p + 8, swap);
  uint32_t wirelen = capfile::load32(p + 12, swap);
  // A Captured Packet Length above the SnapLen is tolerated (some writers do it), but
  // above libpcap's maximum it can only be corruption: libpcap refuses such files too.
  const uint32_t max_caplen = std::min<uint32_t>(capfile::kPcapMaxCaplen, kMaxRecord);
  if (caplen > max_caplen) {
    return fail(
        strfmt("corrupt pcap record at byte offset %llu: captured length %u exceeds "
               "the maximum of %u",
               static_cast<unsigned long long>(offset), caplen, max_caplen));
  }
  const size_t total = capfile::kPcapRecordHeaderLen + size_t{caplen};
  f = fill(total);
  if (f == Fill::kIoError) return io_error();
  if (f == Fill::kShort) {
    return truncated(offset, strfmt("record header says %u bytes, %zu present", caplen,
                                    avail() - capfile::kPcapRecordHeaderLen));
  }
  p = cur();
  out->data = p + capfile::kPcapRecordHeaderLen;
  out->caplen = caplen;
  out->wirelen = wirelen;
  out->ts_ns = uint64_t{sec} * 1000000000u + (nsec ? uint64_t{frac} : uint64_t{frac} * 1000u);
  out->iface = 0;
  out->offset = offset;
  out->number = ++owner->frames_;
  consume(total);
  return ReadStatus::kFrame;
}

// ---------------------------------------------------------------------------------------
// Public API

CaptureFileReader::CaptureFileReader() : impl_(new Impl(this)) {}

CaptureFileReader::~CaptureFileReader() {
  close();
  delete impl_;
}

bool CaptureFileReader::open(const std::string& path) {
  close();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    error_ = "cannot open " + path + ": " + std::strerror(e);
    return false;
  }
  struct stat st;
  if (::fstat(fd, &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      ::close(fd);
      error_ = "cannot read " + path + ": it is a directory";
      return false;
    }
    // Read ahead generously (for the read(2) path; the mapping has its own advice).
    if (S_ISREG(st.st_mode)) (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  }
  return open_fd(fd, path);
}

bool CaptureFileReader::open_fd(int fd, const std::string& display_name) {
  close();
  struct stat id_st;
  if (::fstat(fd, &id_st) == 0) {
    identity_ = FileIdentity{id_st.st_dev, id_st.st_ino};
    has_identity_ = true;
  }
  try {
    impl_->fd = fd;
    impl_->name = display_name;
    if (!impl_->try_map(fd)) {
      if (impl_->buf.size() < capfile::kInitialBuffer) impl_->buf.resize(capfile::kInitialBuffer);
      impl_->base = impl_->buf.data();
    }
    Fill f = impl_->fill(4);
    if (f == Fill::kIoError) {
      impl_->io_error();
      close_keep_error();
      return false;
    }
    if (impl_->avail() == 0) {
      error_ = "empty file";
      close_keep_error();
      return false;
    }
    if (f == Fill::kShort) {
      error_ = capfile::strfmt(
          "not a pcap or pcapng file: only %zu bytes at byte offset 0, too short for a magic "
          "number",
          impl_->avail());
      close_keep_error();
      return false;
    }
    const uint8_t* p = impl_->cur();
    uint32_t magic;
    std::memcpy(&magic, p, 4);
    bool ok;
    if (magic == 0xA1B2C3D4 || magic == 0xD4C3B2A1 || magic == 0xA1B23C4D || magic == 0x4D3CB2A1) {
      format_ = FileFormat::kPcap;
      ok = impl_->open_pcap();
    } else if (magic == capfile::kBlockSHB) {
      format_ = FileFormat::kPcapng;
      ok = impl_->open_pcapng();
    } else {
      error_ = capfile::strfmt("not a pcap or pcapng file: magic 0x%08x at byte offset 0",
                               capfile::load32_be(p));
      ok = false;
    }
    if (!ok) close_keep_error();
    return ok;
  } catch (const std::exception& e) {
    error_ = std::string("cannot read ") + display_name + ": " + e.what();
    close_keep_error();
    return false;
  }
}

ReadStatus CaptureFileReader::next(CapturedFrame* out) {
  if (impl_->done) return impl_->final_status;
  // The previous frame is no longer in use: unmap what lies behind it (kReleaseStep at a
  // time).
  if (impl_->map != nullptr && impl_->pos >= impl_->released + capfile::kReleaseStep &&
      impl_->mapped()) {
    impl_->release_behind(impl_->pos);
  }
  if (impl_->fd < 0) {
    error_ = "the capture file is not open";
    return ReadStatus::kError;
  }
  try {
    // A file truncated while mapped (map_guard.h) reads as zeros past its new end: report
    // it rather than frames made of zeros, before and after reading a record.
    if (impl_->shrank()) return impl_->truncated_under();
    const ReadStatus st =
        format_ == FileFormat::kPcap ? impl_->next_pcap(out) : impl_->next_pcapng(out);
    if (st == ReadStatus::kFrame && impl_->shrank()) return impl_->truncated_under();
    return st;
  } catch (const std::exception& e) {
    return impl_->fail(capfile::strfmt("cannot read the record at byte offset %llu: %s",
                                       static_cast<unsigned long long>(consumed_), e.what()));
  }
}

void CaptureFileReader::pin() { impl_->pinned = impl_->map != nullptr; }

void CaptureFileReader::unpin() {
  if (!impl_->pinned) return;
  impl_->pinned = false;
  if (!impl_->mapped()) impl_->unmap();  // finished, or left for read(2), while pinned
}

bool CaptureFileReader::shrank() const { return impl_->shrank(); }

bool CaptureFileReader::pcap_scan(PcapScan* scan, const uint8_t** cursor,
                                  const uint8_t** limit) const {
  if (!impl_->mapped() || impl_->done || impl_->shrank() || interfaces_.empty()) return false;
  *scan = PcapScan();
  scan->format = format_;
  scan->swap = impl_->swap;
  if (format_ == FileFormat::kPcap) {
    scan->nsec = impl_->nsec;
    scan->max_caplen = std::min<uint32_t>(capfile::kPcapMaxCaplen, kMaxRecord);
    scan->linktype = interfaces_[0].linktype;
  } else {
    if (impl_->section_ifaces.empty()) return false;
    if (impl_->scan_state != impl_->state) {
      // Helper threads may still read the copy handed out before: it stays while pinned.
      if (impl_->pinned) return false;
      impl_->scan_ifaces = impl_->section_ifaces;
      impl_->scan_state = impl_->state;
    }
    scan->ifaces = impl_->scan_ifaces.data();
    scan->n_ifaces = static_cast<uint32_t>(impl_->scan_ifaces.size());
    scan->state = impl_->scan_state;
  }
  *cursor = impl_->cur();
  *limit = impl_->base + impl_->end;
  return true;
}

bool CaptureFileReader::scan_holds(const PcapScan& scan) const {
  return scan.format == format_ && (format_ == FileFormat::kPcap || scan.state == impl_->state);
}

void CaptureFileReader::skip_records(const uint8_t* to, uint64_t frames, uint64_t skipped_blocks) {
  if (!impl_->mapped() || to < impl_->cur() || to > impl_->base + impl_->end) return;
  impl_->consume(static_cast<size_t>(to - impl_->cur()));
  frames_ += frames;
  skipped_blocks_ += skipped_blocks;
}

void CaptureFileReader::close_keep_error() {
  std::string keep;
  keep.swap(error_);
  close();
  error_.swap(keep);
}

void CaptureFileReader::close() {
  impl_->reset();
  format_ = FileFormat::kPcap;
  interfaces_.clear();
  error_.clear();
  consumed_ = 0;
  frames_ = 0;
  skipped_blocks_ = 0;
  interfaces_ignored_ = 0;
  frames_ignored_ = 0;
  has_identity_ = false;
}

bool CaptureFileReader::identity(FileIdentity* out) const {
  if (!has_identity_) return false;
  *out = identity_;
  return true;
}

}  // namespace csumtop
