// \summary: Offline analysis driver (see file_analysis.h).
#include "flow/file_analysis.h"

#include <algorithm>

namespace csumtop {

namespace {

// Frames per chunk (the unit of work a thread claims) and per round (walked, decoded,
// then applied in order); a round also stops at kRoundBytes of the file, which stay
// mapped until it is applied.
constexpr size_t kChunkFrames = 512;
constexpr size_t kRoundChunks = 64;
constexpr uint64_t kRoundBytes = 16u << 20;
// Smaller files are not worth a thread.
constexpr uint64_t kParallelMinBytes = 8u << 20;
#ifndef PFA
#define PFA 2048
#endif
constexpr size_t kPrefetchAhead = PFA;

}  // namespace

FileAnalysis::FileAnalysis(const FileAnalysisOptions& opts)
    : opts_(opts), analyzer_(opts.analyzer) {}

FileAnalysis::~FileAnalysis() = default;

bool FileAnalysis::open(const std::string& path) {
  const bool ok = path == "-" ? reader_.open_fd(0, "standard input") : reader_.open(path);
  if (!ok) {
    error_ = reader_.error();
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
    if (threads > 1 && reader_.frames_stable() &&
        reader_.mapped_remaining() >= kParallelMinBytes) {
      pool_ = std::make_unique<DecodePool>(threads - 1, opts_.analyzer.decode);
      chunks_.resize(kRoundChunks);
      for (Chunk& c : chunks_) {
        c.frames.reserve(kChunkFrames);
        c.bad.reserve(kChunkFrames);
      }
    }
  }
  if (pool_ && reader_.frames_stable()) return step_parallel(max_frames);
  return step_sequential(max_frames);
}

StepResult FileAnalysis::step_sequential(uint32_t max_frames) {
  CapturedFrame fr;
  const std::vector<CaptureInterface>& ifaces = reader_.interfaces();
  for (uint32_t n = 0; n < max_frames; n++) {
    const ReadStatus st = reader_.next(&fr);
    if (st != ReadStatus::kFrame) return reader_end(st);
    note_frame(fr.ts_ns);
    const uint16_t linktype = fr.iface < ifaces.size() ? ifaces[fr.iface].linktype : 0xffff;
    const Frame& f = analyzer_.process(fr.iface, fr.data, fr.caplen, fr.wirelen, fr.ts_ns,
                                       linktype, fr.number, nullptr);
    if (!opts_.write_path.empty() && f.has_bad() && !write_failed_) {
      if (!write_frame(fr.iface, static_cast<uint32_t>(ifaces.size()), fr.ts_ns, fr.data,
                       fr.caplen, fr.wirelen)) {
        write_failed_ = true;
        return StepResult::kError;
      }
    }
  }
  return StepResult::kMore;
}

StepResult FileAnalysis::step_parallel(uint32_t max_frames) {
  const std::vector<CaptureInterface>& ifaces = reader_.interfaces();
  CapturedFrame fr;
  uint32_t n = 0;
  while (n < max_frames) {
    if (!reader_.frames_stable()) return step_sequential(max_frames - n);
    // Walk a round: record boundaries, timestamps and numbers, in chunks that the pool
    // starts decoding as soon as each is complete.
    reader_.pin();
    const uint8_t* map_lo = nullptr;
    const uint8_t* map_hi = nullptr;
    reader_.mapped_range(&map_lo, &map_hi);
    pool_->populate_window(map_lo, map_hi);
    pool_->begin(chunks_.data());
    const uint64_t start = reader_.bytes_read();
    const uint8_t* prefetched = nullptr;  // the walk streams the file in kPrefetchAhead ahead
    ReadStatus end = ReadStatus::kFrame;
    bool round_full = false;
    size_t k = 0;
    while (k < kRoundChunks && end == ReadStatus::kFrame && !round_full && n < max_frames) {
      Chunk& ch = chunks_[k];
      ch.frames.clear();
      size_t max_iface = 0;
      while (ch.frames.size() < kChunkFrames && n < max_frames) {
        end = reader_.next(&fr);
        if (end != ReadStatus::kFrame) break;
        n++;
        const uint32_t nif = static_cast<uint32_t>(ifaces.size());
        ch.frames.push_back(FrameRef{fr.data, fr.ts_ns, fr.number, fr.caplen, fr.wirelen,
                                     fr.iface, nif,
                                     fr.iface < nif ? ifaces[fr.iface].linktype : uint16_t{0xffff}});
        if (fr.iface > max_iface) max_iface = fr.iface;
        if ((n & 63) == 1) pool_->walked_to(fr.data);
        // Record headers are a chain of dependent loads (each gives the next one's
        // place): without the file being fetched ahead, every one waits for memory.
        {
          const uint8_t* want = fr.data + fr.caplen + kPrefetchAhead;
          if (prefetched == nullptr || prefetched < fr.data || prefetched > want) {
            prefetched = fr.data + fr.caplen;
          }
          for (; prefetched < want; prefetched += 64) __builtin_prefetch(prefetched, 0, 3);
        }
        // A frame from the read buffer (the file grew past its mapping) is only valid
        // until the next call: decode the round now.
        if (fr.data < map_lo || fr.data >= map_hi || reader_.bytes_read() - start >= kRoundBytes) {
          round_full = true;
          break;
        }
      }
      if (ch.frames.empty()) break;
      if (ch.counters.size() < max_iface + 1) ch.counters.resize(max_iface + 1);
      k++;
      pool_->publish(k);
    }
    pool_->seal(k);
    pool_->work();
    const bool ok = commit(k);
    reader_.unpin();
    if (!ok) {
      write_failed_ = true;
      return StepResult::kError;
    }
    if (end != ReadStatus::kFrame) return reader_end(end);
  }
  return StepResult::kMore;
}

bool FileAnalysis::commit(size_t n) {
  const bool writing = !opts_.write_path.empty() && !write_failed_;
  for (size_t c = 0; c < n; c++) {
    Chunk& ch = chunks_[c];
    for (const BadEvent& e : ch.bad) {
      const FrameRef& fr = ch.frames[e.index];
      analyzer_.keep_bad(e.summary, fr.iface, fr.number, fr.ts_ns, fr.caplen, fr.wirelen);
      if (writing && !write_frame(fr.iface, fr.n_ifaces, fr.ts_ns, fr.data, fr.caplen, fr.wirelen)) {
        // As the one-thread path: everything up to this frame is counted, nothing after.
        for (uint32_t i = 0; i <= e.index; i++) {
          const FrameRef& f = ch.frames[i];
          note_frame(f.ts_ns);
          decode_frame(f.data, f.caplen, f.wirelen, f.linktype, opts_.analyzer.decode, nullptr,
                       &frame_);
          count_frame(analyzer_.counters(f.iface), frame_, f.caplen, f.wirelen);
        }
        return false;
      }
    }
    for (size_t i = 0; i < ch.counters.size(); i++) {
      analyzer_.add_counters(static_cast<uint32_t>(i), ch.counters[i]);
    }
    for (const FrameRef& f : ch.frames) note_frame(f.ts_ns);
  }
  return true;
}

bool FileAnalysis::open_writer(size_t n_ifaces) {
  const std::vector<CaptureInterface>& all = reader_.interfaces();
  const std::vector<CaptureInterface> ifaces(all.begin(), all.begin() + std::min(n_ifaces, all.size()));
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
