// \summary: The `-w FILE` output of a live capture: one pcap file (or a tcpdump-style
// -C/-W rotation of them) shared by every capture thread, crash-safe record by record.
//
// Format: classic pcap (draft-ietf-opsawg-pcap-04), nanosecond magic 0xA1B23C4D, host
// byte order, one link type for the whole file:
//  - LINKTYPE_ETHERNET (1) when every interface captured at start is Ethernet-framed
//    (ARPHRD_ETHER, and loopback whose frames carry a zeroed Ethernet header): the frames
//    go out byte for byte as the ring delivered them;
//  - LINKTYPE_LINUX_SLL2 (276) when some are not (tunl0, wireguard, tun: raw IP). Why
//    not pcapng with one IDB per interface: libpcap, and so `tcpdump -r`, refuses a
//    pcapng file whose interfaces have different link types (sf-pcapng.c: "an interface
//    has a type %u different from the type of the first interface"), and the file must
//    be readable by tcpdump. SLL2 is one link type that both tcpdump and Wireshark read,
//    and it keeps what a mixed capture needs: the interface index and the packet type
//    (direction). The cost: an Ethernet frame loses its destination MAC (SLL2 keeps the
//    source address and the EtherType; https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html).
//
// Crash safety (tcpdump -r and Wireshark must read the file after a SIGKILL):
//  - the file header goes out in one write(2) when the file is created, before capture;
//  - each record (16-byte header + data) goes out in ONE writev(2), straight from the
//    capture thread's staging memory: no stdio buffer that a kill would lose. A write to
//    a regular file is not split by other writers (the inode lock is held for the whole
//    call, POSIX "atomic with respect to other writers" for regular files), and the
//    writers here also hold a mutex;
//  - a short write (disk full, RLIMIT_FSIZE) is undone with ftruncate(2) back to the
//    record's start, so the file never ends in half a record because of an error.
//  Limit: Linux checks for a fatal signal between the pages of one write
//  (mm/filemap.c generic_perform_write), so a SIGKILL that lands during the copy of a
//  record that crosses a page boundary of the file can still cut it; the window is the
//  duration of one memcpy of one record. Nothing is fsync'ed: the data survives the death
//  of the process (it is in the page cache), not a power loss.
//
// Rotation (tcpdump -C/-W, tcpdump.c dump_packet_and_trunc and MakeFilename): before a
// record is written, if the current file is already larger than C * 1,000,000 bytes it
// is closed and the next one opened (so a file exceeds the limit by at most one record).
// Names: without -W the first file is FILE and the next ones FILE1, FILE2, ...; with -W N
// they are FILE0 .. FILE{N-1}, zero-padded to the width of N-1, and the count wraps, so
// the oldest file is overwritten. Every file starts with its own header: each is a
// complete capture on its own.
//
// Files are created mode 0600 (bad frames carry payload: DNS names, application data) by
// capture/output_file.h's rules: always a new inode (O_CREAT|O_EXCL|O_NOFOLLOW), never
// through a symlink; an existing regular file we own is replaced, as tcpdump overwrites,
// and one another user owns (planted in /tmp) is refused, never written. Files opened by
// rotation are created with the credentials the process has then: after --user, as that
// user (like tcpdump -Z).
#pragma once
#include <sys/uio.h>

#include <cstdint>
#include <mutex>
#include <string>

namespace csumtop {

struct BadFrameFileOptions {
  std::string path;
  uint16_t linktype = 1;      // LINKTYPE_ETHERNET or LINKTYPE_LINUX_SLL2 (276)
  uint64_t rotate_bytes = 0;  // -C SIZE * 1,000,000; 0: one file
  uint32_t rotate_count = 0;  // -W COUNT; 0: no wrap
};

// One frame to write, as the capture thread has it.
struct OutFrame {
  const uint8_t* data;
  uint32_t caplen, wirelen;
  uint64_t ts_ns;
  uint16_t src_linktype;  // kLinkEthernet or kLinkRaw: how `data` starts
  uint16_t hatype;        // ARPHRD_* of the interface (SLL2)
  int32_t ifindex;        // the interface's index in its namespace (SLL2)
  uint8_t pkttype;        // PACKET_HOST .. PACKET_OUTGOING (SLL2)
  uint8_t context;        // 1: written as context of a bad frame, 0: a bad frame
};

struct BadFrameFileStats {
  uint64_t frames = 0;           // bad frames written
  uint64_t context_frames = 0;   // context frames written
  uint64_t not_written = 0;      // frames lost to write errors or an unsuitable link type
  uint64_t context_skipped = 0;  // context frames left out to keep time order (frame_selector.h)
  uint64_t errors = 0;           // write/open errors (each one counted)
  uint64_t files = 0;            // files opened (1 + rotations)
  std::string first_error;       // the first error, for the warning
  std::string last_error;
  std::string current_path;
};

class BadFrameFile {
 public:
  BadFrameFile() = default;
  ~BadFrameFile();
  BadFrameFile(const BadFrameFile&) = delete;
  BadFrameFile& operator=(const BadFrameFile&) = delete;

  // Creates the first file and writes its header. False with *err (refused symlink,
  // directory missing, permission): nothing was captured yet, the caller exits 2.
  bool open(const BadFrameFileOptions& opts, std::string* err);
  // Thread-safe. Writes one record per frame (rotating when due); errors are counted and
  // kept for stats(), never thrown: capture goes on.
  void write(const OutFrame& f);
  BadFrameFileStats stats() const;
  void add_context_skipped(uint64_t n);  // thread-safe
  void close();

  // The name of file number `n` of a rotation (tcpdump's MakeFilename).
  static std::string rotated_name(const std::string& base, uint32_t n, uint32_t count,
                                  bool rotating);

 private:
  bool open_file(const std::string& path, std::string* err);  // under mu_ (or before use)
  void fail(const std::string& msg);                          // under mu_
  bool rotate();                                              // under mu_

  mutable std::mutex mu_;
  BadFrameFileOptions opts_;
  int fd_ = -1;
  uint64_t size_ = 0;    // bytes in the current file (header included)
  uint32_t index_ = 0;   // number of the current file in the rotation
  bool reopen_ = false;  // the last rotation failed: try again on the next record
  BadFrameFileStats st_;
};

}  // namespace csumtop
