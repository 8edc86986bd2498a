// \summary: JS classes CaptureFileReader and CaptureFileWriter over native/capture (tests, tools).
//
// One call per frame, data copied into a Buffer: convenient, not fast. The analyzer
// drives the C++ reader directly and never goes through here.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "capture/capture_file.h"
#include "napi/convert.h"
#include "napi/register.h"

namespace csumtop {
namespace {

const char* format_name(FileFormat f) { return f == FileFormat::kPcapng ? "pcapng" : "pcap"; }

Napi::Object end_result(Napi::Env env, ReadStatus st, const std::string& message) {
  Napi::Object o = Napi::Object::New(env);
  switch (st) {
    case ReadStatus::kEof:
      o.Set("status", "eof");
      break;
    case ReadStatus::kTruncated:
      o.Set("status", "truncated");
      o.Set("warning", message);
      break;
    default:
      o.Set("status", "error");
      o.Set("error", message);
      break;
  }
  return o;
}

uint32_t to_u32(const Napi::Value& v, const char* what) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 4294967295.0) || d != static_cast<double>(static_cast<uint64_t>(d))) {
    throw Napi::RangeError::New(v.Env(), std::string(what) + " must be an integer in [0, 2^32)");
  }
  return static_cast<uint32_t>(d);
}

// ---------------------------------------------------------------------------------------

class ReaderWrap : public Napi::ObjectWrap<ReaderWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "CaptureFileReader",
                       {
                           InstanceAccessor<&ReaderWrap::Format>("format"),
                           InstanceAccessor<&ReaderWrap::BytesRead>("bytesRead"),
                           InstanceAccessor<&ReaderWrap::FramesRead>("framesRead"),
                           InstanceAccessor<&ReaderWrap::BlocksSkipped>("blocksSkipped"),
                           InstanceMethod<&ReaderWrap::Interfaces>("interfaces"),
                           InstanceMethod<&ReaderWrap::Next>("next"),
                           InstanceMethod<&ReaderWrap::Drain>("drain"),
                           InstanceMethod<&ReaderWrap::Close>("close"),
                       });
  }

  // new CaptureFileReader(path: string) or new CaptureFileReader(fd: number): the fd is
  // duplicated, so the caller keeps (and closes) its own descriptor. No seeking is done:
  // pipes and stdin work.
  explicit ReaderWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ReaderWrap>(info) {
    Napi::Env env = info.Env();
    bool ok;
    if (info.Length() >= 1 && info[0].IsString()) {
      ok = reader_.open(info[0].As<Napi::String>().Utf8Value());
    } else if (info.Length() >= 1 && info[0].IsNumber()) {
      uint32_t fd = to_u32(info[0], "fd");
      int dup_fd = ::fcntl(static_cast<int>(fd), F_DUPFD_CLOEXEC, 0);
      if (dup_fd < 0) {
        int e = errno;
        throw Napi::Error::New(env,
                               "cannot use fd " + std::to_string(fd) + ": " + std::strerror(e));
      }
      ok = reader_.open_fd(dup_fd, "fd " + std::to_string(fd));
    } else {
      throw Napi::TypeError::New(env, "CaptureFileReader(path: string | fd: number)");
    }
    if (!ok) throw Napi::Error::New(env, reader_.error());
    open_ = true;
  }

 private:
  void check_open(Napi::Env env) const {
    if (!open_) throw Napi::Error::New(env, "the capture file reader is closed");
  }

  Napi::Value Format(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), format_name(reader_.format()));
  }
  Napi::Value BytesRead(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(reader_.bytes_read()));
  }
  Napi::Value FramesRead(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(reader_.frames_read()));
  }
  Napi::Value BlocksSkipped(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(reader_.blocks_skipped()));
  }

  Napi::Value Interfaces(const Napi::CallbackInfo& info) {
    return file_interfaces_array(info.Env(), reader_.interfaces());
  }

  Napi::Value Next(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    check_open(env);
    CapturedFrame f;
    ReadStatus st = reader_.next(&f);
    if (st != ReadStatus::kFrame) return end_result(env, st, reader_.error());
    Napi::Object o = Napi::Object::New(env);
    o.Set("status", "frame");
    o.Set("data", Napi::Buffer<uint8_t>::Copy(env, f.data, f.caplen));
    o.Set("caplen", Napi::Number::New(env, f.caplen));
    o.Set("wirelen", Napi::Number::New(env, f.wirelen));
    o.Set("tsNs", Napi::BigInt::New(env, f.ts_ns));
    o.Set("iface", Napi::Number::New(env, f.iface));
    o.Set("number", Napi::Number::New(env, static_cast<double>(f.number)));
    o.Set("offset", Napi::Number::New(env, static_cast<double>(f.offset)));
    return o;
  }

  // Reads every remaining frame without handing it to JS: {frames, bytes, end}. For
  // counting frames and for measuring the reader's own footprint.
  Napi::Value Drain(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    check_open(env);
    CapturedFrame f;
    uint64_t frames = 0;
    uint64_t bytes = 0;
    ReadStatus st;
    while ((st = reader_.next(&f)) == ReadStatus::kFrame) {
      ++frames;
      bytes += f.caplen;
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("frames", Napi::Number::New(env, static_cast<double>(frames)));
    o.Set("bytes", Napi::Number::New(env, static_cast<double>(bytes)));
    o.Set("end", end_result(env, st, reader_.error()));
    return o;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    reader_.close();
    open_ = false;
    return info.Env().Undefined();
  }

  CaptureFileReader reader_;
  bool open_ = false;
};

// ---------------------------------------------------------------------------------------

class WriterWrap : public Napi::ObjectWrap<WriterWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "CaptureFileWriter",
                       {
                           InstanceAccessor<&WriterWrap::FramesWritten>("framesWritten"),
                           InstanceMethod<&WriterWrap::Write>("write"),
                           InstanceMethod<&WriterWrap::Close>("close"),
                       });
  }

  // new CaptureFileWriter(path, 'pcap' | 'pcapng',
  //                       [{name?, description?, linktype, snaplen?}], overwrite?)
  explicit WriterWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<WriterWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[0].IsString() || !info[1].IsString() || !info[2].IsArray()) {
      throw Napi::TypeError::New(
          env,
          "CaptureFileWriter(path: string, format: 'pcap' | 'pcapng', interfaces: [], "
          "overwrite?: boolean)");
    }
    std::string path = info[0].As<Napi::String>().Utf8Value();
    std::string fmt = info[1].As<Napi::String>().Utf8Value();
    FileFormat format;
    if (fmt == "pcap") {
      format = FileFormat::kPcap;
    } else if (fmt == "pcapng") {
      format = FileFormat::kPcapng;
    } else {
      throw Napi::TypeError::New(env, "format must be 'pcap' or 'pcapng', not '" + fmt + "'");
    }
    Napi::Array arr = info[2].As<Napi::Array>();
    std::vector<CaptureInterface> ifaces;
    for (uint32_t i = 0; i < arr.Length(); ++i) {
      Napi::Value v = arr.Get(i);
      if (!v.IsObject()) throw Napi::TypeError::New(env, "interfaces[] must be objects");
      Napi::Object o = v.As<Napi::Object>();
      CaptureInterface ci;
      uint32_t lt = to_u32(o.Get("linktype"), "interfaces[].linktype");
      if (lt > 0xFFFF) throw Napi::RangeError::New(env, "interfaces[].linktype must be < 65536");
      ci.linktype = static_cast<uint16_t>(lt);
      Napi::Value snap = o.Get("snaplen");
      ci.snaplen = snap.IsUndefined() ? 262144u : to_u32(snap, "interfaces[].snaplen");
      Napi::Value name = o.Get("name");
      if (name.IsString()) ci.name = name.As<Napi::String>().Utf8Value();
      Napi::Value desc = o.Get("description");
      if (desc.IsString()) ci.description = desc.As<Napi::String>().Utf8Value();
      ifaces.push_back(std::move(ci));
    }
    bool overwrite = info.Length() >= 4 && info[3].ToBoolean().Value();
    if (!writer_.open(path, format, ifaces, overwrite)) {
      throw Napi::Error::New(env, writer_.error());
    }
  }

 private:
  Napi::Value FramesWritten(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(writer_.frames_written()));
  }

  // write(iface: number, tsNs: bigint | number, data: Uint8Array, wirelen?: number)
  Napi::Value Write(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3) {
      throw Napi::TypeError::New(env, "write(iface, tsNs, data, wirelen?)");
    }
    uint32_t iface = to_u32(info[0], "iface");
    uint64_t ts;
    if (info[1].IsBigInt()) {
      bool lossless = false;
      ts = info[1].As<Napi::BigInt>().Uint64Value(&lossless);
      if (!lossless) throw Napi::RangeError::New(env, "tsNs must be in [0, 2^64)");
    } else if (info[1].IsNumber()) {
      double d = info[1].As<Napi::Number>().DoubleValue();
      if (!(d >= 0 && d <= 9007199254740991.0)) {
        throw Napi::RangeError::New(env, "tsNs must be a non-negative safe integer or a bigint");
      }
      ts = static_cast<uint64_t>(d);
    } else {
      throw Napi::TypeError::New(env, "tsNs must be a bigint");
    }
    if (!info[2].IsTypedArray() ||
        info[2].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      throw Napi::TypeError::New(env, "data must be a Uint8Array or Buffer");
    }
    Napi::Uint8Array data = info[2].As<Napi::Uint8Array>();
    if (data.ByteLength() > 0xFFFFFFFFu) throw Napi::RangeError::New(env, "data is too large");
    uint32_t caplen = static_cast<uint32_t>(data.ByteLength());
    uint32_t wirelen = caplen;
    if (info.Length() >= 4 && !info[3].IsUndefined()) wirelen = to_u32(info[3], "wirelen");
    if (!writer_.write(iface, ts, data.Data(), caplen, wirelen)) {
      throw Napi::Error::New(env, writer_.error());
    }
    return env.Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (!writer_.close()) throw Napi::Error::New(info.Env(), writer_.error());
    return info.Env().Undefined();
  }

  CaptureFileWriter writer_;
};

}  // namespace

void RegisterCaptureFile(Napi::Env env, Napi::Object exports) {
  exports.Set("CaptureFileReader", ReaderWrap::Define(env));
  exports.Set("CaptureFileWriter", WriterWrap::Define(env));
}

}  // namespace csumtop
