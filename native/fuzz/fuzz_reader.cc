// \summary: libFuzzer target: the pcap/pcapng reader (and the decoder behind it) on
// arbitrary file contents, read through a memfd exactly as a real file would be.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>

#include "capture/capture_file.h"
#include "flow/analyzer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int fd = memfd_create("fuzz-capture", MFD_CLOEXEC);
  if (fd < 0) return 0;
  size_t done = 0;
  while (done < size) {
    ssize_t n = write(fd, data + done, size - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  lseek(fd, 0, SEEK_SET);
  csumtop::CaptureFileReader reader;
  if (!reader.open_fd(fd, "fuzz")) return 0;  // the reader owns fd, even on failure
  static csumtop::Analyzer analyzer{csumtop::AnalyzerOptions{}};
  csumtop::CapturedFrame fr;
  for (int i = 0; i < 100000; i++) {
    csumtop::ReadStatus st = reader.next(&fr);
    if (st != csumtop::ReadStatus::kFrame) break;
    const auto& ifs = reader.interfaces();
    if (fr.iface >= ifs.size()) __builtin_trap();  // the reader promised a defined interface
    analyzer.process(fr.iface % 4, fr.data, fr.caplen, fr.wirelen, fr.ts_ns, ifs[fr.iface].linktype,
                     fr.number, nullptr);
  }
  return 0;
}
