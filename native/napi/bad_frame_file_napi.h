// \summary: The `-w` output of live capture as JavaScript sees it (a BadFrameFile class),
// and how the live-capture binding gets at the native writer behind such an object.
#pragma once
#include <napi.h>

#include <memory>

#include "capture/bad_frame_file.h"

namespace csumtop {
// The writer behind a BadFrameFile object; throws a TypeError for anything else.
std::shared_ptr<BadFrameFile> bad_frame_file_of(const Napi::Value& v);
}  // namespace csumtop
