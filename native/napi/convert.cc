// \summary: Conversions shared by the bindings (see convert.h).
#include "napi/convert.h"

#include <string>

namespace csumtop {

namespace {
void read_ports(const Napi::Object& o, const char* name, uint16_t* ports, uint8_t* n) {
  if (!o.Has(name) || o.Get(name).IsUndefined()) return;
  Napi::Value v = o.Get(name);
  if (!v.IsArray()) throw Napi::TypeError::New(o.Env(), std::string(name) + " must be an array");
  Napi::Array a = v.As<Napi::Array>();
  if (a.Length() > DecodeOptions::kMaxPorts)
    throw Napi::RangeError::New(o.Env(), std::string("at most 8 ") + name);
  *n = 0;
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value p = a.Get(i);
    if (!p.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string(name) + ": not a number");
    const int64_t port = p.As<Napi::Number>().Int64Value();
    if (port < 1 || port > 65535) throw Napi::RangeError::New(o.Env(), "port out of range");
    ports[(*n)++] = static_cast<uint16_t>(port);
  }
}
}  // namespace

void read_decode_options(const Napi::Object& o, DecodeOptions* d) {
  read_ports(o, "vxlanPorts", d->vxlan_ports, &d->n_vxlan);
  read_ports(o, "genevePorts", d->geneve_ports, &d->n_geneve);
}

Napi::Object flow_endpoint_object(Napi::Env env, const FlowEndpoint& e) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("family", e.family);
  o.Set("proto", e.proto);
  o.Set("hasPorts", e.has_ports != 0);
  o.Set("sport", e.sport);
  o.Set("dport", e.dport);
  o.Set("src", Napi::Buffer<uint8_t>::Copy(env, e.src, e.family == 4 ? 4 : 16));
  o.Set("dst", Napi::Buffer<uint8_t>::Copy(env, e.dst, e.family == 4 ? 4 : 16));
  return o;
}

Napi::Array flows_array(Napi::Env env, const BadFlowTable& table) {
  Napi::Array a = Napi::Array::New(env);
  uint32_t k = 0;
  table.for_each([&](const BadFlow& b) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("iface", b.key.iface);
    o.Set("tunnel", b.key.tunnel);
    o.Set("vni", b.key.vni);
    o.Set("hasInner", b.key.has_inner != 0);
    o.Set("outer", flow_endpoint_object(env, b.key.outer));
    if (b.key.has_inner) o.Set("inner", flow_endpoint_object(env, b.key.inner));
    o.Set("count", static_cast<double>(b.count));
    o.Set("firstNs", Napi::BigInt::New(env, b.first_ns));
    o.Set("lastNs", Napi::BigInt::New(env, b.last_ns));
    o.Set("exampleFrame", static_cast<double>(b.example_frame));
    o.Set("badMask", b.bad_mask);
    Napi::Array ex = Napi::Array::New(env, b.n_example);
    for (uint32_t i = 0; i < b.n_example; i++) {
      Napi::Object e = Napi::Object::New(env);
      e.Set("depth", b.example[i].depth);
      e.Set("kind", b.example[i].kind);
      e.Set("looksPartial", b.example[i].looks_partial != 0);
      e.Set("found", b.example[i].found);
      e.Set("expected", b.example[i].expected);
      ex.Set(i, e);
    }
    o.Set("example", ex);
    a.Set(k++, o);
  });
  return a;
}

}  // namespace csumtop
