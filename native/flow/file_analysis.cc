// \summary: Offline analysis driver (see file_analysis.h).
#include "flow/file_analysis.h"

namespace csumtop {

FileAnalysis::FileAnalysis(const FileAnalysisOptions& opts)
    : opts_(opts), analyzer_(opts.analyzer) {}

bool FileAnalysis::open(const std::string& path) {
  const bool ok = path == "-" ? reader_.open_fd(0, "standard input") : reader_.open(path);
  if (!ok) {
    error_ = reader_.error();
    return false;
  }
  return true;
}

StepResult FileAnalysis::step(uint32_t max_frames) {
  CapturedFrame fr;
  const std::vector<CaptureInterface>& ifaces = reader_.interfaces();
  for (uint32_t n = 0; n < max_frames; n++) {
    switch (reader_.next(&fr)) {
      case ReadStatus::kFrame:
        break;
      case ReadStatus::kEof:
        return StepResult::kDone;
      case ReadStatus::kTruncated:
        warning_ = reader_.error();
        return StepResult::kTruncated;
      case ReadStatus::kError:
        error_ = reader_.error();
        return StepResult::kError;
    }
    if (frames_ == 0 || fr.ts_ns < first_ns_) first_ns_ = fr.ts_ns;
    if (fr.ts_ns > last_ns_) last_ns_ = fr.ts_ns;
    frames_++;
    const uint16_t linktype = fr.iface < ifaces.size() ? ifaces[fr.iface].linktype : 0xffff;
    const Frame& f = analyzer_.process(fr.iface, fr.data, fr.caplen, fr.wirelen, fr.ts_ns,
                                       linktype, fr.number, nullptr);
    if (!opts_.write_path.empty() && f.has_bad() && !write_failed_) {
      if (!write_frame(fr)) {
        write_failed_ = true;
        return StepResult::kError;
      }
    }
  }
  return StepResult::kMore;
}

bool FileAnalysis::open_writer() {
  const std::vector<CaptureInterface>& ifaces = reader_.interfaces();
  if (ifaces.empty()) {
    error_ = "cannot write " + opts_.write_path + ": the capture defines no interface";
    return false;
  }
  // pcap holds one link type; a pcapng input keeps its interfaces and names.
  std::vector<CaptureInterface> out;
  if (reader_.format() == FileFormat::kPcap) {
    out.push_back(ifaces[0]);
  } else {
    out = ifaces;
  }
  if (!writer_.open(opts_.write_path, reader_.format(), out, opts_.overwrite)) {
    error_ = writer_.error();
    return false;
  }
  writer_ifaces_ = out.size();
  return true;
}

bool FileAnalysis::write_frame(const CapturedFrame& fr) {
  if (!writer_.is_open() && !open_writer()) return false;
  if (fr.iface >= writer_ifaces_ && reader_.format() == FileFormat::kPcapng) {
    // An interface defined after the writer was opened (a later IDB or section).
    for (size_t i = writer_ifaces_; i < reader_.interfaces().size(); i++) {
      if (!writer_.add_interface(reader_.interfaces()[i])) {
        error_ = writer_.error();
        return false;
      }
    }
    writer_ifaces_ = reader_.interfaces().size();
  }
  const uint32_t iface = reader_.format() == FileFormat::kPcap ? 0 : fr.iface;
  if (!writer_.write(iface, fr.ts_ns, fr.data, fr.caplen, fr.wirelen)) {
    error_ = writer_.error();
    return false;
  }
  return true;
}

bool FileAnalysis::finish() {
  if (opts_.write_path.empty() || write_failed_) return !write_failed_;
  if (!writer_.is_open() && !open_writer()) return false;
  if (!writer_.close()) {
    error_ = writer_.error();
    return false;
  }
  return true;
}

}  // namespace csumtop
