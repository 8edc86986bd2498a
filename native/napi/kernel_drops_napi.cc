// \summary: N-API surface of the kernel drop verdicts (issue 18): open the eBPF source,
// take its per-interval counts, close it; and the record parser alone, for tests.
// Argument checks and conversions only; the work is in native/kdrops.
#include <arpa/inet.h>

#include <memory>
#include <string>
#include <vector>

#include "bpf/kernel_drops_event.h"
#include "kdrops/event.h"
#include "kdrops/loader.h"
#include "napi/register.h"

namespace csumtop {

namespace {

using kdrops::KernelDropLoader;

// Index = KDROP_REASON_* (native/bpf/kernel_drops_event.h); the kernel's names without
// the SKB_DROP_REASON_ prefix (include/net/dropreason-core.h).
const char* const kReasonNames[KDROP_REASON_COUNT] = {"", "UDP_CSUM", "TCP_CSUM", "IP_CSUM", "IP_INHDR", "SKB_CSUM", "ICMP_CSUM"};

Napi::Value address(Napi::Env env, uint8_t family, const uint8_t* a) {
  if (family != 4 && family != 6) return env.Null();
  char text[INET6_ADDRSTRLEN];
  if (inet_ntop(family == 4 ? AF_INET : AF_INET6, a, text, sizeof text) == nullptr) return env.Null();
  return Napi::String::New(env, text);
}

class KernelDropsWrap : public Napi::ObjectWrap<KernelDropsWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "KernelDrops",
                       {InstanceMethod("take", &KernelDropsWrap::Take), InstanceMethod("close", &KernelDropsWrap::Close)});
  }

  // new KernelDrops(): throws nothing; `available` false with `unavailable` and `why`
  // when the program could not be loaded.
  explicit KernelDropsWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<KernelDropsWrap>(info) {
    kdrops::Unavailable kind = kdrops::Unavailable::kNone;
    std::string why;
    loader_ = KernelDropLoader::start(&kind, &why);
    Napi::Object self = info.This().As<Napi::Object>();
    self.Set("available", Napi::Boolean::New(info.Env(), loader_ != nullptr));
    self.Set("unavailable", loader_ ? info.Env().Null() : Napi::String::New(info.Env(), kdrops::unavailable_name(kind)));
    self.Set("why", loader_ ? info.Env().Null() : Napi::String::New(info.Env(), why));
  }

 private:
  // take() -> {rows: [{netns, ifindex, reason, peer, count}], overflow, ringFull, unparsed}
  Napi::Value Take(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    std::vector<kdrops::DropRow> rows;
    uint64_t overflow = 0;
    if (loader_) loader_->take(&rows, &overflow);
    Napi::Array a = Napi::Array::New(env, rows.size());
    for (size_t i = 0; i < rows.size(); i++) {
      const kdrops::DropRow& r = rows[i];
      Napi::Object x = Napi::Object::New(env);
      x.Set("netns", Napi::Number::New(env, r.key.netns));
      x.Set("ifindex", Napi::Number::New(env, r.key.ifindex));
      x.Set("reason", Napi::String::New(env, kReasonNames[r.key.reason < KDROP_REASON_COUNT ? r.key.reason : 0]));
      x.Set("peer", address(env, r.key.family, r.key.peer));
      x.Set("count", Napi::Number::New(env, static_cast<double>(r.count)));
      a.Set(static_cast<uint32_t>(i), x);
    }
    o.Set("rows", a);
    o.Set("overflow", Napi::Number::New(env, static_cast<double>(overflow)));
    o.Set("ringFull", Napi::Number::New(env, loader_ ? static_cast<double>(loader_->ring_full()) : 0));
    o.Set("unparsed", Napi::Number::New(env, loader_ ? static_cast<double>(loader_->unparsed()) : 0));
    return o;
  }

  // close(): detaches the program and stops the polling thread (also done by the GC).
  Napi::Value Close(const Napi::CallbackInfo& info) {
    loader_.reset();
    return info.Env().Undefined();
  }

  std::unique_ptr<KernelDropLoader> loader_;
};

// parseKernelDropEvent(bytes: Uint8Array) -> object | null (native/kdrops/event.h).
Napi::Value ParseEvent(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray()) throw Napi::TypeError::New(env, "parseKernelDropEvent(bytes)");
  Napi::Uint8Array b = info[0].As<Napi::Uint8Array>();
  kdrops::KernelDrop d;
  if (!kdrops::parse_event(b.Data(), b.ElementLength(), &d)) return env.Null();
  Napi::Object o = Napi::Object::New(env);
  o.Set("netns", Napi::Number::New(env, d.netns));
  o.Set("ifindex", Napi::Number::New(env, d.ifindex));
  o.Set("reason", Napi::String::New(env, kReasonNames[d.reason]));
  o.Set("family", Napi::Number::New(env, d.family));
  o.Set("proto", Napi::Number::New(env, d.proto));
  o.Set("src", address(env, d.family, d.src));
  o.Set("dst", address(env, d.family, d.dst));
  o.Set("sport", d.has_ports ? Napi::Number::New(env, d.sport) : env.Null());
  o.Set("dport", d.has_ports ? Napi::Number::New(env, d.dport) : env.Null());
  o.Set("vni", d.vxlan ? Napi::Number::New(env, d.vni) : env.Null());
  if (d.has_inner) {
    Napi::Object in = Napi::Object::New(env);
    in.Set("proto", Napi::Number::New(env, d.inner_proto));
    in.Set("src", address(env, 4, d.inner_src));
    in.Set("dst", address(env, 4, d.inner_dst));
    in.Set("sport", Napi::Number::New(env, d.inner_sport));
    in.Set("dport", Napi::Number::New(env, d.inner_dport));
    o.Set("inner", in);
  } else {
    o.Set("inner", env.Null());
  }
  return o;
}

}  // namespace

void RegisterKernelDrops(Napi::Env env, Napi::Object exports) {
  exports.Set("KernelDrops", KernelDropsWrap::Define(env));
  exports.Set("parseKernelDropEvent", Napi::Function::New(env, ParseEvent, "parseKernelDropEvent"));
  exports.Set("kernelDropsBuiltIn", Napi::Boolean::New(env, kdrops::built_in()));
  Napi::Object layout = Napi::Object::New(env);
  layout.Set("size", Napi::Number::New(env, sizeof(kdrop_event)));
  layout.Set("dataBytes", Napi::Number::New(env, KDROP_DATA_BYTES));
  exports.Set("kernelDropEventLayout", layout);
}

}  // namespace csumtop
