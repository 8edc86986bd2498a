// \summary: One registration function per native module; addon.cc calls them all.
// Binding files (native/napi/*_napi.cc) only check arguments and convert values; the
// work lives in native/checksum, native/decode, native/capture, native/flow and
// native/host and native/kdrops, which build without Node (the fuzz targets and benchmarks link
// them directly).
#pragma once
#include <napi.h>

namespace csumtop {
void RegisterChecksum(Napi::Env env, Napi::Object exports);      // checksum_napi.cc
void RegisterCaptureFile(Napi::Env env, Napi::Object exports);   // capture_file_napi.cc
void RegisterAnalyzer(Napi::Env env, Napi::Object exports);      // analyzer_napi.cc
void RegisterLive(Napi::Env env, Napi::Object exports);          // live_napi.cc
void RegisterFrameSink(Napi::Env env, Napi::Object exports);     // frame_sink_napi.cc
void RegisterHost(Napi::Env env, Napi::Object exports);          // host_napi.cc
void RegisterBadFrameFile(Napi::Env env, Napi::Object exports);  // bad_frame_file_napi.cc
void RegisterKernelDrops(Napi::Env env, Napi::Object exports);   // kernel_drops_napi.cc
void RegisterCarrierFlows(Napi::Env env, Napi::Object exports);  // carrier_flows_napi.cc
void RegisterTxns(Napi::Env env, Napi::Object exports);          // txn_napi.cc
void RegisterBadLines(Napi::Env env, Napi::Object exports);      // bad_lines_napi.cc
void RegisterBadFlowView(Napi::Env env, Napi::Object exports);   // bad_flow_view_napi.cc
}  // namespace csumtop
