// \summary: placeholder until this module's binding lands.
#include "napi/register.h"

namespace csumtop {
void RegisterChecksum(Napi::Env, Napi::Object) {}
}  // namespace csumtop
