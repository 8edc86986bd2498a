// \summary: N-API surface of the --json `bad` lines (native/flow/bad_lines.h): argument
// checks and conversions only. One format() per batch of records; no object per record
// crosses.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "flow/analyzer.h"
#include "flow/bad_lines.h"
#include "napi/convert.h"
#include "napi/register.h"

namespace csumtop {

namespace {

std::vector<std::string> strings_of(Napi::Env env, const Napi::Object& o, const char* key) {
  const Napi::Value v = o.Get(key);
  if (!v.IsArray())
    throw Napi::TypeError::New(
        env, std::string("new BadLines(names): ") + key + " must be an array of strings");
  const Napi::Array a = v.As<Napi::Array>();
  std::vector<std::string> out;
  for (uint32_t i = 0; i < a.Length(); i++) {
    const Napi::Value s = a.Get(i);
    if (!s.IsString())
      throw Napi::TypeError::New(
          env, std::string("new BadLines(names): ") + key + " must be an array of strings");
    out.push_back(s.As<Napi::String>().Utf8Value());
  }
  return out;
}

class BadLinesWrap : public Napi::ObjectWrap<BadLinesWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "BadLines",
                       {InstanceMethod("format", &BadLinesWrap::Format),
                        InstanceAccessor("lines", &BadLinesWrap::Lines, nullptr)});
  }

  // new BadLines({ version, kinds, tunnels, layers, directions }): the names of
  // src/model/verdict.ts.
  explicit BadLinesWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BadLinesWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject())
      throw Napi::TypeError::New(env,
                                 "new BadLines({ version, kinds, tunnels, layers, directions })");
    const Napi::Object o = info[0].As<Napi::Object>();
    const Napi::Value version = o.Get("version");
    if (!version.IsNumber())
      throw Napi::TypeError::New(env, "new BadLines(names): version must be a number");
    names_.version = version.As<Napi::Number>().Uint32Value();
    names_.kinds = strings_of(env, o, "kinds");
    names_.tunnels = strings_of(env, o, "tunnels");
    names_.layers = strings_of(env, o, "layers");
    names_.directions = strings_of(env, o, "directions");
    if (names_.tunnels.empty() || names_.tunnels[0] != "none" || names_.layers.size() != 2)
      throw Napi::RangeError::New(
          env, "new BadLines(names): tunnels must start with 'none', layers be outer and inner");
  }

 private:
  // format(records: Uint8Array of packed BadFrameRecords, interfaceJson: (string | undefined)[],
  // room: number): the lines of the records, in order, as UTF-8, as many whole lines as fit in
  // `room` bytes (the rest are not written: the caller counts them dropped); `lines` says how many.
  Napi::Value Format(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[0].IsTypedArray() || !info[1].IsArray() || !info[2].IsNumber())
      throw Napi::TypeError::New(
          env, "format(records: Uint8Array, interfaceJson: string[], room: number)");
    size_t len = 0, n = 0;
    const uint8_t* p = typed_bytes(info[0], &len);
    const BadFrameRecord* records = structs_of(p, len, &aligned_, &n);
    const Napi::Array ifaces = info[1].As<Napi::Array>();
    const double room_arg = info[2].As<Napi::Number>().DoubleValue();
    const size_t room = room_arg > 0 ? static_cast<size_t>(std::min(room_arg, 1e15)) : 0;
    // Each interface's name read once per call, not once per record.
    std::unordered_map<uint32_t, std::string> json;
    text_.clear();
    lines_ = 0;
    for (size_t i = 0; i < n; i++) {
      const BadFrameRecord& r = records[i];
      auto it = json.find(r.iface);
      if (it == json.end()) {
        const Napi::Value v = r.iface < ifaces.Length() ? ifaces.Get(r.iface) : env.Undefined();
        it = json.emplace(r.iface, v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string())
                 .first;
      }
      const size_t before = text_.size();
      append_bad_line(r, it->second, names_, &text_);
      if (text_.size() > room) {
        text_.resize(before);
        break;
      }
      lines_++;
    }
    return Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(text_.data()),
                                       text_.size());
  }

  Napi::Value Lines(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), lines_);
  }

  BadLineNames names_;
  std::string text_;
  std::vector<BadFrameRecord> aligned_;
  uint32_t lines_ = 0;
};

}  // namespace

void RegisterBadLines(Napi::Env env, Napi::Object exports) {
  exports.Set("BadLines", BadLinesWrap::Define(env));
}

}  // namespace csumtop
