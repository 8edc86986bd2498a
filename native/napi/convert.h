// \summary: Conversions shared by the bindings: bad flows and endpoints to JS objects,
// decode options from JS objects.
#pragma once
#include <napi.h>

#include "flow/bad_flows.h"

namespace csumtop {
Napi::Object flow_endpoint_object(Napi::Env env, const FlowEndpoint& e);
Napi::Array flows_array(Napi::Env env, const BadFlowTable& table);
// Reads vxlanPorts / genevePorts (arrays of 1..65535, at most 8 each) into `d`.
void read_decode_options(const Napi::Object& o, DecodeOptions* d);
}  // namespace csumtop
