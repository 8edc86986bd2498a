// \summary: N-API surface of the carrier-flow table (native/flow/carrier_flows.h):
// argument checks and conversions only. One add() per batch of events, one top() per
// snapshot; no object per event or per flow crosses.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "flow/carrier_flows.h"
#include "flow/places.h"
#include "napi/convert.h"
#include "napi/register.h"

namespace csumtop {

namespace {

class CarrierFlowsWrap : public Napi::ObjectWrap<CarrierFlowsWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "CarrierFlows",
                       {InstanceMethod("add", &CarrierFlowsWrap::Add),
                        InstanceMethod("top", &CarrierFlowsWrap::Top),
                        InstanceAccessor("size", &CarrierFlowsWrap::Size, nullptr),
                        InstanceAccessor("evicted", &CarrierFlowsWrap::Evicted, nullptr),
                        InstanceAccessor("tableBytes", &CarrierFlowsWrap::TableBytes, nullptr),
                        StaticMethod("layout", &CarrierFlowsWrap::Layout)});
  }

  // new CarrierFlows(cap: positive integer below 2^31, resident = true)
  explicit CarrierFlowsWrap(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<CarrierFlowsWrap>(info) {
    Napi::Env env = info.Env();
    const double cap =
        info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : 0;
    if (!(cap >= 1 && cap < 2147483648.0) || cap != static_cast<double>(static_cast<uint32_t>(cap)))
      throw Napi::RangeError::New(env, "new CarrierFlows(cap): cap must be an integer 1..2^31-1");
    table_ = std::make_unique<CarrierFlowTable>(static_cast<uint32_t>(cap), residency_arg(info, 1));
  }

 private:
  // add(events: Uint8Array of packed FrameEvents, names: Uint8Array, placePairs: Uint32Array)
  Napi::Value Add(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[0].IsTypedArray() || !info[1].IsTypedArray() ||
        !info[2].IsTypedArray() ||
        info[2].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
      throw Napi::TypeError::New(
          env, "add(events: Uint8Array, names: Uint8Array, placePairs: Uint32Array)");
    size_t ev_len = 0, names_len = 0, pairs_len = 0;
    const uint8_t* ev = typed_bytes(info[0], &ev_len);
    const uint8_t* names = typed_bytes(info[1], &names_len);
    const uint8_t* pairs = typed_bytes(info[2], &pairs_len);
    size_t n = 0;
    const FrameEvent* events = structs_of(ev, ev_len, &aligned_, &n);
    places_.set(reinterpret_cast<const uint32_t*>(pairs),
                pairs_len / (sizeof(uint32_t) * kPlacePairWords));
    table_->add(events, n, reinterpret_cast<const char*>(names), names_len, places_);
    return env.Undefined();
  }

  // top(limit): the packed rows (native/flow/carrier_flows.h, offsets in layout()).
  Napi::Value Top(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsNumber())
      throw Napi::TypeError::New(env, "top(limit: number)");
    const double limit = info[0].As<Napi::Number>().DoubleValue();
    table_->top(limit > 0 ? static_cast<size_t>(std::min(limit, 4294967295.0)) : 0, &top_);
    return Napi::Buffer<uint8_t>::Copy(env, top_.data(), top_.size());
  }

  Napi::Value Size(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), table_->size());
  }
  Napi::Value Evicted(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(table_->evicted()));
  }
  Napi::Value TableBytes(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(table_->table_bytes()));
  }

  // CarrierFlows.layout(): offsets of top()'s buffer and the bytes per flow of the cap.
  static Napi::Value Layout(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("bytesPerEntry", static_cast<uint32_t>(kCarrierFlowBytesPerEntry));
    o.Set("count", static_cast<uint32_t>(offsetof(CarrierFlowTopHeader, count)));
    o.Set("rows", static_cast<uint32_t>(sizeof(CarrierFlowTopHeader)));
#define F(js, field) o.Set(js, static_cast<uint32_t>(offsetof(CarrierFlowRow, field)))
    o.Set("size", static_cast<uint32_t>(sizeof(CarrierFlowRow)));
    F("packets", packets);
    F("bytes", bytes);
    F("firstNs", first_ns);
    F("lastNs", last_ns);
    F("badOuter", bad_outer);
    F("badInner", bad_inner);
    F("place", place);
    F("vni", vni);
    F("nameOff", name_off);
    F("nameLen", name_len);
    F("tunnel", tunnel);
    F("hasName", has_name);
    F("outer", outer);
    F("inner", inner);
#undef F
    return o;
  }

  std::unique_ptr<CarrierFlowTable> table_;
  PlaceMap places_;
  std::vector<FrameEvent> aligned_;
  std::vector<uint8_t> top_;
};

}  // namespace

void RegisterCarrierFlows(Napi::Env env, Napi::Object exports) {
  exports.Set("CarrierFlows", CarrierFlowsWrap::Define(env));
}

}  // namespace csumtop
