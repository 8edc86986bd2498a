// \summary: libFuzzer target: the pcapng Interface Description Block option parser
// (native/capture/pcapng_reader.cc read_idb: if_name, if_description, if_tsresol,
// if_tsoffset, any other code, lengths that run past the block) and the per-file
// interface cap, with the timestamps of packets on the interfaces it defined.
//
// The input is not a file: it is a list of option areas that this target frames into
// valid blocks (lengths, padding, trailers), so that the fuzzer spends its time inside
// the options instead of on block framing (fuzz_reader covers that).
// Layout: byte 0: bit 0 big-endian section, bits 1-7: packets per interface (0-127);
// then chunks of [u16 little-endian count N][N bytes of IDB options, zero-padded to 4];
// the first chunk with N = 0xFFFF repeats the previous IDB 5000 times (past the cap of
// 4096); packets go to the first and last 16 interfaces.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "capture/capture_file.h"
#include "fuzz/pcapng_out.h"

namespace {

using Out = csumtop::fuzz::PcapngOut;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  Out o{{}, (data[0] & 1) != 0};
  const unsigned packets = data[0] >> 1;
  // Section Header Block (section 4.1): magic in the section's order, version 1.0,
  // section length unknown, no options.
  {
    Out b{{}, o.big};
    b.u32(0x1A2B3C4D);
    b.u16(1);
    b.u16(0);
    b.u32(0xFFFFFFFF);
    b.u32(0xFFFFFFFF);
    o.block(0x0A0D0D0A, b.v);
  }
  std::vector<uint8_t> idb;
  uint32_t defined = 0;
  bool flood_done = false;
  for (size_t at = 1; at + 2 <= size;) {
    const uint16_t n = static_cast<uint16_t>(data[at] | data[at + 1] << 8);
    at += 2;
    if (n == 0xFFFF) {
      if (flood_done) continue;  // one flood per input keeps runs fast
      flood_done = true;
      for (int k = 0; k < 5000 && !idb.empty(); k++, defined++) o.block(1, idb);
      continue;
    }
    const size_t take = n < size - at ? n : size - at;
    // Section 4.2: LinkType Ethernet, reserved, SnapLen 0, then the fuzzed options.
    Out b{{}, o.big};
    b.u16(1);
    b.u16(0);
    b.u32(0);
    b.raw(data + at, take);
    idb = b.v;
    o.block(1, idb);
    defined++;
    at += take;
  }
  // Enhanced Packet Blocks (section 4.3) on the first 16 and the last 16 interfaces
  // defined (past the cap after a flood): a 60-byte frame, timestamps that make
  // if_tsresol and if_tsoffset matter. Not on all: a flood would make every run slow.
  for (uint32_t i = 0; i < defined && packets > 0; i++) {
    if (i == 16 && defined > 32) i = defined - 16;
    for (unsigned p = 0; p < packets && p < 2; p++) {
      Out b{{}, o.big};
      b.u32(i);
      b.u32(0x80000000u + p);  // timestamp high
      b.u32(0xFFFFFFFFu - i);  // timestamp low
      b.u32(60);
      b.u32(60);
      std::vector<uint8_t> frame(60, 0);
      b.raw(frame.data(), frame.size());
      o.block(6, b.v);
    }
  }

  int fd = memfd_create("fuzz-pcapng", MFD_CLOEXEC);
  if (fd < 0) return 0;
  size_t done = 0;
  while (done < o.v.size()) {
    ssize_t w = write(fd, o.v.data() + done, o.v.size() - done);
    if (w <= 0) break;
    done += static_cast<size_t>(w);
  }
  lseek(fd, 0, SEEK_SET);
  csumtop::CaptureFileReader reader;
  if (!reader.open_fd(fd, "fuzz")) return 0;  // the reader owns fd
  csumtop::CapturedFrame fr;
  uint64_t frames = 0;
  for (;;) {
    const csumtop::ReadStatus st = reader.next(&fr);
    if (st != csumtop::ReadStatus::kFrame) break;
    frames++;
    // The reader's promises: a frame names a stored interface; the cap holds.
    if (fr.iface >= reader.interfaces().size()) __builtin_trap();
    if (fr.caplen != 60) __builtin_trap();
  }
  if (reader.interfaces().size() > csumtop::CaptureFileReader::kMaxInterfaces) __builtin_trap();
  if (reader.interfaces().size() + reader.interfaces_ignored() > defined) __builtin_trap();
  if (frames + reader.frames_ignored() > reader.frames_read()) __builtin_trap();
  return 0;
}
