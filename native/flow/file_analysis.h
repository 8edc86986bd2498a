// \summary: Offline analysis of a capture file: reader -> analyzer -> optional writer of
// bad frames, driven in bounded steps so the caller stays responsive.
//
// A mapped pcap file of some size is decoded on every CPU the process may use: while
// this thread reads and decodes a stretch of the file, helper threads decode the
// stretches after it (flow/parallel.h), from record boundaries that are guessed and then
// proven by this thread's reader arriving exactly there; their bad frames are applied
// here in file order. Counters, flows, records and -w output are exactly those of the
// one-thread path, which pipes, pcapng and small files take.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "capture/capture_file.h"
#include "flow/analyzer.h"
#include "flow/parallel.h"

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
  ~FileAnalysis();
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
  // One thread: up to max_frames frames, stopping early once bytes_read() reaches
  // `until` (*done: frames processed).
  StepResult step_sequential(uint32_t max_frames, uint64_t until, uint32_t* done);
  StepResult step_parallel(uint32_t max_frames);
  bool start_round();  // guesses boundaries and starts the helpers; false: not now
  void end_round();    // waits for the helpers, lets the reader unmap again
  StepResult reader_end(ReadStatus st);  // kTruncated / kError / kEof -> StepResult
  // Applies segs_[i] (decoded, proven) in file order and moves the reader past it;
  // false on a -w failure.
  bool commit(const Segment& seg);
  void note_frame(uint64_t ts_ns);  // frames_, first_ns_, last_ns_
  bool write_frame(uint32_t iface, uint32_t n_ifaces, uint64_t ts_ns, const uint8_t* data,
                   uint32_t caplen, uint32_t wirelen);
  bool open_writer(size_t n_ifaces);

  FileAnalysisOptions opts_;
  CaptureFileReader reader_;
  Analyzer analyzer_;
  CaptureFileWriter writer_;
  std::vector<FileIdentity> inputs_;  // the file being read: never the -w file
  size_t writer_ifaces_ = 0;
  bool write_failed_ = false;
  std::string error_, warning_;
  uint64_t frames_ = 0, first_ns_ = 0, last_ns_ = 0;

  // Several threads: decided at the first step.
  bool pool_decided_ = false;
  std::unique_ptr<SegmentPool> pool_;
  std::vector<Segment> segs_;
  // A round: helpers decode segs_[0, round_segs_) while the reader goes to round_join_
  // (bytes_read() at segs_[0].begin); segs_[0, round_next_) are applied already.
  bool round_ = false;
  unsigned round_segs_ = 0;
  unsigned round_next_ = 0;
  uint64_t round_join_ = 0;
  PcapScan round_scan_;
  uint64_t no_split_before_ = 0;  // bytes_read() before which no round is tried again
  Frame frame_;  // scratch for the rare re-decoding after a -w failure
};

}  // namespace csumtop
