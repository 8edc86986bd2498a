// \summary: N-API surface of the DNS and SYN transaction tables (native/flow/syn_txns.h,
// native/flow/dns_txns.h): one call per batch and per tick, packed buffers back (layouts
// in txnLayout(), from offsetof), no object per event. Argument checks and conversions
// only.
#include <cstddef>
#include <cstring>
#include <memory>
#include <vector>

#include "flow/dns_txns.h"
#include "flow/syn_txns.h"
#include "napi/convert.h"
#include "napi/register.h"

namespace csumtop {

namespace {

// The bytes of a Uint8Array/Buffer argument.
bool bytes_of(const Napi::Value& v, const uint8_t** data, size_t* len) {
  if (!v.IsTypedArray()) return false;
  Napi::TypedArray t = v.As<Napi::TypedArray>();
  if (t.TypedArrayType() != napi_uint8_array) return false;
  Napi::Uint8Array u = v.As<Napi::Uint8Array>();
  *data = u.Data();
  *len = u.ByteLength();
  return true;
}

// The (id, place, flags) words of a Uint32Array argument (places.h).
bool places_of(const Napi::Value& v, const uint32_t** words, size_t* n) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
    return false;
  Napi::Uint32Array u = v.As<Napi::Uint32Array>();
  *words = u.Data();
  *n = u.ElementLength() / kPlacePairWords;
  return true;
}

Napi::Float64Array doubles(Napi::Env env, const double* v, size_t n) {
  Napi::Float64Array a = Napi::Float64Array::New(env, n);
  if (n > 0) std::memcpy(a.Data(), v, n * sizeof(double));
  return a;
}

// (cap, timeoutNs, copyWindowNs, maxListed, resident = true) of a table's constructor.
struct TxnArgs {
  uint32_t cap;
  double timeout_ns, window_ns;
  uint32_t max_listed;
  Residency residency;
};

TxnArgs txn_args(const Napi::CallbackInfo& info, const char* usage) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber() ||
      !info[3].IsNumber())
    throw Napi::TypeError::New(env, usage);
  const double cap = info[0].As<Napi::Number>().DoubleValue();
  if (!(cap >= 1 && cap <= (1u << 30) && cap == static_cast<uint32_t>(cap)))
    throw Napi::RangeError::New(env, "transaction table cap must be an integer in 1..2^30");
  return TxnArgs{static_cast<uint32_t>(cap), info[1].As<Napi::Number>().DoubleValue(),
                 info[2].As<Napi::Number>().DoubleValue(), info[3].As<Napi::Number>().Uint32Value(),
                 residency_arg(info, 4)};
}

// One batch as add(events, names, placePairs) hands it over.
struct TxnBatch {
  const uint8_t* ev;
  size_t n;  // FrameEvents
  const uint8_t* names;
  size_t n_names;
  const uint32_t* places;
  size_t n_places;
};

TxnBatch batch_args(const Napi::CallbackInfo& info) {
  TxnBatch b{};
  if (info.Length() < 3 || !bytes_of(info[0], &b.ev, &b.n) ||
      !bytes_of(info[1], &b.names, &b.n_names) || !places_of(info[2], &b.places, &b.n_places))
    throw Napi::TypeError::New(info.Env(),
                               "add(events: Buffer, names: Buffer, placePairs: Uint32Array)");
  b.n /= sizeof(FrameEvent);
  return b;
}

// What both tables' wrappers share: add(), advance(), flush(), tableUse(), bytes() (CRTP:
// `Self` is the wrapper class Node sees, `Table` the native table it owns; Self::Fold
// hands a batch to its table).
template <class Self, class Table>
class TxnsWrap : public Napi::ObjectWrap<Self> {
 public:
  static Napi::Function Define(Napi::Env env, const char* name) {
    return Napi::ObjectWrap<Self>::DefineClass(
        env, name,
        {Napi::ObjectWrap<Self>::InstanceMethod("add", &Self::Add),
         Napi::ObjectWrap<Self>::InstanceMethod("advance", &Self::Advance),
         Napi::ObjectWrap<Self>::InstanceMethod("flush", &Self::Flush),
         Napi::ObjectWrap<Self>::InstanceMethod("summary", &Self::Summary),
         Napi::ObjectWrap<Self>::InstanceMethod("tableUse", &Self::TableUse),
         Napi::ObjectWrap<Self>::InstanceMethod("bytes", &Self::Bytes)});
  }

  // new SynTxns / DnsTxns(cap, timeoutNs, copyWindowNs, maxListed, resident = true)
  TxnsWrap(const Napi::CallbackInfo& info, const char* usage) : Napi::ObjectWrap<Self>(info) {
    TxnArgs a = txn_args(info, usage);
    t_ = std::make_unique<Table>(a.cap, a.timeout_ns, a.window_ns, a.max_listed, a.residency);
  }

  Napi::Value Add(const Napi::CallbackInfo& info) {
    static_cast<Self*>(this)->Fold(batch_args(info));
    return info.Env().Undefined();
  }
  Napi::Value Advance(const Napi::CallbackInfo& info) {
    if (info.Length() < 1 || !info[0].IsNumber())
      throw Napi::TypeError::New(info.Env(), "advance(nowNs: number)");
    t_->advance(info[0].As<Napi::Number>().DoubleValue());
    return info.Env().Undefined();
  }
  Napi::Value Flush(const Napi::CallbackInfo& info) {
    t_->flush();
    return info.Env().Undefined();
  }
  // tableUse() -> Float64Array [size, cap, evicted]
  Napi::Value TableUse(const Napi::CallbackInfo& info) {
    const double v[] = {static_cast<double>(t_->size()), static_cast<double>(t_->cap()),
                        t_->evicted()};
    return doubles(info.Env(), v, 3);
  }
  Napi::Value Bytes(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(t_->bytes()));
  }

 protected:
  std::unique_ptr<Table> t_;
};

class SynTxnsWrap : public TxnsWrap<SynTxnsWrap, SynTxns> {
 public:
  explicit SynTxnsWrap(const Napi::CallbackInfo& info)
      : TxnsWrap(info, "new SynTxns(cap, timeoutNs, copyWindowNs, maxListed, resident?)") {}

  void Fold(const TxnBatch& b) { t_->add(b.ev, b.n, b.places, b.n_places); }
  // summary() -> {counts: Float64Array [connections, answered, refused, unanswered,
  // retransmitted, attributed], delayedBy: Float64Array of (retransmissions, count) pairs
  // in first-seen order, listed: Buffer of SynListed (txnLayout().syn), times: Float64Array}
  Napi::Value Summary(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const SynCounts& c = t_->counts();
    const double counts[] = {c.connections, c.answered,      c.refused,
                             c.unanswered,  c.retransmitted, c.attributed};
    std::vector<double> delayed;
    for (const auto& d : t_->delayed_by()) {
      delayed.push_back(d.first);
      delayed.push_back(d.second);
    }
    std::vector<double> times;
    std::vector<SynListed> listed = t_->listed(&times);
    Napi::Object o = Napi::Object::New(env);
    o.Set("counts", doubles(env, counts, 6));
    o.Set("delayedBy", doubles(env, delayed.data(), delayed.size()));
    o.Set("listed",
          Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(listed.data()),
                                      listed.size() * sizeof(SynListed)));
    o.Set("times", doubles(env, times.data(), times.size()));
    return o;
  }
};

class DnsTxnsWrap : public TxnsWrap<DnsTxnsWrap, DnsTxns> {
 public:
  explicit DnsTxnsWrap(const Napi::CallbackInfo& info)
      : TxnsWrap(info, "new DnsTxns(cap, timeoutNs, copyWindowNs, maxListed, resident?)") {}

  void Fold(const TxnBatch& b) { t_->add(b.ev, b.n, b.names, b.n_names, b.places, b.n_places); }
  // summary() -> {counts: Float64Array [queries, answered, unanswered, retries,
  // attributed], latency: Float64Array [p50, max] or empty, listed: Buffer of DnsListed
  // (txnLayout().dns), names: Buffer}
  Napi::Value Summary(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const DnsCounts& c = t_->counts();
    const double counts[] = {c.queries, c.answered, c.unanswered, c.retries, c.attributed};
    double lat[2];
    const bool any = t_->latency(&lat[0], &lat[1]);
    std::string names;
    std::vector<DnsListed> listed = t_->listed(&names);
    Napi::Object o = Napi::Object::New(env);
    o.Set("counts", doubles(env, counts, 5));
    o.Set("latency", doubles(env, lat, any ? 2 : 0));
    o.Set("listed",
          Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(listed.data()),
                                      listed.size() * sizeof(DnsListed)));
    o.Set("names", Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(names.data()),
                                               names.size()));
    return o;
  }
};

Napi::Object attribution_layout(Napi::Env env, size_t base) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("outer", static_cast<uint32_t>(base + offsetof(TxnAttribution, outer)));
  o.Set("frames", static_cast<uint32_t>(base + offsetof(TxnAttribution, frames)));
  o.Set("place", static_cast<uint32_t>(base + offsetof(TxnAttribution, place)));
  o.Set("sent", static_cast<uint32_t>(base + offsetof(TxnAttribution, sent)));
  o.Set("nChecksums", static_cast<uint32_t>(base + offsetof(TxnAttribution, n_checksums)));
  o.Set("checksums", static_cast<uint32_t>(base + offsetof(TxnAttribution, checksums)));
  o.Set("nFrames", static_cast<uint32_t>(base + offsetof(TxnAttribution, n_frames)));
  return o;
}

// txnLayout(): offsets of the packed records summary() returns, and the bytes per entry.
Napi::Value TxnLayout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  Napi::Object syn = Napi::Object::New(env);
  syn.Set("size", static_cast<uint32_t>(sizeof(SynListed)));
  syn.Set("client", static_cast<uint32_t>(offsetof(SynListed, client)));
  syn.Set("firstNs", static_cast<uint32_t>(offsetof(SynListed, first_ns)));
  syn.Set("delay", static_cast<uint32_t>(offsetof(SynListed, delay_s)));
  syn.Set("syns", static_cast<uint32_t>(offsetof(SynListed, syns)));
  syn.Set("timesOff", static_cast<uint32_t>(offsetof(SynListed, retransmit_off)));
  syn.Set("timesN", static_cast<uint32_t>(offsetof(SynListed, retransmit_n)));
  syn.Set("answered", static_cast<uint32_t>(offsetof(SynListed, answered)));
  syn.Set("refused", static_cast<uint32_t>(offsetof(SynListed, refused)));
  syn.Set("attributed", static_cast<uint32_t>(offsetof(SynListed, attributed)));
  syn.Set("attribution", attribution_layout(env, offsetof(SynListed, attribution)));
  syn.Set("bytesPerEntry", static_cast<uint32_t>(kSynBytesPerEntry));
  o.Set("syn", syn);
  Napi::Object dns = Napi::Object::New(env);
  dns.Set("size", static_cast<uint32_t>(sizeof(DnsListed)));
  dns.Set("client", static_cast<uint32_t>(offsetof(DnsListed, client)));
  dns.Set("firstNs", static_cast<uint32_t>(offsetof(DnsListed, first_ns)));
  dns.Set("latency", static_cast<uint32_t>(offsetof(DnsListed, latency_ms)));
  dns.Set("queries", static_cast<uint32_t>(offsetof(DnsListed, queries)));
  dns.Set("nameOff", static_cast<uint32_t>(offsetof(DnsListed, name_off)));
  dns.Set("nameLen", static_cast<uint32_t>(offsetof(DnsListed, name_len)));
  dns.Set("id", static_cast<uint32_t>(offsetof(DnsListed, id)));
  dns.Set("qtype", static_cast<uint32_t>(offsetof(DnsListed, qtype)));
  dns.Set("answered", static_cast<uint32_t>(offsetof(DnsListed, answered)));
  dns.Set("rcode", static_cast<uint32_t>(offsetof(DnsListed, rcode)));
  dns.Set("attributed", static_cast<uint32_t>(offsetof(DnsListed, attributed)));
  dns.Set("attribution", attribution_layout(env, offsetof(DnsListed, attribution)));
  dns.Set("bytesPerEntry", static_cast<uint32_t>(kDnsBytesPerEntry));
  dns.Set("maxKeptUnanswered", kMaxKeptUnanswered);
  o.Set("dns", dns);
  o.Set("txnTableBytesPerEntry", static_cast<uint32_t>(TxnTable::kBytesPerEntry));
  o.Set("unlistedPlace", kUnlistedPlace);
  return o;
}

}  // namespace

void RegisterTxns(Napi::Env env, Napi::Object exports) {
  exports.Set("SynTxns", SynTxnsWrap::Define(env, "SynTxns"));
  exports.Set("DnsTxns", DnsTxnsWrap::Define(env, "DnsTxns"));
  exports.Set("txnLayout", Napi::Function::New(env, TxnLayout, "txnLayout"));
}

}  // namespace csumtop
