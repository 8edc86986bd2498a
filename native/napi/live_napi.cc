// \summary: N-API surface of live capture: a LiveCapture class whose batches arrive on
// the JavaScript thread through a thread-safe function; compileFilter() and
// dieWithParent() for the child process that compiles -f (src/capture/filter-compile.ts).
// Conversions only.
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>

#include "capture/live_capture.h"
#include "napi/bad_frame_file_napi.h"
#include "napi/convert.h"
#include "napi/register.h"

namespace csumtop {

namespace {

uint32_t opt_u32(const Napi::Object& o, const char* name, uint32_t def, uint32_t min,
                 uint32_t max) {
  if (!o.Has(name) || o.Get(name).IsUndefined()) return def;
  Napi::Value v = o.Get(name);
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string(name) + " must be a number");
  const int64_t n = v.As<Napi::Number>().Int64Value();
  if (n < min || n > max) throw Napi::RangeError::New(o.Env(), std::string(name) + " out of range");
  return static_cast<uint32_t>(n);
}

// A compiled filter crosses to JavaScript as the kernel's sock_filter array, byte for byte.
Napi::Buffer<uint8_t> program_buffer(Napi::Env env, const BpfProgram& prog) {
  return Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(prog.insns.data()),
                                     prog.insns.size() * sizeof(sock_filter));
}

// -c COUNT: one FrameBudget object shared by the run's LiveCaptures (capture/frame_budget.h).
class FrameBudgetWrap : public Napi::ObjectWrap<FrameBudgetWrap> {
 public:
  static Napi::FunctionReference* ctor;

  static Napi::Function Define(Napi::Env env) {
    Napi::Function f =
        DefineClass(env, "FrameBudget", {InstanceMethod("taken", &FrameBudgetWrap::Taken)});
    ctor = new Napi::FunctionReference(Napi::Persistent(f));
    return f;
  }

  // new FrameBudget(limit): 1 <= limit <= 2^53 - 1.
  explicit FrameBudgetWrap(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<FrameBudgetWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsNumber())
      throw Napi::TypeError::New(env, "new FrameBudget(limit)");
    const double limit = info[0].As<Napi::Number>().DoubleValue();
    if (!(limit >= 1 && limit <= 9007199254740991.0))
      throw Napi::RangeError::New(env, "limit out of range");
    budget_ = std::make_shared<FrameBudget>(static_cast<uint64_t>(limit));
  }

  static std::shared_ptr<FrameBudget> Of(const Napi::Value& v) {
    if (!ctor || !v.IsObject() || !v.As<Napi::Object>().InstanceOf(ctor->Value()))
      throw Napi::TypeError::New(v.Env(), "frameBudget must be a FrameBudget");
    return Unwrap(v.As<Napi::Object>())->budget_;
  }

 private:
  Napi::Value Taken(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(budget_->taken()));
  }

  std::shared_ptr<FrameBudget> budget_;
};

Napi::FunctionReference* FrameBudgetWrap::ctor = nullptr;

class LiveCaptureWrap : public Napi::ObjectWrap<LiveCaptureWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "LiveCapture",
                       {InstanceMethod("addInterfaces", &LiveCaptureWrap::AddInterfaces),
                        InstanceMethod("removeInterface", &LiveCaptureWrap::RemoveInterface),
                        InstanceMethod("start", &LiveCaptureWrap::Start),
                        InstanceMethod("stop", &LiveCaptureWrap::Stop),
                        InstanceMethod("flowsPacked", &LiveCaptureWrap::FlowsPacked),
                        InstanceMethod("interfacesHeld", &LiveCaptureWrap::InterfacesHeld),
                        InstanceMethod("backlogBytes", &LiveCaptureWrap::BacklogBytes)});
  }

  // new LiveCapture({batchMs, blockSize, blockCount, retireMs, promisc, vxlanPorts,
  //                  genevePorts, maxFlows, maxRecords, fanoutGroup}, onBatch)
  explicit LiveCaptureWrap(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<LiveCaptureWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction())
      throw Napi::TypeError::New(env, "new LiveCapture(options, onBatch)");
    Napi::Object o = info[0].As<Napi::Object>();
    LiveOptions opts;
    opts.batch_ms = opt_u32(o, "batchMs", 100, 10, 10000);
    opts.ring.block_size = opt_u32(o, "blockSize", 1u << 20, 1u << 12, 1u << 28);
    if (opts.ring.block_size & (opts.ring.block_size - 1))
      throw Napi::RangeError::New(env, "blockSize must be a power of two");
    opts.ring.block_count = opt_u32(o, "blockCount", 8, 2, 1u << 16);
    opts.ring.retire_ms = opt_u32(o, "retireMs", 50, 1, 10000);
    opts.ring.promisc = o.Has("promisc") && o.Get("promisc").ToBoolean().Value();
    if (o.Has("vnet")) opts.ring.want_vnet = o.Get("vnet").ToBoolean().Value();
    opts.analyzer.max_flows = opt_u32(o, "maxFlows", 65536, 1, 10000000);
    opts.max_records_per_batch = opt_u32(o, "maxRecords", 4096, 0, 1u << 20);
    opts.analyzer.record_bytes = true;
    opts.analyzer.events.enabled = !o.Has("events") || o.Get("events").ToBoolean().Value();
    opts.analyzer.events.max_per_drain = opt_u32(o, "maxEvents", 65536, 0, 1u << 22);
    read_decode_options(o, &opts.analyzer.decode);
    if (o.Has("filter") &&
        o.Get("filter").IsObject()) {  // {ether, raw}: compileFilter()'s programs
      Napi::Object f = o.Get("filter").As<Napi::Object>();
      opts.filter_ether = bpf_program_of(f.Get("ether"), "filter.ether");
      opts.filter_raw = bpf_program_of(f.Get("raw"), "filter.raw");
      opts.filtered = true;
    }
    if (o.Has("writer") && !o.Get("writer").IsUndefined()) {  // -w (BadFrameFile), --context
      opts.writer = bad_frame_file_of(o.Get("writer"));
      opts.context = opt_u32(o, "context", 0, 0, 64);
    }
    if (o.Has("frameBudget") && !o.Get("frameBudget").IsUndefined())
      opts.budget = FrameBudgetWrap::Of(o.Get("frameBudget"));
    // The queue is bounded by the bytes its batches hold (kMaxQueuedBytes), not by their
    // number: 0 is no limit on the count.
    tsfn_ =
        Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "csumtop-capture", 0, 1);
    // The capture thread must not keep the process alive on its own: JavaScript decides
    // when to stop (timers, signals).
    tsfn_.Unref(env);
    auto live = std::make_unique<LiveCapture>(opts, [this](std::unique_ptr<LiveBatch> b) {
      // Batches JavaScript could not take (queue full) lose their events and records:
      // counted, cumulatively, in every later batch, so every output can say so.
      b->events_dropped += lost_events_.load();
      b->records_dropped += lost_records_.load();
      if (carried_) {  // what an undelivered batch alone held (carry_closed)
        carry_closed(*carried_, b.get());
        carried_.reset();
      }
      if (b->final) {
        // The last batch carries the run's totals: never dropped. Stop() hands it over
        // after the thread has ended, with how many batches went through the queue, so
        // JavaScript applies it after every one of them (issue 17 item 3).
        std::lock_guard<std::mutex> lock(final_mu_);
        final_ = std::move(b);
        return;
      }
      // A flood of new flows fills batches every few milliseconds (LiveCapture::take_frame)
      // and JavaScript takes them in bursts, after a tick or a collection: a bound in
      // batches (it was 8) lost them while JavaScript was mostly idle. Bounded in bytes
      // (16 MiB: 95,000 events of 176 bytes), and together with JavaScript's backlog by
      // kMaxHeldBytes (src/capture/batch-backlog.ts says why those sizes).
      std::shared_ptr<Queue> queue = queue_;
      if (counters_only(*b) && queue->batches.load() > 0) {
        // Superseded: its counters are cumulative and the next batch carries them. Queued,
        // such batches made JavaScript on a loaded machine fall behind by up to the
        // queue's bound (with 170 interfaces, 16 MiB is ~10 s of batches): the counts it
        // showed were that old, and the memory they held moved RSS by ~10 MB
        // (test/lab/vanished.test.ts). Not a loss: nothing is counted as dropped.
        superseded_++;
        return;
      }
      const uint64_t bytes = queued_bytes(*b);
      const uint64_t queued = queue->bytes.load();
      if (queued + bytes <= kMaxQueuedBytes &&
          queued + queue->js_bytes.load() + bytes <= kMaxHeldBytes) {
        LiveBatch* raw = b.release();
        queue->bytes += bytes;
        queue->batches++;
        const napi_status st = tsfn_.NonBlockingCall(
            raw, [queue, bytes](Napi::Env env, Napi::Function cb, LiveBatch* data) {
              queue->bytes -= bytes;
              queue->batches--;
              Deliver(env, cb, data);
            });
        if (st == napi_ok) {
          queued_++;
          return;
        }
        queue->bytes -= bytes;
        queue->batches--;
        b.reset(raw);
      }
      LiveBatch* raw = b.release();
      // JavaScript is behind: this batch's counters are cumulative and the next batch
      // carries them; its bad-frame records and events are lost and counted.
      lost_records_ += raw->records.size();
      lost_events_ += raw->events.size();
      if (!raw->released.empty() || !raw->gone.empty()) {
        carried_ = std::make_unique<LiveBatch>();
        carry_closed(*raw, carried_.get());
      }
      delete raw;
    });
    live_ = std::move(live);
  }

  ~LiveCaptureWrap() override { Shutdown(); }

 private:
  static void Deliver(Napi::Env env, Napi::Function cb, LiveBatch* raw) {
    std::unique_ptr<LiveBatch> b(raw);
    if (env == nullptr || cb.IsEmpty()) return;
    cb.Call({BatchObject(env, *b)});
  }

  // A batch with nothing but cumulative counters: no bad-frame records, events, released
  // interfaces or vanished ones (what only it would hand over).
  static bool counters_only(const LiveBatch& b) {
    return b.records.empty() && b.events.empty() && b.released.empty() && b.gone.empty();
  }

  // What a batch waiting in the queue holds, in bytes (its vectors' contents).
  static uint64_t queued_bytes(const LiveBatch& b) {
    return b.ids.size() * sizeof(uint32_t) + (b.counters.size() + b.ring.size()) * sizeof(double) +
           b.records.size() * sizeof(BadFrameRecord) + b.record_bytes.size() +
           b.events.size() * sizeof(FrameEvent) + b.event_names.size();
  }

  static Napi::Object BatchObject(Napi::Env env, LiveBatch& batch) {
    LiveBatch* b = &batch;
    Napi::Object o = Napi::Object::New(env);
    o.Set("seq", static_cast<double>(b->seq));
    o.Set("final", b->final);
    o.Set("monoNs", Napi::BigInt::New(env, b->mono_ns));
    Napi::Uint32Array ids = Napi::Uint32Array::New(env, b->ids.size());
    for (size_t i = 0; i < b->ids.size(); i++) ids[i] = b->ids[i];
    o.Set("ids", ids);
    Napi::Float64Array c = Napi::Float64Array::New(env, b->counters.size());
    if (!b->counters.empty())
      std::memcpy(c.Data(), b->counters.data(), b->counters.size() * sizeof(double));
    o.Set("counters", c);
    Napi::Float64Array r = Napi::Float64Array::New(env, b->ring.size());
    if (!b->ring.empty()) std::memcpy(r.Data(), b->ring.data(), b->ring.size() * sizeof(double));
    o.Set("ring", r);
    set_drained(env, o, b->records, b->record_bytes, b->records_dropped, b->events, b->event_names,
                b->events_dropped);
    o.Set("badFlows", b->bad_flows);
    o.Set("badFlowsEvicted", static_cast<double>(b->bad_flows_evicted));
    Napi::Array gone = Napi::Array::New(env, b->gone.size());
    for (size_t i = 0; i < b->gone.size(); i++) {
      Napi::Object g = Napi::Object::New(env);
      g.Set("id", b->gone[i]);
      g.Set("reason", b->gone_reason[i]);
      gone.Set(static_cast<uint32_t>(i), g);
    }
    o.Set("gone", gone);
    Napi::Uint32Array released = Napi::Uint32Array::New(env, b->released.size());
    for (size_t i = 0; i < b->released.size(); i++) released[i] = b->released[i];
    o.Set("released", released);
    return o;
  }

  // fanout: undefined = none, 'new' = start a group, a number = join that group.
  static int FanoutOf(const Napi::Value& v) {
    if (v.IsString() && v.As<Napi::String>().Utf8Value() == "new") return kFanoutNewGroup;
    if (v.IsNumber()) return v.As<Napi::Number>().Int32Value() & 0xffff;
    return -1;
  }

  // The code JavaScript sees for a ring that could not be opened: from the errno the
  // ring recorded, not from the message text. ENODEV: the device went away between
  // listing and opening (bind() of af_packet.c finds no device by that index; ENXIO, "no
  // such device or address", is taken as the same). EPERM also for a namespace the
  // ring's thread may not enter (setns(2) without CAP_SYS_ADMIN) or open (EACCES: a
  // process's namespace file needs PTRACE_MODE_READ on it), as the host readers say.
  static const char* ErrorCode(const LiveCapture::AddResult& r) {
    if (r.not_permitted || r.sys_errno == EPERM || r.sys_errno == EACCES) return "EPERM";
    if (r.sys_errno == ENODEV || r.sys_errno == ENXIO) return "ENODEV";
    return "ECAPTURE";
  }

  // addInterfaces([{id, ifindex, arphrd, netns?, fanout?, overlay?}]) -> [{group} | {error, code}]:
  // the rings opened in parallel (LiveCapture::add_interfaces), one result per entry.
  Napi::Value AddInterfaces(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsArray())
      throw Napi::TypeError::New(
          env, "addInterfaces([{id, ifindex, arphrd, netns?, fanout?, overlay?}])");
    if (!live_ || stopped_) throw Napi::Error::New(env, "capture stopped");
    Napi::Array in = info[0].As<Napi::Array>();
    std::vector<LiveCapture::AddRequest> reqs(in.Length());
    for (uint32_t k = 0; k < in.Length(); k++) {
      Napi::Value v = in.Get(k);
      if (!v.IsObject()) throw Napi::TypeError::New(env, "addInterfaces: every entry is an object");
      Napi::Object o = v.As<Napi::Object>();
      if (!o.Get("id").IsNumber() || !o.Get("ifindex").IsNumber() || !o.Get("arphrd").IsNumber())
        throw Napi::TypeError::New(env, "addInterfaces: id, ifindex and arphrd are numbers");
      LiveCapture::AddRequest& r = reqs[k];
      r.id = o.Get("id").As<Napi::Number>().Uint32Value();
      r.ifindex = o.Get("ifindex").As<Napi::Number>().Int32Value();
      r.arphrd = static_cast<uint16_t>(o.Get("arphrd").As<Napi::Number>().Uint32Value());
      if (o.Get("netns").IsString()) r.netns_path = o.Get("netns").As<Napi::String>().Utf8Value();
      r.fanout_group = FanoutOf(o.Get("fanout"));
      r.plain = o.Get("overlay").ToBoolean().Value();
    }
    const std::vector<LiveCapture::AddResult> res = live_->add_interfaces(reqs);
    Napi::Array out = Napi::Array::New(env, res.size());
    for (size_t k = 0; k < res.size(); k++) {
      Napi::Object o = Napi::Object::New(env);
      if (res[k].ok) {
        o.Set("group", res[k].joined);
      } else {
        o.Set("error", res[k].err);
        o.Set("code", ErrorCode(res[k]));
      }
      out.Set(static_cast<uint32_t>(k), o);
    }
    return out;
  }

  Napi::Value RemoveInterface(const Napi::CallbackInfo& info) {
    if (live_ && !stopped_ && info.Length() > 0 && info[0].IsNumber())
      live_->remove_interface(info[0].As<Napi::Number>().Uint32Value());
    return info.Env().Undefined();
  }

  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string err;
    if (!live_ || stopped_ || !live_->start(&err))
      throw Napi::Error::New(env, live_ && !stopped_ ? err : "capture stopped");
    return env.Undefined();
  }

  // Stops the capture thread and returns {lostRecords, queued, superseded, final}: `queued` batches
  // went through the thread-safe function (they are delivered asynchronously, in order,
  // after this returns) and `final` is the thread's last batch (null when stopped
  // before), to apply after all of them.
  Napi::Value Stop(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    // Keep the event loop alive until the queued batches have been delivered.
    if (live_ && !stopped_) tsfn_.Ref(env);
    Shutdown();
    Napi::Object out = Napi::Object::New(env);
    out.Set("lostRecords", static_cast<double>(lost_records_));
    out.Set("queued", static_cast<double>(queued_));
    out.Set("superseded", static_cast<double>(superseded_));
    std::unique_ptr<LiveBatch> last;
    {
      std::lock_guard<std::mutex> lock(final_mu_);
      last = std::move(final_);
    }
    out.Set("final", last ? Napi::Value(BatchObject(env, *last)) : env.Null());
    return out;
  }

  // The bad-flow table, readable once the capture thread has stopped (it owns the
  // table while it runs).
  Napi::Value FlowsPacked(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!live_ || !stopped_) throw Napi::Error::New(env, "flowsPacked() is available after stop()");
    // flowsPacked(limit?): the most frequent `limit` flows (0 or absent: all), packed.
    size_t limit = 0;
    if (info.Length() > 0 && info[0].IsNumber()) limit = info[0].As<Napi::Number>().Uint32Value();
    return flows_packed(env, live_->analyzer().flows(), limit);
  }

  // Interfaces whose counters the engine still holds (tests: a vanished one is released
  // once its last counters went out, src/capture/vanished.ts).
  Napi::Value InterfacesHeld(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!live_ || !stopped_)
      throw Napi::Error::New(env, "interfacesHeld() is available after stop()");
    return Napi::Number::New(env, static_cast<double>(live_->analyzer().interfaces_held()));
  }

  // backlogBytes(n): JavaScript's backlog holds n bytes of batches now. A batch is queued
  // only while this queue and that backlog together stay within kMaxHeldBytes: the queue
  // hands its batches over as soon as JavaScript's thread turns, so on its own it was
  // nearly always empty, and a burst longer than the backlog's bound was thinned there
  // while this queue's room went unused (bench/RESULTS-live.md, "every frame bad").
  Napi::Value BacklogBytes(const Napi::CallbackInfo& info) {
    if (info.Length() > 0 && info[0].IsNumber()) {
      const double n = info[0].As<Napi::Number>().DoubleValue();
      queue_->js_bytes.store(n > 0 ? static_cast<uint64_t>(std::min(n, 1e15)) : 0);
    }
    return info.Env().Undefined();
  }

  void Shutdown() {
    if (live_ && !stopped_) {
      live_->stop();
      stopped_ = true;
      tsfn_.Release();
    }
  }

  Napi::ThreadSafeFunction tsfn_;
  std::unique_ptr<LiveCapture> live_;
  bool stopped_ = false;
  std::atomic<uint64_t> lost_records_{0};
  std::atomic<uint64_t> lost_events_{0};
  // Capture thread only (the sink runs there): closed interfaces of an undelivered batch.
  std::unique_ptr<LiveBatch> carried_;
  std::atomic<uint64_t> queued_{0};
  // Batches queued to JavaScript and not delivered yet, and their bytes (queued_bytes),
  // shared with the queued calls, which may run after this object is gone.
  struct Queue {
    std::atomic<uint64_t> bytes{0};
    std::atomic<uint32_t> batches{0};
    // What JavaScript's backlog holds, as it last said (backlogBytes()).
    std::atomic<uint64_t> js_bytes{0};
  };
  std::shared_ptr<Queue> queue_ = std::make_shared<Queue>();
  // Batches not queued because a newer one carries all they held (counters_only).
  std::atomic<uint64_t> superseded_{0};
  static constexpr uint64_t kMaxQueuedBytes = 16ull << 20;
  // This queue and JavaScript's backlog together (MAX_BACKLOG_BYTES there).
  static constexpr uint64_t kMaxHeldBytes = 32ull << 20;
  std::mutex final_mu_;
  std::unique_ptr<LiveBatch> final_;
};

}  // namespace

// compileFilter(expr, linktype): the sock_filter program as bytes; throws with libpcap's
// message. Synchronous and possibly minutes long: only the filter child calls it.
Napi::Value CompileFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsNumber())
    throw Napi::TypeError::New(env, "compileFilter(expr, linktype)");
  BpfProgram prog;
  std::string err;
  if (!compile_filter(info[0].As<Napi::String>().Utf8Value(),
                      static_cast<uint16_t>(info[1].As<Napi::Number>().Uint32Value()), &prog, &err))
    throw Napi::Error::New(env, err);
  return program_buffer(env, prog);
}

// dieWithParent(ppid): the kernel kills this process with SIGKILL when its parent ends
// (PR_SET_PDEATHSIG, prctl(2)), so a filter child never outlives a csumtop that was
// killed; false when the parent `ppid` is already gone.
Napi::Value DieWithParent(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber())
    throw Napi::TypeError::New(env, "dieWithParent(ppid)");
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return Napi::Boolean::New(env, false);
  // The parent may have ended before prctl(): then this process was already re-parented.
  return Napi::Boolean::New(env, getppid() == info[0].As<Napi::Number>().Int32Value());
}

// libpcapVersion(): {version} (pcap_lib_version of the libpcap -f loads) or {error}.
Napi::Value LibpcapVersion(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string version, err;
  Napi::Object o = Napi::Object::New(env);
  if (libpcap_version(&version, &err))
    o.Set("version", version);
  else
    o.Set("error", err);
  return o;
}

void RegisterLive(Napi::Env env, Napi::Object exports) {
  exports.Set("LiveCapture", LiveCaptureWrap::Define(env));
  exports.Set("FrameBudget", FrameBudgetWrap::Define(env));
  exports.Set("compileFilter", Napi::Function::New(env, CompileFilter, "compileFilter"));
  exports.Set("dieWithParent", Napi::Function::New(env, DieWithParent, "dieWithParent"));
  exports.Set("libpcapVersion", Napi::Function::New(env, LibpcapVersion, "libpcapVersion"));
}

}  // namespace csumtop
