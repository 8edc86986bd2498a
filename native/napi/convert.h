// \summary: Conversions shared by the bindings: bad flows and endpoints to JS objects,
// decode options from JS objects.
#pragma once
#include <napi.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "capture/bpf_filter.h"
#include "capture/capture_file.h"
#include "flow/analyzer.h"
#include "flow/bad_flows.h"
#include "flow/table_memory.h"

namespace csumtop {
// The bytes of a Buffer or other typed array (a view of part of an ArrayBuffer).
const uint8_t* typed_bytes(const Napi::Value& v, size_t* len);
// The packed structs in `len` bytes at p (a Buffer may be a slice at any offset): copied into
// `aligned` when their 8-byte fields would be misaligned; *n of them, a partial one ignored.
template <typename T>
const T* structs_of(const uint8_t* p, size_t len, std::vector<T>* aligned, size_t* n) {
  *n = len / sizeof(T);
  if (reinterpret_cast<uintptr_t>(p) % alignof(T) == 0) return reinterpret_cast<const T*>(p);
  aligned->resize(*n);
  if (*n) std::memcpy(aligned->data(), p, *n * sizeof(T));
  return aligned->data();
}
// A correlation table's optional `resident` argument i (true when not given or undefined):
// its memory in use from the start (live capture) or as it is used (a capture file).
inline Residency residency_arg(const Napi::CallbackInfo& info, size_t i) {
  const bool resident =
      info.Length() > i && !info[i].IsUndefined() ? info[i].ToBoolean().Value() : true;
  return resident ? Residency::kAtOnce : Residency::kAsUsed;
}
// A capture file's interfaces as JS objects (FileInterface in src/model/interface.ts): the
// reader's and the analyzer's interfaces() both hand them over this way.
Napi::Array file_interfaces_array(Napi::Env env, const std::vector<CaptureInterface>& ifs);
// The table's flows in report order (most bad frames first, then first seen), at most
// `limit` of them (0: all): a report of 65,536 flows built as objects took ~300 MB of
// heap at the end of a live run, past the DaemonSet's memory limit (issue 14).
std::vector<const BadFlow*> top_flows(const BadFlowTable& table, size_t limit);
// top_flows() packed as BadFlow entries (layout().flow; decodeFlows in
// src/native/analyzer.ts): one copy and no object per flow, the one way every source
// (file, live, libpcap) hands its bad-flow table to JavaScript.
Napi::Buffer<uint8_t> flows_packed(Napi::Env env, const BadFlowTable& table, size_t limit = 0);
// {mapped, resident}: the bad-flow table's bound and the bytes of it in memory now.
Napi::Object flow_table_bytes(Napi::Env env, const BadFlowTable& table);
// Reads vxlanPorts / genevePorts (arrays of 1..65535, at most 8 each) into `d`.
void read_decode_options(const Napi::Object& o, DecodeOptions* d);
// Sets records (packed BadFrameRecords), recordBytes and recordsDropped on `o` from
// copies of the given buffers.
void set_records(Napi::Env env, Napi::Object o, const std::vector<BadFrameRecord>& records,
                 const std::string& record_bytes, uint64_t records_dropped);
// Sets events (packed FrameEvents), eventNames and eventsDropped on `o`.
void set_events(Napi::Object o, Napi::Buffer<uint8_t> events, Napi::Buffer<uint8_t> names,
                uint64_t events_dropped);
// Both, from copies of the given buffers.
void set_drained(Napi::Env env, Napi::Object o, const std::vector<BadFrameRecord>& records,
                 const std::string& record_bytes, uint64_t records_dropped,
                 const std::vector<FrameEvent>& events, const std::string& event_names,
                 uint64_t events_dropped);
// The same from an analyzer, whose records and events are then cleared.
void drain_analyzer(Napi::Env env, Napi::Object o, Analyzer& an);
// A compiled filter as compileFilter() returns it (the kernel's sock_filter array, byte
// for byte); throws a TypeError naming `what` for anything else.
BpfProgram bpf_program_of(const Napi::Value& v, const std::string& what);
// Offsets within FrameEvent for JavaScript (layout().event).
Napi::Object event_layout(Napi::Env env);
}  // namespace csumtop
