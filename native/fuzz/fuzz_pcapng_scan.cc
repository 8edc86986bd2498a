// \summary: libFuzzer target: the pcapng stretch scanner of capture/record_scan.h against
// the reader it stands in for. Every block that scan_record() takes must be the frame
// (same bytes, lengths, timestamp, interface) or the skipped block that
// CaptureFileReader::next() reads there, and every packet block the reader returns as a
// frame without reading a state-changing block first must be taken by the scanner;
// sync_pcapng() and decode_segment() stay inside the mapping and agree with the walk.
//
// Layout: byte 0: bit 0 big-endian, bit 1 blocks framed by this target (else the rest
// is appended raw), bits 2-3: interfaces - 1; then 4 bytes per interface (link type,
// if_tsresol, if_tsoffset seconds as int8, snaplen selector); byte: where sync starts;
// then (framed) chunks [selector][n][n body bytes]: the selector's low 3 bits pick the
// block type (EPB, SPB, PB, IDB, SHB, a skipped type, an EPB with its interface and
// captured length made valid, raw 32-bit type from the body), bit 3 corrupts the
// trailing length, bit 4 sets the captured length past the body.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "capture/capture_file.h"
#include "capture/record_scan.h"
#include "flow/parallel.h"
#include "fuzz/pcapng_out.h"

namespace {

using Out = csumtop::fuzz::PcapngOut;

std::vector<uint8_t> shb(bool big) {
  Out b{{}, big};
  b.u32(0x1A2B3C4D);
  b.u16(1);
  b.u16(0);
  b.u32(0xFFFFFFFF);
  b.u32(0xFFFFFFFF);
  return b.v;
}

std::vector<uint8_t> idb(bool big, const uint8_t* spec) {
  static const uint16_t kLinkTypes[] = {1, 101, 113, 276};
  static const uint32_t kSnaplens[] = {0, 64, 262144, 1};
  Out b{{}, big};
  b.u16(kLinkTypes[spec[0] & 3]);
  b.u16(0);
  b.u32(kSnaplens[spec[3] & 3]);
  b.u16(9);  // if_tsresol
  b.u16(1);
  b.raw(&spec[1], 1);
  b.raw("\0\0\0", 3);
  b.u16(14);  // if_tsoffset
  b.u16(8);
  b.u64(static_cast<uint64_t>(static_cast<int64_t>(static_cast<int8_t>(spec[2]))));
  b.u32(0);
  return b.v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const bool big = data[0] & 1;
  const bool framed = data[0] & 2;
  const unsigned n_ifaces = 1 + ((data[0] >> 2) & 3);
  if (size < 2 + 4 * n_ifaces) return 0;
  Out o{{}, big};
  o.block(0x0A0D0D0A, shb(big), false);
  for (unsigned i = 0; i < n_ifaces; i++) o.block(1, idb(big, data + 1 + 4 * i), false);
  const size_t header_written = o.v.size();
  size_t at = 1 + 4 * n_ifaces;
  const uint8_t sync_at = data[at++];
  if (!framed) {
    o.raw(data + at, size - at);
  } else {
    while (at + 2 <= size) {
      const uint8_t sel = data[at];
      const size_t n = data[at + 1] < size - at - 2 ? data[at + 1] : size - at - 2;
      std::vector<uint8_t> body(data + at + 2, data + at + 2 + n);
      at += 2 + n;
      static const uint32_t kTypes[] = {6, 3, 2, 1, 0x0A0D0D0A, 5, 6, 0};
      uint32_t type = kTypes[sel & 7];
      if ((sel & 7) == 4) body = shb(big);
      if ((sel & 7) == 3 && body.size() >= 4) body = idb(big, body.data());
      if ((sel & 7) == 7 && body.size() >= 4) std::memcpy(&type, body.data(), 4);
      if ((sel & 7) == 6) {
        // A valid EPB: interface, timestamp and lengths from the body, made to fit.
        Out b{{}, big};
        b.u32(sel >> 5 < n_ifaces ? sel >> 5 : 0);
        const uint32_t caplen = static_cast<uint32_t>(body.size());
        b.u32(body.size() >= 4 ? body[0] * 0x01010101u : 0);
        b.u32(body.size() >= 8 ? body[4] * 0x01000001u : 0);
        b.u32((sel & 0x10) ? caplen + 4 : caplen);
        b.u32(caplen + (body.size() & 7));
        b.raw(body.data(), body.size());
        body = b.v;
      }
      o.block(type, body, (sel & 8) != 0);
    }
  }

  int fd = memfd_create("fuzz-pcapng-scan", MFD_CLOEXEC);
  if (fd < 0) return 0;
  for (size_t done = 0; done < o.v.size();) {
    const ssize_t w = write(fd, o.v.data() + done, o.v.size() - done);
    if (w <= 0) {
      close(fd);
      return 0;
    }
    done += static_cast<size_t>(w);
  }
  lseek(fd, 0, SEEK_SET);
  csumtop::CaptureFileReader reader;
  if (!reader.open_fd(fd, "fuzz")) return 0;  // the reader owns fd
  csumtop::PcapScan scan;
  const uint8_t* cursor;
  const uint8_t* limit;
  if (!reader.pcap_scan(&scan, &cursor, &limit)) return 0;
  reader.pin();
  // open() reads the IDBs that follow the SHB (the target's, and any the blocks start with).
  const uint64_t header = reader.bytes_read();
  if (header < header_written || static_cast<size_t>(limit - cursor) != o.v.size() - header)
    __builtin_trap();
  // The scanner reads a heap copy of exactly the blocks' size (ASan cannot see a read past
  // the end of a mapping's last page); the reader's frames are compared by offset.
  const size_t body = static_cast<size_t>(limit - cursor);
  uint8_t* copy = new uint8_t[body ? body : 1];
  if (body) std::memcpy(copy, cursor, body);
  const uint8_t* const mapped = cursor;
  cursor = copy;
  limit = copy + body;

  // The scanner's walk against the reader, block by block.
  const uint8_t* p = cursor;
  const uint8_t* next = nullptr;
  uint64_t frames = 0, skipped = 0;
  csumtop::CapturedFrame fr, rf;
  for (;;) {
    const csumtop::ScanResult r = csumtop::scan_record(scan, p, limit, &fr, &next);
    if (r == csumtop::ScanResult::kSkip) {
      if (next <= p || next > limit) __builtin_trap();
      p = next;
      skipped++;
      continue;
    }
    // The reader reads the skipped blocks before this one within next().
    const uint64_t before = header + static_cast<uint64_t>(p - cursor);
    const csumtop::ReadStatus st = reader.next(&rf);
    if (r == csumtop::ScanResult::kStop) {
      // Refused: the reader must not return this very block as a frame of the same state.
      if (st == csumtop::ReadStatus::kFrame && rf.offset == before && reader.scan_holds(scan))
        __builtin_trap();
      break;
    }
    if (st != csumtop::ReadStatus::kFrame || rf.offset != before ||
        rf.data - mapped != fr.data - cursor || rf.caplen != fr.caplen ||
        rf.wirelen != fr.wirelen || rf.ts_ns != fr.ts_ns || rf.iface != fr.iface ||
        reader.blocks_skipped() != skipped || !reader.scan_holds(scan) ||
        reader.bytes_read() != header + static_cast<uint64_t>(next - cursor)) {
      __builtin_trap();
    }
    frames++;
    p = next;
  }

  // A segment from the reader's position decodes exactly what the walk took.
  static csumtop::Frame frame;
  csumtop::Segment seg;
  seg.begin = cursor;
  seg.stop = limit;
  seg.limit = limit;
  seg.max_frames = static_cast<uint32_t>(body / 16 + 1);  // a packet block has 16 bytes or more
  seg.bad.reserve(seg.max_frames);
  seg.counters.resize(scan.interfaces());
  csumtop::decode_segment(scan, csumtop::DecodeOptions{}, &seg, &frame);
  if (seg.frames != frames || seg.skipped != skipped || seg.end != p) __builtin_trap();
  for (const csumtop::SegmentEvent& e : seg.bad) {
    if (e.data < cursor || e.data + e.caplen > limit || e.iface < scan.first_iface() ||
        e.iface >= scan.first_iface() + scan.interfaces())
      __builtin_trap();
  }

  // A guess from anywhere: a block boundary's alignment, inside the window.
  const uint8_t* from = cursor + (body ? sync_at % (body + 1) : 0);
  const uint8_t* guess = csumtop::sync_pcapng(scan, from, limit, limit);
  if (guess != nullptr &&
      (guess < from || guess >= limit || (reinterpret_cast<uintptr_t>(guess) & 3) != 0))
    __builtin_trap();
  reader.unpin();
  delete[] copy;
  return 0;
}
