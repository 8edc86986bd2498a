// \summary: The N-API surface of csumtop: registration only.
#include "napi/register.h"

namespace {
Napi::Object Init(Napi::Env env, Napi::Object exports) {
  csumtop::RegisterChecksum(env, exports);
  csumtop::RegisterCaptureFile(env, exports);
  csumtop::RegisterAnalyzer(env, exports);
  csumtop::RegisterLive(env, exports);
  csumtop::RegisterFrameSink(env, exports);
  csumtop::RegisterHost(env, exports);
  csumtop::RegisterBadFrameFile(env, exports);
  csumtop::RegisterKernelDrops(env, exports);
  csumtop::RegisterCarrierFlows(env, exports);
  csumtop::RegisterTxns(env, exports);
  csumtop::RegisterBadLines(env, exports);
  csumtop::RegisterBadFlowView(env, exports);
  return exports;
}
}  // namespace

NODE_API_MODULE(csumtop, Init)
