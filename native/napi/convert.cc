// \summary: Conversions shared by the bindings (see convert.h).
#include "napi/convert.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace csumtop {

const uint8_t* typed_bytes(const Napi::Value& v, size_t* len) {
  Napi::TypedArray a = v.As<Napi::TypedArray>();
  *len = a.ByteLength();
  return static_cast<const uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset();
}

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

void set_drained(Napi::Env env, Napi::Object o, const std::vector<BadFrameRecord>& records,
                 const std::string& record_bytes, uint64_t records_dropped,
                 const std::vector<FrameEvent>& events, const std::string& event_names,
                 uint64_t events_dropped) {
  set_records(env, o, records, record_bytes, records_dropped);
  set_events(o,
             Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(events.data()),
                                         events.size() * sizeof(FrameEvent)),
             Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(event_names.data()),
                                         event_names.size()),
             events_dropped);
}

void set_records(Napi::Env env, Napi::Object o, const std::vector<BadFrameRecord>& records,
                 const std::string& record_bytes, uint64_t records_dropped) {
  o.Set("records",
        Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(records.data()),
                                    records.size() * sizeof(BadFrameRecord)));
  o.Set("recordBytes",
        Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(record_bytes.data()),
                                    record_bytes.size()));
  o.Set("recordsDropped", static_cast<double>(records_dropped));
}

void set_events(Napi::Object o, Napi::Buffer<uint8_t> events, Napi::Buffer<uint8_t> names,
                uint64_t events_dropped) {
  o.Set("events", events);
  o.Set("eventNames", names);
  o.Set("eventsDropped", static_cast<double>(events_dropped));
}

void drain_analyzer(Napi::Env env, Napi::Object o, Analyzer& an) {
  EventBuffer& ev = an.events();
  set_drained(env, o, an.records(), an.record_bytes(), an.records_dropped(), ev.events(),
              ev.names(), ev.dropped());
  an.clear_records();
  ev.clear();
}

Napi::Object event_layout(Napi::Env env) {
  Napi::Object e = Napi::Object::New(env);
#define F(js, field) e.Set(js, static_cast<uint32_t>(offsetof(FrameEvent, field)))
  e.Set("size", static_cast<uint32_t>(sizeof(FrameEvent)));
  F("match", match);
  F("flow", flow);
  F("txn", txn);
  F("packets", packets);
  F("tsNs", ts_ns);
  F("lastTsNs", last_ts_ns);
  F("frameNumber", frame_number);
  F("iface", iface);
  F("wirelen", wirelen);
  F("vni", vni);
  F("innerLen", inner_len);
  F("tcpSeq", tcp_seq);
  F("tcpAck", tcp_ack);
  F("nameOff", name_off);
  F("nameLen", name_len);
  F("flagsAt", flags);
  F("ipId", ip_id);
  F("dnsId", dns_id);
  F("dnsFlags", dns_flags);
  F("dnsQtype", dns_qtype);
  F("direction", direction);
  F("tunnel", tunnel);
  F("nLayers", n_layers);
  F("outer", outer);
  F("inner", inner);
#undef F
  Napi::Object flags = Napi::Object::New(env);
  flags.Set("carrier", static_cast<uint32_t>(kEvCarrier));
  flags.Set("plain", static_cast<uint32_t>(kEvPlain));
  flags.Set("dnsQuery", static_cast<uint32_t>(kEvDnsQuery));
  flags.Set("dnsAnswer", static_cast<uint32_t>(kEvDnsAnswer));
  flags.Set("syn", static_cast<uint32_t>(kEvSyn));
  flags.Set("synAck", static_cast<uint32_t>(kEvSynAck));
  flags.Set("rst", static_cast<uint32_t>(kEvRst));
  flags.Set("badOuter", static_cast<uint32_t>(kEvBadOuter));
  flags.Set("badInner", static_cast<uint32_t>(kEvBadInner));
  flags.Set("badIpv4", static_cast<uint32_t>(kEvBadIpv4));
  flags.Set("pending", static_cast<uint32_t>(kEvPending));
  e.Set("flagBits", flags);
  return e;
}

void read_decode_options(const Napi::Object& o, DecodeOptions* d) {
  read_ports(o, "vxlanPorts", d->vxlan_ports, &d->n_vxlan);
  read_ports(o, "genevePorts", d->geneve_ports, &d->n_geneve);
}

std::vector<const BadFlow*> top_flows(const BadFlowTable& table, size_t limit) {
  std::vector<const BadFlow*> flows;
  flows.reserve(table.size());
  table.for_each([&](const BadFlow& b) { flows.push_back(&b); });
  auto order = [](const BadFlow* a, const BadFlow* b) {
    if (a->count != b->count) return a->count > b->count;
    return a->first_ns < b->first_ns;
  };
  if (limit != 0 && flows.size() > limit) {
    std::partial_sort(flows.begin(), flows.begin() + static_cast<std::ptrdiff_t>(limit),
                      flows.end(), order);
    flows.resize(limit);
  } else {
    std::stable_sort(flows.begin(), flows.end(), order);
  }
  return flows;
}

Napi::Array file_interfaces_array(Napi::Env env, const std::vector<CaptureInterface>& ifs) {
  Napi::Array a = Napi::Array::New(env, ifs.size());
  for (uint32_t i = 0; i < ifs.size(); i++) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", ifs[i].name);
    o.Set("description", ifs[i].description);
    o.Set("linktype", Napi::Number::New(env, ifs[i].linktype));
    o.Set("snaplen", Napi::Number::New(env, ifs[i].snaplen));
    o.Set("section", Napi::Number::New(env, ifs[i].section));
    a.Set(i, o);
  }
  return a;
}

Napi::Buffer<uint8_t> flows_packed(Napi::Env env, const BadFlowTable& table, size_t limit) {
  const std::vector<const BadFlow*> flows = top_flows(table, limit);
  Napi::Buffer<uint8_t> buf = Napi::Buffer<uint8_t>::New(env, flows.size() * sizeof(BadFlow));
  for (size_t k = 0; k < flows.size(); k++)
    std::memcpy(buf.Data() + k * sizeof(BadFlow), flows[k], sizeof(BadFlow));
  return buf;
}

Napi::Object flow_table_bytes(Napi::Env env, const BadFlowTable& table) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("mapped", static_cast<double>(table.mapped_bytes()));
  o.Set("resident", static_cast<double>(table.resident_bytes()));
  return o;
}

BpfProgram bpf_program_of(const Napi::Value& v, const std::string& what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(v.Env(), what + " must be a Uint8Array (compileFilter's result)");
  Napi::Uint8Array a = v.As<Napi::Uint8Array>();
  if (a.ByteLength() % sizeof(sock_filter) != 0 ||
      a.ByteLength() / sizeof(sock_filter) > kMaxFilterInsns)
    throw Napi::RangeError::New(v.Env(), what + " is not a socket filter program");
  BpfProgram prog;
  prog.insns.resize(a.ByteLength() / sizeof(sock_filter));
  if (!prog.insns.empty()) std::memcpy(prog.insns.data(), a.Data(), a.ByteLength());
  return prog;
}

}  // namespace csumtop
