// \summary: placeholder until this module's binding lands.
#include "napi/register.h"

namespace csumtop {
void RegisterAnalyzer(Napi::Env, Napi::Object) {}
}  // namespace csumtop
