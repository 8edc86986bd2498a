// \summary: One step of an offline analysis together with everything the caller reads
// between two steps, taken at the step's end (issue 14 step 3).
//
// `-r` with correlation decodes step N+1 on another thread while JavaScript correlates
// step N (src/capture/file-run.ts). What JavaScript reads for step N -- the drained
// records and events, the per-interface counters its rules look at, the interfaces, how
// far the file was read -- must then be what one thread would have read right after
// step N, not the live state that step N+1 is already advancing: so a step hands all of
// it over here, copied while nothing else runs on the analysis, and the caller reads
// nothing else from the analysis until the next step is handed back.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "flow/file_analysis.h"

namespace csumtop {

struct FileStep {
  StepResult result = StepResult::kMore;
  std::string message;    // kTruncated: the warning; kError: the error
  uint16_t linktype = 0;  // kNeedFilter: the link type whose program is wanted
  // The drain (Analyzer::records() and events() since the step before), swapped out of
  // the analyzer (take_records, EventBuffer::take): the two sets of containers alternate
  // and keep their capacity.
  std::vector<BadFrameRecord> records;
  std::string record_bytes;
  uint64_t records_dropped = 0;
  std::vector<FrameEvent> events;
  std::string event_names;
  uint64_t events_dropped = 0;
  // InterfaceCounters::v of interfaces 0 .. n-1, n = max(counted ids, the reader's
  // interfaces), as the counters() binding reads them.
  std::vector<uint64_t> counters;
  // The reader's interfaces, only when there are more than at the step before (they
  // are only ever appended: a pcapng Interface Description Block adds one).
  bool interfaces_changed = false;
  std::vector<CaptureInterface> interfaces;
  uint64_t frames = 0, bytes_read = 0, filtered_out = 0;
};

// Runs fa.step(max_frames) and fills *out as of its end (*out may be the last step's:
// its buffers are reused). `interfaces_seen`: how many
// interfaces the caller has been handed so far (updated).
void take_step(FileAnalysis& fa, uint32_t max_frames, size_t* interfaces_seen, FileStep* out);

}  // namespace csumtop
