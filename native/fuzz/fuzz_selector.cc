// \summary: libFuzzer target: the live `-w` path of a capture thread
// (capture/frame_selector.cc, capture/bad_frame_file.cc): the bounded history with its
// byte arena and flow chains, --context before/after selection, time-ordered flushes,
// SLL2 conversion of raw-IP frames and -C rotation, on an arbitrary stream of frames;
// the files written are then read back.
//
// Frames of up to 256 KiB are described by the input (length, flow, bad, timestamp
// step) with bytes taken from a fixed pattern, so a 70 KB input can push megabytes
// through the 8 MiB arena and its 8192 slots and make them wrap.
// Input: byte 0 = context (0..7), byte 1 = link type of the file (bit 0: SLL2) and
// rotation (bit 1); then 6 bytes per frame.
#include <dirent.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "capture/bad_frame_file.h"
#include "capture/capture_file.h"
#include "capture/frame_selector.h"

namespace {
const std::string& dir() {
  static const std::string d = [] {
    // In $TMPDIR (test/fuzz/fuzz.test.ts points it at its own directory, removed after).
    std::string tmpl =
        std::string(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") + "/csumtop-fuzz-selector-XXXXXX";
    if (!mkdtemp(&tmpl[0])) __builtin_trap();
    return tmpl;
  }();
  return d;
}

const uint8_t* pattern() {
  static uint8_t* p = [] {
    auto* b = new uint8_t[csumtop::FrameSelector::kMaxStored + 4096];
    for (uint32_t i = 0; i < csumtop::FrameSelector::kMaxStored + 4096; i++)
      b[i] = static_cast<uint8_t>(i * 131 + 7);
    b[12] = 0x08;  // an Ethernet/IPv4-looking start
    b[13] = 0x00;
    b[0] = 0x45;  // and a raw IPv4 one for kLinkRaw frames
    return b;
  }();
  return p;
}

void clear_dir() {
  DIR* d = opendir(dir().c_str());
  if (!d) return;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') unlink((dir() + "/" + e->d_name).c_str());
  }
  closedir(d);
}

// Frames in every file of the directory, read with the capture-file reader.
uint64_t read_back(uint64_t* files) {
  uint64_t frames = 0;
  *files = 0;
  DIR* d = opendir(dir().c_str());
  if (!d) __builtin_trap();
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    csumtop::CaptureFileReader r;
    if (!r.open(dir() + "/" + e->d_name)) __builtin_trap();
    (*files)++;
    csumtop::CapturedFrame fr;
    csumtop::ReadStatus st;
    while ((st = r.next(&fr)) == csumtop::ReadStatus::kFrame) frames++;
    if (st != csumtop::ReadStatus::kEof) __builtin_trap();
  }
  closedir(d);
  return frames;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  clear_dir();
  const uint32_t context = data[0] & 7;
  csumtop::BadFrameFileOptions o;
  o.path = dir() + "/bad.pcap";
  o.linktype = (data[1] & 1) ? 276 : 1;
  o.rotate_bytes = (data[1] & 2) ? 1000000 : 0;
  auto file = std::make_shared<csumtop::BadFrameFile>();
  std::string err;
  if (!file->open(o, &err)) __builtin_trap();
  uint64_t expected_bad = 0;
  {
    csumtop::FrameSelector sel(file, context);
    uint64_t ts = 1700000000000000000ull;
    for (size_t i = 2; i + 6 <= size; i += 6) {
      const uint8_t* q = data + i;
      // length: mostly small, sometimes up to kMaxStored + 4 KiB (cut to kMaxStored)
      uint32_t len = uint32_t{q[0]} | uint32_t{q[1]} << 8;
      if (q[5] & 0x80) len = len * 4 % (csumtop::FrameSelector::kMaxStored + 4096);
      const bool bad = q[2] & 1;
      const bool raw =
          (q[2] & 2) && o.linktype == 276;  // an Ethernet file takes Ethernet frames only
      ts += q[3] * 1000;                    // time goes on, or stands still
      if (q[5] & 0x40) ts -= 500;           // or steps back a little (other rings)
      csumtop::SelectorFrame f;
      f.data = pattern();
      f.caplen = len;
      f.wirelen = len + (q[5] & 3);
      f.ts_ns = ts;
      f.src_linktype = raw ? 101 : 1;
      f.hatype = raw ? 65534 : 1;
      f.ifindex = 1 + (q[4] & 3);
      f.pkttype = q[4] >> 5;
      if (bad) expected_bad++;
      sel.frame(f, bad, 1 + (q[4] & 7));
      if (q[5] & 0x20) sel.flush();
    }
    sel.flush();
  }
  const csumtop::BadFrameFileStats st = file->stats();
  file->close();
  if (st.frames != expected_bad || st.errors != 0) __builtin_trap();
  uint64_t files = 0;
  const uint64_t frames = read_back(&files);
  if (frames != st.frames + st.context_frames || files != st.files) __builtin_trap();
  return 0;
}
