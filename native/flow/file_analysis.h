// \summary: Offline analysis of a capture file: reader -> analyzer -> optional writer of
// bad frames, driven in bounded steps so the caller stays responsive.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "capture/capture_file.h"
#include "flow/analyzer.h"

namespace csumtop {

struct FileAnalysisOptions {
  AnalyzerOptions analyzer;
  std::string write_path;  // empty: no -w
  bool overwrite = false;
};

enum class StepResult : uint8_t { kMore, kDone, kTruncated, kError };

class FileAnalysis {
 public:
  explicit FileAnalysis(const FileAnalysisOptions& opts);
  bool open(const std::string& path);  // false: error() says why
  // Processes up to max_frames frames.
  StepResult step(uint32_t max_frames);
  // Flushes and closes the -w file (also creates it empty when nothing was bad).
  bool finish();

  const std::string& error() const { return error_; }    // kError / kTruncated message
  const std::string& warning() const { return warning_; }
  CaptureFileReader& reader() { return reader_; }
  Analyzer& analyzer() { return analyzer_; }
  uint64_t frames() const { return frames_; }
  uint64_t first_ns() const { return first_ns_; }
  uint64_t last_ns() const { return last_ns_; }
  uint64_t written() const { return writer_.frames_written(); }

 private:
  bool write_frame(const CapturedFrame& fr);
  bool open_writer();

  FileAnalysisOptions opts_;
  CaptureFileReader reader_;
  Analyzer analyzer_;
  CaptureFileWriter writer_;
  size_t writer_ifaces_ = 0;
  bool write_failed_ = false;
  std::string error_, warning_;
  uint64_t frames_ = 0, first_ns_ = 0, last_ns_ = 0;
};

}  // namespace csumtop
