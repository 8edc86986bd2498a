// \summary: Offline analysis driver (see file_analysis.h).
#include "flow/file_analysis.h"

#include <algorithm>

namespace csumtop {

namespace {

// A round covers kRoundBytes of the file, split evenly between this thread and the
// helpers; the helpers' part stays mapped until it is applied. A helper decodes at most
// kSegmentFrames frames (its bad frames wait in memory).
constexpr uint64_t kRoundBytes = 32u << 20;
constexpr uint32_t kSegmentFrames = 65536;
// This thread's share of a round, in percent of an even share.
#ifndef OWN_SHARE
#define OWN_SHARE 85
#endif
constexpr uint64_t kOwnShare = OWN_SHARE;
// How far past its nominal start a segment's first record is looked for.
constexpr size_t kSyncScan = 512u << 10;
// Smaller files (or what is left of one) are not worth a thread.
constexpr uint64_t kParallelMinBytes = 8u << 20;
// With correlation, a step of fewer frames per thread than this is read by one thread.
constexpr uint32_t kMinEventShare = 512;

// Moves *p past `frames` records the reader would return as frames (skipping the blocks
// it would skip); false at a record it would not (left to it), or at the end.
bool walk_records(const PcapScan& scan, const uint8_t** p, const uint8_t* limit, uint32_t frames) {
  CapturedFrame fr;
  const uint8_t* next = nullptr;
  for (uint32_t n = 0; n < frames;) {
    const ScanResult r = scan_record(scan, *p, limit, &fr, &next);
    if (r == ScanResult::kStop) return false;
    *p = next;
    if (r == ScanResult::kFrame) n++;
  }
  return true;
}

}  // namespace

FileAnalysis::FileAnalysis(const FileAnalysisOptions& opts)
    : opts_(opts), analyzer_(opts.analyzer) {}

FileAnalysis::~FileAnalysis() {
  // Helpers may still be decoding into segs_ (destroyed before pool_) from the mapping.
  if (pool_) pool_->wait();
}

bool FileAnalysis::open(const std::string& path) {
  const bool ok = path == "-" ? reader_.open_fd(0, "standard input") : reader_.open(path);
  if (!ok) {
    error_ = reader_.error();
    return false;
  }
  // -w must not destroy the input nor write into another user's file (issue 17): refused
  // here, before a frame is read or a byte written, and again by the writer on the path
  // it creates (capture/output_file.h).
  FileIdentity input;
  if (reader_.identity(&input)) inputs_.push_back(input);
  OutputFileOptions out;
  out.replace = opts_.overwrite;
  out.inputs = inputs_;
  if (!opts_.write_path.empty() && !check_output_path(opts_.write_path, out, &error_)) {
    reader_.close();
    return false;
  }
  return true;
}

void FileAnalysis::note_frame(uint64_t ts_ns) {
  if (frames_ == 0 || ts_ns < first_ns_) first_ns_ = ts_ns;
  if (ts_ns > last_ns_) last_ns_ = ts_ns;
  frames_++;
}

StepResult FileAnalysis::reader_end(ReadStatus st) {
  switch (st) {
    case ReadStatus::kTruncated:
      warning_ = reader_.error();
      return StepResult::kTruncated;
    case ReadStatus::kError:
      error_ = reader_.error();
      return StepResult::kError;
    default:
      return StepResult::kDone;
  }
}

StepResult FileAnalysis::step(uint32_t max_frames) {
  if (!pool_decided_) {
    pool_decided_ = true;
    const unsigned threads = decode_threads();
    PcapScan scan;
    const uint8_t* cursor;
    const uint8_t* limit;
    // A filter (decided per frame here) and -c (nothing decoded past the count) read on
    // one thread.
    if (threads > 1 && !opts_.filtered && opts_.max_count == 0 &&
        reader_.pcap_scan(&scan, &cursor, &limit) &&
        static_cast<uint64_t>(limit - cursor) >= kParallelMinBytes) {
      pool_ = std::make_unique<SegmentPool>(threads - 1, opts_.analyzer.decode);
      segs_.resize(threads - 1);
      for (Segment& sg : segs_) sg.bad.reserve(kSegmentFrames);
    }
  }
  if (pool_ && opts_.analyzer.events.enabled) return step_events(max_frames);
  if (pool_) return step_parallel(max_frames);
  uint32_t done;
  return step_sequential(max_frames, UINT64_MAX, &done);
}

StepResult FileAnalysis::step_sequential(uint32_t max_frames, uint64_t until, uint32_t* done) {
  CapturedFrame fr;
  uint32_t n = 0;
  StepResult result = StepResult::kMore;
  if (has_pending_) {
    // The frame that waited for its link type's filter program.
    has_pending_ = false;
    n++;
    result = process(pending_);
  }
  while (result == StepResult::kMore && n < max_frames && reader_.bytes_read() < until) {
    if (count_reached()) {
      result = StepResult::kDone;
      break;
    }
    const ReadStatus st = reader_.next(&fr);
    if (st != ReadStatus::kFrame) {
      result = reader_end(st);
      break;
    }
    n++;
    result = process(fr);
  }
  if (result == StepResult::kMore && count_reached()) result = StepResult::kDone;
  *done = n;
  return result;
}

StepResult FileAnalysis::process(const CapturedFrame& fr) {
  const std::vector<CaptureInterface>& ifaces = reader_.interfaces();
  const uint16_t linktype = fr.iface < ifaces.size() ? ifaces[fr.iface].linktype : 0xffff;
  if (opts_.filtered) {
    const auto prog = filters_.find(linktype);
    if (prog == filters_.end()) {
      pending_ = fr;
      has_pending_ = true;
      need_linktype_ = linktype;
      return StepResult::kNeedFilter;
    }
    if (!offline_filter(prog->second, fr.data, fr.caplen, fr.wirelen)) {
      filtered_out_++;
      return StepResult::kMore;
    }
  }
  note_frame(fr.ts_ns);
  // Roles are not known natively: with several interfaces (pcapng from two devices)
  // every plain packet may be the decapsulated side of a carrier.
  if (ifaces.size() > 1) analyzer_.events().set_plain_everywhere(true);
  const uint32_t bad = analyzer_.process_file(fr.iface, fr.data, fr.caplen, fr.wirelen, fr.ts_ns,
                                              linktype, fr.number);
  // The file was truncated under us while this frame was read: next() says so.
  if (reader_.shrank()) return StepResult::kMore;
  if (bad != 0 && !opts_.write_path.empty() && !write_failed_) {
    if (!write_frame(fr.iface, static_cast<uint32_t>(ifaces.size()), fr.ts_ns, fr.data, fr.caplen,
                     fr.wirelen)) {
      write_failed_ = true;
      return StepResult::kError;
    }
  }
  return StepResult::kMore;
}

bool FileAnalysis::set_filter(uint16_t linktype, BpfProgram prog) {
  if (!offline_filter_ready(&error_)) return false;
  filters_[linktype] = std::move(prog);
  return true;
}

bool FileAnalysis::start_round() {
  const uint8_t* cursor;
  const uint8_t* limit;
  if (reader_.bytes_read() < no_split_before_ ||
      !reader_.pcap_scan(&round_scan_, &cursor, &limit)) {
    return false;
  }
  const uint64_t left = static_cast<uint64_t>(limit - cursor);
  if (left < kParallelMinBytes) return false;
  const uint64_t span = left < kRoundBytes ? left : kRoundBytes;
  // This thread's part is a little smaller: it also reads through the reader, applies
  // the segments and unmaps the file behind itself.
  const uint64_t own = span * kOwnShare / (100 * (segs_.size() + 1));
  const uint64_t piece = (span - own) / segs_.size();
  // Segment j starts at the first plausible record at or after cursor + own + j * piece
  // and runs to where segment j + 1 starts (the last one to cursor + span).
  unsigned n = 0;
  const uint8_t* prev = cursor;
  for (unsigned j = 0; j < segs_.size(); j++) {
    const uint8_t* from = cursor + own + j * piece;
    if (from <= prev) break;
    const uint8_t* scan_end =
        limit - from > static_cast<ptrdiff_t>(kSyncScan) ? from + kSyncScan : limit;
    const uint8_t* at = sync_record(round_scan_, from, scan_end, limit);
    if (at == nullptr) break;
    segs_[j].begin = at;
    segs_[j].limit = limit;
    segs_[j].max_frames = kSegmentFrames;
    if (j > 0) segs_[j - 1].stop = at;
    prev = at;
    n = j + 1;
  }
  if (n == 0) {
    // No record start found where one was looked for: try again a round later.
    no_split_before_ = reader_.bytes_read() + span;
    return false;
  }
  segs_[n - 1].stop = cursor + span > segs_[n - 1].begin ? cursor + span : segs_[n - 1].begin;
  round_join_ = reader_.bytes_read() + static_cast<uint64_t>(segs_[0].begin - cursor);
  round_segs_ = n;
  round_next_ = 0;
  round_ = true;
  reader_.pin();  // the helpers read ahead: the mapping stays even if the reader ends
  pool_->start(round_scan_, segs_.data(), n);
  return true;
}

void FileAnalysis::end_round() {
  pool_->wait();
  reader_.unpin();
  round_ = false;
}

StepResult FileAnalysis::step_parallel(uint32_t max_frames) {
  uint32_t n = 0;
  while (n < max_frames) {
    if (!round_ && !start_round()) {
      // One thread for a stretch: up to where the next round may start.
      uint32_t done;
      const uint64_t until =
          no_split_before_ > reader_.bytes_read() ? no_split_before_ : UINT64_MAX;
      const StepResult r = step_sequential(max_frames - n, until, &done);
      n += done;
      if (r != StepResult::kMore) return r;
      if (until == UINT64_MAX) return r;  // not splittable any more (read(2), end near)
      continue;
    }
    if (round_next_ == 0) {
      // This thread's part: up to the first segment.
      uint32_t done;
      const StepResult r = step_sequential(max_frames - n, round_join_, &done);
      n += done;
      if (r != StepResult::kMore) {
        end_round();
        return r;
      }
      if (reader_.bytes_read() < round_join_) return StepResult::kMore;  // budget spent
      pool_->wait();
      if (reader_.bytes_read() != round_join_ || reader_.shrank() ||
          !reader_.scan_holds(round_scan_)) {
        // The guess was not a record boundary (the reader went past it), or the reader
        // met a pcapng block that changed how the records after it read: drop the round.
        end_round();
        continue;
      }
    }
    // Apply the segments in order while each starts where the one before ended.
    while (round_next_ < round_segs_) {
      const Segment& seg = segs_[round_next_];
      if (round_next_ > 0 && segs_[round_next_ - 1].end != seg.begin) break;
      if (n > 0 && seg.frames > max_frames - n) return StepResult::kMore;  // next step
      if (!commit(seg)) {
        write_failed_ = true;
        end_round();
        return StepResult::kError;
      }
      n += static_cast<uint32_t>(seg.frames);
      round_next_++;
    }
    end_round();
  }
  return StepResult::kMore;
}

// Correlation events need every frame's event in file order, folded (coalesced) per
// drain, and a step's boundaries those of one thread (the Correlator ticks between steps,
// reading the counters). So a step is split by frame count, not by bytes: the reader's
// thread walks the record headers of the step (cheap next to decoding) to where each
// helper's share starts, decodes its own share while the helpers decode theirs (every
// frame's event kept, not folded), and then applies the helpers' shares in order
// (commit(): bad frames, counters, events through EventBuffer::append). A share whose
// start the reader does not reach as planned (the file changed under it, a block that
// changes how records read) is dropped, and the reader reads on from where it is.
StepResult FileAnalysis::step_events(uint32_t max_frames) {
  const unsigned helpers = static_cast<unsigned>(segs_.size());
  const uint32_t share = max_frames / (helpers + 1);
  // commit() reads the interfaces of round_scan_: it is this step's scan.
  PcapScan& scan = round_scan_;
  const uint8_t* cursor;
  const uint8_t* limit;
  uint32_t done;
  if (share < kMinEventShare || !reader_.pcap_scan(&scan, &cursor, &limit))
    return step_sequential(max_frames, UINT64_MAX, &done);
  const uint8_t* p = cursor;
  if (!walk_records(scan, &p, limit, share)) return step_sequential(max_frames, UINT64_MAX, &done);
  const uint64_t join = reader_.bytes_read() + static_cast<uint64_t>(p - cursor);
  EventOptions eo = analyzer_.events().options();
  eo.coalesce = false;            // every frame's event, folded by append()
  eo.max_per_drain = UINT32_MAX;  // the drain's own cap is applied by append()
  eo.max_name_bytes = UINT32_MAX;
  // As process() sets it at every frame: the interfaces are those of the scan.
  eo.plain_everywhere = eo.plain_everywhere || reader_.interfaces().size() > 1;
  unsigned n = 0;
  std::vector<uint32_t> planned(helpers);
  for (unsigned j = 0; j < helpers; j++) {
    Segment& sg = segs_[j];
    planned[j] = j + 1 < helpers ? share : max_frames - share * helpers;
    const uint8_t* q = p;
    const bool whole = walk_records(scan, &q, limit, planned[j]);
    sg.begin = p;
    sg.stop = whole ? q : limit;
    sg.limit = limit;
    sg.max_frames = planned[j];
    sg.events = EventBuffer(eo);
    n = j + 1;
    if (!whole) break;  // the reader takes over from where this one stops
    p = q;
  }
  reader_.pin();  // the helpers read ahead: the mapping stays even if the reader ends
  pool_->start(scan, segs_.data(), n);
  StepResult r = step_sequential(share, join, &done);
  pool_->wait();
  reader_.unpin();
  if (r != StepResult::kMore) return r;
  uint32_t total = done;
  if (reader_.bytes_read() == join && !reader_.shrank() && reader_.scan_holds(scan)) {
    for (unsigned j = 0; j < n; j++) {
      const Segment& sg = segs_[j];
      if (sg.failed || (j > 0 && segs_[j - 1].end != sg.begin)) break;
      if (!commit(sg)) {
        write_failed_ = true;
        return StepResult::kError;
      }
      total += static_cast<uint32_t>(sg.frames);
      if (sg.frames < planned[j]) break;
    }
  }
  // The rest of the step on this thread (a share not applied, the end of the file): a
  // step ends where one thread's would, at max_frames or with the file.
  if (total >= max_frames) return StepResult::kMore;
  return step_sequential(max_frames - total, UINT64_MAX, &done);
}

bool FileAnalysis::commit(const Segment& seg) {
  const uint64_t base = reader_.frames_read();
  const bool writing = !opts_.write_path.empty() && !write_failed_;
  // No interface was defined inside the segment (record_scan.h): these are the ones its
  // frames were read with.
  const uint32_t n_ifaces = static_cast<uint32_t>(reader_.interfaces().size());
  for (const SegmentEvent& e : seg.bad) {
    analyzer_.keep_bad(e.summary, e.iface, base + e.index + 1, e.ts_ns, e.caplen, e.wirelen,
                       e.data);
    if (writing && !write_frame(e.iface, n_ifaces, e.ts_ns, e.data, e.caplen, e.wirelen)) {
      // As the one-thread path: everything up to this frame is counted, nothing after.
      const uint8_t* p = seg.begin;
      const uint8_t* next = nullptr;
      CapturedFrame fr;
      for (uint32_t i = 0; i <= e.index;) {
        const ScanResult r = scan_record(round_scan_, p, seg.limit, &fr, &next);
        if (r == ScanResult::kStop) break;
        p = next;
        if (r == ScanResult::kSkip) continue;
        note_frame(fr.ts_ns);
        decode_and_count(fr.data, fr.caplen, fr.wirelen, round_scan_.linktype_of(fr.iface),
                         opts_.analyzer.decode, analyzer_.counters(fr.iface), &frame_);
        i++;
      }
      append_events(seg, base, e.index);
      return false;
    }
  }
  if (seg.frames != 0) {
    // Only interfaces that had frames: the one-thread path creates counters on a frame.
    const uint32_t first = round_scan_.first_iface();
    for (uint32_t k = 0; k < seg.counters.size(); k++) {
      if (seg.counters[k].v[InterfaceCounters::kFrames] != 0)
        analyzer_.add_counters(first + k, seg.counters[k]);
    }
    if (frames_ == 0 || seg.first_ns < first_ns_) first_ns_ = seg.first_ns;
    if (seg.last_ns > last_ns_) last_ns_ = seg.last_ns;
    frames_ += seg.frames;
    helper_frames_ += seg.frames;
  }
  // After the bad frames: the records and the events are separate streams, each in file
  // order.
  append_events(seg, base, UINT64_MAX);
  reader_.skip_records(seg.end, seg.frames, seg.skipped);
  return true;
}

void FileAnalysis::append_events(const Segment& seg, uint64_t base, uint64_t last_index) {
  if (!seg.events.enabled()) return;
  EventBuffer& events = analyzer_.events();
  for (const FrameEvent& e : seg.events.events()) {
    if (e.frame_number > last_index) break;  // segment events number frames from 0
    FrameEvent ev = e;
    ev.frame_number = base + e.frame_number + 1;
    events.append(ev, seg.events.names());
  }
}

bool FileAnalysis::open_writer(size_t n_ifaces) {
  const std::vector<CaptureInterface>& all = reader_.interfaces();
  const std::vector<CaptureInterface> ifaces(all.begin(),
                                             all.begin() + std::min(n_ifaces, all.size()));
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
  if (!writer_.open(opts_.write_path, reader_.format(), out, opts_.overwrite, inputs_)) {
    error_ = writer_.error();
    return false;
  }
  writer_ifaces_ = out.size();
  return true;
}

bool FileAnalysis::write_frame(uint32_t frame_iface, uint32_t n_ifaces, uint64_t ts_ns,
                               const uint8_t* data, uint32_t caplen, uint32_t wirelen) {
  // n_ifaces: the interfaces defined when this frame was read (the reader may be ahead).
  if (!writer_.is_open() && !open_writer(n_ifaces)) return false;
  if (frame_iface >= writer_ifaces_ && reader_.format() == FileFormat::kPcapng) {
    // An interface defined after the writer was opened (a later IDB or section).
    for (size_t i = writer_ifaces_; i < n_ifaces; i++) {
      if (!writer_.add_interface(reader_.interfaces()[i])) {
        error_ = writer_.error();
        return false;
      }
    }
    writer_ifaces_ = n_ifaces;
  }
  const uint32_t iface = reader_.format() == FileFormat::kPcap ? 0 : frame_iface;
  if (!writer_.write(iface, ts_ns, data, caplen, wirelen)) {
    error_ = writer_.error();
    return false;
  }
  return true;
}

bool FileAnalysis::finish() {
  if (round_) end_round();
  pool_.reset();  // the helper threads are done
  if (opts_.write_path.empty() || write_failed_) return !write_failed_;
  if (!writer_.is_open() && !open_writer(reader_.interfaces().size())) return false;
  if (!writer_.close()) {
    error_ = writer_.error();
    return false;
  }
  return true;
}

}  // namespace csumtop
