// \summary: One offline step with what is read between steps (see file_step.h).
#include "flow/file_step.h"

#include <algorithm>

namespace csumtop {

void take_step(FileAnalysis& fa, uint32_t max_frames, size_t* interfaces_seen, FileStep* out) {
  out->result = fa.step(max_frames);
  out->message.clear();
  out->linktype = 0;
  if (out->result == StepResult::kTruncated) out->message = fa.warning();
  if (out->result == StepResult::kError) out->message = fa.error();
  if (out->result == StepResult::kNeedFilter) out->linktype = fa.need_linktype();

  Analyzer& an = fa.analyzer();
  an.take_records(&out->records, &out->record_bytes);
  out->records_dropped = an.records_dropped();
  EventBuffer& ev = an.events();
  ev.take(&out->events, &out->event_names);
  out->events_dropped = ev.dropped();

  const std::vector<CaptureInterface>& ifaces = fa.reader().interfaces();
  const uint32_t n = std::max<uint32_t>(an.interface_count(), static_cast<uint32_t>(ifaces.size()));
  out->counters.resize(static_cast<size_t>(n) * InterfaceCounters::kStride);
  for (uint32_t i = 0; i < n; i++) {
    const InterfaceCounters& c = an.counters(i);
    std::copy(c.v, c.v + InterfaceCounters::kStride,
              out->counters.begin() + static_cast<size_t>(i) * InterfaceCounters::kStride);
  }
  out->interfaces_changed = ifaces.size() != *interfaces_seen;
  if (out->interfaces_changed) {
    out->interfaces = ifaces;
    *interfaces_seen = ifaces.size();
  } else {
    out->interfaces.clear();
  }
  out->frames = fa.frames();
  out->bytes_read = fa.reader().bytes_read();
  out->filtered_out = fa.filtered_out();
}

}  // namespace csumtop
