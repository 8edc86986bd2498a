// \summary: N-API surface of the kernel drop verdicts (issue 18): open the eBPF source,
// take its per-interval counts, close it; and the record parser alone, for tests.
// Argument checks and conversions only; the work is in native/kdrops.
#include <arpa/inet.h>

#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bpf/kernel_drops_event.h"
#include "kdrops/event.h"
#include "kdrops/frame_match.h"
#include "kdrops/loader.h"
#include "napi/register.h"

namespace csumtop {

namespace {

using kdrops::KernelDropLoader;

// Index = KDROP_REASON_* (native/bpf/kernel_drops_event.h); the kernel's names without
// the SKB_DROP_REASON_ prefix (include/net/dropreason-core.h).
const char* const kReasonNames[KDROP_REASON_COUNT] = {"",         "UDP_CSUM", "TCP_CSUM", "IP_CSUM",
                                                      "IP_INHDR", "SKB_CSUM", "ICMP_CSUM"};

// Index = kdrops::Outcome (native/kdrops/frame_match.h); the keys of KernelDropOutcomes
// (src/native/kernel-drops.ts).
const char* const kOutcomeNames[kdrops::kNumOutcomes] = {
    "seenBad", "seenGood", "seenUnverified", "notCaptured", "ringDrop", "notSeen", "tableFull"};

Napi::Object outcomes(Napi::Env env, const uint64_t (&n)[kdrops::kNumOutcomes]) {
  Napi::Object o = Napi::Object::New(env);
  for (int i = 0; i < kdrops::kNumOutcomes; i++)
    o.Set(kOutcomeNames[i], Napi::Number::New(env, static_cast<double>(n[i])));
  return o;
}

Napi::Value address(Napi::Env env, uint8_t family, const uint8_t* a) {
  if (family != 4 && family != 6) return env.Null();
  char text[INET6_ADDRSTRLEN];
  if (inet_ntop(family == 4 ? AF_INET : AF_INET6, a, text, sizeof text) == nullptr)
    return env.Null();
  return Napi::String::New(env, text);
}

class KernelDropsWrap : public Napi::ObjectWrap<KernelDropsWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "KernelDrops",
                       {InstanceMethod("state", &KernelDropsWrap::State),
                        InstanceMethod("wait", &KernelDropsWrap::Wait),
                        InstanceMethod("take", &KernelDropsWrap::Take),
                        InstanceMethod("close", &KernelDropsWrap::Close)});
  }

  // new KernelDrops(): throws nothing. What can be known at once (not built in, no
  // libbpf, no rights, no BTF) is decided here; loading the program takes up to a second
  // (libbpf parses the kernel's BTF, the verifier runs), so it runs on a thread of its own
  // and capture does not wait for it: state() says "loading" until it is done.
  explicit KernelDropsWrap(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<KernelDropsWrap>(info) {
    if (!KernelDropLoader::precheck(&kind_, &why_)) {
      state_ = kOff;
      return;
    }
    loading_ = std::thread([this] {
      kdrops::Unavailable kind = kdrops::Unavailable::kNone;
      std::string why;
      std::unique_ptr<KernelDropLoader> l = KernelDropLoader::start(&kind, &why);
      std::lock_guard<std::mutex> g(mu_);
      state_ = l ? kOn : kOff;
      kind_ = kind;
      why_ = why;
      loader_ = std::move(l);
    });
  }

  ~KernelDropsWrap() override {
    if (loading_.joinable()) loading_.join();
  }

 private:
  enum StateKind { kLoading, kOn, kOff, kClosed };

  // state() -> {state: "loading" | "on" | "unavailable" | "closed", unavailable, why}
  Napi::Value State(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::lock_guard<std::mutex> g(mu_);
    static const char* const kNames[] = {"loading", "on", "unavailable", "closed"};
    Napi::Object o = Napi::Object::New(env);
    o.Set("state", Napi::String::New(env, kNames[state_]));
    o.Set("unavailable",
          state_ == kOff ? Napi::String::New(env, kdrops::unavailable_name(kind_)) : env.Null());
    o.Set("why", state_ == kOff ? Napi::String::New(env, why_) : env.Null());
    return o;
  }

  // wait(): blocks until loading is done (csumtop --user: before the rights go).
  Napi::Value Wait(const Napi::CallbackInfo& info) {
    if (loading_.joinable()) loading_.join();
    return info.Env().Undefined();
  }

  // take() -> {rows: [{netns, ifindex, reason, peer, count, outcomes, frame}], overflow,
  // overflowOutcomes, pending, ringFull, unparsed},
  // or null while the program is not running (loading, unavailable, closed).
  Napi::Value Take(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<kdrops::DropRow> rows;
    uint64_t overflow = 0;
    uint64_t overflow_outcomes[kdrops::kNumOutcomes] = {};
    uint64_t pending = 0;
    uint64_t ring_full = 0;
    uint64_t unparsed = 0;
    {
      std::lock_guard<std::mutex> g(mu_);
      if (state_ != kOn || !loader_) return env.Null();
      loader_->take(&rows, &overflow, &overflow_outcomes, &pending);
      ring_full = loader_->ring_full();
      unparsed = loader_->unparsed();
    }
    Napi::Object o = Napi::Object::New(env);
    Napi::Array a = Napi::Array::New(env, rows.size());
    for (size_t i = 0; i < rows.size(); i++) {
      const kdrops::DropRow& r = rows[i];
      Napi::Object x = Napi::Object::New(env);
      x.Set("netns", Napi::Number::New(env, r.key.netns));
      x.Set("ifindex", Napi::Number::New(env, r.key.ifindex));
      x.Set("reason", Napi::String::New(
                          env, kReasonNames[r.key.reason < KDROP_REASON_COUNT ? r.key.reason : 0]));
      x.Set("peer", address(env, r.key.family, r.key.peer));
      x.Set("count", Napi::Number::New(env, static_cast<double>(r.n.count)));
      x.Set("outcomes", outcomes(env, r.n.outcomes));
      x.Set("frame",
            r.n.frame != 0 ? Napi::Number::New(env, static_cast<double>(r.n.frame)) : env.Null());
      a.Set(static_cast<uint32_t>(i), x);
    }
    o.Set("rows", a);
    o.Set("overflow", Napi::Number::New(env, static_cast<double>(overflow)));
    o.Set("overflowOutcomes", outcomes(env, overflow_outcomes));
    o.Set("pending", Napi::Number::New(env, static_cast<double>(pending)));
    o.Set("ringFull", Napi::Number::New(env, static_cast<double>(ring_full)));
    o.Set("unparsed", Napi::Number::New(env, static_cast<double>(unparsed)));
    return o;
  }

  // close(): waits for a load in progress, then detaches the program and stops its
  // polling thread (the GC does the same).
  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (loading_.joinable()) loading_.join();
    std::unique_ptr<KernelDropLoader> l;
    {
      std::lock_guard<std::mutex> g(mu_);
      l = std::move(loader_);
      if (state_ == kOn) state_ = kClosed;
    }
    l.reset();  // joins the polling thread, outside the lock
    return info.Env().Undefined();
  }

  std::mutex mu_;
  StateKind state_ = kLoading;
  kdrops::Unavailable kind_ = kdrops::Unavailable::kNone;
  std::string why_;
  std::unique_ptr<KernelDropLoader> loader_;
  std::thread loading_;
};

// parseKernelDropEvent(bytes: Uint8Array) -> object | null (native/kdrops/event.h).
Napi::Value ParseEvent(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray())
    throw Napi::TypeError::New(env, "parseKernelDropEvent(bytes)");
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
  exports.Set(
      "kernelDropMatchWindowMs",
      Napi::Number::New(env, static_cast<double>(kdrops::FrameMatcher::kWindowNs / 1000000ull)));
  exports.Set("kernelDropsBuiltIn", Napi::Boolean::New(env, kdrops::built_in()));
  Napi::Object layout = Napi::Object::New(env);
  layout.Set("size", Napi::Number::New(env, sizeof(kdrop_event)));
  layout.Set("dataBytes", Napi::Number::New(env, KDROP_DATA_BYTES));
  exports.Set("kernelDropEventLayout", layout);
}

}  // namespace csumtop
