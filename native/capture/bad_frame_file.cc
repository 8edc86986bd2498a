// \summary: BadFrameFile: the crash-safe, rotating pcap output of live capture (see
// bad_frame_file.h for the format, rotation and crash-safety rules).
#include "capture/bad_frame_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "capture/output_file.h"

namespace csumtop {
namespace {

constexpr uint32_t kPcapMagicNs = 0xA1B23C4D;  // pcap draft section 4: nanosecond timestamps
constexpr uint32_t kSnaplen =
    262144;  // libpcap's MAXIMUM_SNAPLEN; larger records are refused by readers
constexpr uint16_t kLinkEthernetType = 1;
constexpr uint16_t kLinkSll2Type = 276;
constexpr uint16_t kSrcEthernet = 1;  // decode/frame.h kLinkEthernet
constexpr size_t kSll2Len = 20;
constexpr uint64_t kNsPerSecond = 1000000000u;

std::string errno_text(int e) { return std::strerror(e); }

void put_be16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void put_be32(uint8_t* p, uint32_t v) {
  put_be16(p, static_cast<uint16_t>(v >> 16));
  put_be16(p + 2, static_cast<uint16_t>(v));
}

}  // namespace

BadFrameFile::~BadFrameFile() { close(); }

std::string BadFrameFile::rotated_name(const std::string& base, uint32_t n, uint32_t count,
                                       bool rotating) {
  // tcpdump.c: MakeFilename(buf, name, cnt, WflagChars) with WflagChars the number of
  // digits of COUNT-1 (0 without -W); cnt 0 and no width gives the bare name.
  if (!rotating) return base;
  int width = 0;
  for (uint32_t x = count > 0 ? count - 1 : 0; x > 0; x /= 10) width++;
  if (n == 0 && width == 0) return base;
  std::string digits = std::to_string(n);
  if (static_cast<int>(digits.size()) < width) digits.insert(0, width - digits.size(), '0');
  return base + digits;
}

bool BadFrameFile::open_file(const std::string& path, std::string* err) {
  // A new inode, 0600, never through a symlink; an existing regular file of ours is
  // replaced (tcpdump overwrites too), another user's is refused (output_file.h).
  OutputFileOptions create;
  create.replace = true;
  const int fd = create_output_file(path, create, err);
  if (fd < 0) return false;
  // pcap draft section 4: magic, version 2.4, two reserved words, SnapLen, LinkType.
  uint8_t h[24];
  const uint32_t magic = kPcapMagicNs, zero = 0, snap = kSnaplen, lt = opts_.linktype;
  const uint16_t major = 2, minor = 4;
  std::memcpy(h, &magic, 4);
  std::memcpy(h + 4, &major, 2);
  std::memcpy(h + 6, &minor, 2);
  std::memcpy(h + 8, &zero, 4);
  std::memcpy(h + 12, &zero, 4);
  std::memcpy(h + 16, &snap, 4);
  std::memcpy(h + 20, &lt, 4);
  const ssize_t w = ::write(fd, h, sizeof h);
  if (w != static_cast<ssize_t>(sizeof h)) {
    const int e = w < 0 ? errno : ENOSPC;
    (void)::ftruncate(fd, 0);
    ::close(fd);
    *err = "cannot write the header of " + path + ": " + errno_text(e);
    return false;
  }
  fd_ = fd;
  size_ = sizeof h;
  st_.files++;
  st_.current_path = path;
  return true;
}

bool BadFrameFile::open(const BadFrameFileOptions& opts, std::string* err) {
  std::lock_guard<std::mutex> lock(mu_);
  if (opts.linktype != kLinkEthernetType && opts.linktype != kLinkSll2Type) {
    *err = "unsupported link type for -w: " + std::to_string(opts.linktype);
    return false;
  }
  opts_ = opts;
  index_ = 0;
  return open_file(rotated_name(opts_.path, 0, opts_.rotate_count, opts_.rotate_bytes > 0), err);
}

void BadFrameFile::fail(const std::string& msg) {
  st_.errors++;
  if (st_.first_error.empty()) st_.first_error = msg;
  st_.last_error = msg;
}

bool BadFrameFile::rotate() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!reopen_) {
    index_++;
    if (opts_.rotate_count > 0 && index_ >= opts_.rotate_count) index_ = 0;  // -W wraps
  }
  std::string err;
  if (!open_file(rotated_name(opts_.path, index_, opts_.rotate_count, true), &err)) {
    reopen_ = true;  // the same name again on the next record
    fail(err);
    return false;
  }
  reopen_ = false;
  return true;
}

void BadFrameFile::write(const OutFrame& f) {
  std::lock_guard<std::mutex> lock(mu_);
  if (opts_.rotate_bytes > 0 && (reopen_ || (fd_ >= 0 && size_ > opts_.rotate_bytes))) {
    if (!rotate()) {
      st_.not_written++;
      return;
    }
  }
  if (fd_ < 0) {
    st_.not_written++;
    return;
  }
  uint8_t hdr[16 + kSll2Len];
  size_t hlen = 16;
  const uint8_t* data = f.data;
  uint32_t caplen = f.caplen, wirelen = f.wirelen < f.caplen ? f.caplen : f.wirelen;
  if (opts_.linktype == kLinkEthernetType) {
    if (f.src_linktype != kSrcEthernet) {
      st_.not_written++;
      fail(
          "frames of an interface without an Ethernet header (ARPHRD " + std::to_string(f.hatype) +
          ") cannot go into this Ethernet pcap file (its link type is chosen when capture starts)");
      return;
    }
  } else {
    // LINKTYPE_LINUX_SLL2: protocol type, reserved, interface index, ARPHRD type, packet
    // type, address length, 8 address bytes (all big-endian), then the packet without its
    // link-layer header.
    uint8_t* s = hdr + 16;
    std::memset(s, 0, kSll2Len);
    uint16_t proto = 0;
    if (f.src_linktype == kSrcEthernet) {
      if (caplen >= 14) {
        proto = static_cast<uint16_t>(data[12] << 8 | data[13]);
        s[11] = 6;
        std::memcpy(s + 12, data + 6, 6);  // source MAC
        data += 14;
        caplen -= 14;
        wirelen -= 14;
      }
    } else if (caplen >= 1) {
      proto = (data[0] >> 4) == 6 ? 0x86DD : (data[0] >> 4) == 4 ? 0x0800 : 0;
    }
    put_be16(s, proto);
    put_be32(s + 4, static_cast<uint32_t>(f.ifindex));
    put_be16(s + 8, f.hatype);
    s[10] = f.pkttype;
    hlen += kSll2Len;
  }
  const uint32_t link_len = static_cast<uint32_t>(hlen - 16);
  if (caplen + link_len > kSnaplen) caplen = kSnaplen - link_len;  // caplen < wirelen is legal
  // pcap draft section 5: seconds, nanoseconds, captured length, original length.
  const uint32_t sec = static_cast<uint32_t>(f.ts_ns / kNsPerSecond);
  const uint32_t nsec = static_cast<uint32_t>(f.ts_ns % kNsPerSecond);
  const uint32_t incl = caplen + link_len, orig = wirelen + link_len;
  std::memcpy(hdr, &sec, 4);
  std::memcpy(hdr + 4, &nsec, 4);
  std::memcpy(hdr + 8, &incl, 4);
  std::memcpy(hdr + 12, &orig, 4);
  iovec iov[2];
  iov[0].iov_base = hdr;
  iov[0].iov_len = hlen;
  iov[1].iov_base = const_cast<uint8_t*>(data);
  iov[1].iov_len = caplen;
  const size_t total = hlen + caplen;
  ssize_t w;
  do {
    w = ::writev(fd_, iov, caplen ? 2 : 1);
  } while (w < 0 && errno == EINTR);  // nothing was written: safe to retry
  if (w != static_cast<ssize_t>(total)) {
    const int e = w < 0 ? errno : ENOSPC;
    // Undo a partial record so that the file still ends on a record boundary.
    st_.not_written++;
    fail("cannot write to " + st_.current_path + ": " + errno_text(e));
    if (w > 0 && (::ftruncate(fd_, static_cast<off_t>(size_)) != 0 ||
                  ::lseek(fd_, static_cast<off_t>(size_), SEEK_SET) < 0)) {
      // The half record cannot be removed: stop writing to this file rather than
      // append whole records after it (a reader would stop there anyway).
      fail("cannot remove a partial record from " + st_.current_path + ": " + errno_text(errno) +
           "; nothing more is written to it");
      ::close(fd_);
      fd_ = -1;
    }
    return;
  }
  size_ += total;
  if (f.context)
    st_.context_frames++;
  else
    st_.frames++;
}

BadFrameFileStats BadFrameFile::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return st_;
}

void BadFrameFile::add_context_skipped(uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  st_.context_skipped += n;
}

void BadFrameFile::close() {
  std::lock_guard<std::mutex> lock(mu_);
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

}  // namespace csumtop
