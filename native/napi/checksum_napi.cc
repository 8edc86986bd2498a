// \summary: N-API binding of the checksum engine: argument checks and value conversion only.
//
// Exports checksumPaths(), checksumPathSelection(), checksumPartial(), checksumFold()
// and setChecksumPath(). Every argument is checked before any byte is read: a bad type
// throws TypeError, a value out of range (including a span past the end of the array)
// throws RangeError, so JavaScript can never make a kernel read out of bounds.
#include <cmath>
#include <cstdint>
#include <string>

#include "checksum/csum.h"
#include "napi/register.h"

namespace csumtop {
namespace {

using csum::Path;

constexpr double kMaxSafeInteger = 9007199254740991.0;  // Number.MAX_SAFE_INTEGER

[[noreturn]] void ThrowType(const Napi::Env& env, const std::string& msg) {
  throw Napi::TypeError::New(env, msg);
}
[[noreturn]] void ThrowRange(const Napi::Env& env, const std::string& msg) {
  throw Napi::RangeError::New(env, msg);
}

// A non-negative integer Number no larger than `max`; `what` names it in errors.
double IntegerArg(const Napi::Env& env, const Napi::Value& v, const char* what, double max) {
  if (!v.IsNumber()) ThrowType(env, std::string(what) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d != std::floor(d))
    ThrowRange(env, std::string(what) + " must be an integer");
  if (d < 0 || d > max) ThrowRange(env, std::string(what) + " is out of range");
  return d;
}

// Path by name; unknown names are a RangeError (the set of names is fixed).
Path PathArg(const Napi::Env& env, const Napi::Value& v) {
  if (!v.IsString()) ThrowType(env, "path must be a string");
  const std::string name = v.As<Napi::String>().Utf8Value();
  Path p;
  if (!csum::parse_path(name.c_str(), &p)) {
    ThrowRange(env,
               "unknown checksum path '" + name + "' (expected scalar, adc64, sse2, avx2 or neon)");
  }
  return p;
}

Napi::Value ChecksumPaths(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const Path active = csum::active_path();
  Napi::Array out = Napi::Array::New(env, static_cast<size_t>(Path::kCount));
  for (uint32_t i = 0; i < static_cast<uint32_t>(Path::kCount); ++i) {
    const Path p = static_cast<Path>(i);
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", csum::path_name(p));
    o.Set("available", csum::path_available(p));
    o.Set("active", p == active);
    out.Set(i, o);
  }
  return out;
}

// How the start-up choice was made: a CSUMTOP_CSUM_PATH that could not be honoured
// shows as fellBack, with what was asked for in `requested`.
Napi::Value ChecksumPathSelection(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const csum::PathSelection& sel = csum::startup_selection();
  Napi::Object o = Napi::Object::New(env);
  o.Set("active", csum::path_name(csum::active_path()));
  o.Set("startup", csum::path_name(sel.active));
  o.Set("best", csum::path_name(csum::best_path()));
  o.Set("forced", sel.forced);
  o.Set("requested", sel.forced ? Napi::Value(Napi::String::New(env, sel.requested)) : env.Null());
  o.Set("fellBack", sel.fell_back);
  return o;
}

// checksumPartial(buf: Uint8Array, offset, length, path?, initial?) -> uint32 partial sum
Napi::Value ChecksumPartial(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  if (info.Length() < 3)
    ThrowType(env, "checksumPartial(buf, offset, length, path?, initial?) needs 3 arguments");
  if (!info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    ThrowType(env, "buf must be a Uint8Array (or Buffer)");
  }
  Napi::Uint8Array buf = info[0].As<Napi::Uint8Array>();
  const size_t size = buf.ElementLength();
  const double offset = IntegerArg(env, info[1], "offset", kMaxSafeInteger);
  const double length = IntegerArg(env, info[2], "length", kMaxSafeInteger);
  // Compared as doubles, both exact below 2^53, so the sum cannot wrap.
  if (offset + length > static_cast<double>(size))
    ThrowRange(env, "offset + length is past the end of buf");

  csum::Kernel kernel = nullptr;
  if (info.Length() > 3 && !info[3].IsUndefined() && !info[3].IsNull()) {
    const Path p = PathArg(env, info[3]);
    kernel = csum::kernel_for(p);
    if (kernel == nullptr) {
      ThrowRange(env, std::string("checksum path '") + csum::path_name(p) +
                          "' is not available on this CPU");
    }
  }
  uint32_t initial = 0;
  if (info.Length() > 4 && !info[4].IsUndefined()) {
    initial = static_cast<uint32_t>(IntegerArg(env, info[4], "initial", 4294967295.0));
  }

  const size_t off = static_cast<size_t>(offset), len = static_cast<size_t>(length);
  // A detached or empty array has no data pointer; nothing is read when len == 0.
  static const uint8_t kEmpty[1] = {0};
  const uint8_t* data = len == 0 ? kEmpty : buf.Data() + off;
  const uint32_t sum =
      kernel != nullptr ? kernel(data, len, initial) : csum::partial(data, len, initial);
  return Napi::Number::New(env, static_cast<double>(sum));
}

// checksumFold(partial) -> 16-bit end-around-carry fold, not complemented. Accepts any
// safe integer so that JavaScript may add several partial sums before folding.
Napi::Value ChecksumFold(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  if (info.Length() < 1) ThrowType(env, "checksumFold(partial) needs 1 argument");
  const double v = IntegerArg(env, info[0], "partial", kMaxSafeInteger);
  return Napi::Number::New(env, csum::fold(static_cast<uint64_t>(v)));
}

// setChecksumPath(name) -> false (active path unchanged) when the path is unavailable.
Napi::Value SetChecksumPath(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  if (info.Length() < 1) ThrowType(env, "setChecksumPath(name) needs 1 argument");
  if (!info[0].IsString()) ThrowType(env, "name must be a string");
  Path p;
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  if (!csum::parse_path(name.c_str(), &p)) return Napi::Boolean::New(env, false);
  return Napi::Boolean::New(env, csum::set_active_path(p));
}

}  // namespace

void RegisterChecksum(Napi::Env env, Napi::Object exports) {
  exports.Set("checksumPaths", Napi::Function::New(env, ChecksumPaths, "checksumPaths"));
  exports.Set("checksumPathSelection",
              Napi::Function::New(env, ChecksumPathSelection, "checksumPathSelection"));
  exports.Set("checksumPartial", Napi::Function::New(env, ChecksumPartial, "checksumPartial"));
  exports.Set("checksumFold", Napi::Function::New(env, ChecksumFold, "checksumFold"));
  exports.Set("setChecksumPath", Napi::Function::New(env, SetChecksumPath, "setChecksumPath"));
}

}  // namespace csumtop
