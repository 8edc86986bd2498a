// \summary: pcap and pcapng capture files: a streaming reader with flat memory, and writers.
//
// Formats: pcap (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-04.html) in both
// byte orders with micro- or nanosecond timestamps; pcapng
// (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html) with any number of
// sections of either byte order, interfaces with their own link type, name and timestamp
// resolution, Enhanced, Simple and (obsolete) Packet blocks; other blocks are skipped.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "capture/output_file.h"

namespace csumtop {

struct PcapScan;  // capture/record_scan.h

enum class FileFormat : uint8_t { kPcap = 0, kPcapng = 1 };

struct CaptureInterface {
  std::string name;         // pcapng if_name; empty when the file does not say
  std::string description;  // pcapng if_description
  uint16_t linktype = 0;    // LINKTYPE_* (https://www.tcpdump.org/linktypes.html)
  uint32_t snaplen = 0;
  uint32_t section = 0;  // pcapng section number (0-based); always 0 for pcap
};

struct CapturedFrame {
  const uint8_t* data = nullptr;  // valid until the next call to next()
  uint32_t caplen = 0;
  uint32_t wirelen = 0;  // original length on the wire
  uint64_t ts_ns = 0;    // nanoseconds since the epoch
  uint32_t iface = 0;    // index into interfaces() (global across sections)
  uint64_t number = 0;   // 1-based frame number, as tcpdump/tshark count
  uint64_t offset = 0;   // byte offset of the record/block in the file
};

enum class ReadStatus : uint8_t {
  kFrame,      // *out holds a frame
  kEof,        // clean end of file
  kTruncated,  // file ends in the middle of a record: warning(), everything before is valid
  kError,      // corrupt or unsupported content: error() names the byte offset
};

class CaptureFileReader {
 public:
  CaptureFileReader();
  ~CaptureFileReader();
  CaptureFileReader(const CaptureFileReader&) = delete;
  CaptureFileReader& operator=(const CaptureFileReader&) = delete;

  // Opens and reads the file header (pcap) or first section header (pcapng).
  // On failure returns false and error() says why, naming the byte offset.
  bool open(const std::string& path);
  // Same on an already open descriptor (stdin "-"); takes ownership.
  bool open_fd(int fd, const std::string& display_name);
  ReadStatus next(CapturedFrame* out);
  void close();

  // A regular file is read through a memory mapping (frames point into it). Threads that
  // decode ahead of the reader in the mapping (pcap_scan) need it to stay: between pin()
  // and unpin() it is not unmapped, even when the reader reaches the end of the file or
  // an error; only the pages behind the reader are released as usual.
  void pin();
  void unpin();
  // The mapped file was truncated by another process while being read: what lies past
  // its new end reads as zeros, and next() reports an error from now on.
  bool shrank() const;
  // Mapped pcap and pcapng files, for threads that decode ahead (capture/record_scan.h):
  // how their records are read, where the next one starts and where the mapping ends;
  // false for anything else. pcapng: the scan knows the current section's byte order and
  // interfaces, and holds only where scan_holds() says so.
  bool pcap_scan(PcapScan* scan, const uint8_t** cursor, const uint8_t** limit) const;
  // The reader has read no block since `scan` that changes how the records after it are
  // read (a pcapng Section Header or Interface Description Block).
  bool scan_holds(const PcapScan& scan) const;
  // Moves past records decoded elsewhere: [cursor, to) must be `frames` whole records and
  // `skipped_blocks` pcapng blocks that scan_record() took (kFrame, kSkip) with a scan
  // that holds. Counts them as read.
  void skip_records(const uint8_t* to, uint64_t frames, uint64_t skipped_blocks = 0);

  FileFormat format() const { return format_; }
  // Grows as pcapng Interface Description Blocks are read.
  const std::vector<CaptureInterface>& interfaces() const { return interfaces_; }
  const std::string& error() const { return error_; }  // also the warning for kTruncated
  uint64_t bytes_read() const { return consumed_; }    // offset of the next unread byte
  uint64_t frames_read() const { return frames_; }
  uint64_t blocks_skipped() const { return skipped_blocks_; }  // unknown pcapng blocks
  // The file being read (device and inode of the open descriptor, so a -w name that is
  // another spelling or a hard link of it can be refused); false before open().
  bool identity(FileIdentity* out) const;

  // Upper bound on a record's captured length; larger claims are treated as corruption
  // (libpcap uses 256 KiB for pcap and 16 MiB for a pcapng block).
  static constexpr uint32_t kMaxRecord = 16u << 20;
  // Interfaces per file (all pcapng sections together). Each one costs a row of counters
  // that every -r step copies to JavaScript and a row in the report; a 20 MB file of a
  // million empty Interface Description Blocks took 9.4 GB and 200 s (issue 17). 4096
  // is far beyond a node's captured interfaces (dumpcap on every interface of a busy
  // Kubernetes node: a few hundred) and keeps that cost under a few hundred MB; IDBs past
  // it are counted (interfaces_ignored) and their packets skipped and counted
  // (frames_ignored), with a warning in the report.
  static constexpr uint32_t kMaxInterfaces = 4096;
  uint64_t interfaces_ignored() const { return interfaces_ignored_; }
  uint64_t frames_ignored() const { return frames_ignored_; }

 private:
  struct Impl;
  void close_keep_error();  // close() but keep error() (failed open)
  Impl* impl_;
  FileFormat format_ = FileFormat::kPcap;
  std::vector<CaptureInterface> interfaces_;
  std::string error_;
  uint64_t consumed_ = 0;
  uint64_t frames_ = 0;
  uint64_t skipped_blocks_ = 0;
  uint64_t interfaces_ignored_ = 0;
  uint64_t frames_ignored_ = 0;
  FileIdentity identity_;
  bool has_identity_ = false;
};

// Writes pcap (one link type, nanosecond timestamps) or pcapng (interfaces with names).
// Each record goes out with a single write(2) so that a reader never sees half a record
// from a file cut off by a crash (issue 6 builds rotation on this).
class CaptureFileWriter {
 public:
  CaptureFileWriter();
  ~CaptureFileWriter();
  CaptureFileWriter(const CaptureFileWriter&) = delete;
  CaptureFileWriter& operator=(const CaptureFileWriter&) = delete;

  // pcap needs exactly one interface (its link type and snaplen); pcapng takes any number.
  // The file is created by capture/output_file.h's rules: mode 0600, O_EXCL|O_NOFOLLOW;
  // with `overwrite` an existing regular file we own is replaced by a new one; a file of
  // another user, a symlink, or one of `inputs` (the files being read) is refused.
  bool open(const std::string& path, FileFormat format,
            const std::vector<CaptureInterface>& interfaces, bool overwrite,
            const std::vector<FileIdentity>& inputs = {});
  // pcapng only: defines one more interface (an IDB) for the frames that follow.
  bool add_interface(const CaptureInterface& iface);
  bool write(uint32_t iface, uint64_t ts_ns, const uint8_t* data, uint32_t caplen,
             uint32_t wirelen);
  bool close();
  const std::string& error() const { return error_; }
  uint64_t frames_written() const { return frames_; }
  bool is_open() const { return fd_ >= 0; }

 private:
  // Loops over EINTR and partial writes; on an error (disk full) cuts what it wrote of
  // this call off again, so the file ends on a record boundary.
  bool write_all(const uint8_t* p, size_t n);

  int fd_ = -1;
  uint64_t size_ = 0;  // bytes in the file: where the current record starts
  std::string path_;
  uint32_t num_ifaces_ = 0;
  FileFormat format_ = FileFormat::kPcap;
  std::string error_;
  uint64_t frames_ = 0;
  std::vector<uint8_t> buf_;  // one record, reused
};

}  // namespace csumtop
