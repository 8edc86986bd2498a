// \summary: Offline analysis of a capture file: reader -> analyzer -> optional writer of
// bad frames, driven in bounded steps so the caller stays responsive.
//
// A mapped pcap or pcapng file of some size is decoded on every CPU the process may use:
// while this thread reads and decodes a stretch of the file, helper threads decode the
// stretches after it (flow/parallel.h), from record boundaries that are guessed and then
// proven by this thread's reader arriving exactly there (pcapng: with the interfaces the
// helpers read them with); their bad frames are applied here in file order. Counters,
// flows, records and -w output are exactly those of the one-thread path, which pipes,
// small files, correlation, -f and -c take.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "capture/bpf_filter.h"
#include "capture/capture_file.h"
#include "flow/analyzer.h"
#include "flow/parallel.h"

namespace csumtop {

struct FileAnalysisOptions {
  AnalyzerOptions analyzer;
  std::string write_path;  // empty: no -w
  bool overwrite = false;
  // -f / trailing filter words: frames the filter rejects are skipped before anything
  // counts them (libpcap's pcap_offline_filter semantics, as tcpdump -r). The programs
  // come per link type through set_filter(), compiled in a child process (libpcap's
  // optimizer is unbounded in time: src/capture/filter-compile.ts).
  bool filtered = false;
  // -c COUNT: stop after this many frames (after the filter); 0: no limit.
  uint64_t max_count = 0;
};

// kNeedFilter: a frame of a link type with no filter program yet was read; it is held
// until set_filter(need_linktype(), ...) and the next step() processes it first.
enum class StepResult : uint8_t { kMore, kDone, kTruncated, kError, kNeedFilter };

class FileAnalysis {
 public:
  explicit FileAnalysis(const FileAnalysisOptions& opts);
  ~FileAnalysis();
  bool open(const std::string& path);  // false: error() says why
  // Processes up to max_frames frames.
  StepResult step(uint32_t max_frames);
  // Flushes and closes the -w file (also creates it empty when nothing was bad).
  bool finish();
  // The filter program for frames of `linktype` (after kNeedFilter); false with error()
  // set when libpcap's pcap_offline_filter cannot be loaded in this process.
  bool set_filter(uint16_t linktype, BpfProgram prog);
  uint16_t need_linktype() const { return need_linktype_; }
  // Frames the filter rejected (not counted anywhere else).
  uint64_t filtered_out() const { return filtered_out_; }
  // -c: max_count frames were counted; the rest of the file was not read.
  bool count_reached() const { return opts_.max_count != 0 && frames_ >= opts_.max_count; }

  const std::string& error() const { return error_; }  // kError / kTruncated message
  const std::string& warning() const { return warning_; }
  CaptureFileReader& reader() { return reader_; }
  Analyzer& analyzer() { return analyzer_; }
  uint64_t frames() const { return frames_; }
  uint64_t first_ns() const { return first_ns_; }
  uint64_t last_ns() const { return last_ns_; }
  uint64_t written() const { return writer_.frames_written(); }
  // Frames decoded by helper threads and applied (tests: the parallel paths were taken).
  uint64_t helper_frames() const { return helper_frames_; }

 private:
  // One thread: up to max_frames frames, stopping early once bytes_read() reaches
  // `until` (*done: frames processed).
  StepResult step_sequential(uint32_t max_frames, uint64_t until, uint32_t* done);
  StepResult step_parallel(uint32_t max_frames);
  StepResult step_events(uint32_t max_frames);  // with correlation: see file_analysis.cc
  bool start_round();  // guesses boundaries and starts the helpers; false: not now
  void end_round();    // waits for the helpers, lets the reader unmap again
  StepResult reader_end(ReadStatus st);  // kTruncated / kError / kEof -> StepResult
  // Applies segs_[i] (decoded, proven) in file order and moves the reader past it;
  // false on a -w failure.
  bool commit(const Segment& seg);
  // The events of seg's frames up to index `last_index`, numbered from `base` + 1.
  void append_events(const Segment& seg, uint64_t base, uint64_t last_index);
  void note_frame(uint64_t ts_ns);  // frames_, first_ns_, last_ns_
  // One frame the reader returned: filtered, counted, written; kMore, kNeedFilter (the
  // frame is held in pending_) or kError (-w failed).
  StepResult process(const CapturedFrame& fr);
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
  uint64_t helper_frames_ = 0;
  std::map<uint16_t, BpfProgram> filters_;  // link type -> program (filtered only)
  uint16_t need_linktype_ = 0;
  bool has_pending_ = false;
  CapturedFrame pending_;  // its data stays valid: the reader is not advanced meanwhile
  uint64_t filtered_out_ = 0;

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
  Frame frame_;                   // scratch for the rare re-decoding after a -w failure
};

}  // namespace csumtop
