// \summary: placeholder until this module's binding lands.
#include "napi/register.h"

namespace csumtop {
void RegisterCaptureFile(Napi::Env, Napi::Object) {}
}  // namespace csumtop
