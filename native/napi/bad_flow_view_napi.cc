// \summary: N-API surface of the bad-flow view (native/flow/bad_flow_view.h): argument
// checks and conversions only. One add() per batch of records, one top() per snapshot; no
// object per record or per flow crosses.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "flow/bad_flow_view.h"
#include "napi/convert.h"
#include "napi/register.h"

namespace csumtop {

namespace {

class BadFlowViewWrap : public Napi::ObjectWrap<BadFlowViewWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "BadFlowView",
        {InstanceMethod("add", &BadFlowViewWrap::Add), InstanceMethod("top", &BadFlowViewWrap::Top),
         InstanceMethod("interfaces", &BadFlowViewWrap::Interfaces),
         InstanceAccessor("size", &BadFlowViewWrap::Size, nullptr),
         InstanceAccessor("evicted", &BadFlowViewWrap::Evicted, nullptr),
         InstanceAccessor("tableBytes", &BadFlowViewWrap::TableBytes, nullptr),
         StaticMethod("layout", &BadFlowViewWrap::Layout)});
  }

  // new BadFlowView(cap, recent, sampledBytesFlows, partialIsOffload, resident = true)
  explicit BadFlowViewWrap(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<BadFlowViewWrap>(info) {
    Napi::Env env = info.Env();
    auto count = [&](size_t i, double lo, double hi) {
      const double v =
          info.Length() > i && info[i].IsNumber() ? info[i].As<Napi::Number>().DoubleValue() : -1;
      if (!(v >= lo && v <= hi) || v != static_cast<double>(static_cast<uint32_t>(v)))
        throw Napi::RangeError::New(env,
                                    "new BadFlowView(cap 1..2^31-1, recent 1..255, "
                                    "sampledBytesFlows 0..2^24, partialIsOffload)");
      return static_cast<uint32_t>(v);
    };
    const uint32_t cap = count(0, 1, 2147483647.0);
    const uint32_t recent = count(1, 1, 255);
    const uint32_t sampled = count(2, 0, 16777216.0);
    const bool partial = info.Length() > 3 && info[3].ToBoolean().Value();
    view_ = std::make_unique<BadFlowView>(cap, recent, sampled, partial, residency_arg(info, 4));
  }

 private:
  // add(records: Uint8Array, recordBytes: Uint8Array, events: Uint8Array, eventNames: Uint8Array)
  Napi::Value Add(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 4 || !info[0].IsTypedArray() || !info[1].IsTypedArray() ||
        !info[2].IsTypedArray() || !info[3].IsTypedArray())
      throw Napi::TypeError::New(env,
                                 "add(records: Uint8Array, recordBytes: Uint8Array, events: "
                                 "Uint8Array, eventNames: Uint8Array)");
    size_t rec_len = 0, bytes_len = 0, ev_len = 0, names_len = 0, n = 0, n_events = 0;
    const uint8_t* rec = typed_bytes(info[0], &rec_len);
    const uint8_t* bytes = typed_bytes(info[1], &bytes_len);
    const uint8_t* ev = typed_bytes(info[2], &ev_len);
    const BadFrameRecord* records = structs_of(rec, rec_len, &aligned_records_, &n);
    const FrameEvent* events = structs_of(ev, ev_len, &aligned_events_, &n_events);
    const uint8_t* names = typed_bytes(info[3], &names_len);
    view_->add(records, n, bytes, bytes_len, events, n_events, reinterpret_cast<const char*>(names),
               names_len);
    return env.Undefined();
  }

  // top(limit): { rows, records, bytes, names } (bad_flow_view.h ViewTop; offsets in layout()).
  Napi::Value Top(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsNumber())
      throw Napi::TypeError::New(env, "top(limit: number)");
    const double limit = info[0].As<Napi::Number>().DoubleValue();
    view_->top(limit > 0 ? static_cast<size_t>(std::min(limit, 4294967295.0)) : 0, &top_);
    Napi::Object o = Napi::Object::New(env);
    o.Set("rows",
          Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(top_.rows.data()),
                                      top_.rows.size() * sizeof(ViewRow)));
    o.Set("records",
          Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(top_.records.data()),
                                      top_.records.size() * sizeof(BadFrameRecord)));
    o.Set("bytes",
          Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(top_.bytes.data()),
                                      top_.bytes.size()));
    o.Set("names",
          Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(top_.names.data()),
                                      top_.names.size()));
    return o;
  }

  // interfaces(): the interface ids of the flows kept, each once, ascending.
  Napi::Value Interfaces(const Napi::CallbackInfo& info) {
    const std::vector<uint32_t> ids = view_->interfaces();
    Napi::Uint32Array a = Napi::Uint32Array::New(info.Env(), ids.size());
    if (!ids.empty()) std::memcpy(a.Data(), ids.data(), ids.size() * sizeof(uint32_t));
    return a;
  }

  Napi::Value Size(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), view_->size());
  }
  Napi::Value Evicted(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(view_->evicted()));
  }

  Napi::Value TableBytes(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(view_->table_bytes()));
  }

  // BadFlowView.layout(): offsets within a row of top().rows.
  static Napi::Value Layout(const Napi::CallbackInfo& info) {
    Napi::Object o = Napi::Object::New(info.Env());
#define F(js, field) o.Set(js, static_cast<uint32_t>(offsetof(ViewRow, field)))
    o.Set("size", static_cast<uint32_t>(sizeof(ViewRow)));
    F("count", count);
    F("artefacts", artefacts);
    F("firstNs", first_ns);
    F("iface", iface);
    F("dnsOff", dns_off);
    F("dnsLen", dns_len);
    F("hasDns", has_dns);
    F("peer", peer);
    F("nNames", n_names);
    F("nRecent", n_recent);
    F("names", names);
#undef F
    return o;
  }

  std::unique_ptr<BadFlowView> view_;
  std::vector<BadFrameRecord> aligned_records_;
  std::vector<FrameEvent> aligned_events_;
  ViewTop top_;
};

}  // namespace

void RegisterBadFlowView(Napi::Env env, Napi::Object exports) {
  exports.Set("BadFlowView", BadFlowViewWrap::Define(env));
}

}  // namespace csumtop
