// \summary: Memory lent to JavaScript as a Buffer and filled again later: a drain handed
// over with no copy and no fresh memory on the JavaScript thread.
//
// `-r` hands JavaScript about 1.4 MB of events per step of 8192 frames. Copied into a new
// Buffer on the JavaScript thread, with the page faults of that fresh memory and the
// collections it set off, they were 8% of that thread's time (issue 14, `perf record` of
// the 1M-frame high-cardinality file), and that thread is what bounds `-r`. A
// LentBuffer is filled where the step runs (a pool thread) into memory kept from step to
// step, and JavaScript gets a Buffer over it.
//
// The contract: a Buffer lent after fill N may be read only until fill N+1 of the same
// LentBuffer starts. Its memory stays valid after that (a block is freed only when no
// lent Buffer uses it), but its bytes change.
#pragma once
#include <napi.h>

#include <cstdint>
#include <cstring>
#include <memory>

namespace csumtop {

class LentBuffer {
 public:
  // Copies n bytes in, growing into a new block when the current one is too small (the
  // Buffers lent over the old one keep it alive). Any thread, under the contract above.
  void fill(const void* data, size_t n) {
    if (!block_ || block_->cap < n) {
      auto b = std::make_shared<Block>();
      b->cap = n + n / 4;  // a few more events next time do not grow it again
      b->bytes.reset(new uint8_t[b->cap]);
      block_ = std::move(b);
    }
    if (n) std::memcpy(block_->bytes.get(), data, n);
    size_ = n;
  }

  // A Buffer over the bytes of the last fill(): no copy (JavaScript thread). Where
  // external buffers are not allowed (a V8 sandbox) NewOrCopy copies.
  Napi::Buffer<uint8_t> lend(Napi::Env env) const {
    if (size_ == 0) return Napi::Buffer<uint8_t>::New(env, 0);
    return Napi::Buffer<uint8_t>::NewOrCopy(
        env, block_->bytes.get(), size_,
        [](Napi::Env, uint8_t*, std::shared_ptr<Block>* held) { delete held; },
        new std::shared_ptr<Block>(block_));
  }

 private:
  struct Block {
    std::unique_ptr<uint8_t[]> bytes;
    size_t cap = 0;
  };
  std::shared_ptr<Block> block_;
  size_t size_ = 0;
};

}  // namespace csumtop
