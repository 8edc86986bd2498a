// \summary: CaptureFileWriter: pcap (nanosecond) or pcapng files, one write(2) per record.
//
// pcap: draft-ietf-opsawg-pcap-04 sections 4 (File Header) and 5 (Packet Record), written
// in host byte order with the nanosecond magic 0xA1B23C4D. pcapng:
// draft-ietf-opsawg-pcapng-02 sections 4.1 (SHB), 4.2 (IDB with if_name,
// if_description, if_tsresol = 9) and 4.3 (EPB), host byte order. The file is created
// by output_file.h's rules (a new inode, 0600, never through a symlink, never over another
// user's file or an input); each record (header, data, padding) is assembled in
// a reused buffer and handed to the kernel in one write(2), so a reader of a file cut
// off by a crash sees whole records or a truncated last one, never interleaved halves.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <string>

#include "capture/capture_file.h"
#include "capture/output_file.h"

namespace csumtop {
namespace {

constexpr uint32_t kPcapMagicNs = 0xA1B23C4D;
constexpr uint32_t kPcapMaxCaplen = 256u * 1024u;  // what libpcap (and our reader) accept
constexpr uint32_t kDefaultSnaplen = 256u * 1024u;
constexpr uint32_t kBlockSHB = 0x0A0D0D0A;
constexpr uint32_t kBlockIDB = 0x00000001;
constexpr uint32_t kBlockEPB = 0x00000006;
constexpr uint32_t kEpbOverhead = 32;  // type, length, 20 fixed body bytes, trailing length
constexpr uint64_t kNsPerSecond = 1000000000u;

inline size_t pad4(size_t n) { return (n + 3) & ~size_t{3}; }

// Appends host-order integers and padded pcapng options to a byte vector.
struct Out {
  std::vector<uint8_t>& v;
  void u8(uint8_t x) { v.push_back(x); }
  void u16(uint16_t x) { raw(&x, 2); }
  void u32(uint32_t x) { raw(&x, 4); }
  void u64(uint64_t x) { raw(&x, 8); }
  void raw(const void* p, size_t n) {
    const uint8_t* b = static_cast<const uint8_t*>(p);
    v.insert(v.end(), b, b + n);
  }
  void zeros(size_t n) { v.insert(v.end(), n, 0); }
  // Section 3.5: code, length, value padded to 32 bits.
  void option(uint16_t code, const void* value, uint16_t len) {
    u16(code);
    u16(len);
    raw(value, len);
    zeros(pad4(len) - len);
  }
  void patch32(size_t at, uint32_t x) { std::memcpy(v.data() + at, &x, 4); }
};

std::string errno_text(int e) { return std::strerror(e); }

}  // namespace

CaptureFileWriter::CaptureFileWriter() = default;

CaptureFileWriter::~CaptureFileWriter() { close(); }

bool CaptureFileWriter::write_all(const uint8_t* p, size_t n) {
  const uint64_t start = size_;
  while (n > 0) {
    ssize_t w = ::write(fd_, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      const int e = w < 0 ? errno : 0;
      error_ = "cannot write to " + path_ + ": " + (w < 0 ? errno_text(e) : "write returned 0");
      // Cut the partial record (or header) off again, as live -w does
      // (bad_frame_file.cc): the file then ends on a record boundary and reads cleanly up
      // to the last whole record instead of ending in half of one (issue 17).
      if (size_ != start) {
        if (::ftruncate(fd_, static_cast<off_t>(start)) == 0 &&
            ::lseek(fd_, static_cast<off_t>(start), SEEK_SET) >= 0) {
          size_ = start;
        } else {
          error_ += "; the partial record could not be removed: " + errno_text(errno);
        }
      }
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
    size_ += static_cast<uint64_t>(w);
  }
  return true;
}

namespace {
// pcapng draft section 4.2: one Interface Description Block, nanosecond timestamps.
void append_idb(Out& o, std::vector<uint8_t>& buf, const CaptureInterface& i) {
  size_t start = buf.size();
  o.u32(kBlockIDB);
  o.u32(0);
  o.u16(i.linktype);
  o.u16(0);
  o.u32(i.snaplen);
  if (!i.name.empty()) o.option(2, i.name.data(), static_cast<uint16_t>(i.name.size()));
  if (!i.description.empty()) {
    o.option(3, i.description.data(), static_cast<uint16_t>(i.description.size()));
  }
  const uint8_t tsresol = 9;  // if_tsresol: nanoseconds, as the EPBs carry
  o.option(9, &tsresol, 1);
  o.option(0, nullptr, 0);
  uint32_t len = static_cast<uint32_t>(buf.size() - start + 4);
  o.u32(len);
  o.patch32(start + 4, len);
}
}  // namespace

bool CaptureFileWriter::add_interface(const CaptureInterface& iface) {
  if (fd_ < 0) {
    error_ = "the writer is not open";
    return false;
  }
  if (format_ != FileFormat::kPcapng) {
    error_ = "a pcap file has exactly one link type: cannot add an interface";
    return false;
  }
  if (iface.name.size() > 0xFFFF || iface.description.size() > 0xFFFF) {
    error_ = "interface name or description longer than 65535 bytes";
    return false;
  }
  try {
    buf_.clear();
    Out o{buf_};
    append_idb(o, buf_, iface);
  } catch (const std::exception& e) {
    error_ = std::string("cannot add an interface: ") + e.what();
    return false;
  }
  // An IDB may appear anywhere in a section before the packets that use it (section 4.2).
  if (!write_all(buf_.data(), buf_.size())) return false;
  num_ifaces_++;
  return true;
}

bool CaptureFileWriter::open(const std::string& path, FileFormat format,
                             const std::vector<CaptureInterface>& interfaces, bool overwrite,
                             const std::vector<FileIdentity>& inputs) {
  if (fd_ >= 0) {
    error_ = "the writer is already open on " + path_;
    return false;
  }
  error_.clear();
  frames_ = 0;
  if (format == FileFormat::kPcap && interfaces.size() != 1) {
    error_ = "a pcap file has exactly one link type: 1 interface needed, " +
             std::to_string(interfaces.size()) + " given (write pcapng for several)";
    return false;
  }
  if (interfaces.empty()) {
    error_ = "at least one interface is needed";
    return false;
  }
  for (const CaptureInterface& i : interfaces) {
    if (i.name.size() > 0xFFFF || i.description.size() > 0xFFFF) {
      error_ = "interface name or description longer than 65535 bytes";
      return false;
    }
  }

  // A new inode, 0600, never through a symlink, never over another user's file or the
  // input being read; `overwrite` replaces a regular file of ours (output_file.h).
  OutputFileOptions create;
  create.replace = overwrite;
  create.inputs = inputs;
  int fd = create_output_file(path, create, &error_);
  if (fd < 0) return false;

  fd_ = fd;
  size_ = 0;
  path_ = path;
  format_ = format;
  num_ifaces_ = static_cast<uint32_t>(interfaces.size());

  try {
    buf_.clear();
    Out o{buf_};
    if (format == FileFormat::kPcap) {
      // pcap draft section 4: magic, 2.4, two reserved words, SnapLen (MUST NOT be 0),
      // LinkType (no FCS information).
      const uint32_t snaplen = interfaces[0].snaplen != 0 ? interfaces[0].snaplen : kDefaultSnaplen;
      o.u32(kPcapMagicNs);
      o.u16(2);
      o.u16(4);
      o.u32(0);
      o.u32(0);
      o.u32(snaplen);
      o.u32(interfaces[0].linktype);
    } else {
      // pcapng draft section 4.1: Section Header Block, version 1.0, section length
      // unknown (-1), shb_userappl (4).
      static const char kApp[] = "csumtop";
      o.u32(kBlockSHB);
      o.u32(0);  // patched below
      o.u32(0x1A2B3C4D);
      o.u16(1);
      o.u16(0);
      o.u64(~uint64_t{0});
      o.option(4, kApp, sizeof kApp - 1);
      o.option(0, nullptr, 0);
      o.u32(static_cast<uint32_t>(buf_.size() + 4));
      o.patch32(4, static_cast<uint32_t>(buf_.size()));
      // Section 4.2: one Interface Description Block per interface.
      for (const CaptureInterface& i : interfaces) append_idb(o, buf_, i);
    }
    if (!write_all(buf_.data(), buf_.size())) {
      ::close(fd_);
      fd_ = -1;
      return false;
    }
  } catch (const std::exception& e) {
    ::close(fd_);
    fd_ = -1;
    error_ = "cannot write the header of " + path + ": " + e.what();
    return false;
  }
  return true;
}

bool CaptureFileWriter::write(uint32_t iface, uint64_t ts_ns, const uint8_t* data, uint32_t caplen,
                              uint32_t wirelen) {
  if (fd_ < 0) {
    error_ = "the writer is not open";
    return false;
  }
  if (iface >= num_ifaces_) {
    error_ = "interface " + std::to_string(iface) + " does not exist (" +
             std::to_string(num_ifaces_) + " declared)";
    return false;
  }
  if (wirelen < caplen) {
    error_ = "original length " + std::to_string(wirelen) + " is less than the captured length " +
             std::to_string(caplen);
    return false;
  }
  size_t total;
  if (format_ == FileFormat::kPcap) {
    if (caplen > kPcapMaxCaplen) {
      error_ = "captured length " + std::to_string(caplen) + " exceeds " +
               std::to_string(kPcapMaxCaplen) + ", the most a pcap reader accepts";
      return false;
    }
    if (ts_ns / kNsPerSecond > UINT32_MAX) {
      error_ = "timestamp " + std::to_string(ts_ns) + " ns does not fit pcap's 32-bit seconds";
      return false;
    }
    total = 16 + size_t{caplen};
  } else {
    if (caplen > CaptureFileReader::kMaxRecord - kEpbOverhead - 3) {
      error_ = "captured length " + std::to_string(caplen) + " exceeds the pcapng block limit";
      return false;
    }
    total = kEpbOverhead + pad4(caplen);
  }
  try {
    if (buf_.size() < total) buf_.resize(total);  // grows to the largest record, then reused
  } catch (const std::exception& e) {
    error_ = std::string("cannot allocate a record buffer: ") + e.what();
    return false;
  }
  uint8_t* p = buf_.data();
  auto put32 = [&p](uint32_t x) {
    std::memcpy(p, &x, 4);
    p += 4;
  };
  if (format_ == FileFormat::kPcap) {
    // pcap draft section 5: seconds, nanoseconds (magic 0xA1B23C4D), lengths, data.
    put32(static_cast<uint32_t>(ts_ns / kNsPerSecond));
    put32(static_cast<uint32_t>(ts_ns % kNsPerSecond));
    put32(caplen);
    put32(wirelen);
    if (caplen) std::memcpy(p, data, caplen);
  } else {
    // pcapng draft section 4.3: EPB with timestamps in if_tsresol = 10^-9 units.
    put32(kBlockEPB);
    put32(static_cast<uint32_t>(total));
    put32(iface);
    put32(static_cast<uint32_t>(ts_ns >> 32));
    put32(static_cast<uint32_t>(ts_ns & 0xFFFFFFFFu));
    put32(caplen);
    put32(wirelen);
    if (caplen) std::memcpy(p, data, caplen);
    p += caplen;
    size_t pad = pad4(caplen) - caplen;
    std::memset(p, 0, pad);
    p += pad;
    put32(static_cast<uint32_t>(total));
  }
  if (!write_all(buf_.data(), total)) return false;
  ++frames_;
  return true;
}

bool CaptureFileWriter::close() {
  if (fd_ < 0) return true;
  int r = ::close(fd_);
  fd_ = -1;
  if (r != 0) {
    int e = errno;
    error_ = "cannot close " + path_ + ": " + errno_text(e);
    return false;
  }
  return true;
}

}  // namespace csumtop
