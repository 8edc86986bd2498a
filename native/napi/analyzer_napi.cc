// \summary: N-API surface of the decoder and the offline analysis: argument checks and
// conversions only.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <vector>

#include "flow/file_analysis.h"
#include "flow/file_step.h"
#include "flow/parallel.h"
#include "napi/convert.h"
#include "napi/lent_buffer.h"
#include "napi/register.h"

namespace csumtop {

namespace {

DecodeOptions decode_options(const Napi::Value& v) {
  DecodeOptions d;
  if (v.IsObject()) read_decode_options(v.As<Napi::Object>(), &d);
  return d;
}

Napi::Object endpoint_object(Napi::Env env, const IpLayer& l) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("family", l.family);
  o.Set("proto", l.proto);
  o.Set("tunnel", l.tunnel);
  o.Set("fragment", l.is_fragment);
  o.Set("hasPorts", l.l4_offset != 0);
  o.Set("sport", l.sport);
  o.Set("dport", l.dport);
  o.Set("ipId", l.ip_id);
  o.Set("ipLen", l.ip_len);
  o.Set("vni", l.vni);
  o.Set("l3Offset", l.l3_offset);
  o.Set("l4Offset", l.l4_offset);
  o.Set("tcpFlags", l.tcp_flags);
  o.Set("src", Napi::Buffer<uint8_t>::Copy(env, l.src, l.family == 4 ? 4 : 16));
  o.Set("dst", Napi::Buffer<uint8_t>::Copy(env, l.dst, l.family == 4 ? 4 : 16));
  return o;
}

// decodeFrame(data: Uint8Array, linktype: number, options?: {wirelen, vxlanPorts, genevePorts})
Napi::Value DecodeFrame(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsNumber())
    throw Napi::TypeError::New(env, "decodeFrame(data: Uint8Array, linktype: number, options?)");
  Napi::Uint8Array data = info[0].As<Napi::Uint8Array>();
  const uint32_t linktype = info[1].As<Napi::Number>().Uint32Value();
  DecodeOptions opts = decode_options(info.Length() > 2 ? info[2] : env.Undefined());
  uint32_t caplen = static_cast<uint32_t>(data.ElementLength());
  uint32_t wirelen = caplen;
  if (info.Length() > 2 && info[2].IsObject()) {
    Napi::Object o = info[2].As<Napi::Object>();
    if (o.Has("wirelen")) wirelen = o.Get("wirelen").As<Napi::Number>().Uint32Value();
  }
  auto frame = std::make_unique<Frame>();
  decode_frame(data.Data(), caplen, wirelen, static_cast<uint16_t>(linktype), opts, nullptr,
               frame.get());
  const Frame& f = *frame;
  Napi::Object out = Napi::Object::New(env);
  Napi::Array layers = Napi::Array::New(env, f.nlayers);
  for (uint32_t i = 0; i < f.nlayers; i++) layers.Set(i, endpoint_object(env, f.layer[i]));
  out.Set("layers", layers);
  Napi::Array sums = Napi::Array::New(env, f.ncsum);
  for (uint32_t i = 0; i < f.ncsum; i++) {
    const CsumEntry& e = f.csum[i];
    Napi::Object c = Napi::Object::New(env);
    c.Set("depth", e.depth);
    c.Set("kind", kind_name(e.kind));
    c.Set("status", status_name(e.status));
    c.Set("why", e.why);
    c.Set("found", e.found);
    c.Set("expected", e.expected);
    c.Set("fieldOffset", e.field_offset);
    c.Set("looksPartial", e.looks_partial != 0);
    sums.Set(i, c);
  }
  out.Set("checksums", sums);
  out.Set("malformed", f.malformed
                           ? Napi::Value(Napi::String::New(env, malformed_name(f.malformed)))
                           : env.Null());
  out.Set("malformedOffset", f.malformed_offset);
  out.Set("truncated", f.truncated != 0);
  out.Set("unsupported", f.undecoded != kUndecodedNone);
  out.Set("undecoded", f.undecoded
                           ? Napi::Value(Napi::String::New(env, undecoded_name(f.undecoded)))
                           : env.Null());
  out.Set("vlanCount", f.vlan_count);
  out.Set("vlanId", f.vlan_id);
  out.Set("direction", f.direction);
  return out;
}

Napi::Value Layout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("counterStride", InterfaceCounters::kStride);
  Napi::Object slots = Napi::Object::New(env);
  slots.Set("frames", static_cast<uint32_t>(InterfaceCounters::kFrames));
  slots.Set("bytes", static_cast<uint32_t>(InterfaceCounters::kBytes));
  slots.Set("badFrames", static_cast<uint32_t>(InterfaceCounters::kBadFrames));
  slots.Set("malformed", static_cast<uint32_t>(InterfaceCounters::kMalformed));
  slots.Set("truncated", static_cast<uint32_t>(InterfaceCounters::kTruncated));
  slots.Set("unsupported", static_cast<uint32_t>(InterfaceCounters::kUnsupported));
  slots.Set("badChecksums", static_cast<uint32_t>(InterfaceCounters::kBadChecksums));
  slots.Set("looksPartial", static_cast<uint32_t>(InterfaceCounters::kLooksPartial));
  slots.Set("outgoing", static_cast<uint32_t>(InterfaceCounters::kOutgoing));
  slots.Set("badReceivedL4", static_cast<uint32_t>(InterfaceCounters::kBadReceivedL4));
  slots.Set("partialOnlyFrames", static_cast<uint32_t>(InterfaceCounters::kPartialOnlyFrames));
  o.Set("slots", slots);
  o.Set("malformedBase", InterfaceCounters::kMalformedBase);
  o.Set("csumBase", InterfaceCounters::kCsumBase);
  o.Set("partialBase", InterfaceCounters::kPartialBase);
  o.Set("numLayers", static_cast<uint32_t>(kNumLayers));
  o.Set("numKinds", static_cast<uint32_t>(kNumKinds));
  o.Set("numStatus", static_cast<uint32_t>(kNumStatus));
  o.Set("numMalformed", static_cast<uint32_t>(kNumMalformed));
  Napi::Array mal = Napi::Array::New(env, kNumMalformed);
  for (uint32_t i = 0; i < kNumMalformed; i++) mal.Set(i, malformed_name(static_cast<uint8_t>(i)));
  o.Set("malformedNames", mal);
  o.Set("undecodedBase", InterfaceCounters::kUndecodedBase);
  o.Set("numUndecoded", static_cast<uint32_t>(kNumUndecoded));
  Napi::Array und = Napi::Array::New(env, kNumUndecoded);
  for (uint32_t i = 0; i < kNumUndecoded; i++) und.Set(i, undecoded_name(static_cast<uint8_t>(i)));
  o.Set("undecodedNames", und);
  Napi::Array kinds = Napi::Array::New(env, kNumKinds);
  for (uint32_t i = 0; i < kNumKinds; i++) kinds.Set(i, kind_name(static_cast<uint8_t>(i)));
  o.Set("kindNames", kinds);
  Napi::Array statuses = Napi::Array::New(env, kNumStatus);
  for (uint32_t i = 0; i < kNumStatus; i++) statuses.Set(i, status_name(static_cast<uint8_t>(i)));
  o.Set("statusNames", statuses);
  o.Set("numTunnels", static_cast<uint32_t>(kNumTunnels));
  Napi::Object rec = Napi::Object::New(env);
  rec.Set("size", static_cast<uint32_t>(sizeof(BadFrameRecord)));
  rec.Set("frameNumber", static_cast<uint32_t>(offsetof(BadFrameRecord, frame_number)));
  rec.Set("tsNs", static_cast<uint32_t>(offsetof(BadFrameRecord, ts_ns)));
  rec.Set("iface", static_cast<uint32_t>(offsetof(BadFrameRecord, iface)));
  rec.Set("caplen", static_cast<uint32_t>(offsetof(BadFrameRecord, caplen)));
  rec.Set("wirelen", static_cast<uint32_t>(offsetof(BadFrameRecord, wirelen)));
  rec.Set("vni", static_cast<uint32_t>(offsetof(BadFrameRecord, vni)));
  rec.Set("tunnel", static_cast<uint32_t>(offsetof(BadFrameRecord, tunnel)));
  rec.Set("hasInner", static_cast<uint32_t>(offsetof(BadFrameRecord, has_inner)));
  rec.Set("nBad", static_cast<uint32_t>(offsetof(BadFrameRecord, n_bad)));
  rec.Set("nLayers", static_cast<uint32_t>(offsetof(BadFrameRecord, n_layers)));
  rec.Set("outer", static_cast<uint32_t>(offsetof(BadFrameRecord, outer)));
  rec.Set("inner", static_cast<uint32_t>(offsetof(BadFrameRecord, inner)));
  rec.Set("bad", static_cast<uint32_t>(offsetof(BadFrameRecord, bad)));
  rec.Set("direction", static_cast<uint32_t>(offsetof(BadFrameRecord, direction)));
  rec.Set("badSize", static_cast<uint32_t>(sizeof(BadChecksumSample)));
  rec.Set("maxBad", static_cast<uint32_t>(kMaxSampleChecksums));
  // Within FlowEndpoint / BadChecksumSample:
  rec.Set("epFamily", static_cast<uint32_t>(offsetof(FlowEndpoint, family)));
  rec.Set("epProto", static_cast<uint32_t>(offsetof(FlowEndpoint, proto)));
  rec.Set("epHasPorts", static_cast<uint32_t>(offsetof(FlowEndpoint, has_ports)));
  rec.Set("epSport", static_cast<uint32_t>(offsetof(FlowEndpoint, sport)));
  rec.Set("epDport", static_cast<uint32_t>(offsetof(FlowEndpoint, dport)));
  rec.Set("epSrc", static_cast<uint32_t>(offsetof(FlowEndpoint, src)));
  rec.Set("epDst", static_cast<uint32_t>(offsetof(FlowEndpoint, dst)));
  rec.Set("epSize", static_cast<uint32_t>(sizeof(FlowEndpoint)));
  rec.Set("bDepth", static_cast<uint32_t>(offsetof(BadChecksumSample, depth)));
  rec.Set("bKind", static_cast<uint32_t>(offsetof(BadChecksumSample, kind)));
  rec.Set("bLooksPartial", static_cast<uint32_t>(offsetof(BadChecksumSample, looks_partial)));
  rec.Set("bFound", static_cast<uint32_t>(offsetof(BadChecksumSample, found)));
  rec.Set("bExpected", static_cast<uint32_t>(offsetof(BadChecksumSample, expected)));
  rec.Set("bOffset", static_cast<uint32_t>(offsetof(BadChecksumSample, offset)));
  rec.Set("bytesOff", static_cast<uint32_t>(offsetof(BadFrameRecord, bytes_off)));
  rec.Set("bytesLen", static_cast<uint32_t>(offsetof(BadFrameRecord, bytes_len)));
  o.Set("record", rec);
  // The bad-flow table entries as flowsPacked() copies them (BadFlow).
  Napi::Object fl = Napi::Object::New(env);
  fl.Set("size", static_cast<uint32_t>(sizeof(BadFlow)));
  fl.Set("iface", static_cast<uint32_t>(offsetof(BadFlow, key) + offsetof(FlowKey, iface)));
  fl.Set("tunnel", static_cast<uint32_t>(offsetof(BadFlow, key) + offsetof(FlowKey, tunnel)));
  fl.Set("hasInner", static_cast<uint32_t>(offsetof(BadFlow, key) + offsetof(FlowKey, has_inner)));
  fl.Set("vni", static_cast<uint32_t>(offsetof(BadFlow, key) + offsetof(FlowKey, vni)));
  fl.Set("outer", static_cast<uint32_t>(offsetof(BadFlow, key) + offsetof(FlowKey, outer)));
  fl.Set("inner", static_cast<uint32_t>(offsetof(BadFlow, key) + offsetof(FlowKey, inner)));
  fl.Set("count", static_cast<uint32_t>(offsetof(BadFlow, count)));
  fl.Set("firstNs", static_cast<uint32_t>(offsetof(BadFlow, first_ns)));
  fl.Set("lastNs", static_cast<uint32_t>(offsetof(BadFlow, last_ns)));
  fl.Set("exampleFrame", static_cast<uint32_t>(offsetof(BadFlow, example_frame)));
  fl.Set("badMask", static_cast<uint32_t>(offsetof(BadFlow, bad_mask)));
  fl.Set("nExample", static_cast<uint32_t>(offsetof(BadFlow, n_example)));
  fl.Set("example", static_cast<uint32_t>(offsetof(BadFlow, example)));
  o.Set("flow", fl);
  o.Set("event", event_layout(env));
  return o;
}

// {status, message?, linktype?} of a step (StepStatus in src/native/analyzer.ts).
void set_step_status(Napi::Object r, StepResult result, const std::string& message,
                     uint16_t linktype) {
  switch (result) {
    case StepResult::kMore:
      r.Set("status", "more");
      break;
    case StepResult::kDone:
      r.Set("status", "done");
      break;
    case StepResult::kTruncated:
      r.Set("status", "truncated");
      r.Set("message", message);
      break;
    case StepResult::kError:
      r.Set("status", "error");
      r.Set("message", message);
      break;
    case StepResult::kNeedFilter:
      r.Set("status", "filter");
      r.Set("linktype", linktype);
      break;
  }
}

// Where a step's events and names go for JavaScript: two pairs of LentBuffers taken in
// turn, so that filling step N+1's (on the pool's thread) never changes the bytes of
// step N's, which JavaScript is reading meanwhile. JavaScript reads a step's events only
// while it correlates that step (src/capture/file-run.ts; no Correlator keeps them:
// test/unit/file-run-ahead.test.ts overwrites every batch after add()); step N+2 starts
// only after that.
struct StepLending {
  LentBuffer events[2], names[2];
  unsigned next = 0;
  // The pair a step about to run fills (JavaScript thread, before the step starts).
  unsigned claim() {
    const unsigned k = next;
    next ^= 1;
    return k;
  }
  void fill(unsigned k, const FileStep& s) {
    events[k].fill(s.events.data(), s.events.size() * sizeof(FrameEvent));
    names[k].fill(s.event_names.data(), s.event_names.size());
  }
};

// A FileStep as JavaScript reads it (FileStep in src/native/analyzer.ts), its events and
// names lent from pair k of `lending` (filled from s).
Napi::Object file_step_object(Napi::Env env, const FileStep& s, const StepLending& lending,
                              unsigned k) {
  Napi::Object r = Napi::Object::New(env);
  set_step_status(r, s.result, s.message, s.linktype);
  Napi::Object drain = Napi::Object::New(env);
  set_records(env, drain, s.records, s.record_bytes, s.records_dropped);
  set_events(drain, lending.events[k].lend(env), lending.names[k].lend(env), s.events_dropped);
  r.Set("drain", drain);
  Napi::Float64Array counters = Napi::Float64Array::New(env, s.counters.size());
  for (size_t i = 0; i < s.counters.size(); i++) counters[i] = static_cast<double>(s.counters[i]);
  r.Set("counters", counters);
  if (s.interfaces_changed) r.Set("interfaces", file_interfaces_array(env, s.interfaces));
  r.Set("frames", static_cast<double>(s.frames));
  r.Set("bytesRead", static_cast<double>(s.bytes_read));
  r.Set("filteredOut", static_cast<double>(s.filtered_out));
  return r;
}

class FileAnalysisWrap : public Napi::ObjectWrap<FileAnalysisWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "FileAnalysis",
                       {InstanceMethod("step", &FileAnalysisWrap::Step),
                        InstanceMethod("finish", &FileAnalysisWrap::Finish),
                        InstanceMethod("interfaces", &FileAnalysisWrap::Interfaces),
                        InstanceMethod("counters", &FileAnalysisWrap::Counters),
                        InstanceMethod("flowsPacked", &FileAnalysisWrap::FlowsPacked),
                        InstanceMethod("takeRecords", &FileAnalysisWrap::TakeRecords),
                        InstanceMethod("takeDrain", &FileAnalysisWrap::TakeDrain),
                        InstanceMethod("stats", &FileAnalysisWrap::Stats),
                        InstanceMethod("helperFrames", &FileAnalysisWrap::HelperFrames),
                        InstanceMethod("flowTableBytes", &FileAnalysisWrap::FlowTableBytes),
                        InstanceMethod("setFilter", &FileAnalysisWrap::SetFilter),
                        InstanceMethod("stepDrain", &FileAnalysisWrap::StepDrain),
                        InstanceMethod("stepDrainAhead", &FileAnalysisWrap::StepDrainAhead),
                        InstanceMethod("settle", &FileAnalysisWrap::Settle),
                        StaticMethod("threads", &FileAnalysisWrap::Threads)});
  }

  ~FileAnalysisWrap() override {
    // Only at the environment's teardown can this run while a step does (the step holds
    // a reference to this object): fa_ must outlive it.
    settle();
  }

  // new FileAnalysis(path, {vxlanPorts, genevePorts, maxFlows, listBad, write, overwrite,
  //                        filter, count})
  explicit FileAnalysisWrap(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<FileAnalysisWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString())
      throw Napi::TypeError::New(env, "new FileAnalysis(path: string, options?)");
    FileAnalysisOptions opts;
    // A file has an end: the bad-flow table grows with the flows it has (bad_flows.h).
    opts.analyzer.populate_flows = false;
    if (info.Length() > 1 && info[1].IsObject()) {
      Napi::Object o = info[1].As<Napi::Object>();
      opts.analyzer.decode = decode_options(o);
      if (o.Has("maxFlows"))
        opts.analyzer.max_flows = o.Get("maxFlows").As<Napi::Number>().Uint32Value();
      if (o.Has("listBad") && o.Get("listBad").ToBoolean().Value())
        opts.analyzer.max_records = 1u << 16;  // drained by takeRecords() after every step
      if (o.Has("write") && o.Get("write").IsString())
        opts.write_path = o.Get("write").As<Napi::String>().Utf8Value();
      if (o.Has("overwrite")) opts.overwrite = o.Get("overwrite").ToBoolean().Value();
      // filter: true = every frame waits for its link type's program (setFilter()).
      if (o.Has("filter")) opts.filtered = o.Get("filter").ToBoolean().Value();
      if (o.Has("count") && o.Get("count").IsNumber()) {
        const double c = o.Get("count").As<Napi::Number>().DoubleValue();
        if (!(c >= 1 && c <= 9007199254740991.0))
          throw Napi::RangeError::New(env, "count out of range");
        opts.max_count = static_cast<uint64_t>(c);
      }
      // Correlation events (issue 4): every frame is decoded in full, on one thread.
      if (o.Has("events") && o.Get("events").ToBoolean().Value()) {
        opts.analyzer.events.enabled = true;
        opts.analyzer.events.partial_is_offload = true;
        opts.analyzer.record_bytes = true;
        if (!opts.analyzer.max_records) opts.analyzer.max_records = 1u << 16;
      }
    }
    fa_ = std::make_unique<FileAnalysis>(opts);
    if (!fa_->open(info[0].As<Napi::String>().Utf8Value()))
      throw Napi::Error::New(env, fa_->error());
  }

 private:
  // The frames a step may process: the argument (default 65536), within the record
  // buffer, which is drained per step.
  uint32_t step_budget(const Napi::CallbackInfo& info) {
    uint32_t max = 65536;
    if (info.Length() > 0 && info[0].IsNumber()) max = info[0].As<Napi::Number>().Uint32Value();
    const uint32_t cap = fa_->analyzer().options().max_records;
    if (cap && max > cap) max = cap;
    return max;
  }

  // Every method but settle() first: the analysis is another thread's while a step runs,
  // and step_ is until the step's result is handed to JavaScript.
  void check_idle(Napi::Env env) {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_ || handing_)
      throw Napi::Error::New(env, "FileAnalysis: a step is running (await it first)");
  }

  void settle() {
    std::unique_lock<std::mutex> lock(mu_);
    idle_cv_.wait(lock, [this] { return !running_; });
  }

  Napi::Value Step(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    check_idle(env);
    const uint32_t max = step_budget(info);
    Napi::Object r = Napi::Object::New(env);
    const StepResult result = fa_->step(max);
    set_step_status(r, result, result == StepResult::kTruncated ? fa_->warning() : fa_->error(),
                    fa_->need_linktype());
    return r;
  }

  // stepDrain(max?): one step with its drain, counters, interfaces (when more than
  // before) and progress as of its end (flow/file_step.h), on this thread.
  Napi::Value StepDrain(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    check_idle(env);
    take_step(*fa_, step_budget(info), &interfaces_seen_, &step_);
    const unsigned k = lending_.claim();
    lending_.fill(k, step_);
    return file_step_object(env, step_, lending_, k);
  }

  // stepDrainAhead(max?): stepDrain() on a thread of libuv's pool; a Promise of its
  // result. Until it settles every other method throws, so JavaScript cannot read a
  // state the step is changing; settle() waits for it (an 'exit' handler: a -w file
  // keeps whole records).
  Napi::Value StepDrainAhead(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    check_idle(env);
    const uint32_t max = step_budget(info);
    auto* worker = new StepWorker(env, this, max, lending_.claim());
    {
      std::lock_guard<std::mutex> lock(mu_);
      running_ = true;
      handing_ = true;
    }
    worker->Queue();
    return worker->promise();
  }

  // settle(ms): waits up to `ms` for the running step, if any; true when none runs. Bounded:
  // a step reading a pipe whose writer stalls may never end.
  Napi::Value Settle(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "settle(ms)");
    const double ms = info[0].As<Napi::Number>().DoubleValue();
    std::unique_lock<std::mutex> lock(mu_);
    const bool idle =
        idle_cv_.wait_for(lock, std::chrono::duration<double, std::milli>(ms > 0 ? ms : 0),
                          [this] { return !running_; });
    return Napi::Boolean::New(env, idle);
  }

  // How many threads `-r` may use (CSUMTOP_THREADS or the CPUs, flow/parallel.h):
  // with 1, JavaScript steps strictly one after the other on its own thread.
  static Napi::Value Threads(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), decode_threads());
  }

  class StepWorker : public Napi::AsyncWorker {
   public:
    StepWorker(Napi::Env env, FileAnalysisWrap* owner, uint32_t max, unsigned lend)
        : Napi::AsyncWorker(env, "csumtop:FileAnalysis.step"),
          deferred_(Napi::Promise::Deferred::New(env)),
          owner_(owner),
          max_(max),
          lend_(lend) {
      // Keeps the FileAnalysis alive while the step runs.
      ref_ = Napi::Persistent(owner->Value());
    }
    Napi::Promise promise() const { return deferred_.Promise(); }

    void Execute() override {
      try {
        take_step(*owner_->fa_, max_, &owner_->interfaces_seen_, &owner_->step_);
        owner_->lending_.fill(lend_, owner_->step_);  // the copy off the JavaScript thread
      } catch (const std::exception& e) {
        SetError(std::string("FileAnalysis step: ") + e.what());
      }
      std::lock_guard<std::mutex> lock(owner_->mu_);
      owner_->running_ = false;
      owner_->idle_cv_.notify_all();
    }
    void OnOK() override {
      // Nothing else runs on this thread before step_ is converted: handed first, so a
      // conversion that throws (out of memory) does not leave the analysis busy.
      handed();
      deferred_.Resolve(file_step_object(Env(), owner_->step_, owner_->lending_, lend_));
    }
    void OnError(const Napi::Error& e) override {
      handed();
      deferred_.Reject(e.Value());
    }

   private:
    Napi::Promise::Deferred deferred_;
    FileAnalysisWrap* owner_;
    Napi::ObjectReference ref_;
    uint32_t max_;
    unsigned lend_;

    void handed() {
      std::lock_guard<std::mutex> lock(owner_->mu_);
      owner_->handing_ = false;
    }
  };

  // setFilter(linktype, program): compileFilter()'s program for frames of that link type;
  // throws when libpcap's pcap_offline_filter cannot be loaded.
  Napi::Value SetFilter(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    check_idle(env);
    if (info.Length() < 2 || !info[0].IsNumber())
      throw Napi::TypeError::New(env, "setFilter(linktype, program)");
    BpfProgram prog = bpf_program_of(info[1], "program");
    if (!fa_->set_filter(static_cast<uint16_t>(info[0].As<Napi::Number>().Uint32Value()),
                         std::move(prog)))
      throw Napi::Error::New(env, fa_->error());
    return env.Undefined();
  }

  Napi::Value Finish(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    check_idle(env);
    if (!fa_->finish()) return Napi::String::New(env, fa_->error());
    return env.Null();
  }

  Napi::Value Interfaces(const Napi::CallbackInfo& info) {
    check_idle(info.Env());
    return file_interfaces_array(info.Env(), fa_->reader().interfaces());
  }

  // Float64Array of interface_count * stride counters (exact below 2^53).
  Napi::Value Counters(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    check_idle(env);
    Analyzer& an = fa_->analyzer();
    const uint32_t n = std::max<uint32_t>(an.interface_count(),
                                          static_cast<uint32_t>(fa_->reader().interfaces().size()));
    Napi::Float64Array out =
        Napi::Float64Array::New(env, static_cast<size_t>(n) * InterfaceCounters::kStride);
    for (uint32_t i = 0; i < n; i++) {
      const InterfaceCounters& c = an.counters(i);
      for (uint32_t j = 0; j < InterfaceCounters::kStride; j++)
        out[static_cast<size_t>(i) * InterfaceCounters::kStride + j] = static_cast<double>(c.v[j]);
    }
    return out;
  }

  // flowsPacked(limit?): the bad-flow table as packed BadFlow entries (layout().flow), in
  // report order: most frequent first, then first seen first, then for_each order; only
  // the first `limit` when it is given and not 0.
  Napi::Value FlowsPacked(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    check_idle(env);
    size_t limit = 0;
    if (info.Length() > 0 && info[0].IsNumber()) limit = info[0].As<Napi::Number>().Uint32Value();
    return flows_packed(env, fa_->analyzer().flows(), limit);
  }

  // The packed BadFrameRecords since the last call (a copy), then clears them.
  Napi::Value TakeRecords(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    check_idle(env);
    Analyzer& an = fa_->analyzer();
    const auto& recs = an.records();
    Napi::Buffer<uint8_t> buf = Napi::Buffer<uint8_t>::Copy(
        env, reinterpret_cast<const uint8_t*>(recs.data()), recs.size() * sizeof(BadFrameRecord));
    an.clear_records();
    return buf;
  }

  // Records, their bytes and the correlation events since the last call (copies), then
  // clears them: {records, recordBytes, recordsDropped, events, eventNames, eventsDropped}.
  Napi::Value TakeDrain(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    check_idle(env);
    Napi::Object o = Napi::Object::New(env);
    drain_analyzer(env, o, fa_->analyzer());
    return o;
  }

  // flowTableBytes(): {mapped, resident} of the bad-flow table (BadFlowTable: its bound,
  // and the pages of it in memory now). Not in stats(): that is read every step.
  Napi::Value FlowTableBytes(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    check_idle(env);
    return flow_table_bytes(env, fa_->analyzer().flows());
  }

  // helperFrames(): frames decoded by helper threads and applied; not in stats(), which
  // must be the same on any number of threads.
  Napi::Value HelperFrames(const Napi::CallbackInfo& info) {
    check_idle(info.Env());
    return Napi::Number::New(info.Env(), static_cast<double>(fa_->helper_frames()));
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    check_idle(env);
    Napi::Object o = Napi::Object::New(env);
    o.Set("frames", static_cast<double>(fa_->frames()));
    o.Set("firstNs", Napi::BigInt::New(env, fa_->first_ns()));
    o.Set("lastNs", Napi::BigInt::New(env, fa_->last_ns()));
    o.Set("written", static_cast<double>(fa_->written()));
    o.Set("format", fa_->reader().format() == FileFormat::kPcap ? "pcap" : "pcapng");
    o.Set("bytesRead", static_cast<double>(fa_->reader().bytes_read()));
    o.Set("blocksSkipped", static_cast<double>(fa_->reader().blocks_skipped()));
    o.Set("interfacesIgnored", static_cast<double>(fa_->reader().interfaces_ignored()));
    o.Set("framesIgnored", static_cast<double>(fa_->reader().frames_ignored()));
    o.Set("flowsEvicted", static_cast<double>(fa_->analyzer().flows().evicted()));
    o.Set("flows", static_cast<double>(fa_->analyzer().flows().size()));
    o.Set("recordsDropped", static_cast<double>(fa_->analyzer().records_dropped()));
    o.Set("filteredOut", static_cast<double>(fa_->filtered_out()));
    o.Set("countReached", fa_->count_reached());
    return o;
  }

  std::unique_ptr<FileAnalysis> fa_;
  size_t interfaces_seen_ = 0;  // by stepDrain(): how many interfaces it has handed over
  std::mutex mu_;
  std::condition_variable idle_cv_;
  // The last step's output, reused: after a few steps its buffers have the size a step
  // needs, and no step allocates them again on the pool's thread (whose malloc arena
  // would keep what the JavaScript thread frees).
  FileStep step_;
  StepLending lending_;   // step_'s events and names as JavaScript reads them
  bool running_ = false;  // under mu_: a stepDrainAhead() step has the analysis
  bool handing_ = false;  // under mu_: ... or step_, until JavaScript has its copy
};

}  // namespace

void RegisterAnalyzer(Napi::Env env, Napi::Object exports) {
  exports.Set("decodeFrame", Napi::Function::New(env, DecodeFrame, "decodeFrame"));
  exports.Set("layout", Napi::Function::New(env, Layout, "layout"));
  exports.Set("FileAnalysis", FileAnalysisWrap::Define(env));
}

}  // namespace csumtop
