// \summary: N-API surface of the live `-w` file (capture/bad_frame_file.h): opened on
// the JavaScript thread before capture starts, shared by every capture thread that is
// given it, statistics readable at any time. Conversions only.
#include "napi/bad_frame_file_napi.h"

#include "napi/register.h"

namespace csumtop {

namespace {

class BadFrameFileWrap : public Napi::ObjectWrap<BadFrameFileWrap> {
 public:
  static Napi::FunctionReference* ctor;

  static Napi::Function Define(Napi::Env env) {
    Napi::Function f = DefineClass(env, "BadFrameFile",
                                   {InstanceMethod("stats", &BadFrameFileWrap::Stats),
                                    InstanceMethod("close", &BadFrameFileWrap::Close)});
    ctor = new Napi::FunctionReference(Napi::Persistent(f));
    return f;
  }

  // new BadFrameFile({path, linktype, rotateBytes, rotateCount}); throws an Error with
  // code 'EWRITE' when the first file cannot be created.
  explicit BadFrameFileWrap(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<BadFrameFileWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject())
      throw Napi::TypeError::New(env, "new BadFrameFile(options)");
    Napi::Object o = info[0].As<Napi::Object>();
    if (!o.Get("path").IsString()) throw Napi::TypeError::New(env, "path must be a string");
    BadFrameFileOptions opts;
    opts.path = o.Get("path").As<Napi::String>().Utf8Value();
    if (o.Get("linktype").IsNumber())
      opts.linktype = static_cast<uint16_t>(o.Get("linktype").As<Napi::Number>().Uint32Value());
    if (o.Get("rotateBytes").IsNumber()) {
      const double b = o.Get("rotateBytes").As<Napi::Number>().DoubleValue();
      if (b < 0 || b > 1e15) throw Napi::RangeError::New(env, "rotateBytes out of range");
      opts.rotate_bytes = static_cast<uint64_t>(b);
    }
    if (o.Get("rotateCount").IsNumber())
      opts.rotate_count = o.Get("rotateCount").As<Napi::Number>().Uint32Value();
    file_ = std::make_shared<BadFrameFile>();
    std::string err;
    if (!file_->open(opts, &err)) {
      Napi::Error e = Napi::Error::New(env, err);
      e.Set("code", "EWRITE");
      throw e;
    }
  }

  std::shared_ptr<BadFrameFile> file() const { return file_; }

 private:
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const BadFrameFileStats s = file_->stats();
    Napi::Object o = Napi::Object::New(env);
    o.Set("frames", static_cast<double>(s.frames));
    o.Set("contextFrames", static_cast<double>(s.context_frames));
    o.Set("contextSkipped", static_cast<double>(s.context_skipped));
    o.Set("notWritten", static_cast<double>(s.not_written));
    o.Set("errors", static_cast<double>(s.errors));
    o.Set("files", static_cast<double>(s.files));
    o.Set("firstError", s.first_error);
    o.Set("lastError", s.last_error);
    o.Set("currentPath", s.current_path);
    return o;
  }

  // Closes the current file; capture threads using it must have stopped.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    file_->close();
    return info.Env().Undefined();
  }

  std::shared_ptr<BadFrameFile> file_;
};

Napi::FunctionReference* BadFrameFileWrap::ctor = nullptr;

}  // namespace

std::shared_ptr<BadFrameFile> bad_frame_file_of(const Napi::Value& v) {
  if (!BadFrameFileWrap::ctor || !v.IsObject() ||
      !v.As<Napi::Object>().InstanceOf(BadFrameFileWrap::ctor->Value()))
    throw Napi::TypeError::New(v.Env(), "writer must be a BadFrameFile");
  return BadFrameFileWrap::Unwrap(v.As<Napi::Object>())->file();
}

void RegisterBadFrameFile(Napi::Env env, Napi::Object exports) {
  exports.Set("BadFrameFile", BadFrameFileWrap::Define(env));
}

}  // namespace csumtop
