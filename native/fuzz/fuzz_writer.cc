// \summary: libFuzzer target: the pcap/pcapng writer (capture/pcap_writer.cc), the
// `-w` of `-r`, on arbitrary frames and interface names, checked by reading the file
// back: every frame written must come back byte for byte with its interface, lengths
// and timestamp, and every interface with its name and link type (pcapng).
//
// Input: byte 0 = format (bit 0: pcapng) and interface count (bits 1-2, pcapng);
// per interface: 1 byte length + name bytes (any byte, NUL included); then records of
// [iface 1][extra wirelen 1][ts 8][length 2, little endian][data].
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "capture/capture_file.h"

namespace {
struct Written {
  uint32_t iface;
  uint64_t ts;
  const uint8_t* data;
  uint32_t caplen, wirelen;
};

const std::string& path() {
  // In $TMPDIR (test/fuzz/fuzz.test.ts points it at its own directory, removed after).
  static const std::string p = std::string(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") +
                               "/csumtop-fuzz-writer-" + std::to_string(getpid()) + ".pcap";
  return p;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t* p = data;
  const uint8_t* end = data + size;
  const bool ng = *p & 1;
  const uint32_t nif = ng ? 1 + ((*p >> 1) & 3) : 1;
  p++;
  std::vector<csumtop::CaptureInterface> ifs(nif);
  static const uint16_t kLinkTypes[] = {1, 101, 276, 113};
  for (uint32_t i = 0; i < nif; i++) {
    ifs[i].linktype = kLinkTypes[i % 4];
    if (ng && p < end) {
      const size_t want = *p++;
      const size_t n = std::min<size_t>(want, static_cast<size_t>(end - p));
      ifs[i].name.assign(reinterpret_cast<const char*>(p), n);
      p += n;
    }
  }
  csumtop::CaptureFileWriter w;
  if (!w.open(path(), ng ? csumtop::FileFormat::kPcapng : csumtop::FileFormat::kPcap, ifs, true)) {
    __builtin_trap();  // a temporary file in /tmp must open
  }
  std::vector<Written> out;
  while (end - p >= 12) {
    Written f;
    f.iface = p[0] % (nif + 1);  // one past the last: must be refused
    const uint32_t extra = p[1];
    std::memcpy(&f.ts, p + 2, 8);
    uint16_t len;
    std::memcpy(&len, p + 10, 2);
    p += 12;
    f.caplen = std::min<uint32_t>(len, static_cast<uint32_t>(end - p));
    f.data = p;
    p += f.caplen;
    f.wirelen = f.caplen + extra;
    if (!ng) f.ts %= uint64_t{UINT32_MAX} * 1000000000u;  // pcap: 32-bit seconds
    const bool ok = w.write(f.iface, f.ts, f.data, f.caplen, f.wirelen);
    if (ok != (f.iface < nif)) __builtin_trap();
    if (ok) out.push_back(f);
  }
  if (!w.close()) __builtin_trap();

  csumtop::CaptureFileReader r;
  if (!r.open(path())) __builtin_trap();
  csumtop::CapturedFrame fr;
  size_t k = 0;
  for (;;) {
    const csumtop::ReadStatus st = r.next(&fr);
    if (st == csumtop::ReadStatus::kEof) break;
    if (st != csumtop::ReadStatus::kFrame || k >= out.size()) __builtin_trap();
    const Written& f = out[k++];
    if (fr.iface != f.iface || fr.ts_ns != f.ts || fr.caplen != f.caplen ||
        fr.wirelen != f.wirelen || (f.caplen && std::memcmp(fr.data, f.data, f.caplen) != 0)) {
      __builtin_trap();
    }
  }
  if (k != out.size() || r.interfaces().size() != nif) __builtin_trap();
  for (uint32_t i = 0; i < nif; i++) {
    if (r.interfaces()[i].linktype != ifs[i].linktype) __builtin_trap();
    // The reader drops trailing NULs of a string option (padding, pcapng_reader.cc).
    std::string name = ifs[i].name;
    while (!name.empty() && name.back() == '\0') name.pop_back();
    if (ng && r.interfaces()[i].name != name) __builtin_trap();
  }
  return 0;
}
