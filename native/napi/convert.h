// \summary: Conversions shared by the bindings: bad flows and endpoints to JS objects,
// decode options from JS objects.
#pragma once
#include <napi.h>

#include "flow/analyzer.h"
#include "flow/bad_flows.h"

namespace csumtop {
Napi::Object flow_endpoint_object(Napi::Env env, const FlowEndpoint& e);
Napi::Array flows_array(Napi::Env env, const BadFlowTable& table);
// Reads vxlanPorts / genevePorts (arrays of 1..65535, at most 8 each) into `d`.
void read_decode_options(const Napi::Object& o, DecodeOptions* d);
// Sets records (packed BadFrameRecords), recordBytes, recordsDropped, events (packed
// FrameEvents), eventNames and eventsDropped on `o` from copies of the given buffers.
void set_drained(Napi::Env env, Napi::Object o, const std::vector<BadFrameRecord>& records,
                 const std::string& record_bytes, uint64_t records_dropped,
                 const std::vector<FrameEvent>& events, const std::string& event_names,
                 uint64_t events_dropped);
// The same from an analyzer, whose records and events are then cleared.
void drain_analyzer(Napi::Env env, Napi::Object o, Analyzer& an);
// Offsets within FrameEvent for JavaScript (layout().event).
Napi::Object event_layout(Napi::Env env);
}  // namespace csumtop
