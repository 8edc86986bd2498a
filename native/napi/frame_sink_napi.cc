// \summary: N-API surface for sources that deliver frames one at a time from JavaScript
// (the libpcap fallback through `cap`): the same analyzer and the same batches as the
// AF_PACKET engine, fed per frame.
#include <memory>

#include "flow/analyzer.h"
#include "napi/convert.h"
#include "napi/register.h"

namespace csumtop {

namespace {

class FrameSinkWrap : public Napi::ObjectWrap<FrameSinkWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "FrameSink",
                       {InstanceMethod("process", &FrameSinkWrap::Process),
                        InstanceMethod("takeBatch", &FrameSinkWrap::TakeBatch),
                        InstanceMethod("flowsPacked", &FrameSinkWrap::FlowsPacked),
                        InstanceMethod("flowTableBytes", &FrameSinkWrap::FlowTableBytes),
                        InstanceMethod("setOverlay", &FrameSinkWrap::SetOverlay)});
  }

  // new FrameSink({vxlanPorts, genevePorts, maxFlows, maxRecords, guessOffload})
  explicit FrameSinkWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<FrameSinkWrap>(info) {
    AnalyzerOptions opts;
    opts.max_records = 4096;
    opts.record_bytes = true;
    opts.events.enabled = true;
    if (info.Length() > 0 && info[0].IsObject()) {
      Napi::Object o = info[0].As<Napi::Object>();
      read_decode_options(o, &opts.decode);
      if (o.Has("maxFlows")) opts.max_flows = o.Get("maxFlows").As<Napi::Number>().Uint32Value();
      if (o.Has("maxRecords"))
        opts.max_records = o.Get("maxRecords").As<Napi::Number>().Uint32Value();
      hint_.guess_partial = o.Has("guessOffload") && o.Get("guessOffload").ToBoolean().Value();
    }
    analyzer_ = std::make_unique<Analyzer>(opts);
  }

 private:
  // process(id, data: Uint8Array, wirelen, tsNs: bigint, linktype)
  Napi::Value Process(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 5 || !info[0].IsNumber() || !info[1].IsTypedArray() ||
        !info[2].IsNumber() || !info[3].IsBigInt() || !info[4].IsNumber())
      throw Napi::TypeError::New(env, "process(id, data, wirelen, tsNs, linktype)");
    const uint32_t id = info[0].As<Napi::Number>().Uint32Value();
    if (id > 1u << 20) throw Napi::RangeError::New(env, "interface id out of range");
    Napi::Uint8Array data = info[1].As<Napi::Uint8Array>();
    bool lossless = false;
    const uint64_t ts = info[3].As<Napi::BigInt>().Uint64Value(&lossless);
    const uint32_t caplen = static_cast<uint32_t>(data.ElementLength());
    analyzer_->counters(id);
    analyzer_->process(id, data.Data(), caplen, info[2].As<Napi::Number>().Uint32Value(), ts,
                       static_cast<uint16_t>(info[4].As<Napi::Number>().Uint32Value()), ++frames_,
                       &hint_);
    return env.Undefined();
  }

  // setOverlay(id, on): the interface is an overlay device (flannel.1, vxlan.calico): its
  // plain packets become events to match against carriers (as live capture's addInterface).
  Napi::Value SetOverlay(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsBoolean())
      throw Napi::TypeError::New(env, "setOverlay(id, on)");
    const uint32_t id = info[0].As<Napi::Number>().Uint32Value();
    if (id > 1u << 20) throw Napi::RangeError::New(env, "interface id out of range");
    analyzer_->events().set_plain(id, info[1].As<Napi::Boolean>().Value());
    return env.Undefined();
  }

  // {ids, counters, records, recordsDropped}: the same shape as a live batch.
  Napi::Value TakeBatch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint32_t n = analyzer_->interface_count();
    const uint32_t stride = InterfaceCounters::kStride;
    Napi::Uint32Array ids = Napi::Uint32Array::New(env, n);
    Napi::Float64Array c = Napi::Float64Array::New(env, static_cast<size_t>(n) * stride);
    for (uint32_t i = 0; i < n; i++) {
      ids[i] = i;
      const InterfaceCounters& ic = analyzer_->counters(i);
      for (uint32_t j = 0; j < stride; j++)
        c[static_cast<size_t>(i) * stride + j] = static_cast<double>(ic.v[j]);
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("ids", ids);
    o.Set("counters", c);
    drain_analyzer(env, o, *analyzer_);
    return o;
  }

  Napi::Value FlowsPacked(const Napi::CallbackInfo& info) {
    return flows_packed(info.Env(), analyzer_->flows());
  }

  // Live: the table is resident from the start (AnalyzerOptions::populate_flows).
  Napi::Value FlowTableBytes(const Napi::CallbackInfo& info) {
    return flow_table_bytes(info.Env(), analyzer_->flows());
  }

  std::unique_ptr<Analyzer> analyzer_;
  OffloadHint hint_;
  uint64_t frames_ = 0;
};

}  // namespace

void RegisterFrameSink(Napi::Env env, Napi::Object exports) {
  exports.Set("FrameSink", FrameSinkWrap::Define(env));
}

}  // namespace csumtop
